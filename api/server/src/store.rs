//! The event store: opening either backend, the repository wrapper around sqlite-es and
//! postgres-es, and command dispatch.
//!
//! Commands are dispatched here rather than through `CqrsFramework::execute` for three
//! reasons, each recorded in `docs/architecture.md`:
//! - `If-Match` needs the loaded version before `handle` runs, and `execute` exposes none;
//! - the new version and global position go back to the client, and `execute` returns `()`;
//! - cqrs-es 0.5's `EventSink` applies events to the aggregate while `handle` runs, and the
//!   snapshot store then applies them again to the same aggregate before saving the snapshot,
//!   so a snapshot taken through `execute` holds every event of that command twice. Handling on
//!   a copy and committing the untouched context gives snapshots that equal a full replay.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{
    PersistedEventRepository, PersistedEventStore, PersistenceError, ReplayStream, SerializedEvent,
    SerializedSnapshot,
};
use cqrs_es::{Aggregate, AggregateError, EventStore};
use incubator_domain::collaboration::Collaboration;
use incubator_domain::mentor::Mentor;
use incubator_domain::residency::Residency;
use incubator_domain::space::Space;
use incubator_domain::startup::Startup;
use incubator_projections::log::{self, Checkpoint};
use incubator_projections::{Dialect, ReadDb};
use postgres_es::PostgresEventRepository;
use serde_json::Value;
use sqlite_es::SqliteEventRepository;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, PgConnection, PgPool, SqlitePool};
use tokio::sync::Notify;

/// Events between two snapshots: loading an aggregate reads one snapshot and fewer than this
/// many events, however long its history.
pub const SNAPSHOT_EVERY: usize = 25;

/// How often a command is retried when another writer appended to the same aggregate between
/// our load and our append (only without `If-Match`: with it, the conflict is the client's).
const CONFLICT_RETRIES: usize = 3;

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    Scheme(String),
    #[error("the database did not answer within 10 s")]
    Unreachable,
    #[error("cannot open the database: {0}")]
    Connect(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// One of the two backends' typed pools, for the cqrs-es repositories.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Read models replayed as of an instant at once, each on one connection of [`Store::heavy`].
pub const REPLAYS: u32 = 2;

/// Connections for work whose cost grows with the history ([`Store::heavy`]): the replays,
/// and one verification (three connections: events, seals, the next batch) or one
/// consistency check.
pub const HEAVY_CONNECTIONS: u32 = REPLAYS + 3;

/// The event store of one database, and the read-side pool on the same database.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    /// The event log's appends: each command's events, their seals and the snapshot in one
    /// transaction, synced at commit (`incubator_projections::append`).
    writes: ReadDb,
    /// The read side: history, read models, exports (the projectors have their own).
    pub read: ReadDb,
    /// Work whose cost grows with the history (read models as of an instant, verification,
    /// consistency checks), on connections of its own ([`HEAVY_CONNECTIONS`]): it never takes
    /// the read side's.
    pub heavy: ReadDb,
    /// What a command touches besides the event store (its idempotency key, the journal of a
    /// change across two records, its position in the log) and token checks, on connections
    /// of their own: a flood of reads, exports or checks never makes a command or a sign-in
    /// wait for a connection.
    pub commands: ReadDb,
    /// The projectors' and the sealer's connections: a flood of reads never delays the read
    /// models' progress (nor the reads that wait for it with `min_position`).
    pub projectors: ReadDb,
    /// One connection of its own for the background probe of the store's health
    /// (`http::health`): it never waits behind requests.
    pub probe: ReadDb,
    /// Woken after every commit, so the projector picks up local writes at once.
    pub committed: Arc<Notify>,
    startups: Arc<PersistedEventStore<EventRepo, Startup>>,
    mentors: Arc<PersistedEventStore<EventRepo, Mentor>>,
    spaces: Arc<PersistedEventStore<EventRepo, Space>>,
    residencies: Arc<PersistedEventStore<EventRepo, Residency>>,
    collaborations: Arc<PersistedEventStore<EventRepo, Collaboration>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.read.dialect)
            .finish()
    }
}

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Self, OpenError> {
        let (backend, read_url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.trim_start_matches("//");
            let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            (Backend::Sqlite(pool), format!("sqlite://{path}"))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url)?;
            // One direct connection first: an unreachable server then reports its own cause
            // ("connection refused") instead of the pool's "timed out".
            let probe = tokio::time::timeout(
                Duration::from_secs(10),
                PgConnection::connect_with(&options),
            )
            .await
            .map_err(|_| OpenError::Unreachable)??;
            let _ = probe.close().await;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .min_connections(1)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await?;
            (Backend::Postgres(pool), url.to_owned())
        } else {
            return Err(OpenError::Scheme(url.to_owned()));
        };
        let read = ReadDb::connect(&read_url, 8).await?;
        read.migrate().await?;
        // A log written by an earlier version (whose seals were written after the commit)
        // is sealed up to where this version began to seal each event with its append.
        // SQLite has one writer at a time: a second connection only overlaps preparation.
        let sized = |sqlite: u32, postgres: u32| match read.dialect {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        };
        let writes = ReadDb::connect_durable(&read_url, sized(2, 8)).await?;
        {
            let mut conn = writes.pool.begin().await?;
            let adopted = incubator_projections::audit::adopt(&mut conn, read.dialect).await?;
            conn.commit().await?;
            if adopted > 0 {
                tracing::info!(
                    adopted,
                    "sealed the events an earlier version had not sealed"
                );
            }
        }
        let heavy = ReadDb::connect(&read_url, HEAVY_CONNECTIONS).await?;
        let probe = ReadDb::connect(&read_url, 1).await?;
        let projectors = ReadDb::connect(&read_url, sized(2, 4)).await?;
        let commands = ReadDb::connect(&read_url, 4).await?;
        let repo = || EventRepo::new(&backend, &writes);
        // One store per aggregate, each snapshotting every SNAPSHOT_EVERY events.
        macro_rules! stores {
            ($($name:ident),*) => {
                $(let $name = Arc::new(PersistedEventStore::new_snapshot_store(repo(), SNAPSHOT_EVERY));)*
            };
        }
        stores!(startups, mentors, spaces, residencies, collaborations);
        Ok(Self {
            backend,
            writes,
            read,
            heavy,
            probe,
            projectors,
            commands,
            committed: Arc::new(Notify::new()),
            startups,
            mentors,
            spaces,
            residencies,
            collaborations,
        })
    }

    /// A fresh repository on this store's pool (for tools that build their own cqrs-es
    /// framework, such as the benchmark's baseline).
    pub fn new_repo(&self) -> EventRepo {
        EventRepo::new(&self.backend, &self.writes)
    }

    /// The startup event store.
    pub fn startups(&self) -> &PersistedEventStore<EventRepo, Startup> {
        &self.startups
    }

    /// The mentor event store.
    pub fn mentors(&self) -> &PersistedEventStore<EventRepo, Mentor> {
        &self.mentors
    }

    /// The space event store.
    pub fn spaces(&self) -> &PersistedEventStore<EventRepo, Space> {
        &self.spaces
    }

    /// The residency event store.
    pub fn residencies(&self) -> &PersistedEventStore<EventRepo, Residency> {
        &self.residencies
    }

    /// The collaboration event store.
    pub fn collaborations(&self) -> &PersistedEventStore<EventRepo, Collaboration> {
        &self.collaborations
    }

    /// Closes every pool.
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(p) => p.close().await,
            Backend::Postgres(p) => p.close().await,
        }
        self.writes.pool.close().await;
        self.read.pool.close().await;
        self.heavy.pool.close().await;
        self.probe.pool.close().await;
        self.projectors.pool.close().await;
        self.commands.pool.close().await;
    }

    /// Where an aggregate's event at `sequence` sits in the global log.
    pub async fn locate(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        sequence: i64,
    ) -> Result<Option<Checkpoint>, sqlx::Error> {
        let mut conn = self.commands.pool.acquire().await?;
        log::locate(
            &mut conn,
            self.commands.dialect,
            aggregate_type,
            aggregate_id,
            sequence,
        )
        .await
    }

    /// Discards the idle connections of every pool that no longer reach the database (after an
    /// outage, while requests were refused at once and touched none), so that the first
    /// requests after it do not meet them. Checks each idle connection once, a second at most.
    pub async fn sweep(&self) {
        match &self.backend {
            Backend::Sqlite(p) => sweep(p).await,
            Backend::Postgres(p) => sweep(p).await,
        }
        sweep(&self.writes.pool).await;
        sweep(&self.read.pool).await;
        sweep(&self.heavy.pool).await;
        sweep(&self.commands.pool).await;
        sweep(&self.projectors.pool).await;
    }

    /// The store's dialect.
    pub fn dialect(&self) -> Dialect {
        self.read.dialect
    }

    /// Runs `command` against aggregate `id`: loads it, checks the expected version, lets the
    /// domain decide, appends the events with `metadata`. Appends nothing on any error.
    #[tracing::instrument(skip_all, fields(aggregate = A::TYPE, aggregate_id = %id))]
    pub async fn execute<A>(
        &self,
        store: &PersistedEventStore<EventRepo, A>,
        id: &str,
        command: A::Command,
        expected_version: Option<u64>,
        metadata: HashMap<String, String>,
    ) -> Result<Committed, CommandError<A::Error>>
    where
        A: Aggregate<Services = ()> + Clone,
        A::Command: Clone,
        A::Error: Clone,
        A::Event: incubator_domain::AnswerIds,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let context = store.load_aggregate(id).await.map_err(CommandError::from)?;
            let current = context.current_sequence as u64;
            if let Some(expected) = expected_version {
                if expected != current {
                    return Err(CommandError::VersionMismatch { current });
                }
            }
            // Handle on a copy: the sink applies events to it, and the context stays as loaded
            // so that the snapshot store applies each event exactly once.
            let mut scratch = context.aggregate.clone();
            let sink = EventSink::default();
            scratch
                .handle(command.clone(), &(), &sink)
                .await
                .map_err(CommandError::Rule)?;
            let events = sink.collect().await;
            if events.is_empty() {
                return Ok(Committed {
                    version: current,
                    checkpoint: None,
                    events: Vec::new(),
                });
            }
            // The append hands back where its last event sits in the log: no query after it.
            let last_appended = Arc::new(std::sync::Mutex::new(None));
            let committed = APPENDED
                .scope(
                    last_appended.clone(),
                    store.commit(events, context, metadata.clone()),
                )
                .await;
            match committed {
                Ok(envelopes) => {
                    self.committed.notify_waiters();
                    let version = envelopes.last().map_or(current, |e| e.sequence as u64);
                    let appended = envelopes
                        .iter()
                        .map(|e| Appended {
                            aggregate_type: A::TYPE.to_owned(),
                            aggregate_id: id.to_owned(),
                            sequence: e.sequence as u64,
                            event_type: cqrs_es::DomainEvent::event_type(&e.payload),
                            answer_id: incubator_domain::AnswerIds::answer_id(&e.payload),
                        })
                        .collect();
                    let checkpoint = match last_appended.lock().ok().and_then(|mut a| a.take()) {
                        Some(at) => Some(at),
                        None => self
                            .locate(A::TYPE, id, version as i64)
                            .await
                            .ok()
                            .flatten(),
                    };
                    return Ok(Committed {
                        version,
                        checkpoint,
                        events: appended,
                    });
                }
                Err(AggregateError::AggregateConflict)
                    if expected_version.is_none() && attempt <= CONFLICT_RETRIES =>
                {
                    tracing::debug!(attempt, "concurrent append; retrying on fresh state");
                }
                Err(AggregateError::AggregateConflict) if expected_version.is_some() => {
                    // Another writer moved the record past the version the client named.
                    let current = store
                        .load_aggregate(id)
                        .await
                        .map_err(CommandError::from)?
                        .current_sequence as u64;
                    return Err(CommandError::VersionMismatch { current });
                }
                Err(e) => return Err(CommandError::from(e)),
            }
        }
    }

    /// Loads an aggregate's current state and version (0 when it does not exist).
    pub async fn load<A>(
        &self,
        store: &PersistedEventStore<EventRepo, A>,
        id: &str,
    ) -> Result<(A, u64), CommandError<A::Error>>
    where
        A: Aggregate,
    {
        let context = store.load_aggregate(id).await.map_err(CommandError::from)?;
        Ok((context.aggregate, context.current_sequence as u64))
    }
}

/// What a successful command appended.
#[derive(Debug, Clone)]
pub struct Committed {
    /// The aggregate's version after the command (the sequence of its last event).
    pub version: u64,
    /// Where the last event sits in the global log (`None` if no event was appended, or if the
    /// position could not be read back after the commit).
    pub checkpoint: Option<Checkpoint>,
    /// The events appended, in order.
    pub events: Vec<Appended>,
}

/// One event a command appended, and the record it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Appended {
    /// The record's kind: `Startup`, `Mentor`, `Space`, `Residency`, `Collaboration`.
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// Its place in the record's history.
    pub sequence: u64,
    pub event_type: String,
    /// The sub-record the event created, by the answer's name for its id.
    #[serde(skip)]
    pub answer_id: Option<(&'static str, uuid::Uuid)>,
}

/// The sub-record an event (as stored: its aggregate's type and payload) created, by the
/// answer's name for its id.
pub fn answer_id_of(aggregate_type: &str, payload: &str) -> Option<(&'static str, uuid::Uuid)> {
    use incubator_domain::AnswerIds;
    fn of<E: serde::de::DeserializeOwned + AnswerIds>(
        payload: &str,
    ) -> Option<(&'static str, uuid::Uuid)> {
        serde_json::from_str::<E>(payload).ok()?.answer_id()
    }
    match aggregate_type {
        t if t == Startup::TYPE => of::<<Startup as Aggregate>::Event>(payload),
        t if t == Mentor::TYPE => of::<<Mentor as Aggregate>::Event>(payload),
        t if t == Space::TYPE => of::<<Space as Aggregate>::Event>(payload),
        t if t == Residency::TYPE => of::<<Residency as Aggregate>::Event>(payload),
        t if t == Collaboration::TYPE => of::<<Collaboration as Aggregate>::Event>(payload),
        _ => None,
    }
}

/// The collection under `/api/v1` that holds records of `aggregate_type`.
pub fn collection_of(aggregate_type: &str) -> Option<&'static str> {
    [
        (Startup::TYPE, "startups"),
        (Mentor::TYPE, "mentors"),
        (Space::TYPE, "spaces"),
        (Residency::TYPE, "residencies"),
        (Collaboration::TYPE, "collaborations"),
    ]
    .into_iter()
    .find(|(t, _)| *t == aggregate_type)
    .map(|(_, c)| c)
}

impl Appended {
    /// The id `field` names among `events`, if one of them created it.
    pub fn find(events: &[Appended], field: &str) -> Option<uuid::Uuid> {
        events
            .iter()
            .rev()
            .find_map(|e| e.answer_id.filter(|(f, _)| *f == field).map(|(_, id)| id))
    }
}

/// Why a command was not applied. Nothing was appended in any case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The domain refused the command.
    #[error("{0}")]
    Rule(E),
    /// `If-Match` named another version than the current one.
    #[error("the record is at version {current}")]
    VersionMismatch { current: u64 },
    /// Another writer appended first, and retrying did not help.
    #[error("another change to this record was committed at the same time; retry")]
    Conflict,
    /// The database cannot be reached.
    #[error("the store is unavailable: {0}")]
    Unavailable(Box<dyn std::error::Error + Send + Sync>),
    /// Anything else (a bug or a corrupt record): logged, never shown in detail.
    #[error("internal error: {0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl<E: std::error::Error> From<AggregateError<E>> for CommandError<E> {
    fn from(e: AggregateError<E>) -> Self {
        match e {
            AggregateError::UserError(e) => Self::Rule(e),
            AggregateError::AggregateConflict => Self::Conflict,
            AggregateError::DatabaseConnectionError(e) => Self::Unavailable(e),
            AggregateError::DeserializationError(e) => Self::Internal(e),
            AggregateError::UnexpectedError(e) => {
                if matches!(
                    e.downcast_ref::<incubator_projections::append::AppendError>(),
                    Some(incubator_projections::append::AppendError::KeyLost)
                ) {
                    // A retry runs the command instead: this attempt conflicts with it.
                    Self::Conflict
                } else if is_unavailable(e.as_ref()) {
                    Self::Unavailable(e)
                } else {
                    Self::Internal(e)
                }
            }
        }
    }
}

/// Whether an error means the database is out of reach (rather than a bug).
pub fn is_unavailable(e: &(dyn std::error::Error + 'static)) -> bool {
    match e.downcast_ref::<sqlx::Error>() {
        Some(sqlx::Error::Io(_))
        | Some(sqlx::Error::Tls(_))
        | Some(sqlx::Error::PoolTimedOut)
        | Some(sqlx::Error::PoolClosed)
        | Some(sqlx::Error::WorkerCrashed)
        // The conversation broke off, typically a server closing connections mid-handshake
        // as it goes down.
        | Some(sqlx::Error::Protocol(_)) => true,
        Some(sqlx::Error::Database(db)) => {
            // PostgreSQL: admin shutdown, cannot connect now, too many connections.
            matches!(
                db.code().as_deref(),
                Some("57P01") | Some("57P02") | Some("57P03") | Some("53300")
            )
        }
        _ => false,
    }
}

async fn sweep<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) {
    let mut held = Vec::new();
    while let Some(mut conn) = pool.try_acquire() {
        let alive = tokio::time::timeout(Duration::from_secs(1), conn.ping()).await;
        if !matches!(alive, Ok(Ok(()))) {
            conn.close_on_drop();
        }
        held.push(conn);
    }
}

tokio::task_local! {
    /// The idempotency key attempt a request's commands run under (set by the idempotency
    /// middleware around the handler): each append checks and counts it in its transaction.
    pub static HOLDER: incubator_projections::keys::Holder;
    /// Where the last event of the append `Store::execute` is waiting for sits in the log.
    static APPENDED: Arc<std::sync::Mutex<Option<Checkpoint>>>;
}

/// The cqrs-es repository for either backend: loads through sqlite-es or postgres-es
/// (classifying their errors the same way), and appends through
/// `incubator_projections::append`, which writes each event's seal in the events' own
/// transaction (see `docs/architecture.md`).
pub struct EventRepo {
    loads: Loads,
    writes: ReadDb,
}

enum Loads {
    Sqlite(SqliteEventRepository),
    Postgres(PostgresEventRepository),
}

impl EventRepo {
    fn new(backend: &Backend, writes: &ReadDb) -> Self {
        let loads = match backend {
            Backend::Sqlite(p) => Loads::Sqlite(SqliteEventRepository::new(p.clone())),
            Backend::Postgres(p) => Loads::Postgres(PostgresEventRepository::new(p.clone())),
        };
        Self {
            loads,
            writes: writes.clone(),
        }
    }
}

/// sqlite-es recognises a concurrent append by SQLite's primary-key error (1555); our events
/// table keys on `position` and makes (aggregate, sequence) `UNIQUE`, which fails with 2067.
/// Both mean another writer appended that sequence first. Pool and I/O failures become
/// connection errors on both backends.
fn classify(e: PersistenceError) -> PersistenceError {
    match e {
        PersistenceError::UnknownError(inner) => {
            if let Some(sqlx::Error::Database(db)) = inner.downcast_ref::<sqlx::Error>() {
                if db.code().as_deref() == Some("2067") {
                    return PersistenceError::OptimisticLockError;
                }
            }
            if is_unavailable(inner.as_ref()) {
                PersistenceError::ConnectionError(inner)
            } else {
                PersistenceError::UnknownError(inner)
            }
        }
        other => other,
    }
}

macro_rules! delegate {
    ($self:ident, $repo:ident => $call:expr) => {
        match &$self.loads {
            Loads::Sqlite($repo) => $call.await.map_err(classify),
            Loads::Postgres($repo) => $call.await.map_err(classify),
        }
    };
}

impl PersistedEventRepository for EventRepo {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        delegate!(self, r => r.get_events::<A>(aggregate_id))
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        delegate!(self, r => r.get_last_events::<A>(aggregate_id, last_sequence))
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        delegate!(self, r => r.get_snapshot::<A>(aggregate_id))
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        use incubator_projections::append::{append, AppendError, NewEvent, NewSnapshot};
        let new: Vec<NewEvent<'_>> = events
            .iter()
            .map(|e| NewEvent {
                aggregate_type: A::TYPE,
                aggregate_id: &e.aggregate_id,
                sequence: e.sequence as i64,
                event_type: &e.event_type,
                event_version: &e.event_version,
                payload: &e.payload,
                metadata: &e.metadata,
            })
            .collect();
        let snapshot = snapshot_update
            .as_ref()
            .map(|(id, payload, current)| NewSnapshot {
                aggregate_type: A::TYPE,
                aggregate_id: id,
                last_sequence: events.last().map_or(0, |e| e.sequence as i64),
                current_snapshot: *current as i64,
                payload,
            });
        let holder = HOLDER.try_with(Clone::clone).ok();
        match append(&self.writes, &new, snapshot, holder.as_ref()).await {
            Ok(logged) => {
                let _ = APPENDED.try_with(|at| {
                    if let Ok(mut at) = at.lock() {
                        *at = logged.last().map(|e| e.checkpoint);
                    }
                });
                Ok(())
            }
            Err(AppendError::Conflict) => Err(PersistenceError::OptimisticLockError),
            Err(e @ AppendError::KeyLost) => Err(PersistenceError::UnknownError(Box::new(e))),
            Err(AppendError::Db(e)) => Err(classify(PersistenceError::UnknownError(Box::new(e)))),
        }
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        delegate!(self, r => r.stream_events::<A>(aggregate_id))
    }

    /// Not used: it orders by per-aggregate sequence, not commit order (see
    /// `incubator_projections::log` for the reader we use).
    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        delegate!(self, r => r.stream_all_events::<A>())
    }
}

/// Opens the store, turning a failure into its one line.
pub async fn open_store(url: &str) -> Result<Store, String> {
    Store::open(url).await.map_err(|e| match e {
        OpenError::Scheme(_) => e.to_string(),
        _ => format!("{e} ({})", redact(url)),
    })
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(
            super::redact("postgres://app:secret@db/incubator"),
            "postgres://app:***@db/incubator"
        );
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
