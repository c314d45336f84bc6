//! Rebuilding a read model from position 0, and checking a live one against a rebuild.
//!
//! Both run in one transaction on the model's own tables. It begins by touching the model's
//! checkpoint row, which takes SQLite's write lock and PostgreSQL's row lock, so the live
//! projector cannot move the model meanwhile (it waits, then finds the checkpoint moved and
//! carries on from there). Readers keep seeing the committed model until the transaction ends,
//! so the API never serves a half-built one:
//! - `rebuild` empties the tables, replays every committed event, moves the checkpoint, and
//!   commits: the new model replaces the old at once;
//! - `check` copies the live rows, replays up to the live checkpoint into the emptied tables
//!   one event at a time (the live model was built a batch at a time, with grouped writes:
//!   the check compares the two paths), compares row by row, and rolls back: it changes
//!   nothing.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, Column, Connection, Row};

use crate::db::{Dialect, ReadDb};
use crate::log::{read_after, Checkpoint, LoggedEvent};
use crate::projector::{Projection, ProjectionError};

/// Events replayed per read.
const BATCH: i64 = 5_000;

/// A read model whose tables can be emptied and compared.
pub trait Rebuildable: Projection {
    /// Its tables, in an order in which they can be emptied.
    fn tables(&self) -> &'static [&'static str];
}

/// What a rebuild did.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuilt {
    pub model: &'static str,
    pub events: u64,
    pub checkpoint: Checkpoint,
}

/// The differences in one table.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TableDiff {
    pub table: &'static str,
    pub rows: usize,
    /// Rows in the live model and not in the rebuild.
    pub only_live: Vec<String>,
    /// Rows in the rebuild and not in the live model.
    pub only_rebuilt: Vec<String>,
}

/// What a check found.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Checked {
    pub model: &'static str,
    pub events: u64,
    pub checkpoint: Checkpoint,
    pub tables: Vec<TableDiff>,
}

impl Checked {
    /// The number of differing rows, live and rebuilt together.
    pub fn differences(&self) -> usize {
        self.tables
            .iter()
            .map(|t| t.only_live.len() + t.only_rebuilt.len())
            .sum()
    }
}

/// The number of events in the log (for progress bars).
pub async fn log_size(db: &ReadDb) -> Result<u64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM events")
        .fetch_one(&db.pool)
        .await?;
    Ok(row.try_get::<i64, _>("n")?.max(0) as u64)
}

/// The log after `from`, a batch at a time, read on a connection of its own one batch ahead of
/// the caller: reading and converting the next batch overlaps applying this one (a rebuild's
/// writes hold their own connection). The reader stops when the log ends or the receiver is
/// dropped; an empty batch is never sent.
fn read_ahead(
    db: &ReadDb,
    from: Checkpoint,
) -> tokio::sync::mpsc::Receiver<Result<Vec<LoggedEvent>, ProjectionError>> {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let db = db.clone();
    tokio::spawn(async move {
        let mut conn = match db.pool.acquire().await {
            // Closed when the reading ends: a pool kept for heavy work holds no idle
            // connection between uses (see `as_of`).
            Ok(mut conn) => {
                conn.close_on_drop();
                conn
            }
            Err(e) => {
                let _ = tx.send(Err(e.into())).await;
                return;
            }
        };
        let mut at = from;
        loop {
            match read_after(&mut conn, db.dialect, at, BATCH).await {
                Ok(events) => {
                    let Some(last) = events.last() else {
                        return;
                    };
                    at = last.checkpoint;
                    if tx.send(Ok(events)).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            }
        }
    });
    rx
}

/// A connection for a rebuild or a check: on SQLite with a 256 MiB page cache while it lasts
/// (a rebuild inserts every row of a model's indexes, most in no particular order; the
/// pool's 32 MiB thrash). Closed when dropped: it never goes back to the pool.
async fn big_cache(db: &ReadDb) -> Result<PoolConnection<Any>, sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    conn.close_on_drop();
    if db.dialect == Dialect::Sqlite {
        sqlx::query("PRAGMA cache_size = -262144")
            .execute(&mut *conn)
            .await?;
    }
    Ok(conn)
}

/// Locks the model's checkpoint row for the transaction and returns it.
async fn lock(conn: &mut AnyConnection, name: &str) -> Result<Checkpoint, ProjectionError> {
    sqlx::query(
        "INSERT INTO projector_checkpoints (projection, transaction_id, position) \
         VALUES ($1, 0, 0) ON CONFLICT (projection) DO NOTHING",
    )
    .bind(name)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE projector_checkpoints SET projection = projection WHERE projection = $1")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    let row = sqlx::query(
        "SELECT transaction_id, position FROM projector_checkpoints WHERE projection = $1",
    )
    .bind(name)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Checkpoint {
        transaction_id: row.try_get("transaction_id")?,
        position: row.try_get("position")?,
    })
}

/// Empties the tables and replays the log into them one event at a time (the plain path, so
/// that a check also proves the live model's grouped writes equal to it), up to `until` when
/// given; returns the events applied and the checkpoint reached.
async fn replay<P: Rebuildable>(
    conn: &mut AnyConnection,
    db: &ReadDb,
    model: &P,
    until: Option<Checkpoint>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(u64, Checkpoint), ProjectionError> {
    for table in model.tables() {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *conn)
            .await?;
    }
    let mut at = Checkpoint::default();
    let mut applied = 0u64;
    let mut batches = read_ahead(db, at);
    'replay: while let Some(events) = batches.recv().await {
        let events = events?;
        if events.is_empty() {
            break;
        }
        let upto = match until {
            Some(u) => events.partition_point(|e| e.checkpoint <= u),
            None => events.len(),
        };
        for event in &events[..upto] {
            model.apply(conn, db, event).await?;
        }
        if let Some(last) = events[..upto].last() {
            at = last.checkpoint;
        }
        applied += upto as u64;
        progress(applied);
        if upto < events.len() {
            break 'replay;
        }
    }
    Ok((applied, at))
}

/// Empties `model` and its checkpoint in one transaction: the running projector then rebuilds
/// it from the start of the log.
pub async fn reset<P: Rebuildable>(db: &ReadDb, model: &P) -> Result<(), sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    sqlx::query("DELETE FROM projector_checkpoints WHERE projection = $1")
        .bind(model.name())
        .execute(&mut *tx)
        .await?;
    for table in model.tables() {
        sqlx::query(&format!("DELETE FROM {table}"))
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await
}

/// Rebuilds `model` from position 0 and swaps it in (see [`rebuild_together`]).
pub async fn rebuild<P: Rebuildable>(
    db: &ReadDb,
    model: &P,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Rebuilt, ProjectionError> {
    let mut done = rebuild_together(db, std::slice::from_ref(model), progress).await?;
    done.pop().ok_or_else(|| {
        ProjectionError::Db(sqlx::Error::Protocol(
            "a rebuild of one model reported none".into(),
        ))
    })
}

/// Rebuilds several models in one pass over the log (each event read and decoded once per
/// model that wants it) while the live ones serve and their projector runs, then swaps them
/// in at once.
///
/// The log is replayed into temporary copies of the models' tables on a connection of its
/// own, a batch per transaction that writes only the copies: SQLite keeps them in the
/// connection's temp database, so the store's write lock is never taken by the replay
/// (commands go on), and PostgreSQL's horizon is held a batch at a time, not for the whole
/// replay (the projectors go on). The swap is one short transaction: it locks each model's
/// checkpoint row, replaces the live rows by the copy's and sets the checkpoint to where the
/// replay ended; the projector then applies whatever was committed since, on the new rows.
/// The connection is closed afterwards, never returned with its copies.
pub async fn rebuild_together<P: Rebuildable>(
    db: &ReadDb,
    models: &[P],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<Rebuilt>, ProjectionError> {
    let mut conn = big_cache(db).await?;
    for model in models {
        shadow(&mut conn, db.dialect, model.tables()).await?;
    }
    let mut at = Checkpoint::default();
    let mut applied = 0u64;
    let mut batches = read_ahead(db, at);
    while let Some(events) = batches.recv().await {
        let events = events?;
        let Some(last) = events.last() else {
            break;
        };
        let last = last.checkpoint;
        // Models own their tables: each may take the whole batch in turn.
        let mut tx = conn.begin().await?;
        for model in models {
            model.apply_batch(&mut tx, db, &events).await?;
        }
        tx.commit().await?;
        at = last;
        applied += events.len() as u64;
        progress(applied);
    }
    let (live, copy) = match db.dialect {
        Dialect::Sqlite => ("main", "temp"),
        Dialect::Postgres => ("public", "pg_temp"),
    };
    let mut out = Vec::with_capacity(models.len());
    let mut tx = conn.begin().await?;
    for model in models {
        lock(&mut tx, model.name()).await?;
        for table in model.tables() {
            sqlx::query(&format!("DELETE FROM {live}.{table}"))
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "INSERT INTO {live}.{table} SELECT * FROM {copy}.{table}"
            ))
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE projector_checkpoints SET transaction_id = $1, position = $2 \
             WHERE projection = $3",
        )
        .bind(at.transaction_id)
        .bind(at.position)
        .bind(model.name())
        .execute(&mut *tx)
        .await?;
        out.push(Rebuilt {
            model: model.name(),
            events: applied,
            checkpoint: at,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// Makes `tables` empty temporary copies on `conn`, which shadow the live ones by name on both
/// stores (any copies left from an earlier use of the connection are dropped first). Writing
/// them takes no lock on the live database: SQLite keeps them in the connection's own
/// database, PostgreSQL writes no WAL for them.
async fn shadow(
    conn: &mut AnyConnection,
    dialect: Dialect,
    tables: &[&str],
) -> Result<(), sqlx::Error> {
    unshadow(conn, dialect, tables).await?;
    for table in tables {
        let ddl = match dialect {
            Dialect::Sqlite => {
                let sql: String = sqlx::query(
                    "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = $1",
                )
                .bind(*table)
                .fetch_one(&mut *conn)
                .await?
                .try_get("sql")?;
                sql.replacen("CREATE TABLE", "CREATE TEMP TABLE", 1)
            }
            Dialect::Postgres => {
                format!("CREATE TEMP TABLE {table} (LIKE public.{table} INCLUDING ALL)")
            }
        };
        sqlx::query(&ddl).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Drops the temporary copies of `tables` on `conn`, if it has them.
async fn unshadow(
    conn: &mut AnyConnection,
    dialect: Dialect,
    tables: &[&str],
) -> Result<(), sqlx::Error> {
    for table in tables {
        let drop = match dialect {
            Dialect::Sqlite => format!("DROP TABLE IF EXISTS temp.{table}"),
            Dialect::Postgres => format!("DROP TABLE IF EXISTS pg_temp.{table}"),
        };
        sqlx::query(&drop).execute(&mut *conn).await?;
    }
    Ok(())
}

/// A connection of `db`'s pool on which `model`'s tables are temporary copies holding the
/// model as it was at `until` (an RFC 3339 instant, UTC, in the log's millisecond form): the
/// log replayed in commit order up to the first event recorded after it. Temporary tables
/// shadow the live ones by name on both stores, so the model's own queries run on it
/// unchanged; nothing live is touched or locked.
///
/// The connection is closed when dropped, never returned to the pool with its copies; `db`'s
/// pool size bounds how many replays run at once.
pub async fn as_of<P: Rebuildable>(
    db: &ReadDb,
    model: &P,
    until: &str,
) -> Result<PoolConnection<Any>, ProjectionError> {
    let mut conn = db.pool.acquire().await?;
    // Closed, not returned, when dropped: whatever becomes of the request, no pooled
    // connection goes back with shadowing tables.
    conn.close_on_drop();
    shadow(&mut conn, db.dialect, model.tables()).await?;
    let mut at = Checkpoint::default();
    loop {
        let events = read_after(&mut conn, db.dialect, at, BATCH).await?;
        let Some(last) = events.last() else {
            break;
        };
        at = last.checkpoint;
        let upto = events
            .iter()
            .position(|e| e.recorded_at.as_str() > until)
            .unwrap_or(events.len());
        model.apply_batch(&mut conn, db, &events[..upto]).await?;
        if upto < events.len() {
            break;
        }
    }
    Ok(conn)
}

/// Rebuilds `model` aside, up to the live checkpoint, and compares it with the live model row
/// by row. Changes nothing, and holds nothing while it replays: the live model and its
/// checkpoint are read in one snapshot (a read transaction: no write lock on SQLite, no
/// transaction id on PostgreSQL, so neither the projector nor the commands wait), then the log
/// is replayed up to that checkpoint into temporary copies of the tables on a connection of
/// `db`'s pool (closed afterwards, as [`as_of`]'s is), and the two compared.
pub async fn check<P: Rebuildable>(
    db: &ReadDb,
    model: &P,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Checked, ProjectionError> {
    let mut conn = db.pool.acquire().await?;
    // Closed, not returned, when dropped (finished, failed or cancelled): no pooled connection
    // goes back with shadowing tables.
    conn.close_on_drop();
    let (live_at, live) = {
        let begin = match db.dialect {
            Dialect::Sqlite => "BEGIN",
            Dialect::Postgres => "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
        };
        let mut snapshot = conn.begin_with(begin).await?;
        let at = sqlx::query(
            "SELECT transaction_id, position FROM projector_checkpoints WHERE projection = $1",
        )
        .bind(model.name())
        .fetch_optional(&mut *snapshot)
        .await?;
        let at = match at {
            Some(row) => Checkpoint {
                transaction_id: row.try_get("transaction_id")?,
                position: row.try_get("position")?,
            },
            None => Checkpoint::default(),
        };
        let mut live = Vec::new();
        for table in model.tables() {
            live.push(rows(&mut snapshot, table).await?);
        }
        snapshot.rollback().await?;
        (at, live)
    };
    shadow(&mut conn, db.dialect, model.tables()).await?;
    let (events, at) = replay(&mut conn, db, model, Some(live_at), progress).await?;
    let mut tables = Vec::new();
    for (table, live_rows) in model.tables().iter().zip(live) {
        let rebuilt = rows(&mut conn, table).await?;
        let (only_live, only_rebuilt) = diff(&live_rows, &rebuilt);
        tables.push(TableDiff {
            table,
            rows: live_rows.len(),
            only_live,
            only_rebuilt,
        });
    }
    Ok(Checked {
        model: model.name(),
        events,
        checkpoint: at,
        tables,
    })
}

/// Every row of `table`, rendered as `column=value` text, sorted.
async fn rows(conn: &mut AnyConnection, table: &str) -> Result<Vec<String>, sqlx::Error> {
    let fetched = sqlx::query(&format!("SELECT * FROM {table}"))
        .fetch_all(conn)
        .await?;
    let mut out: Vec<String> = fetched.iter().map(render).collect();
    out.sort_unstable();
    Ok(out)
}

fn render(row: &AnyRow) -> String {
    let mut cells = Vec::with_capacity(row.columns().len());
    for (i, col) in row.columns().iter().enumerate() {
        let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            v.map_or("null".to_owned(), |v| v.to_string())
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            v.map_or("null".to_owned(), |v| format!("{v:?}"))
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            v.map_or("null".to_owned(), |v| v.to_string())
        } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
            v.map_or("null".to_owned(), |v| v.to_string())
        } else {
            "?".to_owned()
        };
        cells.push(format!("{}={value}", col.name()));
    }
    cells.join(" ")
}

/// The rows only in `a` and only in `b` (both sorted; duplicates count).
fn diff(a: &[String], b: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut i, mut j) = (0, 0);
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                only_a.push(x.clone());
                i += 1;
            }
            (Some(_), Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (Some(x), None) => {
                only_a.push(x.clone());
                i += 1;
            }
            (None, Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    (only_a, only_b)
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn diff_finds_rows_on_either_side() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let (a, b) = diff(&s(&["a", "b", "b", "d"]), &s(&["b", "c", "d"]));
        assert_eq!(a, s(&["a", "b"]));
        assert_eq!(b, s(&["c"]));
        let (a, b) = diff(&s(&[]), &s(&["x"]));
        assert!(a.is_empty());
        assert_eq!(b, s(&["x"]));
    }
}
