//! The journal of changes that span two records (`pending_changes`): written before a
//! change's first step, deleted after its last, so that a change a crash interrupted is found
//! again. The application layer (`incubator-server`'s `app`) decides what a row means; this
//! module only stores it.

use crate::ReadDb;

/// One journalled change.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Pending {
    /// The change's own id (for a studio, the allocation's id).
    pub change_id: String,
    /// `arrive`, `extend` or `release`.
    pub kind: String,
    /// The record the change is about (the residency).
    pub record_id: String,
    /// The other record it changes (the studio's space).
    pub other_id: String,
    /// Who asked, in which role, with which request id: what the finishing steps carry.
    pub actor: String,
    pub role: String,
    pub correlation_id: String,
    /// The request's `Idempotency-Key`, when it had one: a retry with it resumes the change.
    pub idem_key: Option<String>,
    /// The change's parameters (JSON), as the application layer wrote them.
    pub detail: String,
    /// When the change was started or last claimed, in milliseconds since the epoch.
    pub started_at: i64,
}

const COLUMNS: &str = "change_id, kind, record_id, other_id, actor, role, correlation_id, \
                       idem_key, detail, started_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Pending, sqlx::Error> {
    sqlx::FromRow::from_row(row)
}

/// Journals `change` before its first step.
pub async fn begin(db: &ReadDb, change: &Pending) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO pending_changes ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    ))
    .bind(&change.change_id)
    .bind(&change.kind)
    .bind(&change.record_id)
    .bind(&change.other_id)
    .bind(&change.actor)
    .bind(&change.role)
    .bind(&change.correlation_id)
    .bind(&change.idem_key)
    .bind(&change.detail)
    .bind(change.started_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// Forgets a change that completed or was undone.
pub async fn finish(db: &ReadDb, change_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM pending_changes WHERE change_id = $1")
        .bind(change_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The unfinished change of `kind` on `record_id` that the request `(actor, idem_key)` began.
pub async fn of_request(
    db: &ReadDb,
    kind: &str,
    record_id: &str,
    actor: &str,
    idem_key: &str,
) -> Result<Option<Pending>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM pending_changes \
         WHERE record_id = $1 AND kind = $2 AND actor = $3 AND idem_key = $4"
    ))
    .bind(record_id)
    .bind(kind)
    .bind(actor)
    .bind(idem_key)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Up to `limit` changes started (or last claimed) before `before`, oldest first.
pub async fn started_before(
    db: &ReadDb,
    before: i64,
    limit: i64,
) -> Result<Vec<Pending>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM pending_changes WHERE started_at < $1 \
         ORDER BY started_at, change_id LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Takes over `change` (as read, with its `started_at`) at `now`: true for exactly one of any
/// number of racing callers.
pub async fn claim(db: &ReadDb, change: &Pending, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE pending_changes SET started_at = $1 WHERE change_id = $2 AND started_at = $3",
    )
    .bind(now)
    .bind(&change.change_id)
    .bind(change.started_at)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
