//! The projector: tails the log, applies each batch to a read model and moves that model's
//! checkpoint in the same transaction.
//!
//! Exactly-once effect: a batch's read-model changes and its checkpoint commit together or not
//! at all, so a crash at any moment leaves the model at a checkpoint it fully reflects. The
//! checkpoint is advanced with a compare-and-set, so a second projector that raced on the same
//! batch rolls back instead of applying it twice.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyConnection;
use tokio::sync::{watch, Notify};

use crate::db::{int, ReadDb};
use crate::log::{read_after, Checkpoint, LoggedEvent};

/// An event's payload, decoded as `T` (its aggregate's event type).
pub fn decode<T: serde::de::DeserializeOwned>(event: &LoggedEvent) -> Result<T, ProjectionError> {
    serde_json::from_str(&event.payload).map_err(|source| ProjectionError::Decode {
        position: event.position(),
        source,
    })
}

/// The event decoded as one of aggregate `A`'s, or `None` when it is another aggregate's (the
/// log names each event's aggregate by `A::TYPE`).
pub fn event_of<A: cqrs_es::Aggregate>(
    event: &LoggedEvent,
) -> Result<Option<A::Event>, ProjectionError> {
    if event.aggregate_type == A::TYPE {
        decode(event).map(Some)
    } else {
        Ok(None)
    }
}

/// How long the projector waits after being woken, to gather a burst of commits.
pub const COALESCE: Duration = Duration::from_millis(20);

/// How many events one transaction applies.
pub const BATCH: i64 = 500;

/// Why a batch could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("event at position {position} cannot be decoded: {source}")]
    Decode {
        position: i64,
        source: serde_json::Error,
    },
    #[error("another projector moved the checkpoint of {0}")]
    Raced(&'static str),
}

/// What a running projector reports after every batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Everything up to here is applied.
    pub checkpoint: Checkpoint,
    /// Batches that failed in a row (0 when the last one succeeded or there was nothing to do).
    pub consecutive_failures: u32,
    /// Whether this process holds the lease and projects (otherwise another process does, and
    /// this one follows the checkpoint).
    pub leading: bool,
}

/// How long a lease lasts without renewal: a projector that dies is replaced this soon.
pub const LEASE_TTL: Duration = Duration::from_secs(5);

/// How often a standby process tries for the lease and re-reads the checkpoint.
const STANDBY_POLL: Duration = Duration::from_millis(500);

/// The lease all projectors of one database compete for.
const LEASE: &str = "projector";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Takes or renews the lease for `holder`; true when `holder` has it.
pub async fn try_lead(db: &ReadDb, holder: &str) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO projector_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
         WHERE projector_leases.holder = excluded.holder OR projector_leases.expires_at < $4",
    )
    .bind(LEASE)
    .bind(holder)
    .bind(now + i64::try_from(LEASE_TTL.as_millis()).unwrap_or(5_000))
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease up (at shutdown), so that a standby takes over at once.
pub async fn release(db: &ReadDb, holder: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM projector_leases WHERE name = $1 AND holder = $2")
        .bind(LEASE)
        .bind(holder)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Who holds the lease now, if anyone.
pub async fn lease_holder(db: &ReadDb) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT holder, expires_at FROM projector_leases WHERE name = $1")
        .bind(LEASE)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.and_then(|r| {
        let expires: i64 = sqlx::Row::try_get(&r, "expires_at").ok()?;
        (expires >= now_ms())
            .then(|| sqlx::Row::try_get(&r, "holder").ok())
            .flatten()
    }))
}

/// A read model's name, from its type: its checkpoint's name, and what reads of it wait on.
pub trait Named {
    const NAME: &'static str;
}

/// What applying events to a model answers.
pub type Applied = Result<(), ProjectionError>;

/// The connection a model applies events on (the batch's transaction).
pub type Conn = AnyConnection;

/// A read model built from the log.
pub trait Projection: Send + Sync + 'static {
    /// The name of its checkpoint, and of the model in commands and metrics.
    fn name(&self) -> &'static str;

    /// Applies one event inside the batch's transaction.
    fn apply<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
        db: &'c ReadDb,
        event: &'c LoggedEvent,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send + 'c;

    /// Applies a batch of events, in order, inside one transaction. The default applies them
    /// one by one; a model may group writes (several rows in one statement) as long as the
    /// end state is the same.
    fn apply_batch<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
        db: &'c ReadDb,
        events: &'c [LoggedEvent],
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send + 'c {
        async move {
            for event in events {
                self.apply(conn, db, event).await?;
            }
            Ok(())
        }
    }
}

/// Reads a projection's checkpoint (the start of the log when it has none).
pub async fn checkpoint(db: &ReadDb, name: &str) -> Result<Checkpoint, sqlx::Error> {
    let row = sqlx::query(
        "SELECT transaction_id, position FROM projector_checkpoints WHERE projection = $1",
    )
    .bind(name)
    .fetch_optional(&db.pool)
    .await?;
    Ok(match row {
        Some(r) => Checkpoint {
            transaction_id: int(&r, "transaction_id")?,
            position: int(&r, "position")?,
        },
        None => Checkpoint::default(),
    })
}

/// Applies the next batch after the checkpoint; returns the new checkpoint, or `None` when the
/// model is up to date.
pub async fn step<P: Projection>(
    db: &ReadDb,
    projection: &P,
    limit: i64,
) -> Result<Option<Checkpoint>, ProjectionError> {
    let name = projection.name();
    sqlx::query(
        "INSERT INTO projector_checkpoints (projection, transaction_id, position) \
         VALUES ($1, 0, 0) ON CONFLICT (projection) DO NOTHING",
    )
    .bind(name)
    .execute(&db.pool)
    .await?;
    let from = checkpoint(db, name).await?;
    let events = {
        let mut conn = db.pool.acquire().await?;
        read_after(&mut conn, db.dialect, from, limit).await?
    };
    let Some(last) = events.last() else {
        return Ok(None);
    };
    let to = last.checkpoint;
    let mut tx = db.pool.begin().await?;
    // The compare-and-set comes first: on SQLite it takes the write lock before anything else
    // is read in this transaction.
    let moved = sqlx::query(
        "UPDATE projector_checkpoints SET transaction_id = $1, position = $2, updated_at = $3 \
         WHERE projection = $4 AND transaction_id = $5 AND position = $6",
    )
    .bind(to.transaction_id)
    .bind(to.position)
    .bind(last.recorded_at.as_str())
    .bind(name)
    .bind(from.transaction_id)
    .bind(from.position)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        tx.rollback().await?;
        return Err(ProjectionError::Raced(name));
    }
    projection.apply_batch(&mut tx, db, &events).await?;
    tx.commit().await?;
    Ok(Some(to))
}

/// Runs a projection until `shutdown` turns true, as `holder` (unique per process): while it
/// holds the lease, catches up, then waits for `wake` (a local command committed) or a short
/// poll (another process committed); while another process holds it, follows the checkpoint
/// and tries for the lease every half second.
pub async fn run<P: Projection>(
    db: ReadDb,
    projection: P,
    wake: Arc<Notify>,
    progress: watch::Sender<Progress>,
    mut shutdown: watch::Receiver<bool>,
    holder: String,
) {
    let name = projection.name();
    let mut failures: u32 = 0;
    if let Ok(cp) = checkpoint(&db, name).await {
        progress.send_modify(|p| p.checkpoint = cp);
    }
    let mut renewed = tokio::time::Instant::now() - LEASE_TTL;
    let mut leading = false;
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Renew at least every second while leading; try every half second while standing by.
        if !leading || renewed.elapsed() >= Duration::from_secs(1) {
            let now_leading = try_lead(&db, &holder).await.unwrap_or(false);
            if now_leading {
                renewed = tokio::time::Instant::now();
            }
            if now_leading != leading {
                tracing::info!(projection = name, leading = now_leading, "projector lease");
            }
            leading = now_leading;
            progress.send_if_modified(|p| std::mem::replace(&mut p.leading, leading) != leading);
        }
        if !leading {
            if let Ok(cp) = checkpoint(&db, name).await {
                progress.send_if_modified(|p| std::mem::replace(&mut p.checkpoint, cp) != cp);
            }
            tokio::select! {
                _ = tokio::time::sleep(STANDBY_POLL) => {}
                _ = shutdown.changed() => {}
            }
            continue;
        }
        match step(&db, &projection, BATCH).await {
            Ok(Some(cp)) => {
                failures = 0;
                progress.send_replace(Progress {
                    checkpoint: cp,
                    consecutive_failures: 0,
                    leading: true,
                });
                continue;
            }
            Ok(None) => {
                failures = 0;
                progress.send_if_modified(|p| std::mem::take(&mut p.consecutive_failures) > 0);
            }
            Err(ProjectionError::Raced(_)) => continue,
            Err(error) => {
                failures = failures.saturating_add(1);
                progress.send_modify(|p| p.consecutive_failures = failures);
                tracing::error!(projection = name, %error, failures, "projection batch failed");
            }
        }
        let pause = if failures == 0 {
            Duration::from_millis(250)
        } else {
            Duration::from_millis(100 * u64::from(failures.min(50)))
        };
        tokio::select! {
            _ = wake.notified() => {
                // Let a burst of commits gather into one batch: one transaction for many
                // events instead of one per command, which on SQLite would compete with the
                // writers for the single write lock.
                tokio::time::sleep(COALESCE).await;
            }
            _ = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => {}
        }
    }
    if leading {
        let _ = release(&db, &holder).await;
    }
    tracing::info!(projection = name, "projector stopped");
}
