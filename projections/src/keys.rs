//! The `idempotency_keys` table: one row per (caller, `Idempotency-Key`), `pending` while its
//! command runs, `done` with the response once answered, `unsettled` when the command ended
//! in a failure whose effect is unknown. The service (`incubator-server`'s idempotency
//! middleware) decides what each state means; this module only reads and writes rows, each
//! change guarded by the state and start it expects (compare-and-set).

use sqlx::AnyConnection;

use crate::ReadDb;

/// A key's row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub fingerprint: String,
    pub state: String,
    /// Milliseconds since the epoch: when the attempt holding the key began.
    pub started_at: i64,
    /// The log's head when the key was claimed: events carrying the key come after it.
    pub head_position: i64,
    pub status: Option<i64>,
    /// The kept response headers, as a JSON list of pairs.
    pub headers: Option<String>,
    pub body: Option<String>,
}

/// Claims a new key for a request to `path` as `pending` at `now`, reading the log's head in
/// the same statement; false when the key has a row already.
pub async fn claim(
    conn: &mut AnyConnection,
    actor: &str,
    key: &str,
    fingerprint: &str,
    path: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys \
         (actor, idem_key, fingerprint, state, started_at, head_position, path) \
         SELECT $1, $2, $3, 'pending', $4, COALESCE(MAX(position), 0), $5 FROM events \
         WHERE true ON CONFLICT DO NOTHING",
    )
    .bind(actor)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .bind(path)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The key's row, if it has one.
pub async fn read(
    conn: &mut AnyConnection,
    actor: &str,
    key: &str,
) -> Result<Option<KeyRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT fingerprint, state, started_at, head_position, status, headers, body \
         FROM idempotency_keys WHERE actor = $1 AND idem_key = $2",
    )
    .bind(actor)
    .bind(key)
    .fetch_optional(conn)
    .await?;
    row.map(|r| sqlx::FromRow::from_row(&r)).transpose()
}

/// Forgets the key as claimed at `started_at` (past its retention).
pub async fn forget(
    conn: &mut AnyConnection,
    actor: &str,
    key: &str,
    started_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE actor = $1 AND idem_key = $2 AND started_at = $3",
    )
    .bind(actor)
    .bind(key)
    .bind(started_at)
    .execute(conn)
    .await
    .map(drop)
}

/// Takes over a key found in `state` as claimed at `started_at`: `pending` again from `now`,
/// with the log's head `head`. True for exactly one of racing callers.
#[allow(clippy::too_many_arguments)]
pub async fn retake(
    conn: &mut AnyConnection,
    actor: &str,
    key: &str,
    state: &str,
    started_at: i64,
    now: i64,
    head: i64,
) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query(
        "UPDATE idempotency_keys SET state = 'pending', started_at = $1, head_position = $2 \
         WHERE actor = $3 AND idem_key = $4 AND state = $5 AND started_at = $6",
    )
    .bind(now)
    .bind(head)
    .bind(actor)
    .bind(key)
    .bind(state)
    .bind(started_at)
    .execute(conn)
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// A response to record: status, kept headers (JSON list of pairs), body.
#[derive(Debug, Clone, Copy)]
pub struct Answer<'a> {
    pub status: i64,
    pub headers: &'a str,
    pub body: &'a str,
}

/// Records `answer` as the key's response (`done`), if the key is still in `state` as claimed
/// at `started_at`.
pub async fn settle(
    conn: &mut AnyConnection,
    actor: &str,
    key: &str,
    (state, started_at): (&str, i64),
    answer: Answer<'_>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'done', status = $1, headers = $2, body = $3 \
         WHERE actor = $4 AND idem_key = $5 AND state = $6 AND started_at = $7",
    )
    .bind(answer.status)
    .bind(answer.headers)
    .bind(answer.body)
    .bind(actor)
    .bind(key)
    .bind(state)
    .bind(started_at)
    .execute(conn)
    .await
    .map(drop)
}

/// Marks the pending key claimed at `started_at` `unsettled`: its command's effect is unknown.
pub async fn unsettle(
    conn: &mut AnyConnection,
    actor: &str,
    key: &str,
    started_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'unsettled' \
         WHERE actor = $1 AND idem_key = $2 AND state = 'pending' AND started_at = $3",
    )
    .bind(actor)
    .bind(key)
    .bind(started_at)
    .execute(conn)
    .await
    .map(drop)
}

/// Deletes the keys claimed before `cutoff`; how many.
pub async fn purge(db: &ReadDb, cutoff: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM idempotency_keys WHERE started_at < $1")
        .bind(cutoff)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected())
}
