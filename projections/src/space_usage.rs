//! The space-usage read model: per building and space, who occupies it on a day and its
//! allocation history; utilisation over a period; vacancies now and upcoming; the rent roll per
//! month; hourly bookings for a week view.
//!
//! The rules, as the queries apply them:
//! - A space is in use from its `registered_on` day up to the day before `decommissioned_on`.
//! - A space of capacity N holds N occupants at once, so one allocation occupies 1/N of its area
//!   (and owes 1/N of its rent); a space of capacity 1 is occupied whole.
//! - **Lettable space** (no opening hours): utilisation is occupied m²·days over available
//!   m²·days. **Rooms** (booked by the hour): booked hours over open hours × capacity; a day on
//!   which a room is allocated counts as booked for its opening hours.
//! - Rent is prorated by day: an allocation owes `area × rent per m² / capacity` for a whole
//!   month, `days used / days in the month` of that for part of one, rounded to the cent. It
//!   keeps the terms in force when it was made (a lease keeps its rent; new terms apply to new
//!   allocations).
//! - A withdrawn allocation is gone (it was made in error); an allocation ended early ends on
//!   its last day. A cancelled booking is gone.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Datelike, Duration, NaiveDate};
use cqrs_es::Aggregate;
use incubator_domain::space::{Building, OccupantKind, Space, SpaceEvent, SpaceKind};
use incubator_domain::startup::{Startup, StartupEvent};
use incubator_domain::values::hub_local;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::db::ReadDb;
use crate::log::LoggedEvent;
use crate::projector::{decode, Applied, Conn, Projection, ProjectionError};
use crate::rebuild::Rebuildable;

/// The space-usage projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct SpaceUsage;

/// A value's serde name (`snake_case` for the space enums).
fn name_of<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

fn occupant_kind(k: OccupantKind) -> &'static str {
    match k {
        OccupantKind::Startup => "startup",
        OccupantKind::Residency => "residency",
        OccupantKind::Tenant => "tenant",
    }
}

/// An instant as fixed-width UTC text, so that text order is time order.
fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Projection for SpaceUsage {
    fn name(&self) -> &'static str {
        <Self as crate::projector::Named>::NAME
    }

    async fn apply(&self, conn: &mut Conn, db: &ReadDb, event: &LoggedEvent) -> Applied {
        let id = event.aggregate_id.as_str();
        match event.aggregate_type.as_str() {
            Startup::TYPE if event.event_type == "Applied" => {
                if let StartupEvent::Applied { name, .. } = decode(event)? {
                    sqlx::query(
                        "INSERT INTO rm_space_names (occupant_kind, occupant_id, name) \
                         VALUES ('startup', $1, $2) ON CONFLICT (occupant_kind, occupant_id) \
                         DO UPDATE SET name = excluded.name",
                    )
                    .bind(id)
                    .bind(name.as_str())
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }
            Space::TYPE => apply_space(conn, db, id, decode(event)?).await,
            _ => Ok(()),
        }
    }

    /// Bookings are most of the log. Only `RoomBooked` and `BookingCancelled` touch booking rows
    /// and they touch nothing else, so the batch's other events are applied in order first and
    /// its bookings written after, 500 rows to a statement, each 500 decoded while the database
    /// writes the previous 500. A booking cancelled within the batch is never written; those
    /// written earlier are deleted together at the end.
    async fn apply_batch(&self, conn: &mut Conn, db: &ReadDb, events: &[LoggedEvent]) -> Applied {
        let mut booked: Vec<&LoggedEvent> = Vec::new();
        let mut cancelled: Vec<String> = Vec::new();
        for event in events {
            if event.aggregate_type == Space::TYPE {
                match event.event_type.as_str() {
                    "RoomBooked" => {
                        booked.push(event);
                        continue;
                    }
                    "BookingCancelled" => {
                        if let SpaceEvent::BookingCancelled { booking_id, .. } = decode(event)? {
                            cancelled.push(booking_id.to_string());
                            continue;
                        }
                    }
                    _ => {}
                }
            }
            self.apply(conn, db, event).await?;
        }
        let gone: HashSet<&str> = cancelled.iter().map(String::as_str).collect();
        let prepare = |chunk: &[&LoggedEvent]| -> Result<Vec<BookingInsert>, ProjectionError> {
            let mut rows = Vec::with_capacity(chunk.len());
            for event in chunk {
                if let SpaceEvent::RoomBooked {
                    booking_id,
                    booked_by,
                    starts_at,
                    ends_at,
                    ..
                } = decode(event)?
                {
                    let booking_id = booking_id.to_string();
                    if !gone.contains(booking_id.as_str()) {
                        rows.push(BookingInsert::new(
                            &event.aggregate_id,
                            booking_id,
                            booked_by,
                            starts_at,
                            ends_at,
                        ));
                    }
                }
            }
            Ok(rows)
        };
        let mut chunks = booked.chunks(BOOKINGS_PER_STATEMENT);
        let mut ready = chunks.next().map(&prepare).transpose()?;
        while let Some(mut rows) = ready {
            let upcoming = chunks.next();
            // The insert waits on sqlx's worker (SQLite) or the server (PostgreSQL) while the
            // next chunk is decoded here.
            let (written, prepared) = tokio::join!(insert_bookings(conn, db, &mut rows), async {
                upcoming.map(&prepare).transpose()
            });
            written?;
            ready = prepared?;
        }
        delete_bookings(conn, db, &cancelled).await?;
        Ok(())
    }
}

/// Deletes the bookings `ids` in one statement per 500.
async fn delete_bookings(
    conn: &mut AnyConnection,
    db: &ReadDb,
    ids: &[String],
) -> Result<(), sqlx::Error> {
    let sql = match db.dialect {
        crate::db::Dialect::Sqlite => {
            "DELETE FROM rm_space_bookings WHERE booking_id IN (SELECT value FROM json_each($1))"
        }
        crate::db::Dialect::Postgres => {
            "DELETE FROM rm_space_bookings WHERE booking_id IN \
             (SELECT jsonb_array_elements_text(CAST($1 AS jsonb)))"
        }
    };
    for chunk in ids.chunks(BOOKINGS_PER_STATEMENT) {
        sqlx::query(sql)
            .bind(serde_json::Value::from(chunk.to_vec()).to_string())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A booking row waiting to be written.
struct BookingInsert {
    booking_id: String,
    space_id: String,
    kind: &'static str,
    booker_id: String,
    booker_name: Option<String>,
    starts_at: String,
    ends_at: String,
    on_day: String,
    minutes: i64,
}

impl BookingInsert {
    fn new(
        space_id: &str,
        booking_id: String,
        booked_by: incubator_domain::space::Occupant,
        starts_at: chrono::DateTime<chrono::Utc>,
        ends_at: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            booking_id,
            space_id: space_id.to_owned(),
            kind: occupant_kind(booked_by.kind),
            booker_id: booked_by.id.to_string(),
            booker_name: booked_by.name.map(|n| n.as_str().to_owned()),
            starts_at: instant(starts_at),
            ends_at: instant(ends_at),
            on_day: hub_local(starts_at).date().to_string(),
            minutes: (ends_at - starts_at).num_minutes(),
        }
    }
}

/// Rows held before they are written in one statement.
const BOOKINGS_PER_STATEMENT: usize = 500;

/// Writes the held booking rows in one statement and empties `held`.
async fn insert_bookings(
    conn: &mut AnyConnection,
    db: &ReadDb,
    held: &mut Vec<BookingInsert>,
) -> Result<(), sqlx::Error> {
    use crate::db::JsonColumn::{Int, Text};
    let rows: Vec<serde_json::Value> = held
        .drain(..)
        .map(|b| {
            serde_json::json!([
                b.booking_id,
                b.space_id,
                b.kind,
                b.booker_id,
                b.booker_name,
                b.starts_at,
                b.ends_at,
                b.on_day,
                b.minutes
            ])
        })
        .collect();
    crate::db::insert_json_rows(
        conn,
        db.dialect,
        "rm_space_bookings",
        &[
            ("booking_id", Text),
            ("space_id", Text),
            ("booker_kind", Text),
            ("booker_id", Text),
            ("booker_name", Text),
            ("starts_at", Text),
            ("ends_at", Text),
            ("on_day", Text),
            ("minutes", Int),
        ],
        rows,
    )
    .await
}

async fn apply_space(
    conn: &mut AnyConnection,
    db: &ReadDb,
    id: &str,
    event: SpaceEvent,
) -> Result<(), ProjectionError> {
    use SpaceEvent as E;
    match event {
        E::SpaceRegistered {
            building,
            kind,
            name,
            area_m2,
            capacity,
            rent_per_m2,
            opening_hours,
            registered_on,
        } => {
            sqlx::query(
                "INSERT INTO rm_spaces (space_id, building, kind, name, area_m2, capacity, \
                 rent_cents, opens, closes, registered_on) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(id)
            .bind(name_of(&building))
            .bind(name_of(&kind))
            .bind(name.as_str())
            .bind(i64::from(area_m2))
            .bind(i64::from(capacity))
            .bind(rent_per_m2.cents)
            .bind(opening_hours.map(|h| h.opens.format("%H:%M").to_string()))
            .bind(opening_hours.map(|h| h.closes.format("%H:%M").to_string()))
            .bind(registered_on.to_string())
            .execute(&mut *conn)
            .await?;
        }
        E::TermsChanged {
            area_m2,
            capacity,
            rent_per_m2,
            opening_hours,
        } => {
            sqlx::query(
                "UPDATE rm_spaces SET area_m2 = $1, capacity = $2, rent_cents = $3, opens = $4, \
                 closes = $5 WHERE space_id = $6",
            )
            .bind(i64::from(area_m2))
            .bind(i64::from(capacity))
            .bind(rent_per_m2.cents)
            .bind(opening_hours.map(|h| h.opens.format("%H:%M").to_string()))
            .bind(opening_hours.map(|h| h.closes.format("%H:%M").to_string()))
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
        E::SpaceDecommissioned { on, .. } => {
            sqlx::query("UPDATE rm_spaces SET decommissioned_on = $1 WHERE space_id = $2")
                .bind(on.to_string())
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        E::SpaceAllocated {
            allocation_id,
            occupant,
            from,
            to,
        } => {
            sqlx::query(
                "INSERT INTO rm_space_allocations (allocation_id, space_id, occupant_kind, \
                 occupant_id, occupant_name, from_on, to_on, area_m2, capacity, rent_cents) \
                 SELECT $1, space_id, $2, $3, $4, $5, $6, area_m2, capacity, rent_cents \
                 FROM rm_spaces WHERE space_id = $7",
            )
            .bind(allocation_id.to_string())
            .bind(occupant_kind(occupant.kind))
            .bind(occupant.id.to_string())
            .bind(occupant.name.as_ref().map(|n| n.as_str().to_owned()))
            .bind(from.to_string())
            .bind(to.map(|d| d.to_string()))
            .bind(id)
            .execute(&mut *conn)
            .await?;
        }
        E::AllocationEnded {
            allocation_id,
            last_day,
            ..
        } => {
            sqlx::query("UPDATE rm_space_allocations SET to_on = $1 WHERE allocation_id = $2")
                .bind(last_day.to_string())
                .bind(allocation_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        E::AllocationCancelled { allocation_id, .. } => {
            sqlx::query("DELETE FROM rm_space_allocations WHERE allocation_id = $1")
                .bind(allocation_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
        E::RoomBooked {
            booking_id,
            booked_by,
            starts_at,
            ends_at,
            ..
        } => {
            let mut row = vec![BookingInsert::new(
                id,
                booking_id.to_string(),
                booked_by,
                starts_at,
                ends_at,
            )];
            insert_bookings(conn, db, &mut row).await?;
        }
        E::BookingCancelled { booking_id, .. } => {
            sqlx::query("DELETE FROM rm_space_bookings WHERE booking_id = $1")
                .bind(booking_id.to_string())
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

impl Rebuildable for SpaceUsage {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "rm_space_bookings",
            "rm_space_allocations",
            "rm_spaces",
            "rm_space_names",
        ]
    }
}

/// Which spaces a query looks at.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub building: Option<Building>,
    pub kind: Option<SpaceKind>,
}

impl Filter {
    fn binds(&self) -> (String, String) {
        (
            self.building.map(|b| name_of(&b)).unwrap_or_default(),
            self.kind.map(|k| name_of(&k)).unwrap_or_default(),
        )
    }
}

/// Who occupies or booked a space.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OccupantRow {
    /// `startup`, `residency` or `tenant`.
    pub kind: String,
    pub id: String,
    /// A startup's or tenant's name; none for a residency (its artist is a person, named only
    /// in the people registry).
    pub name: Option<String>,
}

/// One allocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AllocationRow {
    pub allocation_id: String,
    pub occupant: OccupantRow,
    pub from: String,
    /// The last day; none while open-ended.
    pub to: Option<String>,
    /// Rent for a whole month on the terms it was made on, in EUR cents.
    pub monthly_rent_cents: i64,
}

/// One space with its occupants on the day asked and its allocation history.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceRow {
    pub space_id: String,
    pub building: String,
    pub kind: String,
    pub name: String,
    pub area_m2: i64,
    pub capacity: i64,
    /// Monthly rent per m², EUR cents.
    /// Monthly rent per m² (EUR), as the space's terms say it.
    pub rent_per_m2: incubator_domain::values::Money,
    /// Opening hours (hub time) of a room booked by the hour.
    pub opens: Option<String>,
    pub closes: Option<String>,
    pub registered_on: String,
    pub decommissioned_on: Option<String>,
    /// Allocations covering the day asked.
    pub occupants: Vec<AllocationRow>,
    /// Every allocation, earliest first (withdrawn ones are not kept).
    pub allocations: Vec<AllocationRow>,
}

/// A space's terms, as the queries need them.
#[derive(Debug, Clone)]
struct SpaceTerms {
    space_id: String,
    building: String,
    kind: String,
    name: String,
    area_m2: i64,
    capacity: i64,
    rent_cents: i64,
    opens: Option<String>,
    closes: Option<String>,
    registered_on: NaiveDate,
    decommissioned_on: Option<NaiveDate>,
}

fn date(raw: &str) -> Result<NaiveDate, sqlx::Error> {
    raw.parse()
        .map_err(|e: chrono::ParseError| sqlx::Error::Decode(Box::new(e)))
}

fn opt_date(raw: Option<String>) -> Result<Option<NaiveDate>, sqlx::Error> {
    raw.as_deref().map(date).transpose()
}

impl SpaceTerms {
    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            space_id: r.try_get("space_id")?,
            building: r.try_get("building")?,
            kind: r.try_get("kind")?,
            name: r.try_get("name")?,
            area_m2: r.try_get("area_m2")?,
            capacity: r.try_get("capacity")?,
            rent_cents: r.try_get("rent_cents")?,
            opens: r.try_get("opens")?,
            closes: r.try_get("closes")?,
            registered_on: date(&r.try_get::<String, _>("registered_on")?)?,
            decommissioned_on: opt_date(r.try_get("decommissioned_on")?)?,
        })
    }

    /// A room booked by the hour.
    fn is_room(&self) -> bool {
        self.opens.is_some()
    }

    /// Minutes open per day (rooms).
    fn open_minutes(&self) -> i64 {
        let minutes = |t: &Option<String>| -> i64 {
            t.as_deref()
                .and_then(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok())
                .map_or(0, |t| {
                    i64::from(chrono::Timelike::num_seconds_from_midnight(&t)) / 60
                })
        };
        (minutes(&self.closes) - minutes(&self.opens)).max(0)
    }

    /// The days of `[from, to]` on which the space is in use.
    fn in_use(&self, from: NaiveDate, to: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let from = from.max(self.registered_on);
        let to = match self.decommissioned_on.and_then(|d| d.pred_opt()) {
            Some(last) => to.min(last),
            None if self.decommissioned_on.is_some() => return None,
            None => to,
        };
        (from <= to).then_some((from, to))
    }

    fn in_use_on(&self, day: NaiveDate) -> bool {
        self.in_use(day, day).is_some()
    }
}

/// An allocation, as the queries need it.
#[derive(Debug, Clone)]
struct Alloc {
    row: AllocationRow,
    space_id: String,
    from: NaiveDate,
    to: Option<NaiveDate>,
    area_m2: i64,
    capacity: i64,
    rent_cents: i64,
}

impl Alloc {
    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        let from: String = r.try_get("from_on")?;
        let to: Option<String> = r.try_get("to_on")?;
        let (area_m2, capacity, rent_cents): (i64, i64, i64) = (
            r.try_get("area_m2")?,
            r.try_get("capacity")?,
            r.try_get("rent_cents")?,
        );
        let name: Option<String> = r.try_get("occupant_name")?;
        let known: Option<String> = r.try_get("known_name")?;
        Ok(Self {
            space_id: r.try_get("space_id")?,
            from: date(&from)?,
            to: opt_date(to.clone())?,
            area_m2,
            capacity,
            rent_cents,
            row: AllocationRow {
                allocation_id: r.try_get("allocation_id")?,
                occupant: OccupantRow {
                    kind: r.try_get("occupant_kind")?,
                    id: r.try_get("occupant_id")?,
                    name: name.or(known),
                },
                from,
                to,
                monthly_rent_cents: divide(area_m2 * rent_cents, capacity.max(1)),
            },
        })
    }

    fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.to.is_none_or(|to| day <= to)
    }

    /// The number of days of `[from, to]` it covers.
    fn days_within(&self, from: NaiveDate, to: NaiveDate) -> i64 {
        let start = self.from.max(from);
        let end = self.to.map_or(to, |t| t.min(to));
        if start > end {
            0
        } else {
            (end - start).num_days() + 1
        }
    }
}

/// `num / den` rounded half away from zero (`den` > 0).
fn divide(num: i64, den: i64) -> i64 {
    let q = (2 * num.abs() + den) / (2 * den);
    if num < 0 {
        -q
    } else {
        q
    }
}

fn round(v: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (v * f).round() / f
}

const ALLOCATION_COLUMNS: &str = "a.allocation_id, a.space_id, a.occupant_kind, a.occupant_id, \
     a.occupant_name, a.from_on, a.to_on, a.area_m2, a.capacity, a.rent_cents, n.name AS known_name";
const ALLOCATION_JOIN: &str = "rm_space_allocations a LEFT JOIN rm_space_names n \
     ON n.occupant_kind = a.occupant_kind AND n.occupant_id = a.occupant_id";

/// Spaces by id after `after`, with their occupants on `on` and their allocation history.
pub async fn spaces(
    db: &ReadDb,
    filter: Filter,
    on: NaiveDate,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<SpaceRow>, sqlx::Error> {
    let (building, kind) = filter.binds();
    let rows = sqlx::query(
        "SELECT * FROM rm_spaces WHERE space_id > $1 AND ($2 = '' OR building = $2) \
         AND ($3 = '' OR kind = $3) ORDER BY space_id LIMIT $4",
    )
    .bind(after.unwrap_or(""))
    .bind(&building)
    .bind(&kind)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let spaces = rows
        .iter()
        .map(SpaceTerms::from_row)
        .collect::<Result<Vec<_>, _>>()?;
    let Some(last) = spaces.last().map(|s| s.space_id.clone()) else {
        return Ok(Vec::new());
    };
    // One query for the page's allocations: the page is a range of ids.
    let mut allocations: HashMap<String, Vec<Alloc>> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT {ALLOCATION_COLUMNS} FROM {ALLOCATION_JOIN} \
         WHERE a.space_id > $1 AND a.space_id <= $2 ORDER BY a.space_id, a.from_on, a.allocation_id"
    ))
    .bind(after.unwrap_or(""))
    .bind(&last)
    .fetch_all(&db.pool)
    .await?
    {
        let a = Alloc::from_row(&r)?;
        allocations.entry(a.space_id.clone()).or_default().push(a);
    }
    Ok(spaces
        .into_iter()
        .map(|s| {
            let history = allocations.remove(&s.space_id).unwrap_or_default();
            SpaceRow {
                occupants: history
                    .iter()
                    .filter(|a| a.covers(on))
                    .map(|a| a.row.clone())
                    .collect(),
                allocations: history.into_iter().map(|a| a.row).collect(),
                space_id: s.space_id,
                building: s.building,
                kind: s.kind,
                name: s.name,
                area_m2: s.area_m2,
                capacity: s.capacity,
                rent_per_m2: incubator_domain::values::Money::eur(s.rent_cents),
                opens: s.opens,
                closes: s.closes,
                registered_on: s.registered_on.to_string(),
                decommissioned_on: s.decommissioned_on.map(|d| d.to_string()),
            }
        })
        .collect())
}

/// Every space the filter selects, and their allocations overlapping `[from, to]`.
async fn load(
    conn: &mut AnyConnection,
    filter: Filter,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(Vec<SpaceTerms>, HashMap<String, Vec<Alloc>>), sqlx::Error> {
    let (building, kind) = filter.binds();
    let spaces = sqlx::query(
        "SELECT * FROM rm_spaces WHERE ($1 = '' OR building = $1) AND ($2 = '' OR kind = $2) \
         ORDER BY space_id",
    )
    .bind(&building)
    .bind(&kind)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(SpaceTerms::from_row)
    .collect::<Result<Vec<_>, _>>()?;
    let mut allocations: HashMap<String, Vec<Alloc>> = HashMap::new();
    for r in sqlx::query(&format!(
        "SELECT {ALLOCATION_COLUMNS} FROM {ALLOCATION_JOIN} \
         WHERE a.from_on <= $1 AND (a.to_on IS NULL OR a.to_on >= $2) \
         ORDER BY a.space_id, a.from_on, a.allocation_id"
    ))
    .bind(to.to_string())
    .bind(from.to_string())
    .fetch_all(&mut *conn)
    .await?
    {
        let a = Alloc::from_row(&r)?;
        allocations.entry(a.space_id.clone()).or_default().push(a);
    }
    Ok((spaces, allocations))
}

/// Use of a set of spaces over a period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    /// Lettable spaces (no opening hours) in use during the period.
    pub spaces: i64,
    pub occupied_m2_days: f64,
    pub available_m2_days: f64,
    /// `occupied_m2_days / available_m2_days`, to four decimals; none with nothing available.
    pub occupancy: Option<f64>,
    /// Rooms booked by the hour in use during the period.
    pub rooms: i64,
    pub booked_hours: f64,
    pub open_hours: f64,
    /// `booked_hours / open_hours`, to four decimals; none with nothing open.
    pub booking_rate: Option<f64>,
}

impl Usage {
    fn add(&mut self, other: &Usage) {
        self.spaces += other.spaces;
        self.occupied_m2_days += other.occupied_m2_days;
        self.available_m2_days += other.available_m2_days;
        self.rooms += other.rooms;
        self.booked_hours += other.booked_hours;
        self.open_hours += other.open_hours;
    }

    fn finish(&mut self) {
        self.occupancy = (self.available_m2_days > 0.0)
            .then(|| round(self.occupied_m2_days / self.available_m2_days, 4));
        self.booking_rate =
            (self.open_hours > 0.0).then(|| round(self.booked_hours / self.open_hours, 4));
        self.occupied_m2_days = round(self.occupied_m2_days, 2);
        self.available_m2_days = round(self.available_m2_days, 2);
        self.booked_hours = round(self.booked_hours, 2);
        self.open_hours = round(self.open_hours, 2);
    }
}

/// Utilisation over a period, per building and in total.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Utilisation {
    pub from: String,
    pub to: String,
    pub buildings: BTreeMap<String, Usage>,
    pub total: Usage,
}

/// Utilisation of the spaces the filter selects over `[from, to]`.
pub async fn utilisation(
    conn: &mut AnyConnection,
    filter: Filter,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Utilisation, sqlx::Error> {
    let (spaces, allocations) = load(conn, filter, from, to).await?;
    let mut booked: HashMap<String, i64> = HashMap::new();
    for r in sqlx::query(
        "SELECT space_id, CAST(SUM(minutes) AS BIGINT) AS minutes FROM rm_space_bookings \
         WHERE on_day >= $1 AND on_day <= $2 GROUP BY space_id",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&mut *conn)
    .await?
    {
        booked.insert(r.try_get("space_id")?, r.try_get("minutes")?);
    }
    let mut buildings: BTreeMap<String, Usage> = BTreeMap::new();
    for s in &spaces {
        let Some((first, last)) = s.in_use(from, to) else {
            continue;
        };
        let days = (last - first).num_days() + 1;
        let allocated: i64 = allocations
            .get(&s.space_id)
            .map_or(0, |a| a.iter().map(|a| a.days_within(first, last)).sum());
        let usage = buildings.entry(s.building.clone()).or_default();
        if s.is_room() {
            let per_day = s.open_minutes() as f64 / 60.0;
            usage.rooms += 1;
            usage.open_hours += per_day * (days * s.capacity) as f64;
            usage.booked_hours += booked.get(&s.space_id).copied().unwrap_or(0) as f64 / 60.0
                + per_day * allocated as f64;
        } else {
            let area = s.area_m2 as f64;
            usage.spaces += 1;
            usage.available_m2_days += area * days as f64;
            usage.occupied_m2_days += area * allocated as f64 / s.capacity.max(1) as f64;
        }
    }
    let mut total = Usage::default();
    for usage in buildings.values_mut() {
        total.add(usage);
        usage.finish();
    }
    total.finish();
    Ok(Utilisation {
        from: from.to_string(),
        to: to.to_string(),
        buildings,
        total,
    })
}

/// A lettable space with room for another occupant now or soon.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Vacancy {
    pub space_id: String,
    pub building: String,
    pub kind: String,
    pub name: String,
    pub area_m2: i64,
    pub capacity: i64,
    /// Monthly rent per m² (EUR), as the space's terms say it.
    pub rent_per_m2: incubator_domain::values::Money,
    /// The first day with room: the day asked when vacant now.
    pub free_from: String,
    /// Places free on `free_from`.
    pub free_places: i64,
}

/// Vacancies on a day and within a horizon, counted over every lettable space.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Vacancies {
    pub on: String,
    /// The last day looked at for upcoming vacancies.
    pub until: String,
    /// Lettable spaces with room on `on`.
    pub vacant_now: i64,
    /// Their free area, m² (a free place is area / capacity).
    pub vacant_m2_now: f64,
    /// Lettable spaces full on `on` with room by `until`.
    pub upcoming: i64,
}

/// Lettable spaces (rooms booked by the hour are not let) with room on `on` or, failing that,
/// by `until`: the counts over all of them, and up to `limit` of them by id after `after`.
pub async fn vacancies(
    conn: &mut AnyConnection,
    filter: Filter,
    on: NaiveDate,
    until: NaiveDate,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vacancies, Vec<Vacancy>), sqlx::Error> {
    let (spaces, allocations) = load(conn, filter, on, until).await?;
    let none = Vec::new();
    let mut out = Vacancies {
        on: on.to_string(),
        until: until.to_string(),
        vacant_now: 0,
        vacant_m2_now: 0.0,
        upcoming: 0,
    };
    let mut items = Vec::new();
    for s in spaces.iter().filter(|s| !s.is_room()) {
        let allocs = allocations.get(&s.space_id).unwrap_or(&none);
        let free = |day: NaiveDate| {
            if !s.in_use_on(day) {
                return 0;
            }
            s.capacity - allocs.iter().filter(|a| a.covers(day)).count() as i64
        };
        let now = free(on);
        let found = if now > 0 {
            out.vacant_now += 1;
            out.vacant_m2_now += s.area_m2 as f64 * now as f64 / s.capacity.max(1) as f64;
            Some((on, now))
        } else {
            // A place frees up the day after an allocation ends, or the day a space opens.
            let mut days: Vec<NaiveDate> = allocs
                .iter()
                .filter_map(|a| a.to.and_then(|t| t.succ_opt()))
                .chain(std::iter::once(s.registered_on))
                .filter(|d| *d > on && *d <= until)
                .collect();
            days.sort_unstable();
            days.dedup();
            let soon = days.into_iter().find_map(|d| {
                let n = free(d);
                (n > 0).then_some((d, n))
            });
            if soon.is_some() {
                out.upcoming += 1;
            }
            soon
        };
        if let Some((day, places)) = found {
            if after.is_none_or(|a| s.space_id.as_str() > a) && items.len() < limit {
                items.push(Vacancy {
                    space_id: s.space_id.clone(),
                    building: s.building.clone(),
                    kind: s.kind.clone(),
                    name: s.name.clone(),
                    area_m2: s.area_m2,
                    capacity: s.capacity,
                    rent_per_m2: incubator_domain::values::Money::eur(s.rent_cents),
                    free_from: day.to_string(),
                    free_places: places,
                });
            }
        }
    }
    out.vacant_m2_now = round(out.vacant_m2_now, 2);
    Ok((out, items))
}

/// One month of the rent roll.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RentMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// Rent due for the month, EUR cents.
    pub total_cents: i64,
    pub by_building: BTreeMap<String, i64>,
    /// By occupant kind: `startup`, `residency`, `tenant`.
    pub by_occupant_kind: BTreeMap<String, i64>,
    /// Allocations with at least one day in the month.
    pub allocations: i64,
}

fn month_start(year: i32, month: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
}

fn next_month(d: NaiveDate) -> NaiveDate {
    if d.month() == 12 {
        month_start(d.year() + 1, 1)
    } else {
        month_start(d.year(), d.month() + 1)
    }
}

/// Why a rent roll cannot be given.
#[derive(Debug, thiserror::Error)]
pub enum RentRollError {
    /// A sum past what a 64-bit number of cents holds (about 92 million billion euros): only
    /// rents or areas typed far off what was meant get there.
    #[error(
        "the rent roll's totals exceed {} cents: check the rents and areas of the spaces it covers",
        i64::MAX
    )]
    TooLarge,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// `total + add`, or `TooLarge`.
fn plus(total: &mut i64, add: i64) -> Result<(), RentRollError> {
    *total = total.checked_add(add).ok_or(RentRollError::TooLarge)?;
    Ok(())
}

/// The rent of `days` of a month of `days_in_month` days, for one allocation: area × rent per
/// m² × days ÷ (days in the month × the space's capacity), rounded half away from zero,
/// computed in 128 bits (the product of the largest area and rent the domain allows is past
/// 64).
fn prorated(a: &Alloc, days: i64, days_in_month: i64) -> Result<i64, RentRollError> {
    let num = i128::from(a.area_m2) * i128::from(a.rent_cents) * i128::from(days);
    let den = i128::from(days_in_month) * i128::from(a.capacity.max(1));
    let q = (2 * num.abs() + den) / (2 * den);
    i64::try_from(if num < 0 { -q } else { q }).map_err(|_| RentRollError::TooLarge)
}

/// The rent roll of the spaces the filter selects, month by month from the month of `from` to
/// the month of `to`. Every sum is checked: past 64 bits it is `TooLarge`, never wrapped.
pub async fn rent_roll(
    conn: &mut AnyConnection,
    filter: Filter,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<RentMonth>, RentRollError> {
    let first = month_start(from.year(), from.month());
    let last = next_month(month_start(to.year(), to.month())) - Duration::days(1);
    let (spaces, allocations) = load(conn, filter, first, last).await?;
    let mut months = Vec::new();
    let mut start = first;
    while start <= last {
        let end = next_month(start) - Duration::days(1);
        let days_in_month = (end - start).num_days() + 1;
        let mut m = RentMonth {
            month: start.format("%Y-%m").to_string(),
            ..RentMonth::default()
        };
        for s in &spaces {
            for a in allocations.get(&s.space_id).into_iter().flatten() {
                let days = a.days_within(start, end);
                if days == 0 {
                    continue;
                }
                let rent = prorated(a, days, days_in_month)?;
                plus(&mut m.total_cents, rent)?;
                plus(m.by_building.entry(s.building.clone()).or_default(), rent)?;
                plus(
                    m.by_occupant_kind
                        .entry(a.row.occupant.kind.clone())
                        .or_default(),
                    rent,
                )?;
                m.allocations += 1;
            }
        }
        months.push(m);
        start = next_month(start);
    }
    Ok(months)
}

/// The total of a rent roll's months, checked.
pub fn rent_total(months: &[RentMonth]) -> Result<i64, RentRollError> {
    let mut total = 0;
    for m in months {
        plus(&mut total, m.total_cents)?;
    }
    Ok(total)
}

/// One hourly booking.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingRow {
    pub booking_id: String,
    pub space_id: String,
    pub space_name: String,
    pub building: String,
    pub booked_by: OccupantRow,
    /// UTC instants.
    pub starts_at: String,
    pub ends_at: String,
    /// The hub-time day it falls on.
    pub on: String,
    pub minutes: i64,
}

impl BookingRow {
    /// The cursor after this booking: its start and id.
    pub fn cursor(&self) -> String {
        format!("{}/{}", self.starts_at, self.booking_id)
    }
}

/// Bookings on the hub-time days `[from, to]` in start order, after the cursor `after`
/// (`starts_at/booking_id`), of one space or of the spaces the filter selects.
pub async fn bookings(
    db: &ReadDb,
    filter: Filter,
    space: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<BookingRow>, sqlx::Error> {
    let (building, kind) = filter.binds();
    let (after_start, after_id) = after.unwrap_or(("", ""));
    sqlx::query(
        "SELECT b.booking_id, b.space_id, s.name AS space_name, s.building, b.booker_kind, \
         b.booker_id, COALESCE(b.booker_name, n.name) AS booker_name, b.starts_at, b.ends_at, \
         b.on_day, b.minutes FROM rm_space_bookings b \
         JOIN rm_spaces s ON s.space_id = b.space_id \
         LEFT JOIN rm_space_names n ON n.occupant_kind = b.booker_kind AND n.occupant_id = b.booker_id \
         WHERE b.on_day >= $1 AND b.on_day <= $2 AND ($3 = '' OR s.building = $3) \
         AND ($4 = '' OR s.kind = $4) AND ($5 = '' OR b.space_id = $5) \
         AND (b.starts_at > $6 OR (b.starts_at = $6 AND b.booking_id > $7)) \
         ORDER BY b.starts_at, b.booking_id LIMIT $8",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .bind(&building)
    .bind(&kind)
    .bind(space.unwrap_or(""))
    .bind(after_start)
    .bind(after_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| {
        Ok(BookingRow {
            booking_id: r.try_get("booking_id")?,
            space_id: r.try_get("space_id")?,
            space_name: r.try_get("space_name")?,
            building: r.try_get("building")?,
            booked_by: OccupantRow {
                kind: r.try_get("booker_kind")?,
                id: r.try_get("booker_id")?,
                name: r.try_get("booker_name")?,
            },
            starts_at: r.try_get("starts_at")?,
            ends_at: r.try_get("ends_at")?,
            on: r.try_get("on_day")?,
            minutes: r.try_get("minutes")?,
        })
    })
    .collect()
}

/// One room on one day of a week view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomDay {
    pub on: String,
    pub bookings: i64,
    pub booked_minutes: i64,
    /// Minutes the room is open that day (0 before it opens or after it is decommissioned).
    pub open_minutes: i64,
    /// Allocated for the whole day (let rather than booked by the hour), as utilisation
    /// counts it: every open hour taken.
    pub let_whole_day: bool,
}

/// One room over the days of a week view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomWeek {
    pub space_id: String,
    pub name: String,
    pub building: String,
    pub kind: String,
    pub opens: Option<String>,
    pub closes: Option<String>,
    pub days: Vec<RoomDay>,
}

/// The rooms booked by the hour, day by day over `[from, to]`: bookings and booked minutes
/// per room and day (the grid of a week view).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoomGrid {
    pub from: String,
    pub to: String,
    pub rooms: Vec<RoomWeek>,
}

/// The booking grid of the rooms the filter selects over `[from, to]`, rooms by building and
/// name. Rooms not in use at all during the period are left out.
pub async fn room_grid(
    db: &ReadDb,
    filter: Filter,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<RoomGrid, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    let (mut rooms, allocations) = load(&mut conn, filter, from, to).await?;
    rooms.retain(|r| r.is_room());
    rooms.retain(|r| r.in_use(from, to).is_some());
    rooms.sort_by(|a, b| {
        (&a.building, &a.name, &a.space_id).cmp(&(&b.building, &b.name, &b.space_id))
    });
    let mut booked: HashMap<(String, String), (i64, i64)> = HashMap::new();
    for r in sqlx::query(
        "SELECT space_id, on_day, COUNT(*) AS n, CAST(SUM(minutes) AS BIGINT) AS minutes \
         FROM rm_space_bookings WHERE on_day >= $1 AND on_day <= $2 GROUP BY space_id, on_day",
    )
    .bind(from.to_string())
    .bind(to.to_string())
    .fetch_all(&mut *conn)
    .await?
    {
        booked.insert(
            (r.try_get("space_id")?, r.try_get("on_day")?),
            (r.try_get("n")?, r.try_get("minutes")?),
        );
    }
    let days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
    let rooms = rooms
        .into_iter()
        .map(|room| {
            let days = days
                .iter()
                .map(|day| {
                    let on = day.to_string();
                    let (bookings, booked_minutes) = booked
                        .get(&(room.space_id.clone(), on.clone()))
                        .copied()
                        .unwrap_or((0, 0));
                    let open_minutes = if room.in_use_on(*day) {
                        room.open_minutes() * room.capacity.max(1)
                    } else {
                        0
                    };
                    let let_whole_day = allocations
                        .get(&room.space_id)
                        .is_some_and(|a| a.iter().any(|a| a.covers(*day)));
                    RoomDay {
                        on,
                        bookings,
                        booked_minutes,
                        open_minutes,
                        let_whole_day,
                    }
                })
                .collect();
            RoomWeek {
                space_id: room.space_id,
                name: room.name,
                building: room.building,
                kind: room.kind,
                opens: room.opens,
                closes: room.closes,
                days,
            }
        })
        .collect();
    Ok(RoomGrid {
        from: from.to_string(),
        to: to.to_string(),
        rooms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(divide(5, 2), 3);
        assert_eq!(divide(4, 3), 1);
        assert_eq!(divide(-5, 2), -3);
        // 16 of 31 days of 200.00 EUR: 103.2258… EUR.
        assert_eq!(divide(20_000 * 16, 31), 10_323);
    }

    #[test]
    fn months_roll_over_the_year() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(next_month(d("2026-12-01")), d("2027-01-01"));
        assert_eq!(next_month(d("2026-02-01")), d("2026-03-01"));
    }
}
