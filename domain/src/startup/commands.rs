//! What a programme officer may ask of a startup. Imperative; every value already parsed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{FundingKind, RoundKind, Stage};
use crate::values::{
    Cohort, Founders, GrantId, Headcount, Investors, MentorId, MilestoneId, Minutes, Money,
    OrganisationName, ProgrammeName, Reason, RoundId, Sector, SessionId, Title, Topics, YearMonth,
};

/// Every command of the startup aggregate. Ids of new sub-records (rounds, grants, sessions,
/// milestones) are chosen by the caller, so `handle` stays deterministic and a retried command
/// can be recognised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StartupCommand {
    /// Register an application: the startup enters the pipeline at `application`.
    Apply {
        name: OrganisationName,
        sector: Option<Sector>,
        founders: Founders,
        cohort: Option<Cohort>,
        applied_on: NaiveDate,
    },
    /// Move to `to`, or to the next stage when `to` is `None`. Skipping a stage needs an
    /// override reason.
    /// `on` is the day it happened (not before the day the current stage was entered, nor
    /// after `today`, hub time, which comes with every stage change).
    Advance {
        to: Option<Stage>,
        override_reason: Option<Reason>,
        on: NaiveDate,
        today: NaiveDate,
    },
    /// Turn the application down (from `application` or `screening`).
    Reject {
        reason: Reason,
        on: NaiveDate,
        today: NaiveDate,
    },
    /// The startup leaves of its own accord (from any active stage).
    Withdraw {
        reason: Reason,
        on: NaiveDate,
        today: NaiveDate,
    },
    /// The programme ends the startup's participation (from any active stage).
    Exit {
        reason: Reason,
        on: NaiveDate,
        today: NaiveDate,
    },
    /// Void a record entered by mistake (a duplicate application): kept in the log, out of
    /// every figure, closed to further commands.
    Void { reason: Reason },
    /// Place the startup in a cohort.
    AssignCohort { cohort: Cohort },
    /// Record a closed equity round.
    RecordEquityRound {
        round_id: RoundId,
        round: RoundKind,
        amount: Money,
        investors: Investors,
        closed_on: NaiveDate,
    },
    /// Record non-dilutive funding awarded by a programme.
    AwardFunding {
        grant_id: GrantId,
        programme: ProgrammeName,
        kind: FundingKind,
        amount: Money,
        awarded_on: NaiveDate,
    },
    /// Record a tranche paid out of awarded funding.
    /// `today` (hub time) comes with the command: a tranche is recorded once paid.
    PayTranche {
        grant_id: GrantId,
        amount: Money,
        paid_on: NaiveDate,
        today: NaiveDate,
    },
    /// Assign a mentor.
    /// Assign a mentor; `standing` is the mentor's, as the mentor aggregate has it now.
    AssignMentor {
        mentor_id: MentorId,
        standing: crate::mentor::MentorStanding,
    },
    /// Release an assigned mentor.
    ReleaseMentor {
        mentor_id: MentorId,
        reason: Option<Reason>,
    },
    /// Log a session held with an assigned mentor; `today` (hub time) comes with the
    /// command: a session is logged once held.
    LogSession {
        session_id: SessionId,
        mentor_id: MentorId,
        held_on: NaiveDate,
        minutes: Minutes,
        topics: Topics,
        today: NaiveDate,
    },
    /// Set a milestone.
    SetMilestone {
        milestone_id: MilestoneId,
        title: Title,
        due_on: Option<NaiveDate>,
    },
    /// Mark a milestone reached.
    AchieveMilestone {
        milestone_id: MilestoneId,
        achieved_on: NaiveDate,
    },
    /// Report a month's KPIs.
    RecordKpis {
        month: YearMonth,
        revenue: Money,
        headcount: Headcount,
        customers: u32,
    },
}

impl crate::CommandInfo for StartupCommand {
    fn name(&self) -> &'static str {
        crate::variant_name!(
            self;
            Apply, Advance, Reject, Withdraw, Exit, Void, AssignCohort, RecordEquityRound,
            AwardFunding, PayTranche, AssignMentor, ReleaseMentor, LogSession, SetMilestone,
            AchieveMilestone, RecordKpis
        )
    }

    fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Reject { reason, .. }
            | Self::Withdraw { reason, .. }
            | Self::Exit { reason, .. }
            | Self::Void { reason } => Some(reason),
            Self::Advance {
                override_reason, ..
            } => override_reason.as_ref(),
            Self::ReleaseMentor { reason, .. } => reason.as_ref(),
            _ => None,
        }
    }
}
