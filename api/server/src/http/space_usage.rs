//! `/space-usage`: the space-usage read model (viewers and up): spaces with their occupants and
//! allocation history, utilisation over a period, vacancies, the rent roll, room bookings.

use super::heavy::{self, LookBack};
use super::prelude::*;
use chrono::{Datelike, Duration, NaiveDate};
use incubator_domain::space::{Building, SpaceKind};
use incubator_domain::values::Day;
use incubator_domain::values::Moment;
use incubator_domain::values::YearMonth;
use incubator_projections::models::Model;
use incubator_projections::space_usage::{
    self, BookingRow, Filter, RentMonth, RoomGrid, SpaceRow, SpaceUsage, Utilisation, Vacancies,
    Vacancy,
};

use super::common::{self, today};

/// The longest period a utilisation or a booking list covers: ten years.
const MAX_DAYS: i64 = 3_660;
/// The most months a rent roll covers.
const MAX_MONTHS: i64 = 120;

pub fn router() -> OpenApiRouter<AppState> {
    common::router![spaces, utilisation, vacancies, rent_roll, bookings, week]
}

/// The most days a week view covers.
const MAX_GRID_DAYS: i64 = 31;

fn filter(building: Option<Building>, kind: Option<SpaceKind>) -> Filter {
    Filter { building, kind }
}

/// `[from, to]`, defaulting to `default`, at most `MAX_DAYS` long.
fn period(
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    default: (NaiveDate, NaiveDate),
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let (from, to) = (from.unwrap_or(default.0), to.unwrap_or(default.1));
    if to < from {
        return Err(ApiError::invalid("to", "the period ends before it starts"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "to",
            format!("a period covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((from, to))
}

/// The current month, first to last day.
fn this_month() -> (NaiveDate, NaiveDate) {
    let month = YearMonth::of(today());
    let first = month.first_day();
    let next = first + Duration::days(32);
    let next = YearMonth::of(next).first_day();
    (first, next - Duration::days(1))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct SpacesQuery {
    building: Option<Building>,
    kind: Option<SpaceKind>,
    /// The day whose occupants to show (hub time); today by default.
    on: Option<Day>,
    /// Spaces per page, 1 to 500 (default 50).
    limit: Option<u32>,
    /// The previous page's `next`.
    after: Option<Uuid>,
}

/// One page of spaces.
#[derive(Debug, Serialize, ToSchema)]
pub struct SpacesPage {
    /// The day the occupants are those of.
    pub on: String,
    #[serde(flatten)]
    pub page: Page<SpaceRow>,
}

common::read!(
    /// `GET /space-usage/spaces`: per space, its terms, its occupants on a day and its allocation
    /// history.
    spaces, "/space-usage/spaces", "space usage", "viewer",
    "Spaces: terms, occupants on a day, allocation history",
    "One page" => SpacesPage,
    |state, q: ModelQuery<SpaceUsage, SpacesQuery>, at| {
        let limit = page_limit(q.limit)?;
        let on = q.on.map_or_else(today, Day::get);
        let after = q.after.map(|a| a.to_string());
        let items = space_usage::spaces(
            &state.store.read,
            filter(q.building, q.kind),
            on,
            after.as_deref(),
            i64::from(limit) + 1,
        )
        .await?;
        Ok(Json(SpacesPage {
            on: on.to_string(),
            page: Page::of(items, limit, |s| s.space_id.clone(), at),
        }))
    }
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct UtilisationQuery {
    building: Option<Building>,
    kind: Option<SpaceKind>,
    /// The first day of the period; the first of this month by default.
    from: Option<Day>,
    /// The last day of the period (at most 3,660 days after `from`); the last of this month by
    /// default.
    to: Option<Day>,
    /// The figures as the model stood at this instant (RFC 3339; a later one is now),
    /// replayed from the log (slower: the whole log up to then is read; auditors and officers
    /// only, a few at a time, 503 `busy` past that).
    #[param(inline)]
    as_of: Option<Moment>,
}

/// Utilisation and the position it reflects.
#[derive(Debug, Serialize, ToSchema)]
pub struct UtilisationView {
    #[serde(flatten)]
    pub utilisation: Utilisation,
    pub position: i64,
}

common::read!(
    /// `GET /space-usage/utilisation`: occupied m²·days over available m²·days for lettable space,
    /// booked hours over open hours for rooms, per building and in total, over a period.
    utilisation, "/space-usage/utilisation", "space usage", "viewer",
    "Utilisation over a period, per building",
    "The figures" => UtilisationView,
    |state, q: ModelQuery<SpaceUsage, UtilisationQuery>, at, caller: Caller| {
        let (from, to) = period(q.from.map(Day::get), q.to.map(Day::get), this_month())?;
        let f = filter(q.building, q.kind);
        let utilisation = match q.as_of {
            None => {
                let mut conn = state.store.read.pool.acquire().await?;
                space_usage::utilisation(&mut conn, f, from, to).await?
            }
            Some(t) => {
                heavy::may_look_back(&caller.actor)?;
                let back = LookBack::of(t);
                let key = format!(
                    "utilisation {:?} {:?} {from} {to} {}",
                    q.building,
                    q.kind,
                    common::log_instant(back.until)
                );
                let replay = state.clone();
                state
                    .heavy
                    .answer(key, back, async move {
                        let model = Model::SpaceUsage(SpaceUsage);
                        let mut conn = common::model_as_of(&replay, model, back.until).await?;
                        Ok(space_usage::utilisation(&mut conn, f, from, to).await?)
                    })
                    .await?
            }
        };
        Ok(Json(UtilisationView {
            utilisation,
            position: at,
        }))
    }
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct VacanciesQuery {
    building: Option<Building>,
    kind: Option<SpaceKind>,
    /// The day to look from (hub time); today by default.
    on: Option<Day>,
    /// How many days ahead to look for upcoming vacancies, 0 to 3,660 (default 90).
    within: Option<u32>,
    limit: Option<u32>,
    after: Option<Uuid>,
}

/// Vacancies, one page of them, and the position they reflect.
#[derive(Debug, Serialize, ToSchema)]
pub struct VacanciesPage {
    #[serde(flatten)]
    pub counts: Vacancies,
    /// Spaces with room on `on` or by `until`, by id.
    #[serde(flatten)]
    pub page: Page<Vacancy>,
}

common::read!(
    /// `GET /space-usage/vacancies`: lettable spaces with room now, and those that will have room
    /// within a horizon (the day a place frees up).
    vacancies, "/space-usage/vacancies", "space usage", "viewer", "Vacancies now and upcoming",
    "One page" => VacanciesPage,
    |state, q: ModelQuery<SpaceUsage, VacanciesQuery>, at| {
        let limit = page_limit(q.limit)?;
        let within = i64::from(q.within.unwrap_or(90));
        if within > MAX_DAYS {
            return Err(ApiError::invalid(
                "within",
                format!("look at most {MAX_DAYS} days ahead"),
            ));
        }
        let on = q.on.map_or_else(today, Day::get);
        let until = on + Duration::days(within);
        let after = q.after.map(|a| a.to_string());
        let mut conn = state.store.read.pool.acquire().await?;
        let (counts, items) = space_usage::vacancies(
            &mut conn,
            filter(q.building, q.kind),
            on,
            until,
            after.as_deref(),
            limit as usize + 1,
        )
        .await?;
        Ok(Json(VacanciesPage {
            counts,
            page: Page::of(items, limit, |s| s.space_id.clone(), at),
        }))
    }
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct RentRollQuery {
    building: Option<Building>,
    kind: Option<SpaceKind>,
    /// The first month, `YYYY-MM`; January of this year by default.
    #[param(value_type = Option<String>, example = "2026-01")]
    from: Option<YearMonth>,
    /// The last month, `YYYY-MM` (at most 120 months from `from`); December of this year by
    /// default.
    #[param(value_type = Option<String>, example = "2026-12")]
    to: Option<YearMonth>,
}

/// The rent roll and the position it reflects.
#[derive(Debug, Serialize, ToSchema)]
pub struct RentRoll {
    /// The currency of every amount.
    pub currency: &'static str,
    pub months: Vec<RentMonth>,
    /// Rent over all the months, cents.
    pub total_cents: i64,
    pub position: i64,
}

common::read!(
    /// `GET /space-usage/rent-roll`: rent due per month (prorated by day, on each allocation's
    /// terms), per building and per kind of occupant.
    rent_roll, "/space-usage/rent-roll", "space usage", "viewer", "The rent roll per month",
    "The months" => RentRoll,
    |state, q: ModelQuery<SpaceUsage, RentRollQuery>, at| {
        let january = NaiveDate::from_ymd_opt(today().year(), 1, 1).map(YearMonth::of);
        let from = match (q.from, january) {
            (Some(from), _) | (None, Some(from)) => from,
            (None, None) => YearMonth::of(today()),
        };
        let to = match q.to {
            Some(to) => to,
            None => YearMonth::of(from.first_day() + Duration::days(31 * 11)),
        };
        let months = from.months_until(to);
        if months < 0 {
            return Err(ApiError::invalid("to", "the period ends before it starts"));
        }
        if months >= MAX_MONTHS {
            return Err(ApiError::invalid(
                "to",
                format!("a rent roll covers at most {MAX_MONTHS} months"),
            ));
        }
        let mut conn = state.store.read.pool.acquire().await?;
        let months = space_usage::rent_roll(
            &mut conn,
            filter(q.building, q.kind),
            from.first_day(),
            to.first_day(),
        )
        .await
        .map_err(too_large)?;
        Ok(Json(RentRoll {
            currency: "EUR",
            total_cents: space_usage::rent_total(&months).map_err(too_large)?,
            months,
            position: at,
        }))
    }
);

/// A rent roll past 64 bits of cents is refused, never wrapped (422: the spaces' terms, as
/// typed, are what is wrong).
fn too_large(e: space_usage::RentRollError) -> ApiError {
    match e {
        space_usage::RentRollError::Db(e) => e.into(),
        e @ space_usage::RentRollError::TooLarge => ApiError::Invalid {
            field: None,
            detail: e.to_string(),
        },
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct BookingsQuery {
    building: Option<Building>,
    kind: Option<SpaceKind>,
    /// Only this space.
    space: Option<Uuid>,
    /// The first hub-time day; today by default.
    from: Option<Day>,
    /// The last hub-time day; six days after `from` by default (a week).
    to: Option<Day>,
    limit: Option<u32>,
    /// The previous page's `next` (`starts_at/booking_id`).
    after: Option<String>,
}

common::read!(
    /// `GET /space-usage/bookings`: hourly bookings of rooms over some days, in start order (a week
    /// view).
    bookings, "/space-usage/bookings", "space usage", "viewer",
    "Room bookings over some days, in start order",
    "One page" => Page<BookingRow>,
    |state, q: ModelQuery<SpaceUsage, BookingsQuery>, at| {
        let limit = page_limit(q.limit)?;
        let from = q.from.map_or_else(today, Day::get);
        let (from, to) = period(
            Some(from),
            q.to.map(Day::get),
            (from, from + Duration::days(6)),
        )?;
        let after = match q.after.as_deref() {
            None => None,
            Some(raw) => Some(
                raw.split_once('/')
                    .filter(|(start, id)| {
                        chrono::DateTime::parse_from_rfc3339(start).is_ok()
                            && Uuid::parse_str(id).is_ok()
                    })
                    .ok_or_else(|| {
                        ApiError::invalid("after", "not a cursor this list gave (`starts_at/id`)")
                    })?,
            ),
        };
        let space = q.space.map(|s| s.to_string());
        let items = space_usage::bookings(
            &state.store.read,
            filter(q.building, q.kind),
            space.as_deref(),
            from,
            to,
            after,
            i64::from(limit) + 1,
        )
        .await?;
        Ok(Json(Page::of(items, limit, BookingRow::cursor, at)))
    }
);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct WeekQuery {
    building: Option<Building>,
    kind: Option<SpaceKind>,
    /// The first hub-time day; the Monday of the current week by default.
    from: Option<Day>,
    /// The last hub-time day; six days after `from` by default (at most 31 days in all).
    to: Option<Day>,
}

/// A week view of the rooms, and the position it reflects.
#[derive(Debug, Serialize, ToSchema)]
pub struct RoomGridView {
    #[serde(flatten)]
    pub grid: RoomGrid,
    pub position: i64,
}

common::read!(
    /// `GET /space-usage/week`: the rooms booked by the hour, day by day (bookings, booked minutes
    /// and open minutes per room and day): the grid of a week view. The bookings themselves are
    /// `GET /space-usage/bookings?space=&from=&to=`.
    week, "/space-usage/week", "space usage", "viewer",
    "Room bookings per room and day over a week",
    "The grid" => RoomGridView,
    |state, q: ModelQuery<SpaceUsage, WeekQuery>, at| {
        let today = today();
        let from = q.from.map(Day::get).unwrap_or_else(|| {
            today - Duration::days(i64::from(today.weekday().num_days_from_monday()))
        });
        let (from, to) = period(
            Some(from),
            q.to.map(Day::get),
            (from, from + Duration::days(6)),
        )?;
        if (to - from).num_days() >= MAX_GRID_DAYS {
            return Err(ApiError::invalid(
                "to",
                format!("a week view covers at most {MAX_GRID_DAYS} days"),
            ));
        }
        let grid =
            space_usage::room_grid(&state.store.read, filter(q.building, q.kind), from, to).await?;
        Ok(Json(RoomGridView { grid, position: at }))
    }
);
