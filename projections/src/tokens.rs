//! The `api_tokens` table: bearer tokens by the SHA-256 of their secret, with a name (the
//! actor events record) and a role. The service (`incubator-server`'s `auth`) makes the
//! secrets and hashes them; only hashes reach this table.

use serde::Serialize;
use sqlx::{AnyConnection, Row};

use crate::ReadDb;

/// A token as listed (never its secret).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TokenInfo {
    pub name: String,
    pub role: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// When it stops working by itself (RFC 3339, UTC), if ever.
    pub expires_at: Option<String>,
}

/// The active token a secret's hash names.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Holder {
    pub name: String,
    pub role: String,
    pub expires_at: Option<String>,
}

/// Records a token; a unique violation when `name` has an active token already.
pub async fn insert(
    conn: &mut AnyConnection,
    name: &str,
    role: &str,
    token_hash: &str,
    created_at: &str,
    expires_at: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (name, role, token_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(name)
    .bind(role)
    .bind(token_hash)
    .bind(created_at)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(drop)
}

/// Every token, active or revoked, by name.
pub async fn list(db: &ReadDb) -> Result<Vec<TokenInfo>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT name, role, created_at, revoked_at, expires_at FROM api_tokens ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(sqlx::FromRow::from_row).collect()
}

/// The role, creation and expiry of the active token named `name`.
pub async fn active(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<TokenInfo>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, role, created_at, revoked_at, expires_at FROM api_tokens \
         WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name)
    .fetch_optional(conn)
    .await
}

/// Revokes the active token named `name` at `at`; whether there was one.
pub async fn revoke(conn: &mut AnyConnection, name: &str, at: &str) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
            .bind(at)
            .bind(name)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// The active token whose secret hashes to `token_hash` (expired or not).
pub async fn by_hash(db: &ReadDb, token_hash: &str) -> Result<Option<Holder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT name, role, expires_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await
}

/// How many tokens were ever revoked: it only grows, so a change says a token stopped.
pub async fn revocations(db: &ReadDb) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_at IS NOT NULL")
        .fetch_one(&db.pool)
        .await?;
    row.try_get("n")
}

/// How many tokens are active.
pub async fn active_count(db: &ReadDb) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_at IS NULL")
        .fetch_one(&db.pool)
        .await?;
    row.try_get("n")
}
