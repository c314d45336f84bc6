//! `/spaces`: register spaces and change their terms, allocate them for periods, book rooms by
//! the hour, cancel, end early, decommission; their state and history.

use super::prelude::*;
use chrono::{DateTime, Utc};
use incubator_domain::space::{
    Building, Occupant, OccupantStanding, OpeningHours, Space, SpaceCommand, SpaceKind, SpaceState,
};
use incubator_domain::values::{Day, Money, Reason, Title};

/// Every space command (officers).
pub fn commands() -> OpenApiRouter<AppState> {
    common::router![
        register,
        change_terms,
        decommission,
        allocate,
        end_allocation,
        cancel_allocation,
        book,
        cancel_booking
    ]
}

accepted!(
    /// What an accepted space command answers.
    SpaceAccepted,
    space_id,
    allocation_id,
    booking_id;
    execute(SpaceCommand) on spaces
);

/// Runs a space command and answers it.
async fn run(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    mut command: SpaceCommand,
    created: Option<Created>,
) -> Result<Response, ApiError> {
    // The occupant's standing is a fact from another aggregate: looked up here, just before
    // the space decides.
    if let SpaceCommand::Allocate {
        occupant, standing, ..
    }
    | SpaceCommand::Book {
        booked_by: occupant,
        standing,
        ..
    } = &mut command
    {
        *standing = state.app().occupant_standing(occupant).await?;
    }
    execute(state, caller, id, command, created).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SpaceRegistration {
    building: Building,
    kind: SpaceKind,
    /// The space's name or number, as signposted.
    name: Title,
    /// 1 to 100,000.
    #[schema(minimum = 1, maximum = 100_000)]
    area_m2: u32,
    /// Occupants or bookings at once, 1 to 1,000 (default 1).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1_000)]
    capacity: Option<u32>,
    /// Monthly rent per m², in EUR.
    rent_per_m2: Money,
    /// For rooms booked by the hour: daily opening hours, hub time.
    #[serde(default)]
    opening_hours: Option<OpeningHours>,
    /// Defaults to today.
    #[serde(default)]
    registered_on: Option<Day>,
}

/// A command on one space (`common::command!` with the space's kind bound).
macro_rules! space_command {
    ($($t:tt)*) => { common::command!("space", "spaces", SpaceAccepted; $($t)*); };
}

// `POST /spaces`: register a space; the id is chosen here (UUID v7).
space_command!(
    register,
    "/spaces",
    create,
    "Register a space",
    SpaceRegistration,
    |state, caller, b| make {
        SpaceCommand::Register {
            building: b.building,
            kind: b.kind,
            name: b.name,
            area_m2: b.area_m2,
            capacity: b.capacity.unwrap_or(1),
            rent_per_m2: b.rent_per_m2,
            opening_hours: b.opening_hours,
            registered_on: b.registered_on.map_or_else(today, Day::get),
        }
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TermsBody {
    #[serde(default)]
    #[schema(minimum = 1, maximum = 100_000)]
    area_m2: Option<u32>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1_000)]
    capacity: Option<u32>,
    #[serde(default)]
    rent_per_m2: Option<Money>,
    #[serde(default)]
    opening_hours: Option<OpeningHours>,
}

space_command!(
    change_terms,
    "/spaces/{id}/terms",
    200,
    "Change a space's area, capacity, rent or opening hours",
    TermsBody,
    |state, caller, id, _sub, b| make(
        SpaceCommand::ChangeTerms {
            area_m2: b.area_m2,
            capacity: b.capacity,
            rent_per_m2: b.rent_per_m2,
            opening_hours: b.opening_hours,
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DecommissionBody {
    reason: Reason,
    /// The first day out of use; defaults to today.
    #[serde(default)]
    on: Option<Day>,
}

space_command!(
    decommission,
    "/spaces/{id}/decommission",
    200,
    "Take a space out of use (refused while it is allocated or booked)",
    DecommissionBody,
    |state, caller, id, _sub, b| make(
        SpaceCommand::Decommission {
            reason: b.reason,
            on: b.on.map_or_else(today, Day::get),
            now: Utc::now(),
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AllocateBody {
    occupant: Occupant,
    /// First day of use.
    from: Day,
    /// Last day of use (inclusive); open-ended when absent.
    #[serde(default)]
    to: Option<Day>,
}

space_command!(
    allocate,
    "/spaces/{id}/allocations",
    201,
    "Allocate a space for a period (409 when it is full on a day of it)",
    AllocateBody,
    |state, caller, id, _sub, b| make {
        let allocation_id = Uuid::now_v7();
        (
            SpaceCommand::Allocate {
                allocation_id,
                occupant: b.occupant,
                standing: OccupantStanding::Unknown,
                from: b.from.get(),
                to: b.to.map(Day::get),
            },
            Some(Created::Sub),
        )
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EndAllocationBody {
    /// The allocation's new last day of use.
    last_day: Day,
    #[serde(default)]
    reason: Option<Reason>,
}

space_command!(
    end_allocation,
    "/spaces/{id}/allocations/{allocation_id}/end",
    200,
    "End an allocation early",
    EndAllocationBody,
    sub = "allocation_id"("allocation"),
    |state, caller, id, allocation, b| make(
        SpaceCommand::EndAllocation {
            allocation_id: allocation,
            last_day: b.last_day.get(),
            reason: b.reason,
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelAllocationBody {
    reason: Reason,
}

space_command!(
    cancel_allocation,
    "/spaces/{id}/allocations/{allocation_id}/cancel",
    200,
    "Withdraw an allocation made in error, as if it had never been made",
    CancelAllocationBody,
    sub = "allocation_id"("allocation"),
    |state, caller, id, allocation, b| make(
        SpaceCommand::CancelAllocation {
            allocation_id: allocation,
            reason: b.reason,
        },
        None
    )
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BookBody {
    booked_by: Occupant,
    /// RFC 3339; on a quarter hour, inside opening hours (hub time), not in the past.
    starts_at: DateTime<Utc>,
    /// RFC 3339; on a quarter hour, after `starts_at`, the same day (hub time).
    ends_at: DateTime<Utc>,
}

space_command!(
    book,
    "/spaces/{id}/bookings",
    201,
    "Book a room by the hour (409 when it is full at an instant of the slot)",
    BookBody,
    |state, caller, id, _sub, b| make {
        let booking_id = Uuid::now_v7();
        (
            SpaceCommand::Book {
                booking_id,
                booked_by: b.booked_by,
                standing: OccupantStanding::Unknown,
                starts_at: b.starts_at,
                ends_at: b.ends_at,
                now: Utc::now(),
            },
            Some(Created::Sub),
        )
    }
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CancelBody {
    #[serde(default)]
    reason: Option<Reason>,
}

space_command!(
    cancel_booking,
    "/spaces/{id}/bookings/{booking_id}/cancel",
    200,
    "Cancel a booking before it starts",
    CancelBody,
    sub = "booking_id"("booking"),
    |state, caller, id, booking, b| make(
        SpaceCommand::CancelBooking {
            booking_id: booking,
            reason: b.reason,
            now: Utc::now(),
        },
        None
    )
);

/// A space's current state.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpaceView {
    pub space_id: Uuid,
    /// The number of events so far (also the `ETag`).
    pub version: u64,
    #[serde(flatten)]
    pub state: SpaceState,
}

common::record_reads!(
    Space via spaces, "space", "spaces",
    "A space's current state: terms, allocations, upcoming bookings",
    SpaceView,
    |state, id, version, s| SpaceView {
            space_id: id,
            version,
            state: s,
        }
);
