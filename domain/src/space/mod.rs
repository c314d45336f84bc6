//! The space aggregate: one room, studio, office, workshop, shop unit or hall in one of the
//! hub's three buildings, and the consistency boundary for its occupancy.
//!
//! A space is used two ways, both checked against its capacity (how many occupants or
//! bookings it holds at once, 1 for most):
//! - **allocations** for a period of days (open-ended allowed) to an occupant, ended early if
//!   need be;
//! - **hourly bookings** of rooms that have opening hours (the Sonotron's rehearsal rooms, the
//!   Hangar): 15-minute steps, inside opening hours (hub time), cancellable before they start.
//!   A day on which the space is allocated counts against its capacity too.
//!
//! The state keeps every booking: which bookings may be forgotten cannot be decided without a
//! clock, and a caller's clock (the demo's simulated calendar, a node running fast) is no
//! basis for forgetting one that still holds a room. Decisions only look at the bookings
//! that overlap the slot asked for.

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::rule::{CommandInfo, DomainRule, RuleKind};
use crate::values::{hub_local, Money, OrganisationName, Reason, Title};

/// The three buildings of the former steelworks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Building {
    /// A "Schräinerei": offices and studios.
    Schraeinerei,
    /// B "Zilleschapp": ateliers, the multipurpose hall, the Hangar, shop units.
    Zilleschapp,
    /// C "Kesselbetrib": rental spaces, the Sonotron's rehearsal rooms, a recording studio.
    Kesselbetrib,
}

/// What a space is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SpaceKind {
    /// A studio or atelier.
    Studio,
    Office,
    Workshop,
    ShopUnit,
    RehearsalRoom,
    Hall,
}

/// Who occupies or books a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OccupantKind {
    Startup,
    Residency,
    /// Another tenant organisation of the hub.
    Tenant,
}

/// An occupant: a startup, a residency or a tenant organisation, by id (and, for a tenant,
/// its name: an organisation's name is not personal data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Occupant {
    pub kind: OccupantKind,
    pub id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<OrganisationName>,
}

/// Whether the startup or residency a command names as occupant is a record of its kind: the
/// caller looks it up and says so, as it does for a mentor's standing (the domain stays pure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OccupantStanding {
    /// A record of the occupant's kind exists (always so for a tenant, which is named in the
    /// command itself).
    Known,
    /// No record of that kind has that id.
    Unknown,
}

/// Daily opening hours in hub time (`opens` < `closes`, on 15-minute steps).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, example = "08:00", pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")
    )]
    pub opens: NaiveTime,
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, example = "23:00", pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")
    )]
    pub closes: NaiveTime,
}

/// A space's use for a period of days (both inclusive; `to` open-ended when `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allocation {
    pub allocation_id: Uuid,
    pub occupant: Occupant,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

impl Allocation {
    fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|to| day <= to)
    }

    fn overlaps(&self, from: NaiveDate, to: Option<NaiveDate>) -> bool {
        self.to.is_none_or(|t| from <= t) && to.is_none_or(|t| self.from <= t)
    }
}

/// An hourly booking, `[starts_at, ends_at)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Booking {
    pub booking_id: Uuid,
    pub booked_by: Occupant,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Booking {
    fn overlaps(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> bool {
        self.starts_at < ends_at && starts_at < self.ends_at
    }
}

/// A registered space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceState {
    pub building: Building,
    pub kind: SpaceKind,
    /// The space's name or number, as signposted.
    pub name: Title,
    pub area_m2: u32,
    /// Occupants or bookings it holds at once.
    pub capacity: u32,
    /// Monthly rent per square metre.
    pub rent_per_m2: Money,
    /// Set for rooms booked by the hour.
    pub opening_hours: Option<OpeningHours>,
    pub registered_on: NaiveDate,
    pub decommissioned_on: Option<NaiveDate>,
    /// Every allocation, ended ones included (they are few).
    pub allocations: Vec<Allocation>,
    /// Every booking not cancelled, past ones included.
    pub bookings: Vec<Booking>,
}

/// The space aggregate. `None` until registered.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Space {
    pub state: Option<SpaceState>,
}

/// The largest space (m²) and capacity accepted: far beyond the hub's 7,000 m² buildings.
pub const MAX_AREA_M2: u32 = 100_000;
pub const MAX_CAPACITY: u32 = 1_000;

/// Every command of the space aggregate. Ids of new allocations and bookings are chosen by the
/// caller; `today` and `now` come with the command so that `handle` stays deterministic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SpaceCommand {
    Register {
        building: Building,
        kind: SpaceKind,
        name: Title,
        area_m2: u32,
        capacity: u32,
        rent_per_m2: Money,
        opening_hours: Option<OpeningHours>,
        registered_on: NaiveDate,
    },
    /// Change the terms; `None` keeps a term as it is.
    ChangeTerms {
        area_m2: Option<u32>,
        capacity: Option<u32>,
        rent_per_m2: Option<Money>,
        opening_hours: Option<OpeningHours>,
    },
    /// Take the space out of use from `on`: refused while it is allocated on or after that day
    /// or booked for the future.
    Decommission {
        reason: Reason,
        on: NaiveDate,
        now: DateTime<Utc>,
    },
    Allocate {
        allocation_id: Uuid,
        occupant: Occupant,
        /// Whether the occupant names a record of its kind.
        standing: OccupantStanding,
        from: NaiveDate,
        to: Option<NaiveDate>,
    },
    /// End an allocation early: `last_day` is its last day of use.
    EndAllocation {
        allocation_id: Uuid,
        last_day: NaiveDate,
        reason: Option<Reason>,
    },
    /// Withdraw an allocation made in error, or one whose purpose fell through (a residency
    /// that could not record the arrival it was made for): as if it had never been made.
    CancelAllocation { allocation_id: Uuid, reason: Reason },
    Book {
        booking_id: Uuid,
        booked_by: Occupant,
        /// Whether `booked_by` names a record of its kind.
        standing: OccupantStanding,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Cancel a booking that has not started.
    CancelBooking {
        booking_id: Uuid,
        reason: Option<Reason>,
        now: DateTime<Utc>,
    },
}

impl CommandInfo for SpaceCommand {
    fn name(&self) -> &'static str {
        crate::variant_name!(
            self;
            Register = "RegisterSpace", ChangeTerms, Decommission, Allocate, EndAllocation,
            CancelAllocation, Book, CancelBooking,
        )
    }

    fn reason(&self) -> Option<&Reason> {
        match self {
            Self::Decommission { reason, .. } | Self::CancelAllocation { reason, .. } => {
                Some(reason)
            }
            Self::EndAllocation { reason, .. } | Self::CancelBooking { reason, .. } => {
                reason.as_ref()
            }
            _ => None,
        }
    }
}

/// What happened to a space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SpaceEvent {
    SpaceRegistered {
        building: Building,
        kind: SpaceKind,
        name: Title,
        area_m2: u32,
        capacity: u32,
        rent_per_m2: Money,
        opening_hours: Option<OpeningHours>,
        registered_on: NaiveDate,
    },
    TermsChanged {
        area_m2: u32,
        capacity: u32,
        rent_per_m2: Money,
        opening_hours: Option<OpeningHours>,
    },
    SpaceDecommissioned {
        reason: Reason,
        on: NaiveDate,
    },
    SpaceAllocated {
        allocation_id: Uuid,
        occupant: Occupant,
        from: NaiveDate,
        to: Option<NaiveDate>,
    },
    AllocationEnded {
        allocation_id: Uuid,
        last_day: NaiveDate,
        reason: Option<Reason>,
    },
    AllocationCancelled {
        allocation_id: Uuid,
        reason: Reason,
    },
    RoomBooked {
        booking_id: Uuid,
        booked_by: Occupant,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
        /// When the booking was made (the decision time the command carried).
        booked_at: DateTime<Utc>,
    },
    BookingCancelled {
        booking_id: Uuid,
        reason: Option<Reason>,
    },
}

impl crate::AnswerIds for SpaceEvent {
    fn answer_id(&self) -> Option<(&'static str, Uuid)> {
        match self {
            Self::SpaceAllocated { allocation_id, .. } => Some(("allocation_id", *allocation_id)),
            Self::RoomBooked { booking_id, .. } => Some(("booking_id", *booking_id)),
            _ => None,
        }
    }
}

impl DomainEvent for SpaceEvent {
    fn event_type(&self) -> String {
        crate::variant_name!(
            self;
            SpaceRegistered, TermsChanged, SpaceDecommissioned, SpaceAllocated, AllocationEnded,
            AllocationCancelled, RoomBooked, BookingCancelled
        )
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why a space command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("no such space")]
    NotFound,
    #[error("this space is already registered")]
    AlreadyExists,
    #[error("the space was decommissioned on {0}")]
    Decommissioned(NaiveDate),
    #[error("the area must be between 1 and {MAX_AREA_M2} m²")]
    BadArea,
    #[error("the capacity must be between 1 and {MAX_CAPACITY}")]
    BadCapacity,
    #[error("the rent must be in EUR")]
    RentNotInEuro,
    #[error("opening hours must open before they close, on 15-minute steps")]
    BadOpeningHours,
    #[error("nothing to change")]
    NothingToChange,
    #[error("a period must not end before it starts")]
    BadPeriod,
    #[error("the space is fully allocated on {0}")]
    AllocationConflict(NaiveDate),
    #[error("no allocation {0}")]
    UnknownAllocation(Uuid),
    #[error("the allocation's last day must be between its first day and its current last day")]
    BadLastDay,
    #[error("an id that is already in use was given for a new record")]
    DuplicateId,
    #[error("this space is not booked by the hour (it has no opening hours)")]
    NotBookable,
    #[error("a booking starts and ends on a quarter hour, and ends after it starts")]
    BadSlot,
    #[error("a booking cannot start in the past")]
    BookingInThePast,
    #[error("the booking is outside the opening hours ({opens} to {closes}, hub time)")]
    OutsideOpeningHours { opens: NaiveTime, closes: NaiveTime },
    #[error("the space is fully booked at {0}")]
    BookingConflict(DateTime<Utc>),
    #[error("no booking {0} (or it has ended)")]
    UnknownBooking(Uuid),
    #[error("the booking has started and can no longer be cancelled")]
    BookingStarted,
    #[error("the space is allocated or booked after the day it would be decommissioned")]
    StillInUse,
    #[error("the space was registered on {0}: it cannot be used before")]
    BeforeRegistration(NaiveDate),
    #[error("no {kind} has the id {id}")]
    UnknownOccupant { kind: &'static str, id: Uuid },
    #[error("a tenant is named when it is given a space")]
    TenantWithoutName,
}

impl DomainRule for SpaceError {
    fn kind(&self) -> RuleKind {
        use SpaceError::*;
        match self {
            NotFound | UnknownAllocation(_) | UnknownBooking(_) | UnknownOccupant { .. } => {
                RuleKind::NotFound
            }
            AlreadyExists
            | Decommissioned(_)
            | AllocationConflict(_)
            | BookingConflict(_)
            | BookingStarted
            | StillInUse
            | DuplicateId
            | NotBookable => RuleKind::Conflict,
            BadArea
            | BadCapacity
            | RentNotInEuro
            | BadOpeningHours
            | NothingToChange
            | BadPeriod
            | BadLastDay
            | BadSlot
            | BookingInThePast
            | OutsideOpeningHours { .. }
            | BeforeRegistration(_)
            | TenantWithoutName => RuleKind::Invalid,
        }
    }

    fn code(&self) -> &'static str {
        use SpaceError::*;
        match self {
            NotFound => "space_not_found",
            AlreadyExists => "space_exists",
            Decommissioned(_) => "space_decommissioned",
            BadArea => "bad_area",
            BadCapacity => "bad_capacity",
            RentNotInEuro => "rent_not_in_euro",
            BadOpeningHours => "bad_opening_hours",
            NothingToChange => "nothing_to_change",
            BadPeriod => "bad_period",
            AllocationConflict(_) => "allocation_conflict",
            UnknownAllocation(_) => "unknown_allocation",
            BadLastDay => "bad_last_day",
            DuplicateId => "duplicate_id",
            NotBookable => "not_bookable",
            BadSlot => "bad_slot",
            BookingInThePast => "booking_in_the_past",
            OutsideOpeningHours { .. } => "outside_opening_hours",
            BookingConflict(_) => "booking_conflict",
            UnknownBooking(_) => "unknown_booking",
            BookingStarted => "booking_started",
            StillInUse => "space_still_in_use",
            BeforeRegistration(_) => "before_registration",
            UnknownOccupant { .. } => "unknown_occupant",
            TenantWithoutName => "tenant_without_name",
        }
    }
}

/// An occupant a space may be given: a startup or residency that exists, or a named tenant.
fn check_occupant(occupant: &Occupant, standing: OccupantStanding) -> Result<(), SpaceError> {
    let kind = match occupant.kind {
        OccupantKind::Tenant if occupant.name.is_none() => {
            return Err(SpaceError::TenantWithoutName)
        }
        OccupantKind::Tenant => return Ok(()),
        OccupantKind::Startup => "startup",
        OccupantKind::Residency => "residency",
    };
    match standing {
        OccupantStanding::Known => Ok(()),
        OccupantStanding::Unknown => Err(SpaceError::UnknownOccupant {
            kind,
            id: occupant.id,
        }),
    }
}

fn on_quarter(t: NaiveTime) -> bool {
    t.minute() % 15 == 0 && t.second() == 0 && t.nanosecond() == 0
}

fn check_terms(
    area_m2: u32,
    capacity: u32,
    rent: &Money,
    hours: Option<&OpeningHours>,
) -> Result<(), SpaceError> {
    if !(1..=MAX_AREA_M2).contains(&area_m2) {
        return Err(SpaceError::BadArea);
    }
    if !(1..=MAX_CAPACITY).contains(&capacity) {
        return Err(SpaceError::BadCapacity);
    }
    if rent.currency.as_str() != "EUR" {
        return Err(SpaceError::RentNotInEuro);
    }
    if let Some(h) = hours {
        if h.opens >= h.closes || !on_quarter(h.opens) || !on_quarter(h.closes) {
            return Err(SpaceError::BadOpeningHours);
        }
    }
    Ok(())
}

impl SpaceState {
    /// The first day within `[from, to]` on which `capacity` allocations would already be in
    /// use, if any (a sweep over the days the overlapping allocations start).
    fn full_day(&self, from: NaiveDate, to: Option<NaiveDate>) -> Option<NaiveDate> {
        let overlapping: Vec<&Allocation> = self
            .allocations
            .iter()
            .filter(|a| a.overlaps(from, to))
            .collect();
        let mut days: Vec<NaiveDate> = std::iter::once(from)
            .chain(overlapping.iter().map(|a| a.from).filter(|d| *d > from))
            .collect();
        days.sort_unstable();
        days.into_iter().find(|day| {
            overlapping.iter().filter(|a| a.covers(*day)).count() as u32 >= self.capacity
        })
    }

    /// The first instant within `[starts_at, ends_at)` at which the space is already full, if
    /// any: bookings overlapping then, plus allocations covering that hub-time day.
    fn full_at(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let overlapping: Vec<&Booking> = self
            .bookings
            .iter()
            .filter(|b| b.overlaps(starts_at, ends_at))
            .collect();
        let day = hub_local(starts_at).date();
        let allocated = self.allocations.iter().filter(|a| a.covers(day)).count();
        let mut points: Vec<DateTime<Utc>> = std::iter::once(starts_at)
            .chain(
                overlapping
                    .iter()
                    .map(|b| b.starts_at)
                    .filter(|t| *t > starts_at),
            )
            .collect();
        points.sort_unstable();
        points.into_iter().find(|t| {
            let booked = overlapping
                .iter()
                .filter(|b| b.starts_at <= *t && *t < b.ends_at)
                .count();
            (booked + allocated) as u32 >= self.capacity
        })
    }

    fn id_in_use(&self, id: Uuid) -> bool {
        self.allocations.iter().any(|a| a.allocation_id == id)
            || self.bookings.iter().any(|b| b.booking_id == id)
    }

    /// What an allocation or a booking from `first_day` for `occupant`, under the new id `id`,
    /// must meet whatever its period: not before the space's registration, an occupant in good
    /// standing, an id of its own.
    fn admit(
        &self,
        first_day: NaiveDate,
        occupant: &Occupant,
        standing: OccupantStanding,
        id: Uuid,
    ) -> Result<(), SpaceError> {
        if first_day < self.registered_on {
            return Err(SpaceError::BeforeRegistration(self.registered_on));
        }
        check_occupant(occupant, standing)?;
        if self.id_in_use(id) {
            return Err(SpaceError::DuplicateId);
        }
        Ok(())
    }
}

impl Space {
    /// Decides a command's events (pure).
    pub fn decide(&self, command: SpaceCommand) -> Result<Vec<SpaceEvent>, SpaceError> {
        use SpaceCommand as C;
        use SpaceEvent as E;
        let Some(s) = &self.state else {
            return match command {
                C::Register {
                    building,
                    kind,
                    name,
                    area_m2,
                    capacity,
                    rent_per_m2,
                    opening_hours,
                    registered_on,
                } => {
                    check_terms(area_m2, capacity, &rent_per_m2, opening_hours.as_ref())?;
                    Ok(vec![E::SpaceRegistered {
                        building,
                        kind,
                        name,
                        area_m2,
                        capacity,
                        rent_per_m2,
                        opening_hours,
                        registered_on,
                    }])
                }
                _ => Err(SpaceError::NotFound),
            };
        };
        if let Some(day) = s.decommissioned_on {
            if !matches!(command, C::Register { .. }) {
                return Err(SpaceError::Decommissioned(day));
            }
        }
        let event = match command {
            C::Register { .. } => return Err(SpaceError::AlreadyExists),
            C::ChangeTerms {
                area_m2,
                capacity,
                rent_per_m2,
                opening_hours,
            } => {
                if area_m2.is_none()
                    && capacity.is_none()
                    && rent_per_m2.is_none()
                    && opening_hours.is_none()
                {
                    return Err(SpaceError::NothingToChange);
                }
                let area_m2 = area_m2.unwrap_or(s.area_m2);
                let capacity = capacity.unwrap_or(s.capacity);
                let rent_per_m2 = rent_per_m2.unwrap_or(s.rent_per_m2);
                let opening_hours = opening_hours.or(s.opening_hours);
                check_terms(area_m2, capacity, &rent_per_m2, opening_hours.as_ref())?;
                if (area_m2, capacity, rent_per_m2, opening_hours)
                    == (s.area_m2, s.capacity, s.rent_per_m2, s.opening_hours)
                {
                    return Ok(Vec::new());
                }
                E::TermsChanged {
                    area_m2,
                    capacity,
                    rent_per_m2,
                    opening_hours,
                }
            }
            C::Decommission { reason, on, now } => {
                let allocated = s.allocations.iter().any(|a| a.to.is_none_or(|to| to >= on));
                let booked = s.bookings.iter().any(|b| b.ends_at > now);
                if allocated || booked {
                    return Err(SpaceError::StillInUse);
                }
                E::SpaceDecommissioned { reason, on }
            }
            C::Allocate {
                allocation_id,
                occupant,
                standing,
                from,
                to,
            } => {
                if to.is_some_and(|to| to < from) {
                    return Err(SpaceError::BadPeriod);
                }
                s.admit(from, &occupant, standing, allocation_id)?;
                if let Some(day) = s.full_day(from, to) {
                    return Err(SpaceError::AllocationConflict(day));
                }
                E::SpaceAllocated {
                    allocation_id,
                    occupant,
                    from,
                    to,
                }
            }
            C::EndAllocation {
                allocation_id,
                last_day,
                reason,
            } => {
                let a = s
                    .allocations
                    .iter()
                    .find(|a| a.allocation_id == allocation_id)
                    .ok_or(SpaceError::UnknownAllocation(allocation_id))?;
                if last_day < a.from || a.to.is_some_and(|to| last_day > to) {
                    return Err(SpaceError::BadLastDay);
                }
                if a.to == Some(last_day) {
                    return Ok(Vec::new());
                }
                E::AllocationEnded {
                    allocation_id,
                    last_day,
                    reason,
                }
            }
            C::CancelAllocation {
                allocation_id,
                reason,
            } => {
                if !s
                    .allocations
                    .iter()
                    .any(|a| a.allocation_id == allocation_id)
                {
                    return Err(SpaceError::UnknownAllocation(allocation_id));
                }
                E::AllocationCancelled {
                    allocation_id,
                    reason,
                }
            }
            C::Book {
                booking_id,
                booked_by,
                standing,
                starts_at,
                ends_at,
                now,
            } => {
                let hours = s.opening_hours.ok_or(SpaceError::NotBookable)?;
                let (start, end) = (hub_local(starts_at), hub_local(ends_at));
                if ends_at <= starts_at || !on_quarter(start.time()) || !on_quarter(end.time()) {
                    return Err(SpaceError::BadSlot);
                }
                if starts_at < now {
                    return Err(SpaceError::BookingInThePast);
                }
                if start.date() != end.date()
                    || start.time() < hours.opens
                    || end.time() > hours.closes
                {
                    return Err(SpaceError::OutsideOpeningHours {
                        opens: hours.opens,
                        closes: hours.closes,
                    });
                }
                s.admit(start.date(), &booked_by, standing, booking_id)?;
                if let Some(t) = s.full_at(starts_at, ends_at) {
                    return Err(SpaceError::BookingConflict(t));
                }
                E::RoomBooked {
                    booking_id,
                    booked_by,
                    starts_at,
                    ends_at,
                    booked_at: now,
                }
            }
            C::CancelBooking {
                booking_id,
                reason,
                now,
            } => {
                let b = s
                    .bookings
                    .iter()
                    .find(|b| b.booking_id == booking_id)
                    .ok_or(SpaceError::UnknownBooking(booking_id))?;
                if b.starts_at <= now {
                    return Err(SpaceError::BookingStarted);
                }
                E::BookingCancelled { booking_id, reason }
            }
        };
        Ok(vec![event])
    }
}

crate::aggregate!(Space, SpaceCommand, SpaceEvent, SpaceError);

impl Space {
    /// Folds one event into the state (what cqrs-es's `apply` runs).
    fn evolve(&mut self, event: SpaceEvent) {
        use SpaceEvent as E;
        if let E::SpaceRegistered {
            building,
            kind,
            name,
            area_m2,
            capacity,
            rent_per_m2,
            opening_hours,
            registered_on,
        } = event
        {
            self.state = Some(SpaceState {
                building,
                kind,
                name,
                area_m2,
                capacity,
                rent_per_m2,
                opening_hours,
                registered_on,
                decommissioned_on: None,
                allocations: Vec::new(),
                bookings: Vec::new(),
            });
            return;
        }
        let Some(s) = self.state.as_mut() else {
            return;
        };
        match event {
            E::SpaceRegistered { .. } => {}
            E::TermsChanged {
                area_m2,
                capacity,
                rent_per_m2,
                opening_hours,
            } => {
                s.area_m2 = area_m2;
                s.capacity = capacity;
                s.rent_per_m2 = rent_per_m2;
                s.opening_hours = opening_hours;
            }
            E::SpaceDecommissioned { on, .. } => s.decommissioned_on = Some(on),
            E::SpaceAllocated {
                allocation_id,
                occupant,
                from,
                to,
            } => s.allocations.push(Allocation {
                allocation_id,
                occupant,
                from,
                to,
            }),
            E::AllocationEnded {
                allocation_id,
                last_day,
                ..
            } => {
                if let Some(a) = s
                    .allocations
                    .iter_mut()
                    .find(|a| a.allocation_id == allocation_id)
                {
                    a.to = Some(last_day);
                }
            }
            E::AllocationCancelled { allocation_id, .. } => {
                s.allocations.retain(|a| a.allocation_id != allocation_id)
            }
            E::RoomBooked {
                booking_id,
                booked_by,
                starts_at,
                ends_at,
                ..
            } => {
                s.bookings.push(Booking {
                    booking_id,
                    booked_by,
                    starts_at,
                    ends_at,
                });
            }
            E::BookingCancelled { booking_id, .. } => {
                s.bookings.retain(|b| b.booking_id != booking_id)
            }
        }
    }
}

#[cfg(test)]
mod tests;
