//! Bearer tokens and roles.
//!
//! A token is `inc_` and 64 hex digits (256 random bits). Only its SHA-256 is stored: a
//! high-entropy secret needs no slow hash, and a database leak reveals no usable token. The
//! clear token is returned once, by [`create`].

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use incubator_projections::{tokens, ReadDb};

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read models only: the dashboards.
    Viewer,
    /// Every read, including state and history; no command.
    Auditor,
    /// Commands and every read.
    Officer,
}

impl Role {
    /// The role's name, as stored and as written in event metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
            Role::Officer => "officer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Viewer, Role::Auditor, Role::Officer]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a token operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("an active token is named {0:?}: revoke it first, or rotate it (`tokens rotate`)")]
    Exists(String),
    #[error("no active token named {0:?}")]
    Unknown(String),
    #[error("a token name must be 1 to 100 visible characters")]
    BadName,
    #[error("cannot generate a token: {0}")]
    Random(String),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

pub use incubator_projections::tokens::TokenInfo;

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A fresh secret: `inc_` and 64 hex digits from the OS random source.
fn secret() -> Result<String, TokenError> {
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(format!("inc_{}", hex::encode(secret)))
}

async fn insert(
    conn: &mut sqlx::AnyConnection,
    name: &str,
    role: Role,
    token: &str,
) -> Result<(), sqlx::Error> {
    tokens::insert(conn, name, role.as_str(), &hash(token), &now()).await
}

/// Creates a token named `name` with `role`; returns the clear token (shown once). A name
/// whose tokens were all revoked may be used again: it stays the same actor.
pub async fn create(db: &ReadDb, name: &str, role: Role) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 100
        || name.chars().any(incubator_domain::values::is_unsafe_char)
    {
        return Err(TokenError::BadName);
    }
    let token = secret()?;
    let mut conn = db.durable_conn().await?;
    let result = insert(&mut conn, name, role, &token).await;
    match result {
        Ok(_) => Ok(token),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(TokenError::Exists(name.to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}

/// Every token, active or revoked, by name.
pub async fn list(db: &ReadDb) -> Result<Vec<TokenInfo>, TokenError> {
    Ok(tokens::list(db).await?)
}

/// Replaces the active token named `name` with a new one of the same role, in one
/// transaction (the old one stops working as the new one starts); returns the new token.
pub async fn rotate(db: &ReadDb, name: &str) -> Result<String, TokenError> {
    use sqlx::Connection;
    let mut conn = db.durable_conn().await?;
    let mut tx = conn.begin().await?;
    let role = tokens::active_role(&mut tx, name)
        .await?
        .and_then(|r| Role::parse(&r))
        .ok_or_else(|| TokenError::Unknown(name.to_owned()))?;
    tokens::revoke(&mut tx, name, &now()).await?;
    let token = secret()?;
    insert(&mut tx, name, role, &token).await?;
    tx.commit().await?;
    Ok(token)
}

/// Revokes the active token named `name`.
pub async fn revoke(db: &ReadDb, name: &str) -> Result<(), TokenError> {
    if tokens::revoke(&mut *db.durable_conn().await?, name, &now()).await? {
        Ok(())
    } else {
        Err(TokenError::Unknown(name.to_owned()))
    }
}

/// The name and role of the active token `token`, if any.
pub async fn verify(db: &ReadDb, token: &str) -> Result<Option<(String, Role)>, sqlx::Error> {
    Ok(tokens::by_hash(db, &hash(token))
        .await?
        .and_then(|(name, role)| Some((name, Role::parse(&role)?))))
}

/// Whether any active token exists.
pub async fn any_active(db: &ReadDb) -> Result<bool, sqlx::Error> {
    Ok(tokens::active(db).await? > 0)
}
