//! The read-side database handle and the schema.

use std::borrow::Cow;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};

/// Which SQL dialect the store speaks; the few statements that differ are chosen by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The database's clock now, in milliseconds since the Unix epoch, as an SQL expression:
    /// one clock for every process that compares times written by another.
    pub fn now_ms(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
            Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }
}

/// A pool on the event store's database for the projector and the read endpoints.
#[derive(Debug, Clone)]
pub struct ReadDb {
    pub pool: AnyPool,
    pub dialect: Dialect,
}

/// A migration's SQL: one file for both dialects, or one for each (the event store itself,
/// and anything using a dialect's own types).
enum Sql {
    Shared(&'static str),
    Each {
        sqlite: &'static str,
        postgres: &'static str,
    },
}

macro_rules! shared {
    ($file:literal) => {
        Sql::Shared(include_str!(concat!(
            "../migrations/shared/",
            $file,
            ".sql"
        )))
    };
}

macro_rules! each {
    ($file:literal) => {
        Sql::Each {
            sqlite: include_str!(concat!("../migrations/sqlite/", $file, ".sql")),
            postgres: include_str!(concat!("../migrations/postgres/", $file, ".sql")),
        }
    };
}

/// Every migration, in order: `migrations/shared/` when the SQL is the same on both stores,
/// `migrations/{sqlite,postgres}/` when it differs.
const MIGRATIONS: [(i64, &str, Sql); 19] = [
    (1, "0001_event_store", each!("0001_event_store")),
    (2, "0002_funding", each!("0002_funding")),
    (3, "0003_tokens", shared!("0003_tokens")),
    (4, "0004_idempotency", each!("0004_idempotency")),
    (5, "0005_people", shared!("0005_people")),
    (6, "0006_projector_lease", each!("0006_projector_lease")),
    (7, "0007_mentorship", each!("0007_mentorship")),
    (8, "0008_collaborations", shared!("0008_collaborations")),
    (9, "0009_space_usage", each!("0009_space_usage")),
    (10, "0010_funding_stages", shared!("0010_funding_stages")),
    (11, "0011_audit_seal", shared!("0011_audit_seal")),
    (
        12,
        "0012_bookings_kept_mentors_released",
        shared!("0012_bookings_kept_mentors_released"),
    ),
    (
        13,
        "0013_token_names_reused",
        shared!("0013_token_names_reused"),
    ),
    (14, "0014_records", shared!("0014_records")),
    (15, "0015_pending_changes", shared!("0015_pending_changes")),
    (16, "0016_people_trail", shared!("0016_people_trail")),
    (17, "0017_token_expiry", shared!("0017_token_expiry")),
    (18, "0018_commit_seals", each!("0018_commit_seals")),
    (19, "0019_key_owners", shared!("0019_key_owners")),
];

/// A digest of the whole schema as `dialect` builds it (every migration's version and SQL):
/// equal digests, equal schemas. Test suites name a migrated template database by it.
pub fn schema_digest(dialect: Dialect) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for m in migrator(dialect).iter() {
        h.update(m.version.to_be_bytes());
        h.update(m.sql.as_bytes());
    }
    hex::encode(&h.finalize()[..8])
}

fn migrator(dialect: Dialect) -> Migrator {
    let migrations = MIGRATIONS
        .iter()
        .map(|(version, name, sql)| {
            let sql = match (sql, dialect) {
                (Sql::Shared(sql), _) => *sql,
                (Sql::Each { sqlite, .. }, Dialect::Sqlite) => *sqlite,
                (Sql::Each { postgres, .. }, Dialect::Postgres) => *postgres,
            };
            Migration::new(
                *version,
                Cow::Borrowed(*name),
                MigrationType::Simple,
                Cow::Borrowed(sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ignore_missing: false,
        locking: true,
        no_tx: false,
    }
}

impl ReadDb {
    /// Connects to `url` (a `sqlite://` or `postgres://` URL whose database exists).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        Self::connect_as(url, max_connections, false).await
    }

    /// [`ReadDb::connect`] for the event log's appends: every commit is synced before it
    /// returns (SQLite's `synchronous = FULL`, PostgreSQL's `synchronous_commit = on`).
    pub async fn connect_durable(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        Self::connect_as(url, max_connections, true).await
    }

    async fn connect_as(
        url: &str,
        max_connections: u32,
        durable: bool,
    ) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        };
        let pool = AnyPoolOptions::new()
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    // The event store's own connections sync every commit. Writes here (read
                    // models, checkpoints, idempotency keys) need not wait for their own sync:
                    // the WAL is one sequence, so the next event commit's sync makes them
                    // durable too, and any lost after the last one are rebuilt (a model from
                    // its checkpoint, a key's response from the log). Writes that must be
                    // durable on their own (tokens) use `durable_conn`.
                    let sql = match (dialect, durable) {
                        (Dialect::Sqlite, false) => "PRAGMA synchronous = NORMAL",
                        (Dialect::Postgres, false) => "SET synchronous_commit = off",
                        (Dialect::Sqlite, true) => "PRAGMA synchronous = FULL",
                        (Dialect::Postgres, true) => "SET synchronous_commit = on",
                    };
                    sqlx::Executor::execute(&mut *conn, sql).await?;
                    if dialect == Dialect::Sqlite {
                        // Writers wait up to 10 s for the write lock (sqlx's default is 5 s), as
                        // the event store's own connections do: a rebuild's swap of a large
                        // model holds it for seconds.
                        sqlx::Executor::execute(&mut *conn, "PRAGMA busy_timeout = 10000").await?;
                        // Up to 32 MiB of page cache (SQLite's default is 2 MiB): read models
                        // are written in index order only by luck, and a rebuild thrashes a
                        // small cache.
                        sqlx::Executor::execute(&mut *conn, "PRAGMA cache_size = -32768").await?;
                        // What a write frees is overwritten with zeros, not left in the file's
                        // free space: an erased person's details must not stay readable on
                        // disk (the registry is written on these connections).
                        sqlx::Executor::execute(&mut *conn, "PRAGMA secure_delete = ON").await?;
                    }
                    Ok(())
                })
            })
            .max_connections(max_connections)
            .min_connections(0)
            .acquire_timeout(Duration::from_secs(5))
            // A ping on every checkout costs a round trip per query; a dead connection surfaces
            // as an error on use instead, and the pool replaces it.
            .test_before_acquire(false)
            .connect(url)
            .await?;
        Ok(Self { pool, dialect })
    }

    /// A connection whose commits are synced before they return (for writes nothing else
    /// would make durable, such as revoking a token).
    pub async fn durable_conn(&self) -> Result<PoolConnection<Any>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        let sql = match self.dialect {
            Dialect::Sqlite => "PRAGMA synchronous = FULL",
            Dialect::Postgres => "SET synchronous_commit = on",
        };
        sqlx::Executor::execute(&mut *conn, sql).await?;
        Ok(conn)
    }

    /// Brings the schema up to date (idempotent; PostgreSQL takes a lock so that several
    /// processes starting together migrate once).
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        migrator(self.dialect).run(&self.pool).await
    }
}

/// Reads a column that is text on both stores.
pub(crate) fn text(row: &AnyRow, col: &str) -> Result<String, sqlx::Error> {
    sqlx::Row::try_get(row, col)
}

/// Reads a column that is an integer on both stores.
pub(crate) fn int(row: &AnyRow, col: &str) -> Result<i64, sqlx::Error> {
    sqlx::Row::try_get(row, col)
}

/// How a column travels in [`insert_json_rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonColumn {
    Text,
    Int,
    /// JSON text into a JSON column (`jsonb` on PostgreSQL).
    Json,
    /// An RFC 3339 instant into a time column (`timestamptz` on PostgreSQL).
    Timestamp,
}

/// Inserts `rows` (JSON arrays, one value per column) into `table` in one round trip.
///
/// On PostgreSQL the rows travel as one JSON parameter unpacked by `jsonb_array_elements`
/// (measured no slower than a `VALUES` list of parameters). On SQLite they are a multi-row
/// `VALUES` list of anonymous `?` parameters: anonymous, because sqlx's SQLite driver asks for
/// every parameter's name and SQLite finds a numbered parameter's name by a linear scan (500
/// rows of `$N` cost time growing with the square of their number); not one JSON parameter
/// through `json_each`, which parses each row again for every column (measured slower in
/// `bench rebuild`). One statement per row would be a hand-over to sqlx's worker thread each.
pub async fn insert_json_rows(
    conn: &mut sqlx::AnyConnection,
    dialect: Dialect,
    table: &str,
    columns: &[(&str, JsonColumn)],
    rows: Vec<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    insert_json_rows_as(conn, dialect, table, columns, rows, false).await
}

/// The `i`th value of a row `j` of a JSON array of rows (`json_each(…) AS j` on SQLite,
/// `jsonb_array_elements(…) AS j` on PostgreSQL), as a column of `kind`.
fn element(dialect: Dialect, i: usize, kind: JsonColumn) -> String {
    match (dialect, kind) {
        (Dialect::Sqlite, _) => format!("json_extract(j.value, '$[{i}]')"),
        (Dialect::Postgres, JsonColumn::Text) => format!("j->>{i}"),
        (Dialect::Postgres, JsonColumn::Int) => format!("(j->>{i})::bigint"),
        (Dialect::Postgres, JsonColumn::Json) => format!("(j->>{i})::jsonb"),
        (Dialect::Postgres, JsonColumn::Timestamp) => format!("(j->>{i})::timestamptz"),
    }
}

/// A column [`update_json_rows`] sets: its name, how it travels, and whether a JSON null
/// keeps the row's value (`keep`) instead of writing NULL.
#[derive(Debug, Clone, Copy)]
pub struct SetColumn<'a> {
    pub name: &'a str,
    pub kind: JsonColumn,
    pub keep: bool,
}

/// Updates rows of `table` in one round trip: each of `rows` (a JSON array) names its row by
/// its first `keys.len()` values and sets `sets` from the values after them.
pub async fn update_json_rows(
    conn: &mut sqlx::AnyConnection,
    dialect: Dialect,
    table: &str,
    (keys, sets): (&[(&str, JsonColumn)], &[SetColumn<'_>]),
    rows: Vec<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let value = |i: usize, kind: JsonColumn| element(dialect, i, kind);
    let set: Vec<String> = sets
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let v = value(keys.len() + n, c.kind);
            if c.keep {
                format!("{} = COALESCE({v}, {table}.{})", c.name, c.name)
            } else {
                format!("{} = {v}", c.name)
            }
        })
        .collect();
    let matched: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| format!("{table}.{name} = {}", value(i, *kind)))
        .collect();
    let from = match dialect {
        Dialect::Sqlite => "json_each($1) AS j",
        Dialect::Postgres => "jsonb_array_elements(CAST($1 AS jsonb)) AS j",
    };
    let sql = format!(
        "UPDATE {table} SET {} FROM {from} WHERE {}",
        set.join(", "),
        matched.join(" AND ")
    );
    sqlx::query(&sql)
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// [`insert_json_rows`], giving identity columns their values from the rows when `identity`
/// (PostgreSQL's `OVERRIDING SYSTEM VALUE`; SQLite takes them as given).
pub async fn insert_json_rows_as(
    conn: &mut sqlx::AnyConnection,
    dialect: Dialect,
    table: &str,
    columns: &[(&str, JsonColumn)],
    rows: Vec<serde_json::Value>,
    identity: bool,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    if dialect == Dialect::Sqlite {
        return insert_sqlite_values(conn, table, &names, rows).await;
    }
    // PostgreSQL from here: the rows as one JSON array, expanded by the server.
    let values: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| element(dialect, i, *kind))
        .collect();
    let overriding = if identity {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO {table} ({}){overriding} SELECT {} \
         FROM jsonb_array_elements(CAST($1 AS jsonb)) AS j",
        names.join(", "),
        values.join(", ")
    );
    sqlx::query(&sql)
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(conn)
        .await?;
    Ok(())
}

/// The most parameters one SQLite statement takes (`SQLITE_MAX_VARIABLE_NUMBER`: 32,766 since
/// 3.32), with room to spare.
const SQLITE_MAX_PARAMETERS: usize = 32_000;

/// [`insert_json_rows_as`] on SQLite: multi-row `VALUES` lists of anonymous parameters, each
/// value bound as `json_extract` would have made it (text, integer, real, NULL; arrays and
/// objects as JSON text).
async fn insert_sqlite_values(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    names: &[&str],
    rows: Vec<serde_json::Value>,
) -> Result<(), sqlx::Error> {
    use serde_json::Value;
    let width = names.len().max(1);
    let tuple = format!("({})", vec!["?"; width].join(","));
    let per_statement = (SQLITE_MAX_PARAMETERS / width).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Value> = rows.by_ref().take(per_statement).collect();
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", names.join(", "));
        sql.reserve(chunk.len() * (tuple.len() + 1));
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push(',');
            }
            sql.push_str(&tuple);
        }
        let mut q = sqlx::query(&sql);
        for row in chunk {
            let mut cells = match row {
                Value::Array(cells) => cells,
                other => vec![other],
            };
            cells.resize(width, Value::Null);
            for cell in cells {
                q = match cell {
                    Value::Null => q.bind(None::<String>),
                    Value::Bool(b) => q.bind(i64::from(b)),
                    Value::Number(n) => match n.as_i64() {
                        Some(v) => q.bind(v),
                        None => q.bind(n.as_f64()),
                    },
                    Value::String(v) => q.bind(v),
                    other => q.bind(other.to_string()),
                };
            }
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
