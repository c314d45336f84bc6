//! Given / when / then for every command's success and every rejection.

use chrono::NaiveDate;
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::*;
use crate::mentor::MentorStanding;
use crate::values::*;

type Fixture = TestFramework<Startup>;

fn day(d: &str) -> NaiveDate {
    d.parse().unwrap()
}

/// A bounded list of a command, as a caller builds it.
fn list<T, const MAX: usize>(items: Vec<T>) -> AtMost<T, MAX> {
    AtMost::new(items).unwrap()
}

fn reason(r: &str) -> Reason {
    Reason::parse(r).unwrap()
}

fn founder() -> PersonId {
    PersonId(uuid::Uuid::from_u128(1))
}

fn mentor() -> MentorId {
    MentorId(uuid::Uuid::from_u128(7))
}

fn grant() -> GrantId {
    GrantId(uuid::Uuid::from_u128(9))
}

fn milestone() -> MilestoneId {
    MilestoneId(uuid::Uuid::from_u128(11))
}

fn applied() -> StartupEvent {
    StartupEvent::Applied {
        name: OrganisationName::parse("Sonic Forge").unwrap(),
        sector: Some(Sector::parse("music tech").unwrap()),
        founders: vec![founder()],
        cohort: None,
        applied_on: day("2026-01-10"),
    }
}

fn advanced(from: Stage, to: Stage) -> StartupEvent {
    StartupEvent::StageAdvanced {
        from,
        to,
        override_reason: None,
        on: Some(day("2026-03-02")),
    }
}

/// The events that bring a startup to `stage` one step at a time.
fn history_to(stage: Stage) -> Vec<StartupEvent> {
    let mut events = vec![applied()];
    let mut at = Stage::Application;
    match stage {
        Stage::Rejected => {
            events.push(StartupEvent::Rejected {
                from: at,
                reason: reason("out of scope"),
                on: Some(day("2026-03-02")),
            });
            return events;
        }
        Stage::Withdrawn | Stage::Exited => {
            events.push(advanced(at, Stage::Screening));
            let r = reason("moved abroad");
            events.push(if stage == Stage::Withdrawn {
                StartupEvent::Withdrawn {
                    from: Stage::Screening,
                    reason: r,
                    on: Some(day("2026-03-02")),
                }
            } else {
                StartupEvent::Exited {
                    from: Stage::Screening,
                    reason: r,
                    on: Some(day("2026-03-02")),
                }
            });
            return events;
        }
        _ => {}
    }
    while at != stage {
        let next = at.next().unwrap();
        events.push(advanced(at, next));
        at = next;
    }
    events
}

fn given(stage: Stage) -> cqrs_es::test::AggregateTestExecutor<Startup> {
    Fixture::with(()).given(history_to(stage))
}

fn euros(cents: i64) -> Money {
    Money::eur(cents)
}

fn award(amount: i64) -> StartupCommand {
    StartupCommand::AwardFunding {
        grant_id: grant(),
        programme: ProgrammeName::parse("Fit 4 Start").unwrap(),
        kind: FundingKind::Grant,
        amount: euros(amount),
        awarded_on: day("2026-03-01"),
    }
}

fn awarded(amount: i64) -> StartupEvent {
    StartupEvent::FundingAwarded {
        grant_id: grant(),
        programme: ProgrammeName::parse("Fit 4 Start").unwrap(),
        kind: FundingKind::Grant,
        amount: euros(amount),
        awarded_on: day("2026-03-01"),
    }
}

fn tranche(cents: i64, on: &str) -> StartupCommand {
    StartupCommand::PayTranche {
        grant_id: grant(),
        amount: euros(cents),
        paid_on: day(on),
        today: day(TODAY),
    }
}

/// The day the tests' commands are decided on.
const TODAY: &str = "2026-06-30";

fn round(cents: i64, investors: Vec<&str>) -> StartupCommand {
    StartupCommand::RecordEquityRound {
        round_id: RoundId(uuid::Uuid::from_u128(5)),
        round: RoundKind::Seed,
        amount: euros(cents),
        investors: list(
            investors
                .into_iter()
                .map(|i| InvestorName::parse(i).unwrap())
                .collect(),
        ),
        closed_on: day("2026-04-01"),
    }
}

fn session(mentor_id: MentorId) -> StartupCommand {
    StartupCommand::LogSession {
        session_id: SessionId(uuid::Uuid::from_u128(3)),
        mentor_id,
        held_on: day("2026-03-15"),
        minutes: Minutes::parse(90).unwrap(),
        topics: list(vec![Title::parse("pricing").unwrap()]),
        today: day(TODAY),
    }
}

#[tokio::test]
async fn an_application_creates_the_startup() {
    let StartupEvent::Applied {
        name,
        sector,
        founders: _,
        cohort,
        applied_on,
    } = applied()
    else {
        unreachable!()
    };
    Fixture::with(())
        .given_no_previous_events()
        .when_async(StartupCommand::Apply {
            name,
            sector,
            founders: list(vec![founder(), founder()]),
            cohort,
            applied_on,
        })
        .await
        .then_expect_events(vec![applied()]);
}

#[tokio::test]
async fn an_application_without_founders_is_refused() {
    Fixture::with(())
        .given_no_previous_events()
        .when_async(StartupCommand::Apply {
            name: OrganisationName::parse("Nobody").unwrap(),
            sector: None,
            founders: list(vec![]),
            cohort: None,
            applied_on: day("2026-01-01"),
        })
        .await
        .then_expect_error(StartupError::NoFounders);
}

#[tokio::test]
async fn applying_twice_is_refused() {
    let StartupEvent::Applied {
        name, applied_on, ..
    } = applied()
    else {
        unreachable!()
    };
    given(Stage::Application)
        .when_async(StartupCommand::Apply {
            name,
            sector: None,
            founders: list(vec![founder()]),
            cohort: None,
            applied_on,
        })
        .await
        .then_expect_error(StartupError::AlreadyExists);
}

#[tokio::test]
async fn any_command_on_an_unknown_startup_is_not_found() {
    Fixture::with(())
        .given_no_previous_events()
        .when_async(StartupCommand::Advance {
            to: None,
            override_reason: None,
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::NotFound);
}

#[tokio::test]
async fn advancing_moves_one_stage_at_a_time() {
    for (from, to) in [
        (Stage::Application, Stage::Screening),
        (Stage::Screening, Stage::PreIncubation),
        (Stage::PreIncubation, Stage::Incubation),
        (Stage::Incubation, Stage::Acceleration),
        (Stage::Acceleration, Stage::Graduated),
    ] {
        given(from)
            .when_async(StartupCommand::Advance {
                to: None,
                override_reason: None,
                on: day("2026-03-02"),
                today: day(TODAY),
            })
            .await
            .then_expect_events(vec![advanced(from, to)]);
        given(from)
            .when_async(StartupCommand::Advance {
                to: Some(to),
                override_reason: None,
                on: day("2026-03-02"),
                today: day(TODAY),
            })
            .await
            .then_expect_events(vec![advanced(from, to)]);
    }
}

#[tokio::test]
async fn skipping_a_stage_without_an_override_is_refused() {
    given(Stage::Screening)
        .when_async(StartupCommand::Advance {
            to: Some(Stage::Incubation),
            override_reason: None,
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::SkipRequiresOverride {
            from: Stage::Screening,
            to: Stage::Incubation,
        });
}

#[tokio::test]
async fn skipping_a_stage_with_an_override_and_reason_is_recorded() {
    given(Stage::Screening)
        .when_async(StartupCommand::Advance {
            to: Some(Stage::Incubation),
            override_reason: Some(reason("jury waived pre-incubation")),
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_events(vec![StartupEvent::StageAdvanced {
            from: Stage::Screening,
            to: Stage::Incubation,
            override_reason: Some(reason("jury waived pre-incubation")),
            on: Some(day("2026-03-02")),
        }]);
}

#[tokio::test]
async fn moving_backwards_or_to_a_closing_stage_is_refused() {
    given(Stage::Incubation)
        .when_async(StartupCommand::Advance {
            to: Some(Stage::Screening),
            override_reason: Some(reason("undo")),
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::InvalidTransition {
            from: Stage::Incubation,
            to: Stage::Screening,
        });
    given(Stage::Incubation)
        .when_async(StartupCommand::Advance {
            to: Some(Stage::Incubation),
            override_reason: None,
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::InvalidTransition {
            from: Stage::Incubation,
            to: Stage::Incubation,
        });
    given(Stage::Screening)
        .when_async(StartupCommand::Advance {
            to: Some(Stage::Rejected),
            override_reason: None,
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::InvalidTransition {
            from: Stage::Screening,
            to: Stage::Rejected,
        });
}

#[tokio::test]
async fn a_graduate_has_no_further_stage() {
    given(Stage::Graduated)
        .when_async(StartupCommand::Advance {
            to: None,
            override_reason: None,
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::NoFurtherStage);
}

#[tokio::test]
async fn advancing_a_rejected_startup_is_refused() {
    for closed in [Stage::Rejected, Stage::Withdrawn, Stage::Exited] {
        given(closed)
            .when_async(StartupCommand::Advance {
                to: None,
                override_reason: None,
                on: day("2026-03-02"),
                today: day(TODAY),
            })
            .await
            .then_expect_error(StartupError::NotActive { stage: closed });
    }
}

#[tokio::test]
async fn an_application_in_selection_can_be_rejected() {
    for from in [Stage::Application, Stage::Screening] {
        given(from)
            .when_async(StartupCommand::Reject {
                reason: reason("not a creative business"),
                on: day("2026-03-02"),
                today: day(TODAY),
            })
            .await
            .then_expect_events(vec![StartupEvent::Rejected {
                from,
                reason: reason("not a creative business"),
                on: Some(day("2026-03-02")),
            }]);
    }
}

#[tokio::test]
async fn rejecting_after_selection_is_refused() {
    given(Stage::Incubation)
        .when_async(StartupCommand::Reject {
            reason: reason("late"),
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::RejectionTooLate {
            stage: Stage::Incubation,
        });
    given(Stage::Withdrawn)
        .when_async(StartupCommand::Reject {
            reason: reason("late"),
            on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::NotActive {
            stage: Stage::Withdrawn,
        });
}

#[tokio::test]
async fn withdrawing_or_exiting_works_from_every_active_stage() {
    for from in [
        Stage::Application,
        Stage::Screening,
        Stage::PreIncubation,
        Stage::Incubation,
        Stage::Acceleration,
    ] {
        given(from)
            .when_async(StartupCommand::Withdraw {
                reason: reason("founders split"),
                on: day("2026-03-02"),
                today: day(TODAY),
            })
            .await
            .then_expect_events(vec![StartupEvent::Withdrawn {
                from,
                reason: reason("founders split"),
                on: Some(day("2026-03-02")),
            }]);
        given(from)
            .when_async(StartupCommand::Exit {
                reason: reason("company dissolved"),
                on: day("2026-03-02"),
                today: day(TODAY),
            })
            .await
            .then_expect_events(vec![StartupEvent::Exited {
                from,
                reason: reason("company dissolved"),
                on: Some(day("2026-03-02")),
            }]);
    }
}

#[tokio::test]
async fn withdrawing_or_exiting_a_closed_startup_is_refused() {
    for closed in [
        Stage::Graduated,
        Stage::Rejected,
        Stage::Withdrawn,
        Stage::Exited,
    ] {
        given(closed)
            .when_async(StartupCommand::Withdraw {
                reason: reason("x"),
                on: day("2026-03-02"),
                today: day(TODAY),
            })
            .await
            .then_expect_error(StartupError::NotActive { stage: closed });
        given(closed)
            .when_async(StartupCommand::Exit {
                reason: reason("x"),
                on: day("2026-03-02"),
                today: day(TODAY),
            })
            .await
            .then_expect_error(StartupError::NotActive { stage: closed });
    }
}

#[tokio::test]
async fn a_cohort_is_assigned_to_an_active_startup_only() {
    let cohort = Cohort::parse("2026-spring").unwrap();
    given(Stage::PreIncubation)
        .when_async(StartupCommand::AssignCohort {
            cohort: cohort.clone(),
        })
        .await
        .then_expect_events(vec![StartupEvent::CohortAssigned {
            cohort: cohort.clone(),
        }]);
    given(Stage::Rejected)
        .when_async(StartupCommand::AssignCohort { cohort })
        .await
        .then_expect_error(StartupError::NotActive {
            stage: Stage::Rejected,
        });
}

#[tokio::test]
async fn an_equity_round_is_recorded() {
    given(Stage::Incubation)
        .when_async(round(50_000_000, vec!["Expon Capital", "Expon Capital"]))
        .await
        .then_expect_events(vec![StartupEvent::EquityRoundRecorded {
            round_id: RoundId(uuid::Uuid::from_u128(5)),
            round: RoundKind::Seed,
            amount: euros(50_000_000),
            investors: vec![InvestorName::parse("Expon Capital").unwrap()],
            closed_on: day("2026-04-01"),
        }]);
}

#[tokio::test]
async fn an_equity_round_needs_money_and_investors() {
    given(Stage::Incubation)
        .when_async(round(0, vec!["Expon Capital"]))
        .await
        .then_expect_error(StartupError::NonPositiveAmount);
    given(Stage::Incubation)
        .when_async(round(100, vec![]))
        .await
        .then_expect_error(StartupError::NoInvestors);
}

#[tokio::test]
async fn a_round_id_is_never_used_twice() {
    let StartupCommand::RecordEquityRound {
        round_id,
        round: kind,
        amount,
        investors,
        closed_on,
    } = round(100, vec!["a"])
    else {
        unreachable!()
    };
    given(Stage::Incubation)
        .and(vec![StartupEvent::EquityRoundRecorded {
            round_id,
            round: kind,
            amount,
            investors: investors.into_vec(),
            closed_on,
        }])
        .when_async(round(100, vec!["a"]))
        .await
        .then_expect_error(StartupError::DuplicateId);
}

fn given_state(events: &[StartupEvent]) -> Startup {
    let mut s = Startup::default();
    for e in events {
        s.apply(e.clone());
    }
    s
}

#[tokio::test]
async fn no_funding_for_a_rejected_withdrawn_or_exited_startup() {
    for closed in [Stage::Rejected, Stage::Withdrawn, Stage::Exited] {
        given(closed)
            .when_async(award(5_000_000))
            .await
            .then_expect_error(StartupError::FundingNotAllowed { stage: closed });
        given(closed)
            .when_async(round(5_000_000, vec!["x"]))
            .await
            .then_expect_error(StartupError::FundingNotAllowed { stage: closed });
    }
}

#[tokio::test]
async fn a_graduate_may_still_raise_a_round() {
    given(Stage::Graduated)
        .when_async(round(100, vec!["Angel Club"]))
        .await
        .inspect_result()
        .expect("a graduate raises");
}

#[tokio::test]
async fn funding_is_awarded_and_paid_in_tranches() {
    given(Stage::PreIncubation)
        .when_async(award(15_000_000))
        .await
        .then_expect_events(vec![awarded(15_000_000)]);
    given(Stage::PreIncubation)
        .and(vec![awarded(15_000_000)])
        .when_async(tranche(5_000_000, "2026-03-02"))
        .await
        .then_expect_events(vec![StartupEvent::TranchePaid {
            grant_id: grant(),
            amount: euros(5_000_000),
            paid_on: day("2026-03-02"),
        }]);
}

#[tokio::test]
async fn a_zero_award_is_refused() {
    given(Stage::PreIncubation)
        .when_async(award(0))
        .await
        .then_expect_error(StartupError::NonPositiveAmount);
}

#[tokio::test]
async fn tranches_cannot_exceed_the_award() {
    given(Stage::PreIncubation)
        .and(vec![
            awarded(15_000_000),
            StartupEvent::TranchePaid {
                grant_id: grant(),
                amount: euros(10_000_000),
                paid_on: day("2026-03-02"),
            },
        ])
        .when_async(tranche(5_000_001, "2026-04-02"))
        .await
        .then_expect_error(StartupError::TrancheExceedsAward {
            remaining_cents: 5_000_000,
        });
}

#[tokio::test]
async fn a_tranche_needs_a_known_award_in_its_currency_after_its_date() {
    given(Stage::PreIncubation)
        .when_async(tranche(100, "2026-03-02"))
        .await
        .then_expect_error(StartupError::UnknownGrant(grant()));
    given(Stage::PreIncubation)
        .and(vec![awarded(15_000_000)])
        .when_async(StartupCommand::PayTranche {
            grant_id: grant(),
            amount: Money::new(100, Currency::parse("USD").unwrap()).unwrap(),
            paid_on: day("2026-03-02"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::CurrencyMismatch {
            expected: Currency::EUR,
            got: Currency::parse("USD").unwrap(),
        });
    given(Stage::PreIncubation)
        .and(vec![awarded(15_000_000)])
        .when_async(tranche(100, "2026-02-28"))
        .await
        .then_expect_error(StartupError::TrancheBeforeAward);
    given(Stage::PreIncubation)
        .and(vec![awarded(15_000_000)])
        .when_async(tranche(0, "2026-03-02"))
        .await
        .then_expect_error(StartupError::NonPositiveAmount);
}

#[tokio::test]
async fn awarding_with_a_used_grant_id_is_refused() {
    given(Stage::PreIncubation)
        .and(vec![awarded(100)])
        .when_async(award(100))
        .await
        .then_expect_error(StartupError::DuplicateId);
}

#[tokio::test]
async fn a_mentor_is_assigned_once_and_released() {
    given(Stage::Incubation)
        .when_async(StartupCommand::AssignMentor {
            mentor_id: mentor(),
            standing: MentorStanding::Active,
        })
        .await
        .then_expect_events(vec![StartupEvent::MentorAssigned {
            mentor_id: mentor(),
        }]);
    given(Stage::Incubation)
        .and(vec![StartupEvent::MentorAssigned {
            mentor_id: mentor(),
        }])
        .when_async(StartupCommand::AssignMentor {
            mentor_id: mentor(),
            standing: MentorStanding::Active,
        })
        .await
        .then_expect_error(StartupError::MentorAlreadyAssigned(mentor()));
    given(Stage::Incubation)
        .and(vec![StartupEvent::MentorAssigned {
            mentor_id: mentor(),
        }])
        .when_async(StartupCommand::ReleaseMentor {
            mentor_id: mentor(),
            reason: None,
        })
        .await
        .then_expect_events(vec![StartupEvent::MentorReleased {
            mentor_id: mentor(),
            reason: None,
        }]);
}

#[tokio::test]
async fn only_a_registered_active_mentor_is_assigned() {
    given(Stage::Incubation)
        .when_async(StartupCommand::AssignMentor {
            mentor_id: mentor(),
            standing: MentorStanding::Unknown,
        })
        .await
        .then_expect_error(StartupError::UnknownMentor(mentor()));
    given(Stage::Incubation)
        .when_async(StartupCommand::AssignMentor {
            mentor_id: mentor(),
            standing: MentorStanding::Retired,
        })
        .await
        .then_expect_error(StartupError::MentorRetired(mentor()));
}

#[tokio::test]
async fn releasing_an_unassigned_mentor_is_refused() {
    given(Stage::Incubation)
        .when_async(StartupCommand::ReleaseMentor {
            mentor_id: mentor(),
            reason: None,
        })
        .await
        .then_expect_error(StartupError::MentorNotAssigned(mentor()));
}

#[tokio::test]
async fn a_closed_startup_gets_no_mentor() {
    given(Stage::Withdrawn)
        .when_async(StartupCommand::AssignMentor {
            mentor_id: mentor(),
            standing: MentorStanding::Active,
        })
        .await
        .then_expect_error(StartupError::NotActive {
            stage: Stage::Withdrawn,
        });
}

#[tokio::test]
async fn a_session_is_logged_with_an_assigned_mentor() {
    given(Stage::Incubation)
        .and(vec![StartupEvent::MentorAssigned {
            mentor_id: mentor(),
        }])
        .when_async(session(mentor()))
        .await
        .then_expect_events(vec![StartupEvent::SessionLogged {
            session_id: SessionId(uuid::Uuid::from_u128(3)),
            mentor_id: mentor(),
            held_on: day("2026-03-15"),
            minutes: Minutes::parse(90).unwrap(),
            topics: vec![Title::parse("pricing").unwrap()],
        }]);
}

#[tokio::test]
async fn a_session_with_an_unassigned_mentor_is_refused() {
    given(Stage::Incubation)
        .when_async(session(mentor()))
        .await
        .then_expect_error(StartupError::MentorNotAssigned(mentor()));
    given(Stage::Incubation)
        .and(vec![
            StartupEvent::MentorAssigned {
                mentor_id: mentor(),
            },
            StartupEvent::MentorReleased {
                mentor_id: mentor(),
                reason: None,
            },
        ])
        .when_async(session(mentor()))
        .await
        .then_expect_error(StartupError::MentorNotAssigned(mentor()));
}

#[tokio::test]
async fn a_session_id_is_never_used_twice() {
    let StartupCommand::LogSession {
        session_id,
        mentor_id,
        held_on,
        minutes,
        topics,
        ..
    } = session(mentor())
    else {
        unreachable!()
    };
    given(Stage::Incubation)
        .and(vec![
            StartupEvent::MentorAssigned { mentor_id },
            StartupEvent::SessionLogged {
                session_id,
                mentor_id,
                held_on,
                minutes,
                topics: topics.into_vec(),
            },
        ])
        .when_async(session(mentor()))
        .await
        .then_expect_error(StartupError::DuplicateId);
}

#[tokio::test]
async fn no_session_for_a_closed_startup() {
    given(Stage::Exited)
        .when_async(session(mentor()))
        .await
        .then_expect_error(StartupError::NotActive {
            stage: Stage::Exited,
        });
}

#[tokio::test]
async fn milestones_are_set_and_achieved_once() {
    let set = StartupEvent::MilestoneSet {
        milestone_id: milestone(),
        title: Title::parse("first paying customer").unwrap(),
        due_on: Some(day("2026-06-30")),
    };
    given(Stage::Incubation)
        .when_async(StartupCommand::SetMilestone {
            milestone_id: milestone(),
            title: Title::parse("first paying customer").unwrap(),
            due_on: Some(day("2026-06-30")),
        })
        .await
        .then_expect_events(vec![set.clone()]);
    given(Stage::Incubation)
        .and(vec![set.clone()])
        .when_async(StartupCommand::SetMilestone {
            milestone_id: milestone(),
            title: Title::parse("again").unwrap(),
            due_on: None,
        })
        .await
        .then_expect_error(StartupError::DuplicateId);
    let achieve = StartupCommand::AchieveMilestone {
        milestone_id: milestone(),
        achieved_on: day("2026-05-01"),
    };
    given(Stage::Incubation)
        .and(vec![set.clone()])
        .when_async(achieve.clone())
        .await
        .then_expect_events(vec![StartupEvent::MilestoneAchieved {
            milestone_id: milestone(),
            achieved_on: day("2026-05-01"),
        }]);
    given(Stage::Incubation)
        .and(vec![
            set,
            StartupEvent::MilestoneAchieved {
                milestone_id: milestone(),
                achieved_on: day("2026-05-01"),
            },
        ])
        .when_async(achieve.clone())
        .await
        .then_expect_error(StartupError::MilestoneAlreadyAchieved(milestone()));
    given(Stage::Incubation)
        .when_async(achieve)
        .await
        .then_expect_error(StartupError::UnknownMilestone(milestone()));
}

#[tokio::test]
async fn milestones_need_an_active_startup() {
    given(Stage::Rejected)
        .when_async(StartupCommand::SetMilestone {
            milestone_id: milestone(),
            title: Title::parse("x").unwrap(),
            due_on: None,
        })
        .await
        .then_expect_error(StartupError::NotActive {
            stage: Stage::Rejected,
        });
    given(Stage::Rejected)
        .when_async(StartupCommand::AchieveMilestone {
            milestone_id: milestone(),
            achieved_on: day("2026-05-01"),
        })
        .await
        .then_expect_error(StartupError::NotActive {
            stage: Stage::Rejected,
        });
}

#[tokio::test]
async fn kpis_are_reported_from_pre_incubation_on() {
    let kpis = StartupCommand::RecordKpis {
        month: YearMonth::parse("2026-03").unwrap(),
        revenue: euros(1_250_000),
        headcount: Headcount::parse(4).unwrap(),
        customers: 12,
    };
    for stage in [
        Stage::PreIncubation,
        Stage::Incubation,
        Stage::Acceleration,
        Stage::Graduated,
    ] {
        given(stage)
            .when_async(kpis.clone())
            .await
            .then_expect_events(vec![StartupEvent::KpisRecorded {
                month: YearMonth::parse("2026-03").unwrap(),
                revenue: euros(1_250_000),
                headcount: 4,
                customers: 12,
            }]);
    }
    for stage in [
        Stage::Application,
        Stage::Screening,
        Stage::Rejected,
        Stage::Withdrawn,
    ] {
        given(stage)
            .when_async(kpis.clone())
            .await
            .then_expect_error(StartupError::NotInProgramme { stage });
    }
}

#[test]
fn state_folds_funding_and_mentorship() {
    let mut s = given_state(&history_to(Stage::Incubation));
    for e in [
        awarded(15_000_000),
        StartupEvent::TranchePaid {
            grant_id: grant(),
            amount: euros(5_000_000),
            paid_on: day("2026-03-02"),
        },
        StartupEvent::MentorAssigned {
            mentor_id: mentor(),
        },
    ] {
        s.apply(e);
    }
    let state = s.state.unwrap();
    assert_eq!(state.stage, Stage::Incubation);
    assert_eq!(state.funding[0].paid_cents(), 5_000_000);
    assert_eq!(state.mentors, vec![mentor()]);
}

#[test]
fn every_error_is_classified() {
    use crate::rule::{DomainRule, RuleKind};
    assert_eq!(StartupError::NotFound.kind(), RuleKind::NotFound);
    assert_eq!(StartupError::NonPositiveAmount.kind(), RuleKind::Invalid);
    assert_eq!(
        StartupError::SkipRequiresOverride {
            from: Stage::Screening,
            to: Stage::Incubation
        }
        .kind(),
        RuleKind::Conflict
    );
    assert_eq!(
        StartupError::SkipRequiresOverride {
            from: Stage::Screening,
            to: Stage::Incubation
        }
        .to_string(),
        "moving from screening to incubation skips a stage: give an override reason to do so"
    );
}

#[tokio::test]
async fn a_stage_change_is_dated_and_not_before_the_stage_was_entered() {
    // Screening was entered on 2 March (history_to dates every change then).
    given(Stage::Screening)
        .when_async(StartupCommand::Advance {
            to: None,
            override_reason: None,
            on: day("2026-03-01"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::StageDateBeforeEntry {
            entered_on: day("2026-03-02"),
        });
    given(Stage::Screening)
        .when_async(StartupCommand::Withdraw {
            reason: reason("moved"),
            on: day("2026-02-28"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::StageDateBeforeEntry {
            entered_on: day("2026-03-02"),
        });
    // An application cannot be turned down before it was received (10 January).
    Fixture::with(())
        .given(vec![applied()])
        .when_async(StartupCommand::Reject {
            reason: reason("late"),
            on: day("2026-01-09"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::StageDateBeforeEntry {
            entered_on: day("2026-01-10"),
        });
    given(Stage::Screening)
        .when_async(StartupCommand::Advance {
            to: None,
            override_reason: None,
            on: day("2026-04-15"),
            today: day(TODAY),
        })
        .await
        .then_expect_events(vec![StartupEvent::StageAdvanced {
            from: Stage::Screening,
            to: Stage::PreIncubation,
            override_reason: None,
            on: Some(day("2026-04-15")),
        }]);
}

#[test]
fn stage_events_recorded_before_dates_were_kept_still_load() {
    // The shape of a stage change recorded before `on` existed.
    let old: StartupEvent = serde_json::from_value(serde_json::json!({
        "StageAdvanced": {"from": "application", "to": "screening", "override_reason": null}
    }))
    .unwrap();
    let mut s = Startup::default();
    s.apply(applied());
    s.apply(old);
    let state = s.state.as_ref().unwrap();
    assert_eq!(state.stage, Stage::Screening);
    assert_eq!(state.stage_entered_on, None);
    // With the day unknown, any date is accepted for the next change.
    let events = s
        .decide(StartupCommand::Advance {
            to: None,
            override_reason: None,
            on: day("2025-01-01"),
            today: day(TODAY),
        })
        .unwrap();
    assert_eq!(events.len(), 1);
    // A dated event carries its day; an undated one serialises as before.
    let json = serde_json::to_value(advanced(Stage::Screening, Stage::PreIncubation)).unwrap();
    assert_eq!(json["StageAdvanced"]["on"], "2026-03-02");
}

#[tokio::test]
async fn what_has_to_have_happened_is_not_dated_after_today() {
    given(Stage::PreIncubation)
        .and(vec![awarded(15_000_000)])
        .when_async(tranche(100, "2026-07-01"))
        .await
        .then_expect_error(StartupError::InTheFuture {
            what: "a tranche",
            today: day(TODAY),
        });
    let StartupCommand::LogSession {
        session_id,
        mentor_id,
        minutes,
        topics,
        today,
        ..
    } = session(mentor())
    else {
        unreachable!()
    };
    given(Stage::Incubation)
        .and(vec![StartupEvent::MentorAssigned {
            mentor_id: mentor(),
        }])
        .when_async(StartupCommand::LogSession {
            session_id,
            mentor_id,
            held_on: day("2026-07-01"),
            minutes,
            topics,
            today,
        })
        .await
        .then_expect_error(StartupError::InTheFuture {
            what: "a session",
            today: day(TODAY),
        });
}

#[tokio::test]
async fn funding_is_not_awarded_before_the_application() {
    given(Stage::PreIncubation)
        .when_async(StartupCommand::AwardFunding {
            grant_id: grant(),
            programme: ProgrammeName::parse("Fit 4 Start").unwrap(),
            kind: FundingKind::Grant,
            amount: euros(5_000_000),
            awarded_on: day("2026-01-09"),
        })
        .await
        .then_expect_error(StartupError::AwardBeforeApplication {
            applied_on: day("2026-01-10"),
        });
}

#[tokio::test]
async fn a_stage_change_is_not_dated_after_today() {
    given(Stage::Screening)
        .when_async(StartupCommand::Advance {
            to: None,
            override_reason: None,
            on: day("2026-07-01"),
            today: day(TODAY),
        })
        .await
        .then_expect_error(StartupError::InTheFuture {
            what: "a stage change",
            today: day(TODAY),
        });
}

#[tokio::test]
async fn a_voided_startup_takes_no_further_command() {
    let voided = StartupEvent::Voided {
        reason: reason("duplicate of Sonic Forge's first application"),
    };
    given(Stage::Screening)
        .when_async(StartupCommand::Void {
            reason: reason("duplicate of Sonic Forge's first application"),
        })
        .await
        .then_expect_events(vec![voided.clone()]);
    given(Stage::Screening)
        .and(vec![voided])
        .when_async(StartupCommand::AssignCohort {
            cohort: Cohort::parse("2026-spring").unwrap(),
        })
        .await
        .then_expect_error(StartupError::Voided);
}
