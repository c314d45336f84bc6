//! `/startups`: one task-shaped endpoint per startup command, the current state with its ETag,
//! and the event history.

use super::prelude::*;
use incubator_domain::startup::{
    FundingKind, RoundKind, Stage, Startup, StartupCommand, StartupState,
};
use incubator_domain::values::{
    Cohort, Day, Founders, GrantId, Headcount, Investors, MentorId, MilestoneId, Minutes, Money,
    OrganisationName, ProgrammeName, Reason, RoundId, Sector, SessionId, Title, Topics, YearMonth,
};

use crate::people::{self, PersonRef};
use std::collections::BTreeMap;

/// Every startup command (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    common::router![
        apply,
        advance,
        reject,
        withdraw,
        exit,
        void,
        assign_cohort,
        record_round,
        award_funding,
        pay_tranche,
        assign_mentor,
        release_mentor,
        log_session,
        set_milestone,
        achieve_milestone,
        record_kpis
    ]
}

common::accepted!(
    /// What an accepted startup command answers: the ids of the round, grant, session or
    /// milestone it created, read from its events.
    CommandAccepted,
    startup_id,
    round_id,
    grant_id,
    session_id,
    milestone_id;
    run(StartupCommand) on startups
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartupApplication {
    name: OrganisationName,
    #[serde(default)]
    sector: Option<Sector>,
    /// 1 to 20 people, each in the registry.
    founders: Founders,
    #[serde(default)]
    cohort: Option<Cohort>,
    #[serde(default)]
    applied_on: Option<Day>,
}

/// A command on one startup (`common::command!` with the startup's kind bound).
macro_rules! startup_command {
    ($($t:tt)*) => { common::command!("startup", "startups", CommandAccepted; $($t)*); };
}

// `POST /startups`: register an application; the id is chosen here (UUID v7).
startup_command!(
    apply,
    "/startups",
    create,
    "Register a startup's application",
    StartupApplication,
    |state, caller, b| make {
        let founders: Vec<Uuid> = b.founders.as_slice().iter().map(|p| p.0).collect();
        common::require_registered(&state, founders).await?;
        StartupCommand::Apply {
            name: b.name,
            sector: b.sector,
            founders: b.founders,
            cohort: b.cohort,
            applied_on: b.applied_on.map_or_else(today, Day::get),
        }
    }
);

/// A startup's current state.
#[derive(Debug, Serialize, ToSchema)]
pub struct StartupView {
    pub startup_id: Uuid,
    /// The number of events so far (also the `ETag`).
    pub version: u64,
    #[serde(flatten)]
    pub state: StartupState,
    /// The people the state refers to (founders), from the registry: name, or erased.
    pub people: BTreeMap<Uuid, PersonRef>,
}

common::record_reads!(
    Startup via startups, "startup", "startups",
    "A startup's current state",
    StartupView,
    |state, id, version, s| {
            let founders: Vec<Uuid> = s.founders.iter().map(|p| p.0).collect();
            let people = people::describe(&state.store.read, founders).await?;
            StartupView {
                startup_id: id,
                version,
                state: s,
                people,
            }
        }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    /// The stage to move to: the next one by default.
    #[serde(default)]
    to: Option<Stage>,
    /// Why ("the jury admitted it on 1 December"): kept in the event and its metadata;
    /// needed to skip a stage.
    #[serde(default)]
    reason: Option<Reason>,
    /// The older name of `reason`, still accepted.
    #[serde(default)]
    override_reason: Option<Reason>,
    /// The day the startup entered the stage: today by default; not in the future nor before
    /// the current stage was entered.
    #[serde(default)]
    on: Option<Day>,
}

startup_command!(
    advance,
    "/startups/{id}/advance",
    200,
    "Advance to the next stage, or skip with an override reason",
    AdvanceBody,
    |_state, caller, _id, _, b| make {
        if b.reason.is_some() && b.override_reason.is_some() {
            return Err(ApiError::Rule {
                kind: incubator_domain::RuleKind::Invalid,
                code: "reason_given_twice",
                detail: "give `reason` (or its older name `override_reason`), not both".into(),
            });
        }
        let today = today();
        (
            StartupCommand::Advance {
                to: b.to,
                override_reason: b.reason.or(b.override_reason),
                on: b.on.map_or(today, Day::get),
                today,
            },
            None,
        )
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ClosingBody {
    reason: Reason,
    /// The day it happened: today by default; not in the future nor before the current stage
    /// was entered.
    #[serde(default)]
    on: Option<Day>,
}

startup_command!(
    reject,
    "/startups/{id}/reject",
    200,
    "Reject the application",
    ClosingBody,
    |_state, caller, _id, _, b| make(
        StartupCommand::Reject {
            reason: b.reason,
            on: b.on.map_or_else(today, Day::get),
            today: today(),
        },
        None
    )
);
startup_command!(
    withdraw,
    "/startups/{id}/withdraw",
    200,
    "Record that the startup withdrew",
    ClosingBody,
    |_state, caller, _id, _, b| make(
        StartupCommand::Withdraw {
            reason: b.reason,
            on: b.on.map_or_else(today, Day::get),
            today: today(),
        },
        None
    )
);
startup_command!(
    exit,
    "/startups/{id}/exit",
    200,
    "Record the startup's exit from the programme",
    ClosingBody,
    |_state, caller, _id, _, b| make(
        StartupCommand::Exit {
            reason: b.reason,
            on: b.on.map_or_else(today, Day::get),
            today: today(),
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct VoidBody {
    /// Why it was a mistake ("a duplicate of the application of 3 March").
    reason: Reason,
}

startup_command!(
    void,
    "/startups/{id}/void",
    200,
    "Void a record entered by mistake: kept in the log, out of every figure",
    VoidBody,
    |_state, caller, _id, _, b| make(StartupCommand::Void { reason: b.reason }, None)
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CohortBody {
    cohort: Cohort,
}

startup_command!(
    assign_cohort,
    "/startups/{id}/cohort",
    200,
    "Assign the startup to a cohort",
    CohortBody,
    |_state, caller, _id, _, b| make(StartupCommand::AssignCohort { cohort: b.cohort }, None)
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoundBody {
    round: RoundKind,
    amount: Money,
    /// 1 to 50.
    investors: Investors,
    closed_on: Day,
}

startup_command!(
    record_round,
    "/startups/{id}/equity-rounds",
    201,
    "Record an equity round",
    RoundBody,
    |_state, caller, _id, _, b| make {
        let round_id = RoundId::new();
        (
            StartupCommand::RecordEquityRound {
                round_id,
                round: b.round,
                amount: b.amount,
                investors: b.investors,
                closed_on: b.closed_on.get(),
            },
            Some(Created::Sub),
        )
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AwardBody {
    programme: ProgrammeName,
    kind: FundingKind,
    amount: Money,
    awarded_on: Day,
}

startup_command!(
    award_funding,
    "/startups/{id}/funding",
    201,
    "Award a grant or loan",
    AwardBody,
    |_state, caller, _id, _, b| make {
        let grant_id = GrantId::new();
        (
            StartupCommand::AwardFunding {
                grant_id,
                programme: b.programme,
                kind: b.kind,
                amount: b.amount,
                awarded_on: b.awarded_on.get(),
            },
            Some(Created::Sub),
        )
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TrancheBody {
    amount: Money,
    paid_on: Day,
}

startup_command!(
    pay_tranche,
    "/startups/{id}/funding/{grant_id}/tranches",
    200,
    "Pay a tranche of a grant or loan",
    TrancheBody,
    sub = "grant_id"("funding"),
    |state, caller, id, grant, b| make(
        {
            StartupCommand::PayTranche {
                grant_id: GrantId(grant),
                amount: b.amount,
                paid_on: b.paid_on.get(),
                today: today(),
            }
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartupMentorBody {
    mentor_id: MentorId,
}

startup_command!(
    assign_mentor,
    "/startups/{id}/mentors",
    200,
    "Assign a mentor",
    StartupMentorBody,
    |state, caller, _id, _, b| make {
        let standing = state.app().mentor_standing(b.mentor_id.0).await?;
        (
            StartupCommand::AssignMentor {
                mentor_id: b.mentor_id,
                standing,
            },
            None,
        )
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReleaseBody {
    #[serde(default)]
    reason: Option<Reason>,
}

startup_command!(
    release_mentor,
    "/startups/{id}/mentors/{mentor_id}/release",
    200,
    "Release a mentor",
    ReleaseBody,
    sub = "mentor_id"("mentor"),
    |state, caller, id, mentor, b| make(
        {
            StartupCommand::ReleaseMentor {
                mentor_id: MentorId(mentor),
                reason: b.reason,
            }
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartupSessionBody {
    mentor_id: MentorId,
    held_on: Day,
    minutes: Minutes,
    #[serde(default)]
    /// At most 20.
    topics: Topics,
}

startup_command!(
    log_session,
    "/startups/{id}/sessions",
    201,
    "Log a mentoring session",
    StartupSessionBody,
    |_state, caller, _id, _, b| make {
        let session_id = SessionId::new();
        (
            StartupCommand::LogSession {
                session_id,
                mentor_id: b.mentor_id,
                held_on: b.held_on.get(),
                minutes: b.minutes,
                topics: b.topics,
                today: today(),
            },
            Some(Created::Sub),
        )
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartupMilestoneBody {
    title: Title,
    #[serde(default)]
    due_on: Option<Day>,
}

startup_command!(
    set_milestone,
    "/startups/{id}/milestones",
    201,
    "Set a milestone",
    StartupMilestoneBody,
    |_state, caller, _id, _, b| make {
        let milestone_id = MilestoneId::new();
        (
            StartupCommand::SetMilestone {
                milestone_id,
                title: b.title,
                due_on: b.due_on.map(Day::get),
            },
            Some(Created::Sub),
        )
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AchieveBody {
    /// The day it was reached: today by default (`achieved_on`, the older name, is read too).
    #[serde(default, alias = "achieved_on")]
    on: Option<Day>,
}

startup_command!(
    achieve_milestone,
    "/startups/{id}/milestones/{milestone_id}/achieve",
    200,
    "Mark a milestone achieved",
    AchieveBody,
    sub = "milestone_id"("milestone"),
    |state, caller, id, milestone, b| make(
        {
            StartupCommand::AchieveMilestone {
                milestone_id: MilestoneId(milestone),
                achieved_on: b.on.map_or_else(today, Day::get),
            }
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct KpiBody {
    month: YearMonth,
    revenue: Money,
    headcount: Headcount,
    customers: u32,
}

startup_command!(
    record_kpis,
    "/startups/{id}/kpis",
    200,
    "Record a month's KPIs",
    KpiBody,
    |_state, caller, _id, _, b| make {
        (
            StartupCommand::RecordKpis {
                month: b.month,
                revenue: b.revenue,
                headcount: b.headcount,
                customers: b.customers,
            },
            None,
        )
    }
);
