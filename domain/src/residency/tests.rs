//! Every residency command's success and every rejection, with cqrs-es's `TestFramework`.

use cqrs_es::test::TestFramework;

use super::*;
use crate::test_support::{day, id, reason};
use crate::values::{Currency, Money};

type T = TestFramework<Residency>;
use ResidencyCommand as C;
use ResidencyEvent as E;
use ResidencyStage as S;

fn applied() -> E {
    E::ResidencyApplied {
        call: Title::parse("Open call 2026").unwrap(),
        artist: PersonId(id(1)),
        discipline: Expertise::parse("sound art").unwrap(),
        proposal: Proposal::parse("Recording the furnaces' silence").unwrap(),
        requested_from: day(4, 1),
        requested_to: day(6, 30),
        applied_on: day(1, 15),
    }
}

fn agreement() -> Agreement {
    Agreement {
        starts_on: day(4, 1),
        ends_on: day(6, 30),
        stipend: Money::new(150_000, Currency::EUR).unwrap(),
        studio_id: id(50),
    }
}

fn arrived() -> E {
    E::ArtistArrived {
        arrived_on: day(4, 2),
        allocation_id: id(60),
    }
}

fn moment() -> PublicMoment {
    PublicMoment {
        moment_id: id(70),
        kind: PublicMomentKind::OpenStudio,
        title: Title::parse("Open studio: furnace tapes").unwrap(),
        held_on: day(6, 20),
    }
}

/// The events that bring a residency to `stage`.
fn at(stage: S) -> Vec<E> {
    let mut v = vec![applied()];
    match stage {
        S::Applied => {}
        S::WaitingList => v.push(E::ResidencyWaitListed { reason: None }),
        S::Declined => v.push(E::ResidencyDeclined {
            reason: reason("full"),
        }),
        S::Accepted => v.push(E::ResidencyAccepted),
        S::Contracted => v.extend([
            E::ResidencyAccepted,
            E::AgreementSigned {
                agreement: agreement(),
            },
        ]),
        S::InResidence => v.extend([
            E::ResidencyAccepted,
            E::AgreementSigned {
                agreement: agreement(),
            },
            arrived(),
        ]),
        S::Completed => v.extend([
            E::ResidencyAccepted,
            E::AgreementSigned {
                agreement: agreement(),
            },
            arrived(),
            E::PublicMomentRecorded { moment: moment() },
            E::ResidencyCompleted {
                completed_on: day(6, 30),
            },
        ]),
        S::Cancelled => v.push(E::ResidencyCancelled {
            from: S::Applied,
            reason: reason("withdrawn"),
        }),
    }
    v
}

async fn expect(given: Vec<E>, command: C, events: Vec<E>) {
    T::with(())
        .given(given)
        .when_async(command)
        .await
        .then_expect_events(events);
}

async fn refuse(given: Vec<E>, command: C, error: ResidencyError) {
    T::with(())
        .given(given)
        .when_async(command)
        .await
        .then_expect_error(error);
}

fn wrong(stage: S, action: &'static str) -> ResidencyError {
    ResidencyError::WrongStage { stage, action }
}

#[tokio::test]
async fn an_application_is_recorded_once_with_a_sane_period() {
    let apply = |from, to| C::Apply {
        call: Title::parse("Open call 2026").unwrap(),
        artist: PersonId(id(1)),
        discipline: Expertise::parse("sound art").unwrap(),
        proposal: Proposal::parse("Recording the furnaces' silence").unwrap(),
        requested_from: from,
        requested_to: to,
        applied_on: day(1, 15),
    };
    expect(vec![], apply(day(4, 1), day(6, 30)), vec![applied()]).await;
    refuse(
        vec![],
        apply(day(6, 30), day(4, 1)),
        ResidencyError::BadPeriod,
    )
    .await;
    refuse(
        at(S::Applied),
        apply(day(4, 1), day(6, 30)),
        ResidencyError::AlreadyExists,
    )
    .await;
    refuse(vec![], C::Accept, ResidencyError::NotFound).await;
}

#[tokio::test]
async fn selection_accepts_declines_or_wait_lists() {
    expect(at(S::Applied), C::Accept, vec![E::ResidencyAccepted]).await;
    expect(at(S::WaitingList), C::Accept, vec![E::ResidencyAccepted]).await;
    expect(
        at(S::Applied),
        C::Decline {
            reason: reason("out of scope"),
        },
        vec![E::ResidencyDeclined {
            reason: reason("out of scope"),
        }],
    )
    .await;
    expect(
        at(S::WaitingList),
        C::Decline {
            reason: reason("no studio"),
        },
        vec![E::ResidencyDeclined {
            reason: reason("no studio"),
        }],
    )
    .await;
    expect(
        at(S::Applied),
        C::WaitList { reason: None },
        vec![E::ResidencyWaitListed { reason: None }],
    )
    .await;
    refuse(at(S::Accepted), C::Accept, wrong(S::Accepted, "accepted")).await;
    refuse(
        at(S::Declined),
        C::Decline {
            reason: reason("x"),
        },
        wrong(S::Declined, "declined"),
    )
    .await;
    refuse(
        at(S::WaitingList),
        C::WaitList { reason: None },
        wrong(S::WaitingList, "put on the waiting list"),
    )
    .await;
}

#[tokio::test]
async fn an_agreement_needs_acceptance_a_sane_period_and_euros() {
    expect(
        at(S::Accepted),
        C::SignAgreement {
            agreement: agreement(),
        },
        vec![E::AgreementSigned {
            agreement: agreement(),
        }],
    )
    .await;
    refuse(
        at(S::Applied),
        C::SignAgreement {
            agreement: agreement(),
        },
        wrong(S::Applied, "given an agreement"),
    )
    .await;
    let mut backwards = agreement();
    backwards.ends_on = day(3, 1);
    refuse(
        at(S::Accepted),
        C::SignAgreement {
            agreement: backwards,
        },
        ResidencyError::BadPeriod,
    )
    .await;
    let mut dollars = agreement();
    dollars.stipend = Money::new(100, Currency::parse("USD").unwrap()).unwrap();
    refuse(
        at(S::Accepted),
        C::SignAgreement { agreement: dollars },
        ResidencyError::StipendNotInEuro,
    )
    .await;
}

#[tokio::test]
async fn arrival_needs_an_agreement_and_comes_before_its_end() {
    expect(
        at(S::Contracted),
        C::Arrive {
            arrived_on: day(4, 2),
            allocation_id: id(60),
        },
        vec![arrived()],
    )
    .await;
    refuse(
        at(S::Accepted),
        C::Arrive {
            arrived_on: day(4, 2),
            allocation_id: id(60),
        },
        wrong(S::Accepted, "arrived at"),
    )
    .await;
    refuse(
        at(S::Contracted),
        C::Arrive {
            arrived_on: day(7, 1),
            allocation_id: id(60),
        },
        ResidencyError::ArrivalAfterEnd(day(6, 30)),
    )
    .await;
}

#[tokio::test]
async fn a_stay_is_extended_past_its_end_only() {
    expect(
        at(S::InResidence),
        C::Extend {
            ends_on: day(7, 31),
            allocation_id: id(61),
            reason: reason("exhibition moved"),
        },
        vec![E::ResidencyExtended {
            from: day(7, 1),
            to: day(7, 31),
            allocation_id: id(61),
            reason: reason("exhibition moved"),
        }],
    )
    .await;
    refuse(
        at(S::InResidence),
        C::Extend {
            ends_on: day(6, 30),
            allocation_id: id(61),
            reason: reason("x"),
        },
        ResidencyError::ExtensionNotLater(day(6, 30)),
    )
    .await;
    refuse(
        at(S::InResidence),
        C::Extend {
            ends_on: day(7, 31),
            allocation_id: id(60),
            reason: reason("x"),
        },
        ResidencyError::DuplicateId,
    )
    .await;
    refuse(
        at(S::Contracted),
        C::Extend {
            ends_on: day(7, 31),
            allocation_id: id(61),
            reason: reason("x"),
        },
        wrong(S::Contracted, "extended"),
    )
    .await;
}

#[tokio::test]
async fn mentors_and_sessions_for_residents() {
    let m = MentorId(id(80));
    let assign = |standing| C::AssignMentor {
        mentor_id: m,
        standing,
    };
    expect(
        at(S::Accepted),
        assign(MentorStanding::Active),
        vec![E::ResidentMentorAssigned { mentor_id: m }],
    )
    .await;
    refuse(
        at(S::Accepted),
        assign(MentorStanding::Unknown),
        ResidencyError::UnknownMentor(m),
    )
    .await;
    refuse(
        at(S::Accepted),
        assign(MentorStanding::Retired),
        ResidencyError::MentorRetired(m),
    )
    .await;
    refuse(
        at(S::Applied),
        assign(MentorStanding::Active),
        wrong(S::Applied, "given a mentor"),
    )
    .await;
    let mut with_mentor = at(S::InResidence);
    with_mentor.push(E::ResidentMentorAssigned { mentor_id: m });
    refuse(
        with_mentor.clone(),
        assign(MentorStanding::Active),
        ResidencyError::MentorAlreadyAssigned(m),
    )
    .await;
    let session = |sid: u128, mentor| C::LogSession {
        session_id: SessionId(id(sid)),
        mentor_id: mentor,
        held_on: day(5, 5),
        minutes: Minutes::parse(90).unwrap(),
        today: day(6, 30),
    };
    expect(
        with_mentor.clone(),
        session(90, m),
        vec![E::ResidentSessionLogged {
            session_id: SessionId(id(90)),
            mentor_id: m,
            held_on: day(5, 5),
            minutes: Minutes::parse(90).unwrap(),
        }],
    )
    .await;
    refuse(
        at(S::InResidence),
        session(90, m),
        ResidencyError::MentorNotAssigned(m),
    )
    .await;
    let mut logged = with_mentor;
    logged.push(E::ResidentSessionLogged {
        session_id: SessionId(id(90)),
        mentor_id: m,
        held_on: day(5, 5),
        minutes: Minutes::parse(90).unwrap(),
    });
    refuse(logged, session(90, m), ResidencyError::DuplicateId).await;
}

#[tokio::test]
async fn completion_follows_a_public_moment() {
    expect(
        at(S::InResidence),
        C::RecordPublicMoment { moment: moment() },
        vec![E::PublicMomentRecorded { moment: moment() }],
    )
    .await;
    refuse(
        at(S::Contracted),
        C::RecordPublicMoment { moment: moment() },
        wrong(S::Contracted, "given a public moment"),
    )
    .await;
    refuse(
        at(S::InResidence),
        C::Complete {
            completed_on: day(6, 30),
        },
        ResidencyError::NoPublicMoment,
    )
    .await;
    let mut shown = at(S::InResidence);
    shown.push(E::PublicMomentRecorded { moment: moment() });
    refuse(
        shown.clone(),
        C::RecordPublicMoment { moment: moment() },
        ResidencyError::DuplicateId,
    )
    .await;
    expect(
        shown,
        C::Complete {
            completed_on: day(6, 30),
        },
        vec![E::ResidencyCompleted {
            completed_on: day(6, 30),
        }],
    )
    .await;
}

#[tokio::test]
async fn cancellation_from_any_open_stage_only() {
    for stage in [
        S::Applied,
        S::WaitingList,
        S::Accepted,
        S::Contracted,
        S::InResidence,
    ] {
        expect(
            at(stage),
            C::Cancel {
                reason: reason("family emergency"),
            },
            vec![E::ResidencyCancelled {
                from: stage,
                reason: reason("family emergency"),
            }],
        )
        .await;
    }
    for stage in [S::Declined, S::Completed, S::Cancelled] {
        refuse(
            at(stage),
            C::Cancel {
                reason: reason("x"),
            },
            wrong(stage, "cancelled"),
        )
        .await;
    }
}
