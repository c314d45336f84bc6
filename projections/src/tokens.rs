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
}

/// Records a token; a unique violation when `name` has an active token already.
pub async fn insert(
    conn: &mut AnyConnection,
    name: &str,
    role: &str,
    token_hash: &str,
    created_at: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO api_tokens (name, role, token_hash, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(name)
    .bind(role)
    .bind(token_hash)
    .bind(created_at)
    .execute(conn)
    .await
    .map(drop)
}

/// Every token, active or revoked, by name.
pub async fn list(db: &ReadDb) -> Result<Vec<TokenInfo>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT name, role, created_at, revoked_at FROM api_tokens ORDER BY name")
            .fetch_all(&db.pool)
            .await?;
    rows.iter().map(sqlx::FromRow::from_row).collect()
}

/// The role of the active token named `name`.
pub async fn active_role(
    conn: &mut AnyConnection,
    name: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT role FROM api_tokens WHERE name = $1 AND revoked_at IS NULL")
        .bind(name)
        .fetch_optional(conn)
        .await?;
    row.map(|r| r.try_get("role")).transpose()
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

/// The name and role of the active token whose secret hashes to `token_hash`.
pub async fn by_hash(
    db: &ReadDb,
    token_hash: &str,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT name, role FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .fetch_optional(&db.pool)
    .await?;
    row.map(|r| Ok((r.try_get("name")?, r.try_get("role")?)))
        .transpose()
}

/// How many tokens are active.
pub async fn active(db: &ReadDb) -> Result<i64, sqlx::Error> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_at IS NULL")
        .fetch_one(&db.pool)
        .await?;
    row.try_get("n")
}
