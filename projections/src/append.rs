//! Appending to the event log: a command's events, their seals and the record's snapshot,
//! in one transaction.
//!
//! postgres-es and sqlite-es write events and snapshots in their own transaction, which leaves
//! no room for anything else; the seal was then written after the commit by the sealer, and
//! an event altered before the sealer reached it was sealed as altered. Here each event's
//! chain row ([`crate::audit`]) is computed from the event as the database returns it
//! (`RETURNING`, so the hash covers its position-independent content exactly as verification
//! will read it) and inserted before the commit: no event is ever committed without its seal.
//! The sealer only numbers the seals in commit order and chains the digests.

use serde_json::Value;
use sqlx::AnyConnection;

use crate::audit;
use crate::db::Dialect;
use crate::keys;
use crate::log::{columns, LoggedEvent};
use crate::ReadDb;

/// One event to append.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub sequence: i64,
    pub event_type: &'a str,
    pub event_version: &'a str,
    pub payload: &'a Value,
    pub metadata: &'a Value,
}

/// The record's snapshot to write with the events: the first (`current_snapshot == 1`) or the
/// one after `current_snapshot - 1`.
#[derive(Debug, Clone, Copy)]
pub struct NewSnapshot<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub last_sequence: i64,
    pub current_snapshot: i64,
    pub payload: &'a Value,
}

/// Why nothing was appended.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer appended the same sequence (or moved the snapshot) first.
    #[error("another writer appended to the record first")]
    Conflict,
    /// The idempotency key the command runs under is no longer its attempt's: a retry took
    /// it over (its holder seemed gone), and runs the command instead.
    #[error("the idempotency key was taken over by a retry of the request")]
    KeyLost,
    #[error(transparent)]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for AppendError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            // 23505: PostgreSQL's unique violation; 2067 and 1555: SQLite's UNIQUE and
            // PRIMARY KEY constraints.
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("23505" | "2067" | "1555")) =>
            {
                Self::Conflict
            }
            _ => Self::Db(e),
        }
    }
}

fn json_param(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Sqlite => format!("${n}"),
        Dialect::Postgres => format!("CAST(${n} AS jsonb)"),
    }
}

/// Appends `events` (one record's, in sequence order), their seals and `snapshot` in one
/// transaction on `db` (a pool whose commits are durable), and returns the events as stored.
/// Under an idempotency key (`holder`), the same transaction checks that the key is still the
/// attempt's and counts the append ([`keys::count_commit`]). Appends nothing on any error.
pub async fn append(
    db: &ReadDb,
    events: &[NewEvent<'_>],
    snapshot: Option<NewSnapshot<'_>>,
    holder: Option<&keys::Holder>,
) -> Result<Vec<LoggedEvent>, AppendError> {
    let mut tx = db.pool.begin().await?;
    if let Some(holder) = holder {
        if !keys::count_commit(&mut tx, holder).await? {
            return Err(AppendError::KeyLost);
        }
    }
    let logged = insert_events(&mut tx, db.dialect, events).await?;
    audit::seal_appended(&mut tx, db.dialect, &logged).await?;
    if let Some(s) = snapshot {
        write_snapshot(&mut tx, db.dialect, s).await?;
    }
    tx.commit().await?;
    Ok(logged)
}

async fn insert_events(
    conn: &mut AnyConnection,
    dialect: Dialect,
    events: &[NewEvent<'_>],
) -> Result<Vec<LoggedEvent>, AppendError> {
    let sql = format!(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata) VALUES ($1, $2, $3, $4, $5, {}, {}) RETURNING {}",
        json_param(dialect, 6),
        json_param(dialect, 7),
        columns(dialect)
    );
    let mut logged = Vec::with_capacity(events.len());
    for e in events {
        let row = sqlx::query(&sql)
            .bind(e.aggregate_type)
            .bind(e.aggregate_id)
            .bind(e.sequence)
            .bind(e.event_type)
            .bind(e.event_version)
            .bind(e.payload.to_string())
            .bind(e.metadata.to_string())
            .fetch_one(&mut *conn)
            .await?;
        logged.push(LoggedEvent::from_row(&row)?);
    }
    Ok(logged)
}

async fn write_snapshot(
    conn: &mut AnyConnection,
    dialect: Dialect,
    s: NewSnapshot<'_>,
) -> Result<(), AppendError> {
    let payload = s.payload.to_string();
    if s.current_snapshot <= 1 {
        sqlx::query(&format!(
            "INSERT INTO snapshots (aggregate_type, aggregate_id, last_sequence, \
             current_snapshot, payload) VALUES ($1, $2, $3, $4, {})",
            json_param(dialect, 5)
        ))
        .bind(s.aggregate_type)
        .bind(s.aggregate_id)
        .bind(s.last_sequence)
        .bind(s.current_snapshot)
        .bind(payload)
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    let moved = sqlx::query(&format!(
        "UPDATE snapshots SET last_sequence = $3, current_snapshot = $4, payload = {} \
         WHERE aggregate_type = $1 AND aggregate_id = $2 AND current_snapshot = $5",
        json_param(dialect, 6)
    ))
    .bind(s.aggregate_type)
    .bind(s.aggregate_id)
    .bind(s.last_sequence)
    .bind(s.current_snapshot)
    .bind(s.current_snapshot - 1)
    .bind(payload)
    .execute(&mut *conn)
    .await?;
    // Unlike postgres-es, which commits and then reports the conflict, nothing is kept.
    if moved.rows_affected() == 1 {
        Ok(())
    } else {
        Err(AppendError::Conflict)
    }
}
