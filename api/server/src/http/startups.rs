//! `/startups`: one task-shaped endpoint per startup command, the current state with its ETag,
//! and the event history.

use super::prelude::*;
use incubator_domain::mentor::Mentor;
use incubator_domain::startup::{
    FundingKind, RoundKind, Stage, Startup, StartupCommand, StartupState,
};
use incubator_domain::values::{
    Cohort, Day, GrantId, InvestorName, MentorId, MilestoneId, Minutes, Money, OrganisationName,
    PersonId, ProgrammeName, Reason, RoundId, Sector, SessionId, Title, YearMonth,
};

use crate::people::{self, PersonRef};
use std::collections::BTreeMap;

/// Reads of a startup's own state and history (auditors and officers).
pub fn reads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(show))
        .routes(routes!(events))
        .routes(routes!(history))
}

/// Every startup command (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(apply))
        .routes(routes!(advance))
        .routes(routes!(reject))
        .routes(routes!(withdraw))
        .routes(routes!(exit))
        .routes(routes!(void))
        .routes(routes!(assign_cohort))
        .routes(routes!(record_round))
        .routes(routes!(award_funding))
        .routes(routes!(pay_tranche))
        .routes(routes!(assign_mentor))
        .routes(routes!(release_mentor))
        .routes(routes!(log_session))
        .routes(routes!(set_milestone))
        .routes(routes!(achieve_milestone))
        .routes(routes!(record_kpis))
}

common::accepted!(
    /// What an accepted startup command answers: the ids of the round, grant, session or
    /// milestone it created, read from its events.
    CommandAccepted,
    startup_id,
    round_id,
    grant_id,
    session_id,
    milestone_id,
);

/// A command about to run: the state and who sent it.
struct Ctx {
    state: AppState,
    caller: Caller,
}

impl Ctx {
    /// Runs a command; answers with the new version as ETag and where its events landed,
    /// 201 when it `created` a sub-record.
    async fn run(
        self,
        id: Uuid,
        command: StartupCommand,
        created: Option<Created>,
    ) -> Result<Response, ApiError> {
        let committed = common::execute(
            &self.state,
            &self.caller,
            self.state.store.startups(),
            id,
            command,
        )
        .await?;
        let version = committed.version;
        let body = CommandAccepted::new(id, committed);
        Ok(common::with_etag(
            common::status(created.is_some()),
            body,
            version,
        ))
    }
}

macro_rules! command_handler {
    ($name:ident, $path:tt, $status:tt, $summary:tt, $body:ty, |$state:ident, $id:ident, $b:ident| $make:expr) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "startups",
            summary = $summary,
            params(
                ("id" = Uuid, Path, description = "The startup's id"),
                ("If-Match" = Option<String>, Header, description = "The version the command expects, as the ETag `\"N\"`; 412 if the record moved on"),
                ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
            ),
            request_body = $body,
            responses(
                (status = $status, description = "Accepted: the new version (also the ETag) and where the events landed", body = CommandAccepted),
                CommandErrors,
            ),
            security(("bearer" = [])),
            extensions(("x-role" = json!("officer"))),
        )]
        async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            ApiPath(raw): ApiPath<String>,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            let $id = parse_id(&raw, "startup")?;
            let $state = &state;
            let (command, created): (StartupCommand, Option<Created>) = $make;
            let ctx = Ctx { state, caller };
            ctx.run($id, command, created).await
        }
    };
}

/// A sub-record id from the path (`/funding/{grant_id}/…`).
macro_rules! sub_command_handler {
    ($name:ident, $path:tt, $summary:tt, $body:ty, $what:literal, $sub_param:tt, |$sub:ident, $b:ident| $make:expr) => {
        #[utoipa::path(
            post,
            path = $path,
            tag = "startups",
            summary = $summary,
            params(
                ("id" = Uuid, Path, description = "The startup's id"),
                ($sub_param = Uuid, Path, description = "The sub-record's id"),
                ("If-Match" = Option<String>, Header, description = "The version the command expects, as the ETag `\"N\"`; 412 if the record moved on"),
                ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
            ),
            request_body = $body,
            responses(
                (status = 200, description = "Accepted: the new version (also the ETag) and where the events landed", body = CommandAccepted),
                CommandErrors,
            ),
            security(("bearer" = [])),
            extensions(("x-role" = json!("officer"))),
        )]
        async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            ApiPath((raw, raw_sub)): ApiPath<(String, String)>,
            ApiJson($b): ApiJson<$body>,
        ) -> Result<Response, ApiError> {
            let id = parse_id(&raw, "startup")?;
            let $sub = parse_id(&raw_sub, $what)?;
            let ctx = Ctx { state, caller };
            ctx.run(id, $make, None).await
        }
    };
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartupApplication {
    name: OrganisationName,
    #[serde(default)]
    sector: Option<Sector>,
    #[schema(min_items = 1, max_items = 20)]
    founders: Vec<PersonId>,
    #[serde(default)]
    cohort: Option<Cohort>,
    #[serde(default)]
    applied_on: Option<Day>,
}

/// `POST /startups`: register an application; the id is chosen here (UUID v7).
#[utoipa::path(
    post,
    path = "/startups",
    tag = "startups",
    summary = "Register a startup's application",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and request get the first response"),
    ),
    request_body = StartupApplication,
    responses(
        (status = 201, description = "Registered; `Location` names the startup", body = CommandAccepted),
        CommandErrors,
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("officer"))),
)]
async fn apply(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(b): ApiJson<StartupApplication>,
) -> Result<Response, ApiError> {
    if b.founders.len() > 20 {
        return Err(ApiError::invalid("founders", "at most 20 founders"));
    }
    let founders: Vec<Uuid> = b.founders.iter().map(|p| p.0).collect();
    common::require_registered(&state, founders).await?;
    let id = Uuid::now_v7();
    let ctx = Ctx { state, caller };
    let mut response = ctx
        .run(
            id,
            StartupCommand::Apply {
                name: b.name,
                sector: b.sector,
                founders: b.founders,
                cohort: b.cohort,
                applied_on: b.applied_on.map_or_else(today, Day::get),
            },
            None,
        )
        .await?;
    *response.status_mut() = StatusCode::CREATED;
    response = common::with_location(response, &format!("/api/v1/startups/{id}"));
    Ok(response)
}

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
    ["/startups/{id}", "/startups/{id}/events", "/startups/{id}/history"],
    ["A startup's current state", "A startup's history: its events with metadata, in order"],
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

command_handler!(
    advance,
    "/startups/{id}/advance",
    200,
    "Advance to the next stage, or skip with an override reason",
    AdvanceBody,
    |_state, _id, b| {
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

command_handler!(
    reject,
    "/startups/{id}/reject",
    200,
    "Reject the application",
    ClosingBody,
    |_state, _id, b| (
        StartupCommand::Reject {
            reason: b.reason,
            on: b.on.map_or_else(today, Day::get),
            today: today(),
        },
        None
    )
);
command_handler!(
    withdraw,
    "/startups/{id}/withdraw",
    200,
    "Record that the startup withdrew",
    ClosingBody,
    |_state, _id, b| (
        StartupCommand::Withdraw {
            reason: b.reason,
            on: b.on.map_or_else(today, Day::get),
            today: today(),
        },
        None
    )
);
command_handler!(
    exit,
    "/startups/{id}/exit",
    200,
    "Record the startup's exit from the programme",
    ClosingBody,
    |_state, _id, b| (
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

command_handler!(
    void,
    "/startups/{id}/void",
    200,
    "Void a record entered by mistake: kept in the log, out of every figure",
    VoidBody,
    |_state, _id, b| (StartupCommand::Void { reason: b.reason }, None)
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CohortBody {
    cohort: Cohort,
}

command_handler!(
    assign_cohort,
    "/startups/{id}/cohort",
    200,
    "Assign the startup to a cohort",
    CohortBody,
    |_state, _id, b| (StartupCommand::AssignCohort { cohort: b.cohort }, None)
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RoundBody {
    round: RoundKind,
    amount: Money,
    #[schema(min_items = 1, max_items = 50)]
    investors: Vec<InvestorName>,
    closed_on: Day,
}

command_handler!(
    record_round,
    "/startups/{id}/equity-rounds",
    201,
    "Record an equity round",
    RoundBody,
    |_state, _id, b| {
        if b.investors.len() > 50 {
            return Err(ApiError::invalid("investors", "at most 50 investors"));
        }
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

command_handler!(
    award_funding,
    "/startups/{id}/funding",
    201,
    "Award a grant or loan",
    AwardBody,
    |_state, _id, b| {
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

sub_command_handler!(
    pay_tranche,
    "/startups/{id}/funding/{grant_id}/tranches",
    "Pay a tranche of a grant or loan",
    TrancheBody,
    "funding",
    "grant_id",
    |grant, b| {
        StartupCommand::PayTranche {
            grant_id: GrantId(grant),
            amount: b.amount,
            paid_on: b.paid_on.get(),
            today: today(),
        }
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartupMentorBody {
    mentor_id: MentorId,
}

command_handler!(
    assign_mentor,
    "/startups/{id}/mentors",
    200,
    "Assign a mentor",
    StartupMentorBody,
    |state, _id, b| {
        let (mentor, _) = state
            .store
            .load(state.store.mentors(), &b.mentor_id.0.to_string())
            .await?;
        (
            StartupCommand::AssignMentor {
                mentor_id: b.mentor_id,
                standing: Mentor::standing(&mentor),
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

sub_command_handler!(
    release_mentor,
    "/startups/{id}/mentors/{mentor_id}/release",
    "Release a mentor",
    ReleaseBody,
    "mentor",
    "mentor_id",
    |mentor, b| {
        StartupCommand::ReleaseMentor {
            mentor_id: MentorId(mentor),
            reason: b.reason,
        }
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StartupSessionBody {
    mentor_id: MentorId,
    held_on: Day,
    minutes: Minutes,
    #[serde(default)]
    #[schema(max_items = 20)]
    topics: Vec<Title>,
}

command_handler!(
    log_session,
    "/startups/{id}/sessions",
    201,
    "Log a mentoring session",
    StartupSessionBody,
    |_state, _id, b| {
        if b.topics.len() > 20 {
            return Err(ApiError::invalid("topics", "at most 20 topics"));
        }
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

command_handler!(
    set_milestone,
    "/startups/{id}/milestones",
    201,
    "Set a milestone",
    StartupMilestoneBody,
    |_state, _id, b| {
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

sub_command_handler!(
    achieve_milestone,
    "/startups/{id}/milestones/{milestone_id}/achieve",
    "Mark a milestone achieved",
    AchieveBody,
    "milestone",
    "milestone_id",
    |milestone, b| {
        StartupCommand::AchieveMilestone {
            milestone_id: MilestoneId(milestone),
            achieved_on: b.on.map_or_else(today, Day::get),
        }
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct KpiBody {
    month: YearMonth,
    revenue: Money,
    #[schema(maximum = 100_000)]
    headcount: u32,
    customers: u32,
}

command_handler!(
    record_kpis,
    "/startups/{id}/kpis",
    200,
    "Record a month's KPIs",
    KpiBody,
    |_state, _id, b| {
        if b.headcount > 100_000 {
            return Err(ApiError::invalid(
                "headcount",
                "headcount must be at most 100000",
            ));
        }
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
