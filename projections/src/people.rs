//! The people registry: personal details kept apart from the event log, which refers to
//! people by id only. Mutable, and erasable (GDPR art. 17): erasure empties the details and
//! keeps a tombstone (who erased, when, why), so every response can show the person as erased
//! while the log, which never held the details, stays intact and replays.

use std::collections::BTreeMap;

use crate::ReadDb;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use uuid::Uuid;

/// A person's name: trimmed, 1 to 200 characters, no control, bidirectional-override or
/// zero-width characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^.{1,200}$"))]
pub struct PersonName(String);

/// An e-mail address: one `@` with text on both sides, no spaces, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", schema(value_type = String, format = "email"))]
pub struct Email(String);

/// A phone number: digits with optional `+`, spaces, `-`, `.`, `(`, `)`; 4 to 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", schema(value_type = String, pattern = "^[0-9+ ().-]{4,32}$", example = "+352 58 40 34-1"))]
pub struct Phone(String);

macro_rules! string_value {
    ($t:ident, |$s:ident| $check:expr, $what:literal) => {
        impl TryFrom<String> for $t {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                let $s = raw.trim();
                if $check {
                    Ok(Self($s.to_owned()))
                } else {
                    // The value is not repeated: a refused answer is kept for idempotent
                    // retries, and must hold no personal data.
                    Err(format!("must be {}", $what))
                }
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
        impl $t {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

string_value!(
    PersonName,
    |s| !s.is_empty()
        && s.chars().count() <= 200
        && !s.chars().any(incubator_domain::values::is_unsafe_char),
    "a name (1 to 200 characters, no control, bidirectional-override or zero-width characters)"
);
string_value!(
    Email,
    |s| s.len() <= 254
        && !s
            .chars()
            .any(|c| c.is_whitespace() || incubator_domain::values::is_unsafe_char(c))
        && s.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && domain.contains('.')
        }),
    "an e-mail address"
);
string_value!(
    Phone,
    |s| (4..=32).contains(&s.len())
        && s.chars().any(|c| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')')),
    "a phone number"
);

/// A person's details as given.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Details {
    pub name: PersonName,
    #[serde(default)]
    pub email: Option<Email>,
    #[serde(default)]
    pub phone: Option<Phone>,
}

/// A person as every response shows them: details, or the fact of erasure.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Person {
    pub person_id: Uuid,
    /// Null once erased.
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub erased: bool,
    /// When the details were erased (RFC 3339), if they were.
    pub erased_at: Option<String>,
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PeopleError {
    #[error("no person {0}")]
    NotFound(Uuid),
    #[error("person {0} was erased; their details cannot be restored")]
    Erased(Uuid),
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// What was done with the registry, for its trail (who read or changed whose details, when;
/// never the details themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Registered,
    Updated,
    Erased,
    Read,
    Listed,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Registered => "registered",
            Access::Updated => "updated",
            Access::Erased => "erased",
            Access::Read => "read",
            Access::Listed => "listed",
        }
    }
}

/// One line of the registry's trail: who, when, what, for whom, and which fields by name.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrailEntry {
    /// RFC 3339, UTC.
    pub at: String,
    pub actor: String,
    /// registered, updated, erased, read or listed.
    pub action: String,
    /// The person, or null for a page of the registry.
    pub person_id: Option<String>,
    /// The fields given (`name,email`), or for a page how many people it showed.
    pub detail: String,
}

/// The fields `details` gives, by name.
fn given(details: &Details) -> String {
    let mut fields = vec!["name"];
    fields.extend(details.email.as_ref().map(|_| "email"));
    fields.extend(details.phone.as_ref().map(|_| "phone"));
    fields.join(",")
}

async fn trail(
    conn: &mut sqlx::AnyConnection,
    by: &str,
    access: Access,
    person: Option<Uuid>,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO people_trail (at, actor, action, person_id, detail) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(now())
    .bind(by)
    .bind(access.as_str())
    .bind(person.map(|p| p.to_string()))
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// Records that `by` read one person's details (`Some`) or a page of `n` people.
pub async fn record_read(
    db: &ReadDb,
    by: &str,
    person: Option<Uuid>,
    n: usize,
) -> Result<(), sqlx::Error> {
    let mut conn = db.pool.acquire().await?;
    match person {
        Some(id) => trail(&mut conn, by, Access::Read, Some(id), "").await,
        None => trail(&mut conn, by, Access::Listed, None, &format!("{n} people")).await,
    }
}

/// The trail of one person (`Some`) or of the whole registry, newest first, at most `limit`
/// lines.
pub async fn trail_of(
    db: &ReadDb,
    person: Option<Uuid>,
    limit: i64,
) -> Result<Vec<TrailEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT at, actor, action, person_id, detail FROM people_trail \
         WHERE $1 = '' OR person_id = $1 ORDER BY at DESC LIMIT $2",
    )
    .bind(person.map_or_else(String::new, |p| p.to_string()))
    .bind(limit)
    .fetch_all(&db.pool)
    .await
}

/// Adds a person for `by`; returns their new id.
pub async fn create(db: &ReadDb, details: &Details, by: &str) -> Result<Uuid, PeopleError> {
    let id = Uuid::now_v7();
    insert(db, id, details, by).await?;
    Ok(id)
}

/// Adds a person under a given id (for loaders that choose their ids, such as the demo), with
/// its line in the trail, in one transaction.
pub async fn insert(db: &ReadDb, id: Uuid, details: &Details, by: &str) -> Result<(), PeopleError> {
    let at = now();
    let mut tx = db.pool.begin().await?;
    sqlx::query(
        "INSERT INTO people (person_id, name, email, phone, created_at, updated_at, name_key) \
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(id.to_string())
    .bind(details.name.as_str())
    .bind(details.email.as_ref().map(Email::as_str))
    .bind(details.phone.as_ref().map(Phone::as_str))
    .bind(at)
    .bind(crate::records::name_key(details.name.as_str()))
    .execute(&mut *tx)
    .await?;
    trail(&mut tx, by, Access::Registered, Some(id), &given(details)).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces a person's details (refused once erased).
pub async fn update(db: &ReadDb, id: Uuid, details: &Details, by: &str) -> Result<(), PeopleError> {
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query(
        "UPDATE people SET name = $1, email = $2, phone = $3, updated_at = $4, name_key = $6 \
         WHERE person_id = $5 AND erased_at IS NULL",
    )
    .bind(details.name.as_str())
    .bind(details.email.as_ref().map(Email::as_str))
    .bind(details.phone.as_ref().map(Phone::as_str))
    .bind(now())
    .bind(id.to_string())
    .bind(crate::records::name_key(details.name.as_str()))
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        trail(&mut tx, by, Access::Updated, Some(id), &given(details)).await?;
        tx.commit().await?;
        return Ok(());
    }
    drop(tx);
    Err(match get(db, id).await? {
        Some(_) => PeopleError::Erased(id),
        None => PeopleError::NotFound(id),
    })
}

/// Erases a person's details for good, with who and why, in one transaction with what else
/// could hold them: the stored answers and fingerprints of requests that named the person
/// (idempotency keys, by their path or their answer), and the trail's line. Erasing again
/// changes nothing but runs the clean-up again, so a retry after a failure finishes it.
pub async fn erase(db: &ReadDb, id: Uuid, by: &str, reason: &str) -> Result<Person, PeopleError> {
    let mut conn = db.durable_conn().await?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let done = sqlx::query(
        "UPDATE people SET name = NULL, name_key = NULL, email = NULL, phone = NULL, updated_at = $1, \
         erased_at = $1, erased_by = $2, erasure_reason = $3 \
         WHERE person_id = $4 AND erased_at IS NULL",
    )
    .bind(now())
    .bind(by)
    .bind(reason)
    .bind(id.to_string())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM idempotency_keys WHERE path LIKE $1 OR body LIKE $1")
        .bind(format!("%{id}%"))
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 1 {
        trail(&mut tx, by, Access::Erased, Some(id), "").await?;
    }
    tx.commit().await?;
    drop(conn);
    get(db, id).await?.ok_or(PeopleError::NotFound(id))
}

fn person(row: &sqlx::any::AnyRow) -> Result<Person, sqlx::Error> {
    let id: String = row.try_get("person_id")?;
    let erased_at: Option<String> = row.try_get("erased_at")?;
    Ok(Person {
        person_id: Uuid::parse_str(&id).unwrap_or_default(),
        name: row.try_get("name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        erased: erased_at.is_some(),
        erased_at,
    })
}

/// One person, erased or not.
pub async fn get(db: &ReadDb, id: Uuid) -> Result<Option<Person>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT person_id, name, email, phone, erased_at FROM people WHERE person_id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(person).transpose()
}

/// A page of people by id, after `after`.
pub async fn list(
    db: &ReadDb,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Person>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT person_id, name, email, phone, erased_at FROM people \
         WHERE person_id > $1 ORDER BY person_id LIMIT $2",
    )
    .bind(after.map_or_else(String::new, |a| a.to_string()))
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(person).collect()
}

/// Which of `ids` name no one in the registry (erased people are still registered: their
/// tombstone stays).
pub async fn unregistered(
    db: &ReadDb,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<Vec<Uuid>, sqlx::Error> {
    let mut missing = Vec::new();
    for id in ids {
        let found = sqlx::query("SELECT 1 AS one FROM people WHERE person_id = $1")
            .bind(id.to_string())
            .fetch_optional(&db.pool)
            .await?;
        if found.is_none() && !missing.contains(&id) {
            missing.push(id);
        }
    }
    Ok(missing)
}

/// How a response names a person it refers to: their name, or that they were erased (or
/// never registered).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRef {
    pub name: Option<String>,
    pub erased: bool,
    /// False when the id is not in the registry.
    pub registered: bool,
}

/// The references for `ids`, for responses that mention people.
pub async fn describe(
    db: &ReadDb,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<BTreeMap<Uuid, PersonRef>, sqlx::Error> {
    let mut out = BTreeMap::new();
    for id in ids {
        if out.contains_key(&id) {
            continue;
        }
        let r = match get(db, id).await? {
            Some(p) => PersonRef {
                name: p.name,
                erased: p.erased,
                registered: true,
            },
            None => PersonRef {
                name: None,
                erased: false,
                registered: false,
            },
        };
        out.insert(id, r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_checked() {
        let ok = |s: &str| Email::try_from(s.to_owned()).is_ok();
        assert!(ok("ana@1535.lu"));
        assert!(!ok("ana"));
        assert!(!ok("ana@lu"));
        assert!(!ok("a na@1535.lu"));
        assert!(!ok("@1535.lu"));
        let phone = |s: &str| Phone::try_from(s.to_owned()).is_ok();
        assert!(phone("+352 58 40 34-1"));
        assert!(!phone("call me"));
        assert!(!phone("12"));
        let name = |s: &str| PersonName::try_from(s.to_owned()).is_ok();
        assert!(name("Ana Lúcia Pereira"));
        assert!(!name("   "));
        assert!(!name(&"x".repeat(201)));
    }
}
