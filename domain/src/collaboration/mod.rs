//! The collaboration aggregate: an interdisciplinary project on the S+T+ARTS model.
//!
//! proposed (title, challenge, disciplines) → participants join (startups, residents, external
//! partners flagged local / national / European, each with a discipline and a role) → a
//! co-production agreement settles intellectual property (who owns what, the licence) →
//! active (phases, milestones, outputs: prototype, artwork, exhibition, publication) →
//! concluded; abandoned, with a reason, from proposed or active. It becomes active only with
//! at least two participants from two different disciplines and an agreement in place.

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rule::{CommandInfo, DomainRule, RuleKind};
use crate::values::{Expertise, OrganisationName, Proposal, Reason, Title};

/// Where a collaboration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CollaborationStage {
    Proposed,
    Active,
    Concluded,
    Abandoned,
}

impl std::fmt::Display for CollaborationStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Proposed => "proposed",
            Self::Active => "active",
            Self::Concluded => "concluded",
            Self::Abandoned => "abandoned",
        })
    }
}

/// Who a participant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PartyKind {
    /// A startup of the programme (its id).
    Startup,
    /// A residency (its id): the same name as a space's occupant kind. Events written before
    /// the names were made one say `resident`, still read.
    #[serde(alias = "resident")]
    Residency,
    /// An organisation from outside the hub (its own id and name).
    Partner,
}

/// Where an external partner comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Local,
    National,
    European,
}

/// A participant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Participant {
    pub participant_id: Uuid,
    pub kind: PartyKind,
    /// The startup's or residency's id, or the partner organisation's.
    pub party_id: Uuid,
    /// A partner's name (organisations' names are not personal data).
    pub name: Option<OrganisationName>,
    /// A partner's scope.
    pub scope: Option<Scope>,
    pub discipline: Expertise,
    pub role: Title,
}

/// The co-production agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CoProduction {
    /// Who owns what.
    pub ip_terms: Proposal,
    pub licence: Title,
    pub signed_on: NaiveDate,
}

/// A phase of the work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Phase {
    pub phase_id: Uuid,
    pub title: Title,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// A milestone, due and maybe done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollabMilestone {
    pub milestone_id: Uuid,
    pub title: Title,
    pub due_on: NaiveDate,
    pub done_on: Option<NaiveDate>,
}

/// What a collaboration produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Prototype,
    Artwork,
    Exhibition,
    Publication,
}

/// An output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Output {
    pub output_id: Uuid,
    pub kind: OutputKind,
    pub title: Title,
    pub on: NaiveDate,
}

/// A collaboration's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollaborationState {
    pub title: Title,
    pub challenge: Proposal,
    pub disciplines: Vec<Expertise>,
    pub proposed_on: NaiveDate,
    pub stage: CollaborationStage,
    pub participants: Vec<Participant>,
    pub agreement: Option<CoProduction>,
    pub activated_on: Option<NaiveDate>,
    pub phases: Vec<Phase>,
    pub milestones: Vec<CollabMilestone>,
    pub outputs: Vec<Output>,
    pub ended_on: Option<NaiveDate>,
}

/// The collaboration aggregate. `None` until proposed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Collaboration {
    pub state: Option<CollaborationState>,
}

/// The most participants, disciplines, phases, milestones or outputs a collaboration holds.
pub const MAX_ITEMS: usize = 100;

/// Every command of the collaboration aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CollaborationCommand {
    Propose {
        title: Title,
        challenge: Proposal,
        disciplines: Vec<Expertise>,
        proposed_on: NaiveDate,
    },
    Join {
        participant: Participant,
    },
    Leave {
        participant_id: Uuid,
        reason: Reason,
    },
    RecordAgreement {
        agreement: CoProduction,
    },
    Activate {
        activated_on: NaiveDate,
    },
    AddPhase {
        phase: Phase,
    },
    SetMilestone {
        milestone: CollabMilestone,
    },
    AchieveMilestone {
        milestone_id: Uuid,
        done_on: NaiveDate,
    },
    RecordOutput {
        output: Output,
    },
    Conclude {
        concluded_on: NaiveDate,
    },
    Abandon {
        reason: Reason,
        abandoned_on: NaiveDate,
    },
}

impl CommandInfo for CollaborationCommand {
    fn name(&self) -> &'static str {
        crate::variant_name!(
            self;
            Propose = "ProposeCollaboration", Join = "JoinCollaboration",
            Leave = "LeaveCollaboration", RecordAgreement = "RecordCoProduction",
            Activate = "ActivateCollaboration", AddPhase,
            SetMilestone = "SetCollaborationMilestone",
            AchieveMilestone = "AchieveCollaborationMilestone", RecordOutput,
            Conclude = "ConcludeCollaboration", Abandon = "AbandonCollaboration",
        )
    }

    fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Leave { reason, .. } | Self::Abandon { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// What happened to a collaboration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CollaborationEvent {
    CollaborationProposed {
        title: Title,
        challenge: Proposal,
        disciplines: Vec<Expertise>,
        proposed_on: NaiveDate,
    },
    ParticipantJoined {
        participant: Participant,
    },
    ParticipantLeft {
        participant_id: Uuid,
        reason: Reason,
    },
    CoProductionAgreed {
        agreement: CoProduction,
    },
    CollaborationActivated {
        activated_on: NaiveDate,
    },
    PhaseAdded {
        phase: Phase,
    },
    CollaborationMilestoneSet {
        milestone: CollabMilestone,
    },
    CollaborationMilestoneAchieved {
        milestone_id: Uuid,
        done_on: NaiveDate,
    },
    OutputRecorded {
        output: Output,
    },
    CollaborationConcluded {
        concluded_on: NaiveDate,
    },
    CollaborationAbandoned {
        from: CollaborationStage,
        reason: Reason,
        abandoned_on: NaiveDate,
    },
}

impl crate::AnswerIds for CollaborationEvent {
    fn answer_id(&self) -> Option<(&'static str, Uuid)> {
        match self {
            Self::ParticipantJoined { participant } => {
                Some(("participant_id", participant.participant_id))
            }
            Self::PhaseAdded { phase } => Some(("phase_id", phase.phase_id)),
            Self::CollaborationMilestoneSet { milestone } => {
                Some(("milestone_id", milestone.milestone_id))
            }
            Self::OutputRecorded { output } => Some(("output_id", output.output_id)),
            _ => None,
        }
    }
}

impl DomainEvent for CollaborationEvent {
    fn event_type(&self) -> String {
        crate::variant_name!(
            self;
            CollaborationProposed, ParticipantJoined, ParticipantLeft, CoProductionAgreed,
            CollaborationActivated, PhaseAdded, CollaborationMilestoneSet,
            CollaborationMilestoneAchieved, OutputRecorded, CollaborationConcluded,
            CollaborationAbandoned
        )
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why a collaboration command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CollaborationError {
    #[error("no such collaboration")]
    NotFound,
    #[error("this collaboration already exists")]
    AlreadyExists,
    #[error("a collaboration that is {stage} cannot be {action}")]
    WrongStage {
        stage: CollaborationStage,
        action: &'static str,
    },
    #[error("a collaboration names at least one discipline, at most {MAX_ITEMS}, each once")]
    BadDisciplines,
    #[error("an external partner needs a name and a scope (local, national, european); others have neither")]
    BadParty,
    #[error("this party already takes part")]
    AlreadyParticipating,
    #[error("no participant {0}")]
    UnknownParticipant(Uuid),
    #[error("a co-production agreement is already recorded")]
    AgreementExists,
    #[error("activation needs at least two participants from two different disciplines")]
    NotInterdisciplinary,
    #[error("activation needs a co-production agreement")]
    NoAgreement,
    #[error("a period must not end before it starts")]
    BadPeriod,
    #[error("no milestone {0}")]
    UnknownMilestone(Uuid),
    #[error("milestone {0} is already achieved")]
    MilestoneAlreadyAchieved(Uuid),
    #[error("an id that is already in use was given for a new record")]
    DuplicateId,
    #[error("a collaboration holds at most {MAX_ITEMS} of each kind of record")]
    TooMany,
}

impl DomainRule for CollaborationError {
    fn kind(&self) -> RuleKind {
        use CollaborationError::*;
        match self {
            NotFound | UnknownParticipant(_) | UnknownMilestone(_) => RuleKind::NotFound,
            AlreadyExists
            | WrongStage { .. }
            | AlreadyParticipating
            | AgreementExists
            | NotInterdisciplinary
            | NoAgreement
            | MilestoneAlreadyAchieved(_)
            | DuplicateId
            | TooMany => RuleKind::Conflict,
            BadDisciplines | BadParty | BadPeriod => RuleKind::Invalid,
        }
    }

    fn code(&self) -> &'static str {
        use CollaborationError::*;
        match self {
            NotFound => "collaboration_not_found",
            AlreadyExists => "collaboration_exists",
            WrongStage { .. } => "collaboration_wrong_stage",
            BadDisciplines => "bad_disciplines",
            BadParty => "bad_party",
            AlreadyParticipating => "already_participating",
            UnknownParticipant(_) => "unknown_participant",
            AgreementExists => "agreement_exists",
            NotInterdisciplinary => "not_interdisciplinary",
            NoAgreement => "no_agreement",
            BadPeriod => "bad_period",
            UnknownMilestone(_) => "unknown_milestone",
            MilestoneAlreadyAchieved(_) => "milestone_already_achieved",
            DuplicateId => "duplicate_id",
            TooMany => "too_many",
        }
    }
}

impl CollaborationState {
    fn id_in_use(&self, id: Uuid) -> bool {
        self.participants.iter().any(|p| p.participant_id == id)
            || self.phases.iter().any(|p| p.phase_id == id)
            || self.milestones.iter().any(|m| m.milestone_id == id)
            || self.outputs.iter().any(|o| o.output_id == id)
    }
}

impl Collaboration {
    /// Decides a command's events (pure).
    pub fn decide(
        &self,
        command: CollaborationCommand,
    ) -> Result<Vec<CollaborationEvent>, CollaborationError> {
        use CollaborationCommand as C;
        use CollaborationError as X;
        use CollaborationEvent as E;
        use CollaborationStage as S;
        let Some(s) = &self.state else {
            return match command {
                C::Propose {
                    title,
                    challenge,
                    disciplines,
                    proposed_on,
                } => {
                    let mut names: Vec<String> = disciplines
                        .iter()
                        .map(|d| d.as_str().to_lowercase())
                        .collect();
                    names.sort_unstable();
                    names.dedup();
                    if disciplines.is_empty()
                        || disciplines.len() > MAX_ITEMS
                        || names.len() != disciplines.len()
                    {
                        return Err(X::BadDisciplines);
                    }
                    Ok(vec![E::CollaborationProposed {
                        title,
                        challenge,
                        disciplines,
                        proposed_on,
                    }])
                }
                _ => Err(X::NotFound),
            };
        };
        let stage = s.stage;
        let expect = |allowed: &[S], action: &'static str| {
            if allowed.contains(&stage) {
                Ok(())
            } else {
                Err(X::WrongStage { stage, action })
            }
        };
        let event = match command {
            C::Propose { .. } => return Err(X::AlreadyExists),
            C::Join { participant } => {
                expect(&[S::Proposed, S::Active], "joined")?;
                let partner = participant.kind == PartyKind::Partner;
                if partner != (participant.name.is_some() && participant.scope.is_some())
                    || (!partner && (participant.name.is_some() || participant.scope.is_some()))
                {
                    return Err(X::BadParty);
                }
                if s.participants
                    .iter()
                    .any(|p| p.party_id == participant.party_id)
                {
                    return Err(X::AlreadyParticipating);
                }
                if s.id_in_use(participant.participant_id) {
                    return Err(X::DuplicateId);
                }
                if s.participants.len() >= MAX_ITEMS {
                    return Err(X::TooMany);
                }
                E::ParticipantJoined { participant }
            }
            C::Leave {
                participant_id,
                reason,
            } => {
                expect(&[S::Proposed, S::Active], "left")?;
                if !s
                    .participants
                    .iter()
                    .any(|p| p.participant_id == participant_id)
                {
                    return Err(X::UnknownParticipant(participant_id));
                }
                E::ParticipantLeft {
                    participant_id,
                    reason,
                }
            }
            C::RecordAgreement { agreement } => {
                expect(&[S::Proposed, S::Active], "given an agreement")?;
                if s.agreement.is_some() {
                    return Err(X::AgreementExists);
                }
                E::CoProductionAgreed { agreement }
            }
            C::Activate { activated_on } => {
                expect(&[S::Proposed], "activated")?;
                let mut disciplines: Vec<String> = s
                    .participants
                    .iter()
                    .map(|p| p.discipline.as_str().to_lowercase())
                    .collect();
                disciplines.sort_unstable();
                disciplines.dedup();
                if s.participants.len() < 2 || disciplines.len() < 2 {
                    return Err(X::NotInterdisciplinary);
                }
                if s.agreement.is_none() {
                    return Err(X::NoAgreement);
                }
                E::CollaborationActivated { activated_on }
            }
            C::AddPhase { phase } => {
                expect(&[S::Active], "given a phase")?;
                if phase.ends_on < phase.starts_on {
                    return Err(X::BadPeriod);
                }
                if s.id_in_use(phase.phase_id) {
                    return Err(X::DuplicateId);
                }
                if s.phases.len() >= MAX_ITEMS {
                    return Err(X::TooMany);
                }
                E::PhaseAdded { phase }
            }
            C::SetMilestone { milestone } => {
                expect(&[S::Active], "given a milestone")?;
                if s.id_in_use(milestone.milestone_id) {
                    return Err(X::DuplicateId);
                }
                if s.milestones.len() >= MAX_ITEMS {
                    return Err(X::TooMany);
                }
                E::CollaborationMilestoneSet {
                    milestone: CollabMilestone {
                        done_on: None,
                        ..milestone
                    },
                }
            }
            C::AchieveMilestone {
                milestone_id,
                done_on,
            } => {
                expect(&[S::Active], "given a milestone")?;
                let m = s
                    .milestones
                    .iter()
                    .find(|m| m.milestone_id == milestone_id)
                    .ok_or(X::UnknownMilestone(milestone_id))?;
                if m.done_on.is_some() {
                    return Err(X::MilestoneAlreadyAchieved(milestone_id));
                }
                E::CollaborationMilestoneAchieved {
                    milestone_id,
                    done_on,
                }
            }
            C::RecordOutput { output } => {
                expect(&[S::Active], "given an output")?;
                if s.id_in_use(output.output_id) {
                    return Err(X::DuplicateId);
                }
                if s.outputs.len() >= MAX_ITEMS {
                    return Err(X::TooMany);
                }
                E::OutputRecorded { output }
            }
            C::Conclude { concluded_on } => {
                expect(&[S::Active], "concluded")?;
                E::CollaborationConcluded { concluded_on }
            }
            C::Abandon {
                reason,
                abandoned_on,
            } => {
                expect(&[S::Proposed, S::Active], "abandoned")?;
                E::CollaborationAbandoned {
                    from: stage,
                    reason,
                    abandoned_on,
                }
            }
        };
        Ok(vec![event])
    }
}

crate::aggregate!(
    Collaboration,
    CollaborationCommand,
    CollaborationEvent,
    CollaborationError
);

impl Collaboration {
    /// Folds one event into the state (what cqrs-es's `apply` runs).
    fn evolve(&mut self, event: CollaborationEvent) {
        use CollaborationEvent as E;
        use CollaborationStage as S;
        if let E::CollaborationProposed {
            title,
            challenge,
            disciplines,
            proposed_on,
        } = event
        {
            self.state = Some(CollaborationState {
                title,
                challenge,
                disciplines,
                proposed_on,
                stage: S::Proposed,
                participants: Vec::new(),
                agreement: None,
                activated_on: None,
                phases: Vec::new(),
                milestones: Vec::new(),
                outputs: Vec::new(),
                ended_on: None,
            });
            return;
        }
        let Some(s) = self.state.as_mut() else {
            return;
        };
        match event {
            E::CollaborationProposed { .. } => {}
            E::ParticipantJoined { participant } => s.participants.push(participant),
            E::ParticipantLeft { participant_id, .. } => s
                .participants
                .retain(|p| p.participant_id != participant_id),
            E::CoProductionAgreed { agreement } => s.agreement = Some(agreement),
            E::CollaborationActivated { activated_on } => {
                s.activated_on = Some(activated_on);
                s.stage = S::Active;
            }
            E::PhaseAdded { phase } => s.phases.push(phase),
            E::CollaborationMilestoneSet { milestone } => s.milestones.push(milestone),
            E::CollaborationMilestoneAchieved {
                milestone_id,
                done_on,
            } => {
                if let Some(m) = s
                    .milestones
                    .iter_mut()
                    .find(|m| m.milestone_id == milestone_id)
                {
                    m.done_on = Some(done_on);
                }
            }
            E::OutputRecorded { output } => s.outputs.push(output),
            E::CollaborationConcluded { concluded_on } => {
                s.ended_on = Some(concluded_on);
                s.stage = S::Concluded;
            }
            E::CollaborationAbandoned { abandoned_on, .. } => {
                s.ended_on = Some(abandoned_on);
                s.stage = S::Abandoned;
            }
        }
    }
}

#[cfg(test)]
mod tests;
