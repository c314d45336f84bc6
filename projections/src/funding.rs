//! The funding-stage read model: per startup its incubation stage, funding stage, equity
//! raised and non-dilutive funding awarded and received; pipeline counts per stage.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use incubator_domain::startup::{Stage, Startup, StartupEvent};
use incubator_domain::values::hub_local;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::db::{int, text, Dialect, ReadDb};
use crate::log::LoggedEvent;
use crate::projector::{event_of, Applied, Conn, Projection};

/// The funding-stage projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Funding;

/// The funding stage of a startup that raised no equity yet.
pub const NO_ROUND: &str = "none";

/// Kinds of amounts kept per startup and currency.
const EQUITY: &str = "equity";
const AWARDED: &str = "awarded";
const RECEIVED: &str = "received";

impl Projection for Funding {
    fn name(&self) -> &'static str {
        <Self as crate::projector::Named>::NAME
    }

    async fn apply(&self, conn: &mut Conn, db: &ReadDb, event: &LoggedEvent) -> Applied {
        let Some(payload) = event_of::<Startup>(event)? else {
            return Ok(());
        };
        let id = event.aggregate_id.as_str();
        let at = event.recorded_at.as_str();
        let pos = event.position();
        use StartupEvent as E;
        match payload {
            E::Applied {
                name,
                cohort,
                applied_on,
                ..
            } => {
                const STARTUP: &str = "INSERT INTO rm_funding_startups (startup_id, name, cohort, \
                     stage, stage_entered_at, stage_entered_on, applied_on, last_position) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6, $7)";
                const OPEN: &str = "INSERT INTO rm_funding_stage_periods (startup_id, stage, \
                     entered_on) VALUES ($1, $4, $6)";
                let script = format!("{STARTUP}; {OPEN}");
                // One script on SQLite, as in `set_stage`.
                let statements: &[&str] = match db.dialect {
                    Dialect::Sqlite => &[script.as_str()],
                    Dialect::Postgres => &[STARTUP, OPEN],
                };
                for sql in statements {
                    sqlx::query(sql)
                        .bind(id)
                        .bind(name.as_str())
                        .bind(cohort.as_ref().map(|c| c.as_str()))
                        .bind(Stage::Application.as_str())
                        .bind(at)
                        .bind(applied_on.to_string())
                        .bind(pos)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            E::StageAdvanced { to, on, .. } => {
                set_stage(
                    conn,
                    db.dialect,
                    event,
                    to,
                    on.unwrap_or_else(|| recorded_on(event)),
                )
                .await?
            }
            E::Rejected { on, .. } => {
                let on = on.unwrap_or_else(|| recorded_on(event));
                set_stage(conn, db.dialect, event, Stage::Rejected, on).await?
            }
            E::Withdrawn { on, .. } => {
                let on = on.unwrap_or_else(|| recorded_on(event));
                set_stage(conn, db.dialect, event, Stage::Withdrawn, on).await?
            }
            E::Exited { on, .. } => {
                let on = on.unwrap_or_else(|| recorded_on(event));
                set_stage(conn, db.dialect, event, Stage::Exited, on).await?
            }
            E::Voided { .. } => {
                // Entered by mistake: out of every figure (the log keeps it).
                for table in [
                    "rm_funding_stage_periods",
                    "rm_funding_amounts",
                    "rm_funding_startups",
                ] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE startup_id = $1"))
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
            }
            E::CohortAssigned { cohort } => {
                sqlx::query(
                    "UPDATE rm_funding_startups SET cohort = $1, last_position = $2 \
                     WHERE startup_id = $3",
                )
                .bind(cohort.as_str())
                .bind(pos)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            }
            E::EquityRoundRecorded { round, amount, .. } => {
                let rank = round as i64 + 1;
                sqlx::query(
                    "UPDATE rm_funding_startups SET \
                     funding_stage = CASE WHEN funding_rank < $1 THEN $2 ELSE funding_stage END, \
                     funding_rank = CASE WHEN funding_rank < $1 THEN $1 ELSE funding_rank END, \
                     last_position = $3 WHERE startup_id = $4",
                )
                .bind(rank)
                .bind(round.as_str())
                .bind(pos)
                .bind(id)
                .execute(&mut *conn)
                .await?;
                add(conn, id, EQUITY, amount.currency.as_str(), amount.cents).await?;
            }
            E::FundingAwarded { amount, .. } => {
                add(conn, id, AWARDED, amount.currency.as_str(), amount.cents).await?;
            }
            E::TranchePaid { amount, .. } => {
                add(conn, id, RECEIVED, amount.currency.as_str(), amount.cents).await?;
            }
            E::MentorAssigned { .. }
            | E::MentorReleased { .. }
            | E::SessionLogged { .. }
            | E::MilestoneSet { .. }
            | E::MilestoneAchieved { .. }
            | E::KpisRecorded { .. } => {}
        }
        Ok(())
    }
}

/// The hub-time day an event was recorded: the day of a stage change recorded before stage
/// changes carried their own.
fn recorded_on(event: &LoggedEvent) -> NaiveDate {
    chrono::DateTime::parse_from_rfc3339(&event.recorded_at)
        .map(|t| hub_local(t.to_utc()).date())
        .unwrap_or_default()
}

/// The startup enters `stage` on `on`: the stage it was in ends that day.
/// The startup's new stage, and its stage periods: the open one closed, a new one opened.
/// On SQLite the three statements go as one script, one hand-over to sqlx's worker thread
/// instead of three (its driver binds `$N` across a script's statements); PostgreSQL's
/// extended protocol takes one statement at a time.
async fn set_stage(
    conn: &mut AnyConnection,
    dialect: Dialect,
    event: &LoggedEvent,
    stage: Stage,
    on: NaiveDate,
) -> Result<(), sqlx::Error> {
    const STARTUP: &str = "UPDATE rm_funding_startups SET stage = $1, stage_entered_at = $2, \
         stage_entered_on = $3, last_position = $4 WHERE startup_id = $5";
    const CLOSE: &str =
        "UPDATE rm_funding_stage_periods SET left_on = $3 WHERE startup_id = $5 AND left_on IS NULL";
    const OPEN: &str =
        "INSERT INTO rm_funding_stage_periods (startup_id, stage, entered_on) VALUES ($5, $1, $3)";
    let on = on.to_string();
    let bind = |sql| {
        sqlx::query(sql)
            .bind(stage.as_str())
            .bind(event.recorded_at.as_str())
            .bind(on.clone())
            .bind(event.position())
            .bind(event.aggregate_id.as_str())
    };
    match dialect {
        Dialect::Sqlite => {
            let script = format!("{STARTUP}; {CLOSE}; {OPEN}");
            bind(script.as_str()).execute(&mut *conn).await?;
        }
        Dialect::Postgres => {
            for sql in [STARTUP, CLOSE, OPEN] {
                bind(sql).execute(&mut *conn).await?;
            }
        }
    }
    Ok(())
}

async fn add(
    conn: &mut AnyConnection,
    id: &str,
    kind: &str,
    currency: &str,
    cents: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rm_funding_amounts (startup_id, kind, currency, cents) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (startup_id, kind, currency) \
         DO UPDATE SET cents = rm_funding_amounts.cents + excluded.cents",
    )
    .bind(id)
    .bind(kind)
    .bind(currency)
    .bind(cents)
    .execute(conn)
    .await?;
    Ok(())
}

impl crate::rebuild::Rebuildable for Funding {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "rm_funding_stage_periods",
            "rm_funding_amounts",
            "rm_funding_startups",
        ]
    }
}

/// An amount in one currency.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Amount {
    pub currency: String,
    pub cents: i64,
}

/// Equity raised and non-dilutive funding awarded and received, each per currency.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub equity_raised: Vec<Amount>,
    pub funding_awarded: Vec<Amount>,
    pub funding_received: Vec<Amount>,
}

impl Totals {
    fn add(&mut self, kind: &str, currency: String, cents: i64) {
        let list = match kind {
            EQUITY => &mut self.equity_raised,
            AWARDED => &mut self.funding_awarded,
            _ => &mut self.funding_received,
        };
        list.push(Amount { currency, cents });
    }
}

/// One startup as the funding read model sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartupFunding {
    pub startup_id: String,
    pub name: String,
    pub cohort: Option<String>,
    pub stage: String,
    /// When the stage change was recorded (UTC).
    pub stage_entered_at: String,
    /// The day the startup entered its stage, as the officer dated it.
    pub stage_entered_on: Option<String>,
    pub funding_stage: String,
    pub applied_on: String,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Count of startups in one stage.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageCount {
    pub stage: String,
    pub startups: i64,
}

/// The pipeline: startups per stage (every stage listed, zeros included) and totals.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pipeline {
    pub cohort: Option<String>,
    pub startups: i64,
    pub stages: Vec<StageCount>,
    pub funding_stages: Vec<StageCount>,
    /// From each pipeline stage to the next: how many reached each.
    pub conversion: Vec<Conversion>,
    /// Days spent in each active stage.
    pub time_in_stage: Vec<StageTime>,
    #[serde(flatten)]
    pub totals: Totals,
}

/// Conversion from one pipeline stage to the next. A startup reached a stage when it entered
/// it or a later one (a stage skipped with an override counts as passed through).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversion {
    pub from: String,
    pub to: String,
    pub reached_from: i64,
    pub reached_to: i64,
    /// `reached_to / reached_from`, to four decimals; none when no startup reached `from`.
    pub rate: Option<f64>,
}

/// Days in one stage, by the days stage changes are dated.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageTime {
    pub stage: String,
    /// Startups that have left the stage, and their days in it.
    pub completed: i64,
    pub average_days: Option<f64>,
    pub median_days: Option<f64>,
    /// Startups in the stage today, and their days in it so far.
    pub current: i64,
    pub current_average_days: Option<f64>,
}

fn average(days: &[i64]) -> Option<f64> {
    (!days.is_empty())
        .then(|| (days.iter().sum::<i64>() as f64 / days.len() as f64 * 10.0).round() / 10.0)
}

fn median(days: &mut [i64]) -> Option<f64> {
    days.sort_unstable();
    let n = days.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(days[n / 2] as f64),
        _ => Some((days[n / 2 - 1] + days[n / 2]) as f64 / 2.0),
    }
}

/// Conversion and time in stage for one cohort or all, with `today` ending the current stays.
async fn stage_flow(
    conn: &mut AnyConnection,
    cohort: Option<&str>,
    today: NaiveDate,
) -> Result<(Vec<Conversion>, Vec<StageTime>), sqlx::Error> {
    let rows = sqlx::query(
        "SELECT p.startup_id, p.stage, p.entered_on, p.left_on FROM rm_funding_stage_periods p \
         JOIN rm_funding_startups s ON s.startup_id = p.startup_id \
         WHERE ($1 IS NULL OR s.cohort = $1)",
    )
    .bind(cohort)
    .fetch_all(&mut *conn)
    .await?;
    let pipeline = &Stage::ALL[..6];
    let mut furthest: BTreeMap<String, usize> = BTreeMap::new();
    let mut completed: Vec<Vec<i64>> = vec![Vec::new(); 5];
    let mut current: Vec<Vec<i64>> = vec![Vec::new(); 5];
    let day = |raw: String| {
        raw.parse::<NaiveDate>()
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))
    };
    for r in &rows {
        let Some(rank) = Stage::parse(&text(r, "stage")?).and_then(Stage::rank) else {
            continue;
        };
        let startup = text(r, "startup_id")?;
        let best = furthest.entry(startup).or_insert(rank);
        *best = (*best).max(rank);
        if rank >= 5 {
            continue;
        }
        let entered = day(text(r, "entered_on")?)?;
        match sqlx::Row::try_get::<Option<String>, _>(r, "left_on")? {
            Some(left) => completed[rank].push((day(left)? - entered).num_days().max(0)),
            None => current[rank].push((today - entered).num_days().max(0)),
        }
    }
    let reached = |rank: usize| furthest.values().filter(|r| **r >= rank).count() as i64;
    let conversion = pipeline
        .windows(2)
        .enumerate()
        .map(|(rank, pair)| {
            let (from, to) = (reached(rank), reached(rank + 1));
            Conversion {
                from: pair[0].as_str().to_owned(),
                to: pair[1].as_str().to_owned(),
                reached_from: from,
                reached_to: to,
                rate: (from > 0).then(|| (to as f64 / from as f64 * 10_000.0).round() / 10_000.0),
            }
        })
        .collect();
    let times = pipeline[..5]
        .iter()
        .enumerate()
        .map(|(rank, stage)| StageTime {
            stage: stage.as_str().to_owned(),
            completed: completed[rank].len() as i64,
            average_days: average(&completed[rank]),
            median_days: median(&mut completed[rank]),
            current: current[rank].len() as i64,
            current_average_days: average(&current[rank]),
        })
        .collect();
    Ok((conversion, times))
}

/// Every cohort named, in order.
pub async fn cohorts(db: &ReadDb) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query(
        "SELECT DISTINCT cohort FROM rm_funding_startups WHERE cohort IS NOT NULL ORDER BY cohort",
    )
    .fetch_all(&db.pool)
    .await?
    .iter()
    .map(|r| text(r, "cohort"))
    .collect()
}

/// Filters for the startup list.
#[derive(Debug, Clone, Default)]
pub struct StartupFilter {
    pub stage: Option<Stage>,
    pub cohort: Option<String>,
    /// Only startups whose id sorts after this one (the cursor).
    pub after: Option<String>,
    pub limit: i64,
}

/// The pipeline, for one cohort or all; stays in a stage not yet left count up to `today`.
pub async fn pipeline(
    conn: &mut AnyConnection,
    cohort: Option<&str>,
    today: NaiveDate,
) -> Result<Pipeline, sqlx::Error> {
    // Startups per (stage, funding stage): both tallies from one grouping.
    let rows = sqlx::query(
        "SELECT stage, funding_stage, COUNT(*) AS n FROM rm_funding_startups \
         WHERE ($1 IS NULL OR cohort = $1) GROUP BY stage, funding_stage",
    )
    .bind(cohort)
    .fetch_all(&mut *conn)
    .await?;
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_round: BTreeMap<String, i64> = BTreeMap::new();
    for r in &rows {
        let n = int(r, "n")?;
        *counts.entry(text(r, "stage")?).or_default() += n;
        *by_round.entry(text(r, "funding_stage")?).or_default() += n;
    }
    let stages: Vec<StageCount> = Stage::ALL
        .iter()
        .map(|s| StageCount {
            stage: s.as_str().to_owned(),
            startups: counts.get(s.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let funding_stages = std::iter::once(NO_ROUND)
        .chain(
            incubator_domain::startup::RoundKind::ALL
                .iter()
                .map(|k| k.as_str()),
        )
        .map(|s| StageCount {
            stage: s.to_owned(),
            startups: by_round.get(s).copied().unwrap_or(0),
        })
        .collect();
    let rows = sqlx::query(
        "SELECT a.kind, a.currency, CAST(SUM(a.cents) AS BIGINT) AS cents \
         FROM rm_funding_amounts a JOIN rm_funding_startups s ON s.startup_id = a.startup_id \
         WHERE ($1 IS NULL OR s.cohort = $1) \
         GROUP BY a.kind, a.currency ORDER BY a.kind, a.currency",
    )
    .bind(cohort)
    .fetch_all(&mut *conn)
    .await?;
    let mut totals = Totals::default();
    for r in &rows {
        totals.add(&text(r, "kind")?, text(r, "currency")?, int(r, "cents")?);
    }
    let (conversion, time_in_stage) = stage_flow(conn, cohort, today).await?;
    Ok(Pipeline {
        cohort: cohort.map(str::to_owned),
        startups: stages.iter().map(|s| s.startups).sum(),
        stages,
        funding_stages,
        conversion,
        time_in_stage,
        totals,
    })
}

/// Startups matching the filter, by id (ids are time-ordered UUIDs: oldest application first).
pub async fn startups(
    db: &ReadDb,
    filter: &StartupFilter,
) -> Result<Vec<StartupFunding>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT startup_id, name, cohort, stage, stage_entered_at, stage_entered_on, funding_stage, \
         applied_on \
         FROM rm_funding_startups \
         WHERE ($1 IS NULL OR stage = $1) AND ($2 IS NULL OR cohort = $2) \
           AND ($3 IS NULL OR startup_id > $3) \
         ORDER BY startup_id LIMIT $4",
    )
    .bind(filter.stage.map(Stage::as_str))
    .bind(filter.cohort.as_deref())
    .bind(filter.after.as_deref())
    .bind(filter.limit)
    .fetch_all(&db.pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(StartupFunding {
            startup_id: text(r, "startup_id")?,
            name: text(r, "name")?,
            cohort: sqlx::Row::try_get(r, "cohort")?,
            stage: text(r, "stage")?,
            stage_entered_at: text(r, "stage_entered_at")?,
            stage_entered_on: sqlx::Row::try_get(r, "stage_entered_on")?,
            funding_stage: text(r, "funding_stage")?,
            applied_on: text(r, "applied_on")?,
            totals: Totals::default(),
        });
    }
    if let (Some(first), Some(last)) = (out.first(), out.last()) {
        let amounts = sqlx::query(
            "SELECT startup_id, kind, currency, cents FROM rm_funding_amounts \
             WHERE startup_id >= $1 AND startup_id <= $2 ORDER BY kind, currency",
        )
        .bind(first.startup_id.as_str())
        .bind(last.startup_id.as_str())
        .fetch_all(&db.pool)
        .await?;
        let index: BTreeMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, s)| (s.startup_id.clone(), i))
            .collect();
        for r in &amounts {
            if let Some(&i) = index.get(&text(r, "startup_id")?) {
                out[i]
                    .totals
                    .add(&text(r, "kind")?, text(r, "currency")?, int(r, "cents")?);
            }
        }
    }
    Ok(out)
}
