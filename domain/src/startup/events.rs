//! What happened to a startup. Past tense; each variant's name is its `event_type`.

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use super::{FundingKind, RoundKind, Stage};
use crate::values::{
    Cohort, GrantId, InvestorName, MentorId, MilestoneId, Minutes, Money, OrganisationName,
    PersonId, ProgrammeName, Reason, RoundId, Sector, SessionId, Title, YearMonth,
};

/// Every event of the startup aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StartupEvent {
    /// An application was received; the startup exists from here on, in `application`.
    Applied {
        name: OrganisationName,
        sector: Option<Sector>,
        founders: Vec<PersonId>,
        cohort: Option<Cohort>,
        applied_on: NaiveDate,
    },
    /// The startup moved forward through the pipeline. `override_reason` is set when a stage
    /// was skipped with the officer's explicit override.
    ///
    /// `on`, here and in the three events after it, is the day the startup entered its new
    /// stage; events recorded before it was kept have none (their day is the day recorded).
    StageAdvanced {
        from: Stage,
        to: Stage,
        override_reason: Option<Reason>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
    },
    /// The application was turned down.
    Rejected {
        from: Stage,
        reason: Reason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
    },
    /// The startup left the programme of its own accord.
    Withdrawn {
        from: Stage,
        reason: Reason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
    },
    /// The programme ended the startup's participation (closure, relocation, breach…).
    Exited {
        from: Stage,
        reason: Reason,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        on: Option<NaiveDate>,
    },
    /// The record was entered by mistake (a duplicate application): it stays in the log and
    /// leaves every figure; nothing more is recorded on it.
    Voided { reason: Reason },
    /// The startup was placed in a cohort.
    CohortAssigned { cohort: Cohort },
    /// An equity round closed.
    EquityRoundRecorded {
        round_id: RoundId,
        round: RoundKind,
        amount: Money,
        investors: Vec<InvestorName>,
        closed_on: NaiveDate,
    },
    /// Non-dilutive funding (a grant or a loan) was awarded by a named programme.
    FundingAwarded {
        grant_id: GrantId,
        programme: ProgrammeName,
        kind: FundingKind,
        amount: Money,
        awarded_on: NaiveDate,
    },
    /// A tranche of awarded funding was paid out.
    TranchePaid {
        grant_id: GrantId,
        amount: Money,
        paid_on: NaiveDate,
    },
    /// A mentor was assigned.
    MentorAssigned { mentor_id: MentorId },
    /// A mentor was released.
    MentorReleased {
        mentor_id: MentorId,
        reason: Option<Reason>,
    },
    /// A mentorship session took place with an assigned mentor.
    SessionLogged {
        session_id: SessionId,
        mentor_id: MentorId,
        held_on: NaiveDate,
        minutes: Minutes,
        topics: Vec<Title>,
    },
    /// A milestone was set.
    MilestoneSet {
        milestone_id: MilestoneId,
        title: Title,
        due_on: Option<NaiveDate>,
    },
    /// A milestone was reached.
    MilestoneAchieved {
        milestone_id: MilestoneId,
        achieved_on: NaiveDate,
    },
    /// Monthly KPIs were reported (a later report for the same month corrects the earlier one).
    KpisRecorded {
        month: YearMonth,
        revenue: Money,
        headcount: u32,
        customers: u32,
    },
}

impl crate::AnswerIds for StartupEvent {
    fn answer_id(&self) -> Option<(&'static str, uuid::Uuid)> {
        match self {
            Self::EquityRoundRecorded { round_id, .. } => Some(("round_id", round_id.0)),
            Self::FundingAwarded { grant_id, .. } => Some(("grant_id", grant_id.0)),
            Self::SessionLogged { session_id, .. } => Some(("session_id", session_id.0)),
            Self::MilestoneSet { milestone_id, .. } => Some(("milestone_id", milestone_id.0)),
            _ => None,
        }
    }
}

impl DomainEvent for StartupEvent {
    fn event_type(&self) -> String {
        crate::variant_name!(
            self;
            Applied, StageAdvanced, Rejected, Withdrawn, Exited, Voided, CohortAssigned,
            EquityRoundRecorded, FundingAwarded, TranchePaid, MentorAssigned, MentorReleased,
            SessionLogged, MilestoneSet, MilestoneAchieved, KpisRecorded
        )
        .to_owned()
    }

    /// Every event type starts at version 1.0; an incompatible change bumps it and adds an
    /// upcaster.
    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
