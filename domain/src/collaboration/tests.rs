//! Every collaboration command's success and every rejection, with cqrs-es's `TestFramework`.

use cqrs_es::test::TestFramework;

use super::*;
use crate::test_support::{day, expertise as discipline, id, reason, title as text};

type T = TestFramework<Collaboration>;
use CollaborationCommand as C;
use CollaborationError as X;
use CollaborationEvent as E;
use CollaborationStage as S;

fn proposed() -> E {
    E::CollaborationProposed {
        title: text("Slag Light"),
        challenge: Proposal::parse("Turn furnace slag into light-diffusing panels").unwrap(),
        disciplines: vec![discipline("materials science"), discipline("light art")],
        proposed_on: day(2, 1),
    }
}

fn resident(n: u128, d: &str) -> Participant {
    Participant {
        participant_id: id(n),
        kind: PartyKind::Residency,
        party_id: id(n + 1000),
        name: None,
        scope: None,
        discipline: discipline(d),
        role: text("artist"),
    }
}

fn partner(n: u128, d: &str, scope: Scope) -> Participant {
    Participant {
        participant_id: id(n),
        kind: PartyKind::Partner,
        party_id: id(n + 1000),
        name: Some(OrganisationName::parse("Luxembourg Institute of Science").unwrap()),
        scope: Some(scope),
        discipline: discipline(d),
        role: text("technology partner"),
    }
}

fn agreement() -> CoProduction {
    CoProduction {
        ip_terms: Proposal::parse("Artwork to the artist; process patent to the institute")
            .unwrap(),
        licence: text("CC BY-SA 4.0 for documentation"),
        signed_on: day(3, 1),
    }
}

fn ready() -> Vec<E> {
    vec![
        proposed(),
        E::ParticipantJoined {
            participant: resident(1, "light art"),
        },
        E::ParticipantJoined {
            participant: partner(2, "materials science", Scope::National),
        },
        E::CoProductionAgreed {
            agreement: agreement(),
        },
    ]
}

fn active() -> Vec<E> {
    let mut v = ready();
    v.push(E::CollaborationActivated {
        activated_on: day(3, 2),
    });
    v
}

async fn expect(given: Vec<E>, command: C, events: Vec<E>) {
    T::with(())
        .given(given)
        .when_async(command)
        .await
        .then_expect_events(events);
}

async fn refuse(given: Vec<E>, command: C, error: X) {
    T::with(())
        .given(given)
        .when_async(command)
        .await
        .then_expect_error(error);
}

#[tokio::test]
async fn a_collaboration_is_proposed_with_distinct_disciplines() {
    let propose = |disciplines| C::Propose {
        title: text("Slag Light"),
        challenge: Proposal::parse("Turn furnace slag into light-diffusing panels").unwrap(),
        disciplines,
        proposed_on: day(2, 1),
    };
    expect(
        vec![],
        propose(vec![
            discipline("materials science"),
            discipline("light art"),
        ]),
        vec![proposed()],
    )
    .await;
    refuse(vec![], propose(vec![]), X::BadDisciplines).await;
    refuse(
        vec![],
        propose(vec![discipline("light art"), discipline("Light Art")]),
        X::BadDisciplines,
    )
    .await;
    refuse(
        vec![proposed()],
        propose(vec![discipline("x")]),
        X::AlreadyExists,
    )
    .await;
    refuse(
        vec![],
        C::Activate {
            activated_on: day(3, 1),
        },
        X::NotFound,
    )
    .await;
}

#[tokio::test]
async fn participants_join_once_and_partners_carry_name_and_scope() {
    expect(
        vec![proposed()],
        C::Join {
            participant: partner(2, "materials science", Scope::European),
        },
        vec![E::ParticipantJoined {
            participant: partner(2, "materials science", Scope::European),
        }],
    )
    .await;
    let mut nameless = partner(2, "x", Scope::Local);
    nameless.name = None;
    refuse(
        vec![proposed()],
        C::Join {
            participant: nameless,
        },
        X::BadParty,
    )
    .await;
    let mut scoped_resident = resident(1, "x");
    scoped_resident.scope = Some(Scope::Local);
    refuse(
        vec![proposed()],
        C::Join {
            participant: scoped_resident,
        },
        X::BadParty,
    )
    .await;
    let mut again = resident(9, "light art");
    again.party_id = id(1001);
    refuse(
        ready(),
        C::Join { participant: again },
        X::AlreadyParticipating,
    )
    .await;
    let mut reused = resident(1, "x");
    reused.party_id = id(5000);
    refuse(
        ready(),
        C::Join {
            participant: reused,
        },
        X::DuplicateId,
    )
    .await;
    expect(
        ready(),
        C::Leave {
            participant_id: id(1),
            reason: reason("moved on"),
        },
        vec![E::ParticipantLeft {
            participant_id: id(1),
            reason: reason("moved on"),
        }],
    )
    .await;
    refuse(
        ready(),
        C::Leave {
            participant_id: id(7),
            reason: reason("x"),
        },
        X::UnknownParticipant(id(7)),
    )
    .await;
}

#[tokio::test]
async fn one_co_production_agreement() {
    expect(
        vec![proposed()],
        C::RecordAgreement {
            agreement: agreement(),
        },
        vec![E::CoProductionAgreed {
            agreement: agreement(),
        }],
    )
    .await;
    refuse(
        ready(),
        C::RecordAgreement {
            agreement: agreement(),
        },
        X::AgreementExists,
    )
    .await;
}

#[tokio::test]
async fn activation_needs_two_disciplines_and_an_agreement() {
    expect(
        ready(),
        C::Activate {
            activated_on: day(3, 2),
        },
        vec![E::CollaborationActivated {
            activated_on: day(3, 2),
        }],
    )
    .await;
    // Two participants of one discipline.
    let same = vec![
        proposed(),
        E::ParticipantJoined {
            participant: resident(1, "light art"),
        },
        E::ParticipantJoined {
            participant: partner(2, "Light Art", Scope::Local),
        },
        E::CoProductionAgreed {
            agreement: agreement(),
        },
    ];
    refuse(
        same,
        C::Activate {
            activated_on: day(3, 2),
        },
        X::NotInterdisciplinary,
    )
    .await;
    let alone = vec![
        proposed(),
        E::ParticipantJoined {
            participant: resident(1, "light art"),
        },
        E::CoProductionAgreed {
            agreement: agreement(),
        },
    ];
    refuse(
        alone,
        C::Activate {
            activated_on: day(3, 2),
        },
        X::NotInterdisciplinary,
    )
    .await;
    let unsigned = ready()[..3].to_vec();
    refuse(
        unsigned,
        C::Activate {
            activated_on: day(3, 2),
        },
        X::NoAgreement,
    )
    .await;
    refuse(
        active(),
        C::Activate {
            activated_on: day(3, 3),
        },
        X::WrongStage {
            stage: S::Active,
            action: "activated",
        },
    )
    .await;
}

#[tokio::test]
async fn phases_milestones_and_outputs_while_active() {
    let phase = Phase {
        phase_id: id(20),
        title: text("Prototyping"),
        starts_on: day(3, 1),
        ends_on: day(5, 31),
    };
    expect(
        active(),
        C::AddPhase {
            phase: phase.clone(),
        },
        vec![E::PhaseAdded {
            phase: phase.clone(),
        }],
    )
    .await;
    refuse(
        ready(),
        C::AddPhase {
            phase: phase.clone(),
        },
        X::WrongStage {
            stage: S::Proposed,
            action: "given a phase",
        },
    )
    .await;
    let mut backwards = phase.clone();
    backwards.ends_on = day(1, 1);
    refuse(active(), C::AddPhase { phase: backwards }, X::BadPeriod).await;
    let mut clash = phase;
    clash.phase_id = id(1);
    refuse(active(), C::AddPhase { phase: clash }, X::DuplicateId).await;

    let milestone = CollabMilestone {
        milestone_id: id(30),
        title: text("First panel cast"),
        due_on: day(4, 15),
        done_on: Some(day(1, 1)),
    };
    expect(
        active(),
        C::SetMilestone {
            milestone: milestone.clone(),
        },
        vec![E::CollaborationMilestoneSet {
            milestone: CollabMilestone {
                done_on: None,
                ..milestone.clone()
            },
        }],
    )
    .await;
    let mut with_milestone = active();
    with_milestone.push(E::CollaborationMilestoneSet {
        milestone: CollabMilestone {
            done_on: None,
            ..milestone
        },
    });
    expect(
        with_milestone.clone(),
        C::AchieveMilestone {
            milestone_id: id(30),
            done_on: day(4, 10),
        },
        vec![E::CollaborationMilestoneAchieved {
            milestone_id: id(30),
            done_on: day(4, 10),
        }],
    )
    .await;
    refuse(
        active(),
        C::AchieveMilestone {
            milestone_id: id(30),
            done_on: day(4, 10),
        },
        X::UnknownMilestone(id(30)),
    )
    .await;
    with_milestone.push(E::CollaborationMilestoneAchieved {
        milestone_id: id(30),
        done_on: day(4, 10),
    });
    refuse(
        with_milestone,
        C::AchieveMilestone {
            milestone_id: id(30),
            done_on: day(4, 11),
        },
        X::MilestoneAlreadyAchieved(id(30)),
    )
    .await;

    let output = Output {
        output_id: id(40),
        kind: OutputKind::Prototype,
        title: text("Panel v1"),
        on: day(5, 1),
    };
    expect(
        active(),
        C::RecordOutput {
            output: output.clone(),
        },
        vec![E::OutputRecorded { output }],
    )
    .await;
}

#[tokio::test]
async fn concluded_from_active_abandoned_from_open_stages() {
    expect(
        active(),
        C::Conclude {
            concluded_on: day(12, 1),
        },
        vec![E::CollaborationConcluded {
            concluded_on: day(12, 1),
        }],
    )
    .await;
    refuse(
        ready(),
        C::Conclude {
            concluded_on: day(12, 1),
        },
        X::WrongStage {
            stage: S::Proposed,
            action: "concluded",
        },
    )
    .await;
    for given in [ready(), active()] {
        let from = if given.len() == ready().len() {
            S::Proposed
        } else {
            S::Active
        };
        expect(
            given,
            C::Abandon {
                reason: reason("funding fell through"),
                abandoned_on: day(6, 1),
            },
            vec![E::CollaborationAbandoned {
                from,
                reason: reason("funding fell through"),
                abandoned_on: day(6, 1),
            }],
        )
        .await;
    }
    let mut done = active();
    done.push(E::CollaborationConcluded {
        concluded_on: day(12, 1),
    });
    refuse(
        done,
        C::Abandon {
            reason: reason("x"),
            abandoned_on: day(12, 2),
        },
        X::WrongStage {
            stage: S::Concluded,
            action: "abandoned",
        },
    )
    .await;
}

#[tokio::test]
async fn a_collaboration_holds_at_most_a_hundred_participants() {
    let mut given = vec![proposed()];
    for n in 0..MAX_ITEMS as u128 {
        given.push(E::ParticipantJoined {
            participant: resident(10_000 + n, "light art"),
        });
    }
    refuse(
        given,
        C::Join {
            participant: resident(1, "sculpture"),
        },
        X::TooMany,
    )
    .await;
}
