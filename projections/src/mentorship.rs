//! The mentorship read model: per mentor, the startups and residents they mentor, sessions and
//! hours (per month, per year), current load; per startup or resident, mentors and hours; who
//! in the programme has no mentor.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use incubator_domain::mentor::{Mentor, MentorEvent, MentorStatus};
use incubator_domain::residency::{Residency, ResidencyEvent, ResidencyStage};
use incubator_domain::startup::{Stage, Startup, StartupEvent};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::db::ReadDb;
use crate::log::LoggedEvent;
use crate::projector::{decode, Applied, Conn, Projection};
use crate::rebuild::Rebuildable;

/// The mentorship projection.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mentorship;

const STARTUP: &str = "startup";
const RESIDENT: &str = "residency";

fn startup_in_programme(stage: Stage) -> bool {
    matches!(
        stage,
        Stage::PreIncubation | Stage::Incubation | Stage::Acceleration
    )
}

fn resident_in_programme(stage: ResidencyStage) -> bool {
    matches!(
        stage,
        ResidencyStage::Accepted | ResidencyStage::Contracted | ResidencyStage::InResidence
    )
}

/// Records a mentee's stage; a stage that `closes` the record (it left the programme for good)
/// ends its mentors' assignments, so no mentor's load counts it any more.
async fn set_stage(
    conn: &mut AnyConnection,
    kind: &str,
    id: &str,
    stage: &str,
    in_programme: bool,
    closes: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE rm_mentorship_mentees SET stage = $1, in_programme = $2 \
         WHERE kind = $3 AND mentee_id = $4",
    )
    .bind(stage)
    .bind(i64::from(in_programme))
    .bind(kind)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if closes {
        sqlx::query("DELETE FROM rm_mentorship_assignments WHERE kind = $1 AND mentee_id = $2")
            .bind(kind)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

async fn release(
    conn: &mut AnyConnection,
    mentor: &str,
    kind: &str,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM rm_mentorship_assignments \
         WHERE mentor_id = $1 AND kind = $2 AND mentee_id = $3",
    )
    .bind(mentor)
    .bind(kind)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

async fn assign(
    conn: &mut AnyConnection,
    mentor: &str,
    kind: &str,
    id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rm_mentorship_assignments (mentor_id, kind, mentee_id) VALUES ($1, $2, $3) \
         ON CONFLICT (mentor_id, kind, mentee_id) DO NOTHING",
    )
    .bind(mentor)
    .bind(kind)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

async fn session(
    conn: &mut AnyConnection,
    session_id: &str,
    mentor: &str,
    kind: &str,
    id: &str,
    held_on: NaiveDate,
    minutes: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO rm_mentorship_sessions (session_id, mentor_id, kind, mentee_id, held_on, minutes) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(session_id)
    .bind(mentor)
    .bind(kind)
    .bind(id)
    .bind(held_on.to_string())
    .bind(i64::from(minutes))
    .execute(conn)
    .await?;
    Ok(())
}

impl Projection for Mentorship {
    fn name(&self) -> &'static str {
        <Self as crate::projector::Named>::NAME
    }

    async fn apply(&self, conn: &mut Conn, _db: &ReadDb, event: &LoggedEvent) -> Applied {
        let id = event.aggregate_id.as_str();
        match event.aggregate_type.as_str() {
            Mentor::TYPE => match decode::<MentorEvent>(event)? {
                MentorEvent::MentorRegistered {
                    person_id,
                    registered_on,
                    ..
                } => {
                    sqlx::query(
                        "INSERT INTO rm_mentorship_mentors (mentor_id, person_id, status, registered_on) \
                         VALUES ($1, $2, 'active', $3)",
                    )
                    .bind(id)
                    .bind(person_id.0.to_string())
                    .bind(registered_on.to_string())
                    .execute(&mut *conn)
                    .await?;
                }
                e @ (MentorEvent::MentorRetired { .. } | MentorEvent::MentorReactivated { .. }) => {
                    let status = if matches!(e, MentorEvent::MentorRetired { .. }) {
                        MentorStatus::Retired
                    } else {
                        MentorStatus::Active
                    };
                    sqlx::query(
                        "UPDATE rm_mentorship_mentors SET status = $1 WHERE mentor_id = $2",
                    )
                    .bind(if status == MentorStatus::Retired {
                        "retired"
                    } else {
                        "active"
                    })
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                }
                MentorEvent::ExpertiseChanged { .. } => {}
            },
            Startup::TYPE => {
                use StartupEvent as E;
                match decode::<StartupEvent>(event)? {
                    E::Applied { name, .. } => {
                        sqlx::query(
                            "INSERT INTO rm_mentorship_mentees (kind, mentee_id, name, stage, in_programme) \
                             VALUES ($1, $2, $3, $4, 0)",
                        )
                        .bind(STARTUP)
                        .bind(id)
                        .bind(name.as_str())
                        .bind(Stage::Application.as_str())
                        .execute(&mut *conn)
                        .await?;
                    }
                    E::StageAdvanced { to, .. } => {
                        let closes = !to.is_active();
                        set_stage(
                            conn,
                            STARTUP,
                            id,
                            to.as_str(),
                            startup_in_programme(to),
                            closes,
                        )
                        .await?
                    }
                    E::Rejected { .. } => {
                        set_stage(conn, STARTUP, id, "rejected", false, true).await?
                    }
                    E::Withdrawn { .. } => {
                        set_stage(conn, STARTUP, id, "withdrawn", false, true).await?
                    }
                    E::Exited { .. } => set_stage(conn, STARTUP, id, "exited", false, true).await?,
                    E::MentorAssigned { mentor_id } => {
                        assign(conn, &mentor_id.0.to_string(), STARTUP, id).await?
                    }
                    E::MentorReleased { mentor_id, .. } => {
                        release(conn, &mentor_id.0.to_string(), STARTUP, id).await?
                    }
                    E::Voided { .. } => {
                        // Entered by mistake: no mentee, no assignment, no hours.
                        for table in [
                            "rm_mentorship_sessions",
                            "rm_mentorship_assignments",
                            "rm_mentorship_mentees",
                        ] {
                            sqlx::query(&format!(
                                "DELETE FROM {table} WHERE kind = $1 AND mentee_id = $2"
                            ))
                            .bind(STARTUP)
                            .bind(id)
                            .execute(&mut *conn)
                            .await?;
                        }
                    }
                    E::SessionLogged {
                        session_id,
                        mentor_id,
                        held_on,
                        minutes,
                        ..
                    } => {
                        session(
                            conn,
                            &session_id.0.to_string(),
                            &mentor_id.0.to_string(),
                            STARTUP,
                            id,
                            held_on,
                            minutes.get(),
                        )
                        .await?
                    }
                    _ => {}
                }
            }
            Residency::TYPE => {
                use ResidencyEvent as E;
                let stage = match decode::<ResidencyEvent>(event)? {
                    E::ResidencyApplied {
                        discipline, call, ..
                    } => {
                        sqlx::query(
                            "INSERT INTO rm_mentorship_mentees (kind, mentee_id, name, stage, in_programme) \
                             VALUES ($1, $2, $3, 'applied', 0)",
                        )
                        .bind(RESIDENT)
                        .bind(id)
                        .bind(format!("{} ({})", discipline.as_str(), call.as_str()))
                        .execute(&mut *conn)
                        .await?;
                        None
                    }
                    E::ResidencyAccepted => Some(ResidencyStage::Accepted),
                    E::ResidencyDeclined { .. } => Some(ResidencyStage::Declined),
                    E::ResidencyWaitListed { .. } => Some(ResidencyStage::WaitingList),
                    E::AgreementSigned { .. } => Some(ResidencyStage::Contracted),
                    E::ArtistArrived { .. } => Some(ResidencyStage::InResidence),
                    E::ResidencyCompleted { .. } => Some(ResidencyStage::Completed),
                    E::ResidencyCancelled { .. } => Some(ResidencyStage::Cancelled),
                    E::ResidentMentorAssigned { mentor_id } => {
                        assign(conn, &mentor_id.0.to_string(), RESIDENT, id).await?;
                        None
                    }
                    E::ResidentMentorReleased { mentor_id, .. } => {
                        release(conn, &mentor_id.0.to_string(), RESIDENT, id).await?;
                        None
                    }
                    E::ResidentSessionLogged {
                        session_id,
                        mentor_id,
                        held_on,
                        minutes,
                    } => {
                        session(
                            conn,
                            &session_id.0.to_string(),
                            &mentor_id.0.to_string(),
                            RESIDENT,
                            id,
                            held_on,
                            minutes.get(),
                        )
                        .await?;
                        None
                    }
                    E::ResidencyExtended { .. } | E::PublicMomentRecorded { .. } => None,
                };
                if let Some(stage) = stage {
                    set_stage(
                        conn,
                        RESIDENT,
                        id,
                        &stage.to_string(),
                        resident_in_programme(stage),
                        !stage.is_open(),
                    )
                    .await?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Sessions are written once and nothing else touches them: they are held and written
    /// together after the batch's other events (applied in order), one statement for them all.
    async fn apply_batch(&self, conn: &mut Conn, db: &ReadDb, events: &[LoggedEvent]) -> Applied {
        use crate::db::JsonColumn::{Int, Text};
        let mut sessions: Vec<serde_json::Value> = Vec::new();
        for event in events {
            let held = match (event.aggregate_type.as_str(), event.event_type.as_str()) {
                (Startup::TYPE, "SessionLogged") => match decode::<StartupEvent>(event)? {
                    StartupEvent::SessionLogged {
                        session_id,
                        mentor_id,
                        held_on,
                        minutes,
                        ..
                    } => Some((session_id.0, mentor_id.0, STARTUP, held_on, minutes.get())),
                    _ => None,
                },
                (Residency::TYPE, "ResidentSessionLogged") => {
                    match decode::<ResidencyEvent>(event)? {
                        ResidencyEvent::ResidentSessionLogged {
                            session_id,
                            mentor_id,
                            held_on,
                            minutes,
                        } => Some((session_id.0, mentor_id.0, RESIDENT, held_on, minutes.get())),
                        _ => None,
                    }
                }
                _ => None,
            };
            match held {
                Some((session, mentor, kind, held_on, minutes)) => {
                    sessions.push(serde_json::json!([
                        session.to_string(),
                        mentor.to_string(),
                        kind,
                        event.aggregate_id,
                        held_on.to_string(),
                        i64::from(minutes)
                    ]));
                }
                None => {
                    if event.event_type == "Voided" && event.aggregate_type == Startup::TYPE {
                        // Its sessions held from earlier in this batch go with it.
                        sessions.retain(|s| s[2] != STARTUP || s[3] != event.aggregate_id);
                    }
                    self.apply(conn, db, event).await?
                }
            }
        }
        crate::db::insert_json_rows(
            conn,
            db.dialect,
            "rm_mentorship_sessions",
            &[
                ("session_id", Text),
                ("mentor_id", Text),
                ("kind", Text),
                ("mentee_id", Text),
                ("held_on", Text),
                ("minutes", Int),
            ],
            sessions,
        )
        .await?;
        Ok(())
    }
}

impl Rebuildable for Mentorship {
    fn tables(&self) -> &'static [&'static str] {
        &[
            "rm_mentorship_sessions",
            "rm_mentorship_assignments",
            "rm_mentorship_mentees",
            "rm_mentorship_mentors",
        ]
    }
}

/// A period of days, both ends inclusive, either open.
#[derive(Debug, Clone, Copy, Default)]
pub struct Period {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    fn bounds(&self) -> (String, String) {
        (
            self.from
                .map_or_else(|| "0000-01-01".to_owned(), |d| d.to_string()),
            self.to
                .map_or_else(|| "9999-12-31".to_owned(), |d| d.to_string()),
        )
    }
}

/// Sessions and their length.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Time {
    pub sessions: i64,
    pub minutes: i64,
    /// `minutes` / 60, to two decimals.
    pub hours: f64,
}

impl Time {
    fn add(&mut self, minutes: i64) {
        self.sessions += 1;
        self.minutes += minutes;
        self.hours = (self.minutes as f64 / 60.0 * 100.0).round() / 100.0;
    }
}

/// A startup or resident, as a mentor's list shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MenteeRef {
    /// `startup` or `residency` (its id).
    pub kind: String,
    pub id: String,
    pub name: String,
}

/// One mentor's load and time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MentorLoad {
    pub mentor_id: String,
    pub person_id: String,
    /// The mentor's name, from the people registry at the moment of reading, for the roles
    /// that may see it (auditors and officers); null for viewers, or once erased.
    pub name: Option<String>,
    pub status: String,
    /// Startups and residents assigned now.
    pub load: i64,
    pub mentees: Vec<MenteeRef>,
    /// Sessions in the period.
    pub total: Time,
    /// Per month (`YYYY-MM`) in the period, months without sessions left out.
    pub per_month: BTreeMap<String, Time>,
    /// Per year in the period.
    pub per_year: BTreeMap<String, Time>,
}

/// Mentors by id after `after`, with their time in `period`.
pub async fn mentors(
    db: &ReadDb,
    mentor: Option<&str>,
    period: Period,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<MentorLoad>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT mentor_id, person_id, status FROM rm_mentorship_mentors \
         WHERE mentor_id > $1 AND ($2 = '' OR mentor_id = $2) ORDER BY mentor_id LIMIT $3",
    )
    .bind(after.unwrap_or(""))
    .bind(mentor.unwrap_or(""))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let (from, to) = period.bounds();
    // One query each for the page's assignments and sessions: the page is a range of ids.
    let first = after.unwrap_or("");
    let last: String = match rows.last() {
        Some(r) => r.try_get("mentor_id")?,
        None => return Ok(Vec::new()),
    };
    let mut mentees_of: BTreeMap<String, Vec<MenteeRef>> = BTreeMap::new();
    for m in sqlx::query(
        "SELECT a.mentor_id, a.kind, a.mentee_id, m.name FROM rm_mentorship_assignments a \
         JOIN rm_mentorship_mentees m ON m.kind = a.kind AND m.mentee_id = a.mentee_id \
         WHERE a.mentor_id > $1 AND a.mentor_id <= $2 ORDER BY a.mentor_id, a.kind, a.mentee_id",
    )
    .bind(first)
    .bind(&last)
    .fetch_all(&db.pool)
    .await?
    {
        mentees_of
            .entry(m.try_get("mentor_id")?)
            .or_default()
            .push(MenteeRef {
                kind: m.try_get("kind")?,
                id: m.try_get("mentee_id")?,
                name: m.try_get("name")?,
            });
    }
    type Times = (Time, BTreeMap<String, Time>, BTreeMap<String, Time>);
    let mut time_of: BTreeMap<String, Times> = BTreeMap::new();
    for s in sqlx::query(
        "SELECT mentor_id, held_on, minutes FROM rm_mentorship_sessions \
         WHERE mentor_id > $1 AND mentor_id <= $2 AND held_on >= $3 AND held_on <= $4",
    )
    .bind(first)
    .bind(&last)
    .bind(&from)
    .bind(&to)
    .fetch_all(&db.pool)
    .await?
    {
        let held_on: String = s.try_get("held_on")?;
        let minutes: i64 = s.try_get("minutes")?;
        let (total, per_month, per_year) = time_of.entry(s.try_get("mentor_id")?).or_default();
        total.add(minutes);
        per_month
            .entry(held_on.get(..7).unwrap_or("").to_owned())
            .or_default()
            .add(minutes);
        per_year
            .entry(held_on.get(..4).unwrap_or("").to_owned())
            .or_default()
            .add(minutes);
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mentor_id: String = r.try_get("mentor_id")?;
        let mentees = mentees_of.remove(&mentor_id).unwrap_or_default();
        let (total, per_month, per_year) = time_of.remove(&mentor_id).unwrap_or_default();
        out.push(MentorLoad {
            load: mentees.len() as i64,
            mentor_id,
            person_id: r.try_get("person_id")?,
            name: None,
            status: r.try_get("status")?,
            mentees,
            total,
            per_month,
            per_year,
        });
    }
    Ok(out)
}

/// A startup or resident with their mentors and time.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Mentee {
    pub kind: String,
    pub id: String,
    pub name: String,
    pub stage: String,
    /// In the programme (a startup from pre-incubation to acceleration, a resident from
    /// acceptance to the end of the stay): someone who should have a mentor.
    pub in_programme: bool,
    pub mentors: Vec<String>,
    /// Sessions in the period.
    pub total: Time,
}

/// Startups and residents by (kind, id) after `after`; `without_mentor` keeps those in the
/// programme who have none.
pub async fn mentees(
    db: &ReadDb,
    kind: Option<&str>,
    without_mentor: bool,
    period: Period,
    after: Option<(&str, &str)>,
    limit: i64,
) -> Result<Vec<Mentee>, sqlx::Error> {
    let (after_kind, after_id) = after.unwrap_or(("", ""));
    let rows = sqlx::query(
        "SELECT kind, mentee_id, name, stage, in_programme FROM rm_mentorship_mentees m \
         WHERE (kind > $1 OR (kind = $1 AND mentee_id > $2)) AND ($3 = '' OR kind = $3) \
           AND ($4 = 0 OR (in_programme = 1 AND NOT EXISTS (SELECT 1 FROM rm_mentorship_assignments a \
                WHERE a.kind = m.kind AND a.mentee_id = m.mentee_id))) \
         ORDER BY kind, mentee_id LIMIT $5",
    )
    .bind(after_kind)
    .bind(after_id)
    .bind(kind.unwrap_or(""))
    .bind(i64::from(without_mentor))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    let (from, to) = period.bounds();
    // One query each for the page's assignments and sessions: the page is a range of keys.
    let (last_kind, last_id): (String, String) = match rows.last() {
        Some(r) => (r.try_get("kind")?, r.try_get("mentee_id")?),
        None => return Ok(Vec::new()),
    };
    let in_page = "(kind > $1 OR (kind = $1 AND mentee_id > $2)) \
                   AND (kind < $3 OR (kind = $3 AND mentee_id <= $4))";
    let mut mentors_of: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for m in sqlx::query(&format!(
        "SELECT kind, mentee_id, mentor_id FROM rm_mentorship_assignments WHERE {in_page} \
         ORDER BY kind, mentee_id, mentor_id"
    ))
    .bind(after_kind)
    .bind(after_id)
    .bind(&last_kind)
    .bind(&last_id)
    .fetch_all(&db.pool)
    .await?
    {
        mentors_of
            .entry((m.try_get("kind")?, m.try_get("mentee_id")?))
            .or_default()
            .push(m.try_get("mentor_id")?);
    }
    let mut time_of: BTreeMap<(String, String), Time> = BTreeMap::new();
    for t in sqlx::query(&format!(
        "SELECT kind, mentee_id, minutes FROM rm_mentorship_sessions WHERE {in_page} \
         AND held_on >= $5 AND held_on <= $6"
    ))
    .bind(after_kind)
    .bind(after_id)
    .bind(&last_kind)
    .bind(&last_id)
    .bind(&from)
    .bind(&to)
    .fetch_all(&db.pool)
    .await?
    {
        time_of
            .entry((t.try_get("kind")?, t.try_get("mentee_id")?))
            .or_default()
            .add(t.try_get("minutes")?);
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let kind: String = r.try_get("kind")?;
        let id: String = r.try_get("mentee_id")?;
        let key = (kind.clone(), id.clone());
        let mentors = mentors_of.remove(&key).unwrap_or_default();
        let total = time_of.remove(&key).unwrap_or_default();
        let in_programme: i64 = r.try_get("in_programme")?;
        out.push(Mentee {
            name: r.try_get("name")?,
            stage: r.try_get("stage")?,
            in_programme: in_programme == 1,
            kind,
            id,
            mentors,
            total,
        });
    }
    Ok(out)
}
