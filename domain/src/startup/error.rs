//! Every rule a startup command can break, one variant each.

use super::Stage;
use crate::rule::{DomainRule, RuleKind};
use crate::values::{Currency, GrantId, MentorId, MilestoneId};

/// Why a startup command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StartupError {
    /// Any command but `Apply` on a startup that does not exist.
    #[error("no such startup")]
    NotFound,
    /// `Apply` on a startup that already exists.
    #[error("this startup already exists")]
    AlreadyExists,
    /// A transition the pipeline does not have (backwards, out of a closed stage, to a stage
    /// reached by another command).
    #[error("a startup in {from} cannot move to {to}")]
    InvalidTransition { from: Stage, to: Stage },
    /// Skipping a stage without the officer's explicit override and reason.
    #[error("moving from {from} to {to} skips a stage: give an override reason to do so")]
    SkipRequiresOverride { from: Stage, to: Stage },
    /// A command that needs an active startup on one that is closed.
    #[error("the startup is {stage}: it is no longer active")]
    NotActive { stage: Stage },
    /// A graduated startup has no further stage.
    #[error("a graduated startup has no further stage")]
    NoFurtherStage,
    /// Rejection after the selection stages.
    #[error("only an application in application or screening can be rejected, not in {stage}")]
    RejectionTooLate { stage: Stage },
    /// Funding for a rejected, withdrawn or exited startup.
    #[error("no funding can be recorded for a startup that is {stage}")]
    FundingNotAllowed { stage: Stage },
    /// A zero amount where money must change hands.
    #[error("the amount must be greater than zero")]
    NonPositiveAmount,
    /// A tranche in another currency than its award.
    #[error("the award is in {expected}, not {got}")]
    CurrencyMismatch { expected: Currency, got: Currency },
    /// A tranche for funding that was never awarded.
    #[error("no funding {0} was awarded to this startup")]
    UnknownGrant(GrantId),
    /// Tranches paid beyond what was awarded.
    #[error("the tranche exceeds what remains of the award ({remaining_cents} cents)")]
    TrancheExceedsAward { remaining_cents: i64 },
    /// A tranche dated before its award.
    #[error("a tranche cannot be paid before its award")]
    TrancheBeforeAward,
    /// Assigning a mentor twice.
    #[error("mentor {0} is already assigned")]
    MentorAlreadyAssigned(MentorId),
    /// Assigning a mentor who was never registered.
    #[error("no mentor {0} is registered")]
    UnknownMentor(MentorId),
    /// Assigning a retired mentor.
    #[error("mentor {0} is retired and takes no new assignment")]
    MentorRetired(MentorId),
    /// Releasing, or logging a session with, a mentor who is not assigned.
    #[error("mentor {0} is not assigned to this startup")]
    MentorNotAssigned(MentorId),
    /// Achieving a milestone that was never set.
    #[error("no milestone {0}")]
    UnknownMilestone(MilestoneId),
    /// Achieving a milestone twice.
    #[error("milestone {0} is already achieved")]
    MilestoneAlreadyAchieved(MilestoneId),
    /// A new round, grant, session or milestone with an id already used in this startup.
    #[error("an id that is already in use was given for a new record")]
    DuplicateId,
    /// KPIs from a startup that is not (or no longer) in the programme.
    #[error("KPIs are reported from pre-incubation on; the startup is in {stage}")]
    NotInProgramme { stage: Stage },
    /// An equity round with no investor.
    #[error("an equity round needs at least one investor")]
    NoInvestors,
    /// An application with no founder.
    #[error("an application needs at least one founder")]
    NoFounders,
    /// A stage change dated before the day the current stage was entered.
    #[error(
        "the startup entered its current stage on {entered_on}: a change cannot be dated before"
    )]
    StageDateBeforeEntry { entered_on: chrono::NaiveDate },
    /// Something that has to have happened (a session held, a tranche paid) dated after today.
    #[error("{what} cannot be dated after today ({today})")]
    InTheFuture {
        what: &'static str,
        today: chrono::NaiveDate,
    },
    /// The record was voided: nothing more is recorded on it.
    #[error("this startup was voided (entered by mistake): nothing more can be recorded on it")]
    Voided,
    /// Funding awarded before the startup applied.
    #[error("the startup applied on {applied_on}: funding cannot be awarded before")]
    AwardBeforeApplication { applied_on: chrono::NaiveDate },
}

impl DomainRule for StartupError {
    fn kind(&self) -> RuleKind {
        use StartupError::*;
        match self {
            NotFound | UnknownGrant(_) | UnknownMilestone(_) | UnknownMentor(_) => {
                RuleKind::NotFound
            }
            NonPositiveAmount
            | CurrencyMismatch { .. }
            | TrancheBeforeAward
            | NoInvestors
            | NoFounders
            | StageDateBeforeEntry { .. }
            | InTheFuture { .. }
            | AwardBeforeApplication { .. } => RuleKind::Invalid,
            AlreadyExists
            | InvalidTransition { .. }
            | SkipRequiresOverride { .. }
            | NotActive { .. }
            | NoFurtherStage
            | RejectionTooLate { .. }
            | FundingNotAllowed { .. }
            | TrancheExceedsAward { .. }
            | MentorAlreadyAssigned(_)
            | MentorRetired(_)
            | MentorNotAssigned(_)
            | MilestoneAlreadyAchieved(_)
            | DuplicateId
            | NotInProgramme { .. }
            | Voided => RuleKind::Conflict,
        }
    }

    fn code(&self) -> &'static str {
        use StartupError::*;
        match self {
            NotFound => "startup_not_found",
            AlreadyExists => "startup_already_exists",
            InvalidTransition { .. } => "invalid_transition",
            SkipRequiresOverride { .. } => "skip_requires_override",
            NotActive { .. } => "startup_not_active",
            NoFurtherStage => "no_further_stage",
            RejectionTooLate { .. } => "rejection_too_late",
            FundingNotAllowed { .. } => "funding_not_allowed",
            NonPositiveAmount => "non_positive_amount",
            CurrencyMismatch { .. } => "currency_mismatch",
            UnknownGrant(_) => "unknown_grant",
            TrancheExceedsAward { .. } => "tranche_exceeds_award",
            TrancheBeforeAward => "tranche_before_award",
            MentorAlreadyAssigned(_) => "mentor_already_assigned",
            UnknownMentor(_) => "unknown_mentor",
            MentorRetired(_) => "mentor_retired",
            MentorNotAssigned(_) => "mentor_not_assigned",
            UnknownMilestone(_) => "unknown_milestone",
            MilestoneAlreadyAchieved(_) => "milestone_already_achieved",
            DuplicateId => "duplicate_id",
            NotInProgramme { .. } => "not_in_programme",
            NoInvestors => "no_investors",
            NoFounders => "no_founders",
            StageDateBeforeEntry { .. } => "stage_date_before_entry",
            InTheFuture { .. } => "dated_in_the_future",
            Voided => "startup_voided",
            AwardBeforeApplication { .. } => "award_before_application",
        }
    }
}
