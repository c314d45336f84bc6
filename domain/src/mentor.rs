//! The mentor aggregate: registered with areas of expertise, active or retired. A retired
//! mentor takes no new assignment (the startup and residency aggregates are told a mentor's
//! [`MentorStanding`] with the command, and refuse unknown or retired mentors).
//!
//! A mentor's name and contact details are personal data: they live in the people registry,
//! under the mentor's `person_id`; events carry the id only.

use chrono::NaiveDate;
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::rule::{CommandInfo, DomainRule, RuleKind};
use crate::values::{Expertise, PersonId, Reason};

/// The most areas of expertise a mentor lists.
pub const MAX_EXPERTISE: usize = 20;

/// Whether a mentor takes new assignments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MentorStatus {
    Active,
    Retired,
}

/// What another aggregate is told about a mentor when it assigns one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MentorStanding {
    /// Registered and active.
    Active,
    /// Registered, retired.
    Retired,
    /// Never registered.
    Unknown,
}

/// A registered mentor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MentorState {
    pub person_id: PersonId,
    pub expertise: Vec<Expertise>,
    pub status: MentorStatus,
    pub registered_on: NaiveDate,
    /// When the mentor last retired (kept after a reactivation).
    pub retired_on: Option<NaiveDate>,
}

/// The mentor aggregate. `None` until registered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mentor {
    pub state: Option<MentorState>,
}

impl Mentor {
    /// The standing another aggregate needs to know.
    pub fn standing(&self) -> MentorStanding {
        match &self.state {
            None => MentorStanding::Unknown,
            Some(s) if s.status == MentorStatus::Active => MentorStanding::Active,
            Some(_) => MentorStanding::Retired,
        }
    }
}

/// Every command of the mentor aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MentorCommand {
    /// Register a person as a mentor.
    Register {
        person_id: PersonId,
        expertise: Vec<Expertise>,
        registered_on: NaiveDate,
    },
    /// Replace the areas of expertise.
    ChangeExpertise { expertise: Vec<Expertise> },
    /// The mentor stops taking new assignments.
    Retire {
        reason: Reason,
        retired_on: NaiveDate,
    },
    /// A retired mentor takes assignments again.
    Reactivate { reason: Reason },
}

impl CommandInfo for MentorCommand {
    fn name(&self) -> &'static str {
        crate::variant_name!(
            self;
            Register = "RegisterMentor", ChangeExpertise, Retire = "RetireMentor",
            Reactivate = "ReactivateMentor",
        )
    }

    fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Retire { reason, .. } | Self::Reactivate { reason } => Some(reason),
            _ => None,
        }
    }
}

/// What happened to a mentor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum MentorEvent {
    MentorRegistered {
        person_id: PersonId,
        expertise: Vec<Expertise>,
        registered_on: NaiveDate,
    },
    ExpertiseChanged {
        expertise: Vec<Expertise>,
    },
    MentorRetired {
        reason: Reason,
        retired_on: NaiveDate,
    },
    MentorReactivated {
        reason: Reason,
    },
}

impl crate::AnswerIds for MentorEvent {
    fn answer_id(&self) -> Option<(&'static str, uuid::Uuid)> {
        None
    }
}

impl DomainEvent for MentorEvent {
    fn event_type(&self) -> String {
        crate::variant_name!(
            self;
            MentorRegistered, ExpertiseChanged, MentorRetired, MentorReactivated
        )
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why a mentor command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MentorError {
    #[error("no such mentor")]
    NotFound,
    #[error("this mentor is already registered")]
    AlreadyExists,
    #[error("a mentor needs at least one area of expertise")]
    NoExpertise,
    #[error("a mentor lists at most {MAX_EXPERTISE} areas of expertise")]
    TooMuchExpertise,
    #[error("an area of expertise is listed twice")]
    DuplicateExpertise,
    #[error("the mentor is already retired")]
    AlreadyRetired,
    #[error("the mentor is not retired")]
    NotRetired,
    #[error("a mentor cannot retire before being registered")]
    RetiredBeforeRegistered,
}

impl DomainRule for MentorError {
    fn kind(&self) -> RuleKind {
        use MentorError::*;
        match self {
            NotFound => RuleKind::NotFound,
            AlreadyExists | AlreadyRetired | NotRetired => RuleKind::Conflict,
            NoExpertise | TooMuchExpertise | DuplicateExpertise | RetiredBeforeRegistered => {
                RuleKind::Invalid
            }
        }
    }

    fn code(&self) -> &'static str {
        use MentorError::*;
        match self {
            NotFound => "mentor_not_found",
            AlreadyExists => "mentor_exists",
            NoExpertise => "no_expertise",
            TooMuchExpertise => "too_much_expertise",
            DuplicateExpertise => "duplicate_expertise",
            AlreadyRetired => "mentor_already_retired",
            NotRetired => "mentor_not_retired",
            RetiredBeforeRegistered => "retired_before_registered",
        }
    }
}

fn check_expertise(expertise: &[Expertise]) -> Result<(), MentorError> {
    if expertise.is_empty() {
        return Err(MentorError::NoExpertise);
    }
    if expertise.len() > MAX_EXPERTISE {
        return Err(MentorError::TooMuchExpertise);
    }
    let mut seen: Vec<String> = expertise
        .iter()
        .map(|e| e.as_str().to_lowercase())
        .collect();
    seen.sort_unstable();
    seen.dedup();
    if seen.len() != expertise.len() {
        return Err(MentorError::DuplicateExpertise);
    }
    Ok(())
}

impl Mentor {
    /// Decides a command's events (pure).
    pub fn decide(&self, command: MentorCommand) -> Result<Vec<MentorEvent>, MentorError> {
        use MentorCommand as C;
        use MentorEvent as E;
        let Some(s) = &self.state else {
            return match command {
                C::Register {
                    person_id,
                    expertise,
                    registered_on,
                } => {
                    check_expertise(&expertise)?;
                    Ok(vec![E::MentorRegistered {
                        person_id,
                        expertise,
                        registered_on,
                    }])
                }
                _ => Err(MentorError::NotFound),
            };
        };
        let event = match command {
            C::Register { .. } => return Err(MentorError::AlreadyExists),
            C::ChangeExpertise { expertise } => {
                check_expertise(&expertise)?;
                if expertise == s.expertise {
                    return Ok(Vec::new());
                }
                E::ExpertiseChanged { expertise }
            }
            C::Retire { reason, retired_on } => {
                if s.status == MentorStatus::Retired {
                    return Err(MentorError::AlreadyRetired);
                }
                if retired_on < s.registered_on {
                    return Err(MentorError::RetiredBeforeRegistered);
                }
                E::MentorRetired { reason, retired_on }
            }
            C::Reactivate { reason } => {
                if s.status == MentorStatus::Active {
                    return Err(MentorError::NotRetired);
                }
                E::MentorReactivated { reason }
            }
        };
        Ok(vec![event])
    }
}

crate::aggregate!(Mentor, MentorCommand, MentorEvent, MentorError);

impl Mentor {
    /// Folds one event into the state (what cqrs-es's `apply` runs).
    fn evolve(&mut self, event: MentorEvent) {
        use MentorEvent as E;
        match event {
            E::MentorRegistered {
                person_id,
                expertise,
                registered_on,
            } => {
                self.state = Some(MentorState {
                    person_id,
                    expertise,
                    status: MentorStatus::Active,
                    registered_on,
                    retired_on: None,
                });
            }
            E::ExpertiseChanged { expertise } => {
                if let Some(s) = self.state.as_mut() {
                    s.expertise = expertise;
                }
            }
            E::MentorRetired { retired_on, .. } => {
                if let Some(s) = self.state.as_mut() {
                    s.status = MentorStatus::Retired;
                    s.retired_on = Some(retired_on);
                }
            }
            E::MentorReactivated { .. } => {
                if let Some(s) = self.state.as_mut() {
                    s.status = MentorStatus::Active;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use cqrs_es::test::TestFramework;
    use cqrs_es::Aggregate;

    use super::*;

    type T = TestFramework<Mentor>;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn areas(list: &[&str]) -> Vec<Expertise> {
        list.iter().map(|a| Expertise::parse(a).unwrap()).collect()
    }

    fn registered() -> MentorEvent {
        MentorEvent::MentorRegistered {
            person_id: PersonId(uuid::Uuid::from_u128(7)),
            expertise: areas(&["fundraising", "audio"]),
            registered_on: day(2),
        }
    }

    fn reason() -> Reason {
        Reason::parse("moved abroad").unwrap()
    }

    #[tokio::test]
    async fn registers_with_expertise() {
        let person_id = PersonId(uuid::Uuid::from_u128(7));
        T::with(())
            .given_no_previous_events()
            .when_async(MentorCommand::Register {
                person_id,
                expertise: areas(&["fundraising", "audio"]),
                registered_on: day(2),
            })
            .await
            .then_expect_events(vec![registered()]);
    }

    #[tokio::test]
    async fn registration_needs_distinct_expertise_within_bounds() {
        let person_id = PersonId(uuid::Uuid::from_u128(7));
        for (list, error) in [
            (vec![], MentorError::NoExpertise),
            (areas(&["audio", "Audio"]), MentorError::DuplicateExpertise),
            (
                (0..21)
                    .map(|i| Expertise::parse(&format!("area {i}")).unwrap())
                    .collect(),
                MentorError::TooMuchExpertise,
            ),
        ] {
            T::with(())
                .given_no_previous_events()
                .when_async(MentorCommand::Register {
                    person_id,
                    expertise: list,
                    registered_on: day(2),
                })
                .await
                .then_expect_error(error);
        }
    }

    #[tokio::test]
    async fn registers_once() {
        T::with(())
            .given(vec![registered()])
            .when_async(MentorCommand::Register {
                person_id: PersonId(uuid::Uuid::from_u128(8)),
                expertise: areas(&["law"]),
                registered_on: day(3),
            })
            .await
            .then_expect_error(MentorError::AlreadyExists);
    }

    #[tokio::test]
    async fn commands_on_an_unknown_mentor_are_not_found() {
        T::with(())
            .given_no_previous_events()
            .when_async(MentorCommand::Reactivate { reason: reason() })
            .await
            .then_expect_error(MentorError::NotFound);
    }

    #[tokio::test]
    async fn changes_expertise_and_ignores_a_no_op() {
        T::with(())
            .given(vec![registered()])
            .when_async(MentorCommand::ChangeExpertise {
                expertise: areas(&["law"]),
            })
            .await
            .then_expect_events(vec![MentorEvent::ExpertiseChanged {
                expertise: areas(&["law"]),
            }]);
        T::with(())
            .given(vec![registered()])
            .when_async(MentorCommand::ChangeExpertise {
                expertise: areas(&["fundraising", "audio"]),
            })
            .await
            .then_expect_events(vec![]);
        T::with(())
            .given(vec![registered()])
            .when_async(MentorCommand::ChangeExpertise { expertise: vec![] })
            .await
            .then_expect_error(MentorError::NoExpertise);
    }

    #[tokio::test]
    async fn retires_once_and_not_before_registration() {
        T::with(())
            .given(vec![registered()])
            .when_async(MentorCommand::Retire {
                reason: reason(),
                retired_on: day(20),
            })
            .await
            .then_expect_events(vec![MentorEvent::MentorRetired {
                reason: reason(),
                retired_on: day(20),
            }]);
        T::with(())
            .given(vec![registered()])
            .when_async(MentorCommand::Retire {
                reason: reason(),
                retired_on: day(1),
            })
            .await
            .then_expect_error(MentorError::RetiredBeforeRegistered);
        T::with(())
            .given(vec![
                registered(),
                MentorEvent::MentorRetired {
                    reason: reason(),
                    retired_on: day(20),
                },
            ])
            .when_async(MentorCommand::Retire {
                reason: reason(),
                retired_on: day(21),
            })
            .await
            .then_expect_error(MentorError::AlreadyRetired);
    }

    #[tokio::test]
    async fn reactivates_only_a_retired_mentor() {
        T::with(())
            .given(vec![registered()])
            .when_async(MentorCommand::Reactivate { reason: reason() })
            .await
            .then_expect_error(MentorError::NotRetired);
        T::with(())
            .given(vec![
                registered(),
                MentorEvent::MentorRetired {
                    reason: reason(),
                    retired_on: day(20),
                },
            ])
            .when_async(MentorCommand::Reactivate { reason: reason() })
            .await
            .then_expect_events(vec![MentorEvent::MentorReactivated { reason: reason() }]);
    }

    #[test]
    fn standing_follows_status() {
        let mut m = Mentor::default();
        assert_eq!(m.standing(), MentorStanding::Unknown);
        m.apply(registered());
        assert_eq!(m.standing(), MentorStanding::Active);
        m.apply(MentorEvent::MentorRetired {
            reason: reason(),
            retired_on: day(20),
        });
        assert_eq!(m.standing(), MentorStanding::Retired);
        m.apply(MentorEvent::MentorReactivated { reason: reason() });
        assert_eq!(m.standing(), MentorStanding::Active);
    }
}
