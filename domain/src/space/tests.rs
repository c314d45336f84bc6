//! Every space command's success and every rejection, with cqrs-es's `TestFramework`.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::Aggregate;

use super::*;
use crate::test_support::{day, id, reason};
use crate::values::{Currency, Money, Title};

type T = TestFramework<Space>;

/// An instant given in UTC.
fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn eur(cents: i64) -> Money {
    Money::new(cents, Currency::EUR).unwrap()
}

fn hours(opens: &str, closes: &str) -> OpeningHours {
    OpeningHours {
        opens: NaiveTime::parse_from_str(opens, "%H:%M").unwrap(),
        closes: NaiveTime::parse_from_str(closes, "%H:%M").unwrap(),
    }
}

fn band() -> Occupant {
    Occupant {
        kind: OccupantKind::Tenant,
        id: id(900),
        name: Some(crate::values::OrganisationName::parse("Rust Belt Brass").unwrap()),
    }
}

fn startup(n: u128) -> Occupant {
    Occupant {
        kind: OccupantKind::Startup,
        id: id(n),
        name: None,
    }
}

fn atelier_registered(capacity: u32) -> SpaceEvent {
    SpaceEvent::SpaceRegistered {
        building: Building::Zilleschapp,
        kind: SpaceKind::Studio,
        name: Title::parse("B-1.04").unwrap(),
        area_m2: 69,
        capacity,
        rent_per_m2: eur(600),
        opening_hours: None,
        registered_on: day(1, 5),
    }
}

/// A Sonotron rehearsal room, open 08:00 to 23:00 hub time.
fn room_registered(capacity: u32) -> SpaceEvent {
    SpaceEvent::SpaceRegistered {
        building: Building::Kesselbetrib,
        kind: SpaceKind::RehearsalRoom,
        name: Title::parse("Sonotron 3").unwrap(),
        area_m2: 28,
        capacity,
        rent_per_m2: eur(600),
        opening_hours: Some(hours("08:00", "23:00")),
        registered_on: day(1, 5),
    }
}

fn allocated(n: u128, who: Occupant, from: NaiveDate, to: Option<NaiveDate>) -> SpaceEvent {
    SpaceEvent::SpaceAllocated {
        allocation_id: id(n),
        occupant: who,
        from,
        to,
    }
}

fn allocate(n: u128, who: Occupant, from: NaiveDate, to: Option<NaiveDate>) -> SpaceCommand {
    SpaceCommand::Allocate {
        allocation_id: id(n),
        occupant: who,
        standing: OccupantStanding::Known,
        from,
        to,
    }
}

/// 2 March 2026 is winter time: hub time is UTC+1.
const NOW: &str = "2026-03-01T09:00:00Z";

fn book(n: u128, starts: &str, ends: &str) -> SpaceCommand {
    book_at(n, starts, ends, NOW)
}

/// A booking decided at `now`.
fn book_at(n: u128, starts: &str, ends: &str, now: &str) -> SpaceCommand {
    SpaceCommand::Book {
        booking_id: id(n),
        booked_by: band(),
        standing: OccupantStanding::Known,
        starts_at: at(starts),
        ends_at: at(ends),
        now: at(now),
    }
}

fn booked(n: u128, starts: &str, ends: &str) -> SpaceEvent {
    SpaceEvent::RoomBooked {
        booking_id: id(n),
        booked_by: band(),
        starts_at: at(starts),
        ends_at: at(ends),
        booked_at: at(NOW),
    }
}

#[tokio::test]
async fn registers_a_space_with_valid_terms() {
    T::with(())
        .given_no_previous_events()
        .when_async(SpaceCommand::Register {
            building: Building::Zilleschapp,
            kind: SpaceKind::Studio,
            name: Title::parse("B-1.04").unwrap(),
            area_m2: 69,
            capacity: 1,
            rent_per_m2: eur(600),
            opening_hours: None,
            registered_on: day(1, 5),
        })
        .await
        .then_expect_events(vec![atelier_registered(1)]);
}

#[tokio::test]
async fn registration_refuses_bad_terms_and_a_second_registration() {
    let register = |area_m2, capacity, rent: Money, opening_hours| SpaceCommand::Register {
        building: Building::Schraeinerei,
        kind: SpaceKind::Office,
        name: Title::parse("A-2.10").unwrap(),
        area_m2,
        capacity,
        rent_per_m2: rent,
        opening_hours,
        registered_on: day(1, 5),
    };
    let usd = Money::new(600, Currency::parse("USD").unwrap()).unwrap();
    for (command, error) in [
        (register(0, 1, eur(600), None), SpaceError::BadArea),
        (
            register(MAX_AREA_M2 + 1, 1, eur(600), None),
            SpaceError::BadArea,
        ),
        (register(40, 0, eur(600), None), SpaceError::BadCapacity),
        (register(40, 1, usd, None), SpaceError::RentNotInEuro),
        (
            register(40, 1, eur(600), Some(hours("23:00", "08:00"))),
            SpaceError::BadOpeningHours,
        ),
        (
            register(40, 1, eur(600), Some(hours("08:10", "22:00"))),
            SpaceError::BadOpeningHours,
        ),
    ] {
        T::with(())
            .given_no_previous_events()
            .when_async(command)
            .await
            .then_expect_error(error);
    }
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(register(40, 1, eur(600), None))
        .await
        .then_expect_error(SpaceError::AlreadyExists);
    T::with(())
        .given_no_previous_events()
        .when_async(allocate(1, startup(1), day(2, 1), None))
        .await
        .then_expect_error(SpaceError::NotFound);
}

#[tokio::test]
async fn terms_change_keeping_what_is_not_named() {
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(SpaceCommand::ChangeTerms {
            area_m2: None,
            capacity: None,
            rent_per_m2: Some(eur(650)),
            opening_hours: None,
        })
        .await
        .then_expect_events(vec![SpaceEvent::TermsChanged {
            area_m2: 69,
            capacity: 1,
            rent_per_m2: eur(650),
            opening_hours: None,
        }]);
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(SpaceCommand::ChangeTerms {
            area_m2: Some(69),
            capacity: None,
            rent_per_m2: None,
            opening_hours: None,
        })
        .await
        .then_expect_events(vec![]);
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(SpaceCommand::ChangeTerms {
            area_m2: None,
            capacity: None,
            rent_per_m2: None,
            opening_hours: None,
        })
        .await
        .then_expect_error(SpaceError::NothingToChange);
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(SpaceCommand::ChangeTerms {
            area_m2: Some(0),
            capacity: None,
            rent_per_m2: None,
            opening_hours: None,
        })
        .await
        .then_expect_error(SpaceError::BadArea);
}

#[tokio::test]
async fn allocations_respect_capacity_over_their_periods() {
    // Capacity 1: an open-ended allocation blocks every later period.
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(allocate(1, startup(1), day(2, 1), Some(day(7, 31))))
        .await
        .then_expect_events(vec![allocated(1, startup(1), day(2, 1), Some(day(7, 31)))]);
    T::with(())
        .given(vec![
            atelier_registered(1),
            allocated(1, startup(1), day(2, 1), Some(day(7, 31))),
        ])
        .when_async(allocate(2, startup(2), day(7, 31), None))
        .await
        .then_expect_error(SpaceError::AllocationConflict(day(7, 31)));
    T::with(())
        .given(vec![
            atelier_registered(1),
            allocated(1, startup(1), day(2, 1), Some(day(7, 31))),
        ])
        .when_async(allocate(2, startup(2), day(8, 1), None))
        .await
        .then_expect_events(vec![allocated(2, startup(2), day(8, 1), None)]);
    T::with(())
        .given(vec![
            atelier_registered(1),
            allocated(1, startup(1), day(9, 1), None),
        ])
        .when_async(allocate(2, startup(2), day(1, 5), Some(day(12, 31))))
        .await
        .then_expect_error(SpaceError::AllocationConflict(day(9, 1)));
    // Capacity 2 (a shared office): two at once, not three.
    let two = vec![
        atelier_registered(2),
        allocated(1, startup(1), day(2, 1), Some(day(3, 31))),
        allocated(2, startup(2), day(3, 1), Some(day(4, 30))),
    ];
    T::with(())
        .given(two.clone())
        .when_async(allocate(3, startup(3), day(2, 1), Some(day(2, 28))))
        .await
        .then_expect_events(vec![allocated(3, startup(3), day(2, 1), Some(day(2, 28)))]);
    T::with(())
        .given(two)
        .when_async(allocate(3, startup(3), day(1, 5), Some(day(3, 15))))
        .await
        .then_expect_error(SpaceError::AllocationConflict(day(3, 1)));
}

#[tokio::test]
async fn allocations_refuse_bad_periods_and_reused_ids() {
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(allocate(1, startup(1), day(3, 1), Some(day(2, 1))))
        .await
        .then_expect_error(SpaceError::BadPeriod);
    T::with(())
        .given(vec![
            atelier_registered(2),
            allocated(1, startup(1), day(1, 1), Some(day(1, 31))),
        ])
        .when_async(allocate(1, startup(2), day(6, 1), None))
        .await
        .then_expect_error(SpaceError::DuplicateId);
}

#[tokio::test]
async fn an_allocation_ends_early_within_its_period() {
    let given = vec![
        atelier_registered(1),
        allocated(1, startup(1), day(2, 1), None),
    ];
    T::with(())
        .given(given.clone())
        .when_async(SpaceCommand::EndAllocation {
            allocation_id: id(1),
            last_day: day(5, 31),
            reason: Some(reason("moved to building A")),
        })
        .await
        .then_expect_events(vec![SpaceEvent::AllocationEnded {
            allocation_id: id(1),
            last_day: day(5, 31),
            reason: Some(reason("moved to building A")),
        }]);
    T::with(())
        .given(given.clone())
        .when_async(SpaceCommand::EndAllocation {
            allocation_id: id(1),
            last_day: day(1, 31),
            reason: None,
        })
        .await
        .then_expect_error(SpaceError::BadLastDay);
    T::with(())
        .given(given)
        .when_async(SpaceCommand::EndAllocation {
            allocation_id: id(2),
            last_day: day(5, 31),
            reason: None,
        })
        .await
        .then_expect_error(SpaceError::UnknownAllocation(id(2)));
    T::with(())
        .given(vec![
            atelier_registered(1),
            allocated(1, startup(1), day(2, 1), Some(day(3, 31))),
        ])
        .when_async(SpaceCommand::EndAllocation {
            allocation_id: id(1),
            last_day: day(4, 30),
            reason: None,
        })
        .await
        .then_expect_error(SpaceError::BadLastDay);
    // Ending an allocation frees the space for the days after.
    T::with(())
        .given(vec![
            atelier_registered(1),
            allocated(1, startup(1), day(2, 1), None),
            SpaceEvent::AllocationEnded {
                allocation_id: id(1),
                last_day: day(5, 31),
                reason: None,
            },
        ])
        .when_async(allocate(2, startup(2), day(6, 1), None))
        .await
        .then_expect_events(vec![allocated(2, startup(2), day(6, 1), None)]);
}

#[tokio::test]
async fn a_room_is_booked_in_quarter_hours_inside_opening_hours() {
    // 18:00 to 20:00 hub time on 2 March (UTC+1).
    T::with(())
        .given(vec![room_registered(1)])
        .when_async(book(1, "2026-03-02T17:00:00Z", "2026-03-02T19:00:00Z"))
        .await
        .then_expect_events(vec![booked(
            1,
            "2026-03-02T17:00:00Z",
            "2026-03-02T19:00:00Z",
        )]);
    let closed = SpaceError::OutsideOpeningHours {
        opens: hours("08:00", "23:00").opens,
        closes: hours("08:00", "23:00").closes,
    };
    for (command, error) in [
        // 07:45 hub time: before opening.
        (
            book(1, "2026-03-02T06:45:00Z", "2026-03-02T08:00:00Z"),
            closed.clone(),
        ),
        // 22:00 to 23:15 hub time: past closing.
        (
            book(1, "2026-03-02T21:00:00Z", "2026-03-02T22:15:00Z"),
            closed.clone(),
        ),
        // In summer time (UTC+2), 21:30 UTC is 23:30: closed.
        (
            book(1, "2026-07-02T20:00:00Z", "2026-07-02T21:30:00Z"),
            closed,
        ),
        (
            book(1, "2026-03-02T17:10:00Z", "2026-03-02T19:00:00Z"),
            SpaceError::BadSlot,
        ),
        (
            book(1, "2026-03-02T19:00:00Z", "2026-03-02T19:00:00Z"),
            SpaceError::BadSlot,
        ),
        (
            book(1, "2026-02-27T17:00:00Z", "2026-02-27T18:00:00Z"),
            SpaceError::BookingInThePast,
        ),
    ] {
        T::with(())
            .given(vec![room_registered(1)])
            .when_async(command)
            .await
            .then_expect_error(error);
    }
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(book(1, "2026-03-02T17:00:00Z", "2026-03-02T19:00:00Z"))
        .await
        .then_expect_error(SpaceError::NotBookable);
}

#[tokio::test]
async fn bookings_respect_capacity_and_allocated_days() {
    let one = vec![
        room_registered(1),
        booked(1, "2026-03-02T17:00:00Z", "2026-03-02T19:00:00Z"),
    ];
    T::with(())
        .given(one.clone())
        .when_async(book(2, "2026-03-02T18:45:00Z", "2026-03-02T20:00:00Z"))
        .await
        .then_expect_error(SpaceError::BookingConflict(at("2026-03-02T18:45:00Z")));
    // Back to back is fine.
    T::with(())
        .given(one.clone())
        .when_async(book(2, "2026-03-02T19:00:00Z", "2026-03-02T20:00:00Z"))
        .await
        .then_expect_events(vec![booked(
            2,
            "2026-03-02T19:00:00Z",
            "2026-03-02T20:00:00Z",
        )]);
    T::with(())
        .given(one)
        .when_async(book(1, "2026-03-03T17:00:00Z", "2026-03-03T18:00:00Z"))
        .await
        .then_expect_error(SpaceError::DuplicateId);
    // Capacity 2: a third overlapping booking is refused at the first full instant.
    T::with(())
        .given(vec![
            room_registered(2),
            booked(1, "2026-03-02T10:00:00Z", "2026-03-02T12:00:00Z"),
            booked(2, "2026-03-02T11:00:00Z", "2026-03-02T13:00:00Z"),
        ])
        .when_async(book(3, "2026-03-02T09:00:00Z", "2026-03-02T11:30:00Z"))
        .await
        .then_expect_error(SpaceError::BookingConflict(at("2026-03-02T11:00:00Z")));
    // A day the room is allocated to someone counts against its capacity.
    T::with(())
        .given(vec![
            room_registered(1),
            allocated(7, startup(7), day(3, 2), Some(day(3, 2))),
        ])
        .when_async(book(1, "2026-03-02T17:00:00Z", "2026-03-02T19:00:00Z"))
        .await
        .then_expect_error(SpaceError::BookingConflict(at("2026-03-02T17:00:00Z")));
}

#[tokio::test]
async fn a_booking_is_cancelled_before_it_starts() {
    let given = vec![
        room_registered(1),
        booked(1, "2026-03-02T17:00:00Z", "2026-03-02T19:00:00Z"),
    ];
    T::with(())
        .given(given.clone())
        .when_async(SpaceCommand::CancelBooking {
            booking_id: id(1),
            reason: None,
            now: at("2026-03-02T16:59:00Z"),
        })
        .await
        .then_expect_events(vec![SpaceEvent::BookingCancelled {
            booking_id: id(1),
            reason: None,
        }]);
    T::with(())
        .given(given.clone())
        .when_async(SpaceCommand::CancelBooking {
            booking_id: id(1),
            reason: None,
            now: at("2026-03-02T17:00:00Z"),
        })
        .await
        .then_expect_error(SpaceError::BookingStarted);
    T::with(())
        .given(given)
        .when_async(SpaceCommand::CancelBooking {
            booking_id: id(2),
            reason: None,
            now: at(NOW),
        })
        .await
        .then_expect_error(SpaceError::UnknownBooking(id(2)));
}

#[tokio::test]
async fn decommissioning_waits_until_the_space_is_free() {
    T::with(())
        .given(vec![
            atelier_registered(1),
            allocated(1, startup(1), day(2, 1), None),
        ])
        .when_async(SpaceCommand::Decommission {
            reason: reason("roof works"),
            on: day(9, 1),
            now: at(NOW),
        })
        .await
        .then_expect_error(SpaceError::StillInUse);
    T::with(())
        .given(vec![
            room_registered(1),
            booked(1, "2026-03-02T17:00:00Z", "2026-03-02T19:00:00Z"),
        ])
        .when_async(SpaceCommand::Decommission {
            reason: reason("roof works"),
            on: day(3, 1),
            now: at(NOW),
        })
        .await
        .then_expect_error(SpaceError::StillInUse);
    let done = vec![
        atelier_registered(1),
        allocated(1, startup(1), day(2, 1), Some(day(8, 31))),
    ];
    T::with(())
        .given(done.clone())
        .when_async(SpaceCommand::Decommission {
            reason: reason("roof works"),
            on: day(9, 1),
            now: at(NOW),
        })
        .await
        .then_expect_events(vec![SpaceEvent::SpaceDecommissioned {
            reason: reason("roof works"),
            on: day(9, 1),
        }]);
    let mut gone = done;
    gone.push(SpaceEvent::SpaceDecommissioned {
        reason: reason("roof works"),
        on: day(9, 1),
    });
    T::with(())
        .given(gone)
        .when_async(allocate(2, startup(2), day(10, 1), None))
        .await
        .then_expect_error(SpaceError::Decommissioned(day(9, 1)));
}

/// Decision times arrive out of order (the demo plans bookings ahead of real time; a node's
/// clock may run fast): a booking decided "later" must never make the space forget one that
/// still holds the room.
#[tokio::test]
async fn a_booking_decided_with_a_clock_ahead_never_frees_a_held_room() {
    let mut given = vec![
        room_registered(1),
        booked(1, "2026-03-05T13:00:00Z", "2026-03-05T15:00:00Z"),
    ];
    // Decided by a clock three weeks ahead, for a slot later still.
    given.push(SpaceEvent::RoomBooked {
        booking_id: id(2),
        booked_by: band(),
        starts_at: at("2026-03-30T13:00:00Z"),
        ends_at: at("2026-03-30T14:00:00Z"),
        booked_at: at("2026-03-26T12:00:00Z"),
    });
    // Back at the real time: the first booking still holds 5 March.
    T::with(())
        .given(given.clone())
        .when_async(book_at(
            3,
            "2026-03-05T14:00:00Z",
            "2026-03-05T16:00:00Z",
            NOW,
        ))
        .await
        .then_expect_error(SpaceError::BookingConflict(at("2026-03-05T14:00:00Z")));
    // And it can still be cancelled before it starts.
    T::with(())
        .given(given.clone())
        .when_async(SpaceCommand::CancelBooking {
            booking_id: id(1),
            reason: None,
            now: at(NOW),
        })
        .await
        .then_expect_events(vec![SpaceEvent::BookingCancelled {
            booking_id: id(1),
            reason: None,
        }]);
    let mut space = Space::default();
    for e in given {
        space.apply(e);
    }
    assert_eq!(space.state.unwrap().bookings.len(), 2);
}

#[tokio::test]
async fn a_space_is_not_used_before_it_was_registered() {
    // Registered on 5 January.
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(allocate(1, startup(1), day(1, 4), None))
        .await
        .then_expect_error(SpaceError::BeforeRegistration(day(1, 5)));
    T::with(())
        .given(vec![room_registered(1)])
        .when_async(book_at(
            1,
            "2026-01-04T09:00:00Z",
            "2026-01-04T10:00:00Z",
            "2026-01-01T09:00:00Z",
        ))
        .await
        .then_expect_error(SpaceError::BeforeRegistration(day(1, 5)));
}

#[tokio::test]
async fn an_occupant_must_name_a_record_of_its_kind() {
    let unknown = SpaceCommand::Allocate {
        allocation_id: id(1),
        occupant: startup(7),
        standing: OccupantStanding::Unknown,
        from: day(2, 1),
        to: None,
    };
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(unknown)
        .await
        .then_expect_error(SpaceError::UnknownOccupant {
            kind: "startup",
            id: id(7),
        });
    let nameless = Occupant {
        kind: OccupantKind::Tenant,
        id: id(8),
        name: None,
    };
    T::with(())
        .given(vec![atelier_registered(1)])
        .when_async(allocate(1, nameless, day(2, 1), None))
        .await
        .then_expect_error(SpaceError::TenantWithoutName);
    let mut booking = book(1, "2026-03-02T17:00:00Z", "2026-03-02T19:00:00Z");
    if let SpaceCommand::Book {
        booked_by,
        standing,
        ..
    } = &mut booking
    {
        *booked_by = Occupant {
            kind: OccupantKind::Residency,
            id: id(9),
            name: None,
        };
        *standing = OccupantStanding::Unknown;
    }
    T::with(())
        .given(vec![room_registered(1)])
        .when_async(booking)
        .await
        .then_expect_error(SpaceError::UnknownOccupant {
            kind: "residency",
            id: id(9),
        });
}

#[tokio::test]
async fn an_allocation_made_in_error_is_cancelled_and_frees_its_days() {
    let given = vec![
        atelier_registered(1),
        allocated(1, startup(1), day(2, 1), None),
    ];
    T::with(())
        .given(given.clone())
        .when_async(SpaceCommand::CancelAllocation {
            allocation_id: id(1),
            reason: reason("arrival not recorded"),
        })
        .await
        .then_expect_events(vec![SpaceEvent::AllocationCancelled {
            allocation_id: id(1),
            reason: reason("arrival not recorded"),
        }]);
    T::with(())
        .given(given.clone())
        .when_async(SpaceCommand::CancelAllocation {
            allocation_id: id(2),
            reason: reason("x"),
        })
        .await
        .then_expect_error(SpaceError::UnknownAllocation(id(2)));
    let mut cancelled = given;
    cancelled.push(SpaceEvent::AllocationCancelled {
        allocation_id: id(1),
        reason: reason("x"),
    });
    T::with(())
        .given(cancelled)
        .when_async(allocate(2, startup(2), day(2, 1), None))
        .await
        .then_expect_events(vec![allocated(2, startup(2), day(2, 1), None)]);
}
