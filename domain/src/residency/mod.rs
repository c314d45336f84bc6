//! The residency aggregate: an artist's stay at the hub, from an open call to completion.
//!
//! applied → accepted | declined | waiting_list (→ accepted | declined) → contracted (the
//! agreement: dates, stipend, studio) → in_residence (arrived: the studio allocated through the
//! space aggregate; extensions, mentors and sessions) → completed (after at least one public
//! moment: open studio, exhibition, workshop, publication). Cancelled, with a reason, from any
//! open stage.
//!
//! The artist is a person id: their name lives in the people registry.

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::mentor::MentorStanding;
use crate::rule::{CommandInfo, DomainRule, RuleKind};
use crate::values::{
    Expertise, MentorId, Minutes, Money, PersonId, Proposal, Reason, SessionId, Title,
};

/// Where a residency stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResidencyStage {
    Applied,
    WaitingList,
    Accepted,
    Declined,
    Contracted,
    InResidence,
    Completed,
    Cancelled,
}

impl ResidencyStage {
    /// Whether the residency can still change (not declined, completed or cancelled).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Declined | Self::Completed | Self::Cancelled)
    }
}

impl std::fmt::Display for ResidencyStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Self::Applied => "applied",
            Self::WaitingList => "waiting_list",
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Contracted => "contracted",
            Self::InResidence => "in_residence",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        };
        f.write_str(s)
    }
}

/// What kind of public moment a resident held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PublicMomentKind {
    OpenStudio,
    Exhibition,
    Workshop,
    Publication,
}

/// The agreement: dates, stipend and studio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Agreement {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub stipend: Money,
    /// The space to be allocated as the studio on arrival.
    pub studio_id: Uuid,
}

/// A public moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicMoment {
    pub moment_id: Uuid,
    pub kind: PublicMomentKind,
    pub title: Title,
    pub held_on: NaiveDate,
}

/// A residency's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResidencyState {
    /// The open call applied to.
    pub call: Title,
    pub artist: PersonId,
    pub discipline: Expertise,
    pub proposal: Proposal,
    pub requested_from: NaiveDate,
    pub requested_to: NaiveDate,
    pub applied_on: NaiveDate,
    pub stage: ResidencyStage,
    pub agreement: Option<Agreement>,
    pub arrived_on: Option<NaiveDate>,
    /// The studio allocations made for the stay (arrival, then one per extension).
    pub allocations: Vec<Uuid>,
    pub mentors: Vec<MentorId>,
    pub sessions: u32,
    pub session_minutes: u64,
    pub public_moments: Vec<PublicMoment>,
    pub completed_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    session_ids: Vec<SessionId>,
}

/// The residency aggregate. `None` until an application is recorded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Residency {
    pub state: Option<ResidencyState>,
}

/// Every command of the residency aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResidencyCommand {
    Apply {
        call: Title,
        artist: PersonId,
        discipline: Expertise,
        proposal: Proposal,
        requested_from: NaiveDate,
        requested_to: NaiveDate,
        applied_on: NaiveDate,
    },
    Accept,
    Decline {
        reason: Reason,
    },
    WaitList {
        reason: Option<Reason>,
    },
    SignAgreement {
        agreement: Agreement,
    },
    /// The artist arrived; `allocation_id` is the studio's allocation in the space aggregate.
    Arrive {
        arrived_on: NaiveDate,
        allocation_id: Uuid,
    },
    /// Extend the stay; `allocation_id` allocates the studio for the added days.
    Extend {
        ends_on: NaiveDate,
        allocation_id: Uuid,
        reason: Reason,
    },
    AssignMentor {
        mentor_id: MentorId,
        standing: MentorStanding,
    },
    /// `today` (hub time) comes with the command: a session is logged once held.
    LogSession {
        session_id: SessionId,
        mentor_id: MentorId,
        held_on: NaiveDate,
        minutes: Minutes,
        today: NaiveDate,
    },
    /// Release an assigned mentor.
    ReleaseMentor {
        mentor_id: MentorId,
        reason: Option<Reason>,
    },
    RecordPublicMoment {
        moment: PublicMoment,
    },
    Complete {
        completed_on: NaiveDate,
    },
    Cancel {
        reason: Reason,
    },
}

impl CommandInfo for ResidencyCommand {
    fn name(&self) -> &'static str {
        crate::variant_name!(
            self;
            Apply = "ApplyForResidency", Accept = "AcceptResidency", Decline = "DeclineResidency",
            WaitList = "WaitListResidency", SignAgreement, Arrive, Extend = "ExtendResidency",
            AssignMentor = "AssignResidentMentor", LogSession = "LogResidentSession",
            ReleaseMentor = "ReleaseResidentMentor", RecordPublicMoment,
            Complete = "CompleteResidency", Cancel = "CancelResidency",
        )
    }

    fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Decline { reason } | Self::Extend { reason, .. } | Self::Cancel { reason } => {
                Some(reason)
            }
            Self::WaitList { reason } | Self::ReleaseMentor { reason, .. } => reason.as_ref(),
            _ => None,
        }
    }
}

/// What happened to a residency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ResidencyEvent {
    ResidencyApplied {
        call: Title,
        artist: PersonId,
        discipline: Expertise,
        proposal: Proposal,
        requested_from: NaiveDate,
        requested_to: NaiveDate,
        applied_on: NaiveDate,
    },
    ResidencyAccepted,
    ResidencyDeclined {
        reason: Reason,
    },
    ResidencyWaitListed {
        reason: Option<Reason>,
    },
    AgreementSigned {
        agreement: Agreement,
    },
    ArtistArrived {
        arrived_on: NaiveDate,
        allocation_id: Uuid,
    },
    ResidencyExtended {
        from: NaiveDate,
        to: NaiveDate,
        allocation_id: Uuid,
        reason: Reason,
    },
    ResidentMentorAssigned {
        mentor_id: MentorId,
    },
    ResidentSessionLogged {
        session_id: SessionId,
        mentor_id: MentorId,
        held_on: NaiveDate,
        minutes: Minutes,
    },
    ResidentMentorReleased {
        mentor_id: MentorId,
        reason: Option<Reason>,
    },
    PublicMomentRecorded {
        moment: PublicMoment,
    },
    ResidencyCompleted {
        completed_on: NaiveDate,
    },
    ResidencyCancelled {
        from: ResidencyStage,
        reason: Reason,
    },
}

impl crate::AnswerIds for ResidencyEvent {
    fn answer_id(&self) -> Option<(&'static str, Uuid)> {
        match self {
            Self::ArtistArrived { allocation_id, .. }
            | Self::ResidencyExtended { allocation_id, .. } => {
                Some(("allocation_id", *allocation_id))
            }
            Self::ResidentSessionLogged { session_id, .. } => Some(("session_id", session_id.0)),
            Self::PublicMomentRecorded { moment } => Some(("moment_id", moment.moment_id)),
            _ => None,
        }
    }
}

impl DomainEvent for ResidencyEvent {
    fn event_type(&self) -> String {
        crate::variant_name!(
            self;
            ResidencyApplied, ResidencyAccepted, ResidencyDeclined, ResidencyWaitListed,
            AgreementSigned, ArtistArrived, ResidencyExtended, ResidentMentorAssigned,
            ResidentSessionLogged, ResidentMentorReleased, PublicMomentRecorded,
            ResidencyCompleted, ResidencyCancelled
        )
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why a residency command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResidencyError {
    #[error("no such residency")]
    NotFound,
    #[error("this residency already exists")]
    AlreadyExists,
    #[error("a residency that is {stage} cannot be {action}")]
    WrongStage {
        stage: ResidencyStage,
        action: &'static str,
    },
    #[error("a period must not end before it starts")]
    BadPeriod,
    #[error("the stipend must be in EUR")]
    StipendNotInEuro,
    #[error("the artist cannot arrive after the agreement ends ({0})")]
    ArrivalAfterEnd(NaiveDate),
    #[error("an extension must end after the current end ({0})")]
    ExtensionNotLater(NaiveDate),
    #[error("no mentor {0} is registered")]
    UnknownMentor(MentorId),
    #[error("mentor {0} is retired and takes no new assignment")]
    MentorRetired(MentorId),
    #[error("mentor {0} is already assigned")]
    MentorAlreadyAssigned(MentorId),
    #[error("mentor {0} is not assigned to this residency")]
    MentorNotAssigned(MentorId),
    #[error("a residency completes after at least one public moment")]
    NoPublicMoment,
    #[error("an id that is already in use was given for a new record")]
    DuplicateId,
    #[error("a session cannot be dated after today ({0})")]
    SessionInTheFuture(NaiveDate),
}

impl DomainRule for ResidencyError {
    fn kind(&self) -> RuleKind {
        use ResidencyError::*;
        match self {
            NotFound | UnknownMentor(_) => RuleKind::NotFound,
            AlreadyExists
            | WrongStage { .. }
            | MentorRetired(_)
            | MentorAlreadyAssigned(_)
            | MentorNotAssigned(_)
            | NoPublicMoment
            | DuplicateId => RuleKind::Conflict,
            BadPeriod
            | StipendNotInEuro
            | ArrivalAfterEnd(_)
            | ExtensionNotLater(_)
            | SessionInTheFuture(_) => RuleKind::Invalid,
        }
    }

    fn code(&self) -> &'static str {
        use ResidencyError::*;
        match self {
            NotFound => "residency_not_found",
            AlreadyExists => "residency_exists",
            WrongStage { .. } => "residency_wrong_stage",
            BadPeriod => "bad_period",
            StipendNotInEuro => "stipend_not_in_euro",
            ArrivalAfterEnd(_) => "arrival_after_end",
            ExtensionNotLater(_) => "extension_not_later",
            UnknownMentor(_) => "unknown_mentor",
            MentorRetired(_) => "mentor_retired",
            MentorAlreadyAssigned(_) => "mentor_already_assigned",
            MentorNotAssigned(_) => "mentor_not_assigned",
            NoPublicMoment => "no_public_moment",
            DuplicateId => "duplicate_id",
            SessionInTheFuture(_) => "dated_in_the_future",
        }
    }
}

impl Residency {
    /// Decides a command's events (pure).
    pub fn decide(&self, command: ResidencyCommand) -> Result<Vec<ResidencyEvent>, ResidencyError> {
        use ResidencyCommand as C;
        use ResidencyEvent as E;
        use ResidencyStage as S;
        let Some(s) = &self.state else {
            return match command {
                C::Apply {
                    call,
                    artist,
                    discipline,
                    proposal,
                    requested_from,
                    requested_to,
                    applied_on,
                } => {
                    if requested_to < requested_from {
                        return Err(ResidencyError::BadPeriod);
                    }
                    Ok(vec![E::ResidencyApplied {
                        call,
                        artist,
                        discipline,
                        proposal,
                        requested_from,
                        requested_to,
                        applied_on,
                    }])
                }
                _ => Err(ResidencyError::NotFound),
            };
        };
        let stage = s.stage;
        let expect = |allowed: &[ResidencyStage], action: &'static str| {
            if allowed.contains(&stage) {
                Ok(())
            } else {
                Err(ResidencyError::WrongStage { stage, action })
            }
        };
        let event = match command {
            C::Apply { .. } => return Err(ResidencyError::AlreadyExists),
            C::Accept => {
                expect(&[S::Applied, S::WaitingList], "accepted")?;
                E::ResidencyAccepted
            }
            C::Decline { reason } => {
                expect(&[S::Applied, S::WaitingList], "declined")?;
                E::ResidencyDeclined { reason }
            }
            C::WaitList { reason } => {
                expect(&[S::Applied], "put on the waiting list")?;
                E::ResidencyWaitListed { reason }
            }
            C::SignAgreement { agreement } => {
                expect(&[S::Accepted], "given an agreement")?;
                if agreement.ends_on < agreement.starts_on {
                    return Err(ResidencyError::BadPeriod);
                }
                if agreement.stipend.currency.as_str() != "EUR" {
                    return Err(ResidencyError::StipendNotInEuro);
                }
                E::AgreementSigned { agreement }
            }
            C::Arrive {
                arrived_on,
                allocation_id,
            } => {
                expect(&[S::Contracted], "arrived at")?;
                let ends_on = s.agreement.as_ref().map_or(arrived_on, |a| a.ends_on);
                if arrived_on > ends_on {
                    return Err(ResidencyError::ArrivalAfterEnd(ends_on));
                }
                E::ArtistArrived {
                    arrived_on,
                    allocation_id,
                }
            }
            C::Extend {
                ends_on,
                allocation_id,
                reason,
            } => {
                expect(&[S::InResidence], "extended")?;
                let current = s.agreement.as_ref().map_or(ends_on, |a| a.ends_on);
                if ends_on <= current {
                    return Err(ResidencyError::ExtensionNotLater(current));
                }
                if s.allocations.contains(&allocation_id) {
                    return Err(ResidencyError::DuplicateId);
                }
                E::ResidencyExtended {
                    from: current.succ_opt().unwrap_or(current),
                    to: ends_on,
                    allocation_id,
                    reason,
                }
            }
            C::AssignMentor {
                mentor_id,
                standing,
            } => {
                expect(
                    &[S::Accepted, S::Contracted, S::InResidence],
                    "given a mentor",
                )?;
                match standing {
                    MentorStanding::Active => {}
                    MentorStanding::Retired => {
                        return Err(ResidencyError::MentorRetired(mentor_id))
                    }
                    MentorStanding::Unknown => {
                        return Err(ResidencyError::UnknownMentor(mentor_id))
                    }
                }
                if s.mentors.contains(&mentor_id) {
                    return Err(ResidencyError::MentorAlreadyAssigned(mentor_id));
                }
                E::ResidentMentorAssigned { mentor_id }
            }
            C::LogSession {
                session_id,
                mentor_id,
                held_on,
                minutes,
                today,
            } => {
                expect(&[S::InResidence], "given a mentoring session")?;
                if held_on > today {
                    return Err(ResidencyError::SessionInTheFuture(today));
                }
                if !s.mentors.contains(&mentor_id) {
                    return Err(ResidencyError::MentorNotAssigned(mentor_id));
                }
                if s.session_ids.contains(&session_id) {
                    return Err(ResidencyError::DuplicateId);
                }
                E::ResidentSessionLogged {
                    session_id,
                    mentor_id,
                    held_on,
                    minutes,
                }
            }
            C::ReleaseMentor { mentor_id, reason } => {
                if !s.mentors.contains(&mentor_id) {
                    return Err(ResidencyError::MentorNotAssigned(mentor_id));
                }
                E::ResidentMentorReleased { mentor_id, reason }
            }
            C::RecordPublicMoment { moment } => {
                expect(&[S::InResidence], "given a public moment")?;
                if s.public_moments
                    .iter()
                    .any(|m| m.moment_id == moment.moment_id)
                {
                    return Err(ResidencyError::DuplicateId);
                }
                E::PublicMomentRecorded { moment }
            }
            C::Complete { completed_on } => {
                expect(&[S::InResidence], "completed")?;
                if s.public_moments.is_empty() {
                    return Err(ResidencyError::NoPublicMoment);
                }
                E::ResidencyCompleted { completed_on }
            }
            C::Cancel { reason } => {
                if !stage.is_open() {
                    return Err(ResidencyError::WrongStage {
                        stage,
                        action: "cancelled",
                    });
                }
                E::ResidencyCancelled {
                    from: stage,
                    reason,
                }
            }
        };
        Ok(vec![event])
    }
}

crate::aggregate!(Residency, ResidencyCommand, ResidencyEvent, ResidencyError);

impl Residency {
    /// Folds one event into the state (what cqrs-es's `apply` runs).
    fn evolve(&mut self, event: ResidencyEvent) {
        use ResidencyEvent as E;
        use ResidencyStage as S;
        if let E::ResidencyApplied {
            call,
            artist,
            discipline,
            proposal,
            requested_from,
            requested_to,
            applied_on,
        } = event
        {
            self.state = Some(ResidencyState {
                call,
                artist,
                discipline,
                proposal,
                requested_from,
                requested_to,
                applied_on,
                stage: S::Applied,
                agreement: None,
                arrived_on: None,
                allocations: Vec::new(),
                mentors: Vec::new(),
                sessions: 0,
                session_minutes: 0,
                public_moments: Vec::new(),
                completed_on: None,
                session_ids: Vec::new(),
            });
            return;
        }
        let Some(s) = self.state.as_mut() else {
            return;
        };
        match event {
            E::ResidencyApplied { .. } => {}
            E::ResidencyAccepted => s.stage = S::Accepted,
            E::ResidencyDeclined { .. } => s.stage = S::Declined,
            E::ResidencyWaitListed { .. } => s.stage = S::WaitingList,
            E::AgreementSigned { agreement } => {
                s.agreement = Some(agreement);
                s.stage = S::Contracted;
            }
            E::ArtistArrived {
                arrived_on,
                allocation_id,
            } => {
                s.arrived_on = Some(arrived_on);
                s.allocations.push(allocation_id);
                s.stage = S::InResidence;
            }
            E::ResidencyExtended {
                to, allocation_id, ..
            } => {
                if let Some(a) = s.agreement.as_mut() {
                    a.ends_on = to;
                }
                s.allocations.push(allocation_id);
            }
            E::ResidentMentorAssigned { mentor_id } => s.mentors.push(mentor_id),
            E::ResidentSessionLogged {
                session_id,
                minutes,
                ..
            } => {
                s.sessions += 1;
                s.session_minutes += u64::from(minutes.get());
                s.session_ids.push(session_id);
            }
            E::ResidentMentorReleased { mentor_id, .. } => s.mentors.retain(|m| *m != mentor_id),
            E::PublicMomentRecorded { moment } => s.public_moments.push(moment),
            E::ResidencyCompleted { completed_on } => {
                s.completed_on = Some(completed_on);
                s.stage = S::Completed;
            }
            E::ResidencyCancelled { .. } => s.stage = S::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests;
