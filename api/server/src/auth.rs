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
    #[error("a token's lifetime must be at most 100 years")]
    BadLifetime,
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
    expires_at: Option<&str>,
) -> Result<(), sqlx::Error> {
    tokens::insert(conn, name, role.as_str(), &hash(token), &now(), expires_at).await
}

fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Creates a token named `name` with `role`; returns the clear token (shown once). A name
/// whose tokens were all revoked may be used again: it stays the same actor.
pub async fn create(db: &ReadDb, name: &str, role: Role) -> Result<String, TokenError> {
    create_expiring(db, name, role, None).await
}

/// The longest lifetime a token may be given.
pub const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs(100 * 365 * 86_400);

/// Creates a token as [`create`] does, that stops working after `lifetime` when given.
pub async fn create_expiring(
    db: &ReadDb,
    name: &str,
    role: Role,
    lifetime: Option<std::time::Duration>,
) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 100
        || name.chars().any(incubator_domain::values::is_unsafe_char)
    {
        return Err(TokenError::BadName);
    }
    let expires = match lifetime {
        Some(d) if d <= MAX_LIFETIME => chrono::Duration::from_std(d)
            .ok()
            .map(|d| instant(chrono::Utc::now() + d)),
        Some(_) => return Err(TokenError::BadLifetime),
        None => None,
    };
    let token = secret()?;
    let mut conn = db.durable_conn().await?;
    let result = insert(&mut conn, name, role, &token, expires.as_deref()).await;
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

/// Replaces the active token named `name` with a new one of the same role, and the same
/// lifetime from now if it had one, in one transaction (the old one stops working as the new
/// one starts); returns the new token.
pub async fn rotate(db: &ReadDb, name: &str) -> Result<String, TokenError> {
    use sqlx::Connection;
    let mut conn = db.durable_conn().await?;
    let mut tx = conn.begin().await?;
    let old = tokens::active(&mut tx, name)
        .await?
        .ok_or_else(|| TokenError::Unknown(name.to_owned()))?;
    let role = Role::parse(&old.role).ok_or_else(|| TokenError::Unknown(name.to_owned()))?;
    let lifetime = match (&old.expires_at, &old.created_at) {
        (Some(expires), created) => {
            let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
            parse(expires)
                .zip(parse(created))
                .map(|(e, c)| e.signed_duration_since(c))
        }
        (None, _) => None,
    };
    tokens::revoke(&mut tx, name, &now()).await?;
    let token = secret()?;
    let expires = lifetime.map(|d| instant(chrono::Utc::now() + d));
    insert(&mut tx, name, role, &token, expires.as_deref()).await?;
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

/// Whether a token that expires at `expires_at` has expired `now`.
fn expired(expires_at: Option<&str>, now: &str) -> bool {
    expires_at.is_some_and(|e| e <= now)
}

/// The name and role of the active, unexpired token `token`, if any.
pub async fn verify(db: &ReadDb, token: &str) -> Result<Option<(String, Role)>, sqlx::Error> {
    let now = now();
    Ok(tokens::by_hash(db, &hash(token))
        .await?
        .filter(|h| !expired(h.expires_at.as_deref(), &now))
        .and_then(|h| Some((h.name, Role::parse(&h.role)?))))
}

/// Whether any active token exists.
pub async fn any_active(db: &ReadDb) -> Result<bool, sqlx::Error> {
    Ok(tokens::active_count(db).await? > 0)
}

/// How often a service asks the store whether a token was revoked.
pub const REVOCATION_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// Questions unanswered in a row after which the service stops trusting what it knows: its
/// cache is bypassed and its live streams end (fail closed).
const UNANSWERED: u32 = 4;

/// Tokens known at most.
const KNOWN: usize = 10_000;

/// What a service knows of revocations: how many tokens the store had revoked when last asked,
/// and whether it could ask lately. Live streams watch it: a change ends the streams of tokens
/// no longer valid, and losing touch ends them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Revocations {
    pub seen: i64,
    pub in_touch: bool,
}

/// The tokens a service has verified, by the hash of their secret: a request with a known
/// token costs no database query. Every process watches the store's count of revoked tokens
/// ([`REVOCATION_POLL`]); when it changes, the cache is emptied, so a revocation made by any
/// process (`incubator tokens revoke`, a rotation) reaches every service within a poll.
/// Expiry is checked at each use.
#[derive(Debug)]
pub struct TokenCache {
    db: ReadDb,
    known: std::sync::Mutex<std::collections::HashMap<String, tokens::Holder>>,
    revocations: tokio::sync::watch::Sender<Revocations>,
}

impl TokenCache {
    /// A cache over `db`'s tokens, and the task that watches revocations (it ends when the
    /// cache is dropped).
    pub fn start(db: ReadDb) -> std::sync::Arc<Self> {
        let cache = std::sync::Arc::new(Self {
            db,
            known: std::sync::Mutex::default(),
            revocations: tokio::sync::watch::channel(Revocations::default()).0,
        });
        tokio::spawn(watch_revocations(std::sync::Arc::downgrade(&cache)));
        cache
    }

    /// What the service knows of revocations, to watch.
    pub fn revocations(&self) -> tokio::sync::watch::Receiver<Revocations> {
        self.revocations.subscribe()
    }

    fn forget(&self) {
        self.known.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The name and role of the active, unexpired token `token`, if any: from the cache while
    /// the service is in touch with the store's revocations, else from the store.
    pub async fn verify(&self, token: &str) -> Result<Option<(String, Role)>, sqlx::Error> {
        let key = hash(token);
        let now = now();
        let in_touch = self.revocations.borrow().in_touch;
        let cached = in_touch
            .then(|| {
                let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
                known.get(&key).cloned()
            })
            .flatten();
        let holder = match cached {
            Some(h) => Some(h),
            None => {
                let seen = self.revocations.borrow().seen;
                let found = tokens::by_hash(&self.db, &key).await?;
                if let Some(h) = &found {
                    let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
                    // Kept only if no revocation was seen meanwhile (it might be this one's).
                    if self.revocations.borrow().seen == seen {
                        if known.len() >= KNOWN {
                            known.clear();
                        }
                        known.insert(key, h.clone());
                    }
                }
                found
            }
        };
        Ok(holder
            .filter(|h| !expired(h.expires_at.as_deref(), &now))
            .and_then(|h| Some((h.name, Role::parse(&h.role)?))))
    }
}

async fn watch_revocations(cache: std::sync::Weak<TokenCache>) {
    let mut unanswered = 0u32;
    let mut ticks = tokio::time::interval(REVOCATION_POLL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(cache) = cache.upgrade() else {
            return;
        };
        let asked = tokens::revocations(&cache.db).await;
        let before = *cache.revocations.borrow();
        let now = match asked {
            Ok(seen) => {
                unanswered = 0;
                Revocations {
                    seen,
                    in_touch: true,
                }
            }
            Err(e) => {
                unanswered += 1;
                if unanswered == UNANSWERED {
                    tracing::warn!(error = %e, "cannot ask the store for revoked tokens: known tokens are checked again, live streams end");
                }
                Revocations {
                    seen: before.seen,
                    in_touch: before.in_touch && unanswered < UNANSWERED,
                }
            }
        };
        if now != before {
            cache.forget();
            cache.revocations.send_replace(now);
        }
    }
}
