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
    /// The instance of the process whose attempt holds the key (none for keys claimed
    /// before owners were recorded).
    pub owner: Option<String>,
    /// The appends the holding attempt has committed.
    pub commits: i64,
}

/// The attempt holding a key, as its appends name it: each append checks in its own
/// transaction that the key is still this attempt's ([`count_commit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub actor: String,
    pub key: String,
    pub started_at: i64,
}

/// Counts an append of the attempt `holder`, in the append's transaction: false when the key
/// is no longer that attempt's (a retry took it over), and the append must not commit.
pub async fn count_commit(conn: &mut AnyConnection, holder: &Holder) -> Result<bool, sqlx::Error> {
    let counted = sqlx::query(
        "UPDATE idempotency_keys SET commits = commits + 1 \
         WHERE actor = $1 AND idem_key = $2 AND started_at = $3 AND state = 'pending'",
    )
    .bind(&holder.actor)
    .bind(&holder.key)
    .bind(holder.started_at)
    .execute(conn)
    .await?;
    Ok(counted.rows_affected() == 1)
}

/// Records that the process `instance` is alive (on the database's clock).
pub async fn beat(
    conn: &mut AnyConnection,
    dialect: crate::Dialect,
    instance: &str,
) -> Result<(), sqlx::Error> {
    let now = dialect.now_ms();
    sqlx::query(&format!(
        "INSERT INTO key_owners (instance, beat_at) VALUES ($1, {now}) \
         ON CONFLICT (instance) DO UPDATE SET beat_at = {now}"
    ))
    .bind(instance)
    .execute(conn)
    .await
    .map(drop)
}

/// How long ago (milliseconds, on the database's clock) the process `instance` last beat;
/// none if it never did.
pub async fn silent_for(
    conn: &mut AnyConnection,
    dialect: crate::Dialect,
    instance: &str,
) -> Result<Option<i64>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {} - beat_at AS silent FROM key_owners WHERE instance = $1",
        dialect.now_ms()
    ))
    .bind(instance)
    .fetch_optional(conn)
    .await?;
    row.map(|r| sqlx::Row::try_get::<i64, _>(&r, "silent"))
        .transpose()
}

/// Forgets the processes silent for more than `ms` milliseconds.
pub async fn forget_silent(
    conn: &mut AnyConnection,
    dialect: crate::Dialect,
    ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "DELETE FROM key_owners WHERE beat_at < {} - $1",
        dialect.now_ms()
    ))
    .bind(ms)
    .execute(conn)
    .await
    .map(drop)
}

/// Claims a new key for a request to `path` as `pending` at `now` for the process `owner`,
/// reading the log's head in the same statement; false when the key has a row already.
pub async fn claim(
    conn: &mut AnyConnection,
    (actor, key): (&str, &str),
    fingerprint: &str,
    path: &str,
    now: i64,
    owner: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys \
         (actor, idem_key, fingerprint, state, started_at, head_position, path, owner) \
         SELECT $1, $2, $3, 'pending', $4, COALESCE(MAX(position), 0), $5, $6 FROM events \
         WHERE true ON CONFLICT DO NOTHING",
    )
    .bind(actor)
    .bind(key)
    .bind(fingerprint)
    .bind(now)
    .bind(path)
    .bind(owner)
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
        "SELECT fingerprint, state, started_at, head_position, status, headers, body, owner, \
         commits FROM idempotency_keys WHERE actor = $1 AND idem_key = $2",
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

/// A key's row as a retry found it: what a takeover expects to be still there.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    pub state: &'a str,
    pub started_at: i64,
    /// The appends its attempt had committed.
    pub commits: i64,
}

/// Takes over a key found as `seen`: `pending` again from `now` for the process `owner`,
/// with the log's head `head`. True for exactly one of racing callers, and never once the
/// attempt seen has committed another append.
pub async fn retake(
    conn: &mut AnyConnection,
    (actor, key): (&str, &str),
    seen: Seen<'_>,
    (now, head): (i64, i64),
    owner: &str,
) -> Result<bool, sqlx::Error> {
    let taken = sqlx::query(
        "UPDATE idempotency_keys SET state = 'pending', started_at = $1, head_position = $2, \
         owner = $7, commits = 0 \
         WHERE actor = $3 AND idem_key = $4 AND state = $5 AND started_at = $6 AND commits = $8",
    )
    .bind(now)
    .bind(head)
    .bind(actor)
    .bind(key)
    .bind(seen.state)
    .bind(seen.started_at)
    .bind(owner)
    .bind(seen.commits)
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
