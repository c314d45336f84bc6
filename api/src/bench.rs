//! `incubator bench …`: throughput and latency figures, each beside its baseline measured in the
//! same run on the same machine (these machines are shared and noisy: read the ratios).
//!
//! `bench commands` measures one command (logging a mentorship session, one event) three ways:
//! - `cqrs-es execute`: the framework's own `CqrsFramework::execute` on the same repository and
//!   snapshot store — the baseline;
//! - `store.execute`: our dispatch (version check, copy-then-commit, position read-back);
//! - `HTTP`: the whole path, `POST /api/v1/startups/{id}/sessions` through the real server,
//!   with its bearer token checked;
//! - `HTTP + key`: the same with a fresh `Idempotency-Key` on every command (claimed before,
//!   settled after).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::CqrsFramework;
use incubator_domain::startup::{Stage, Startup, StartupCommand};
use incubator_domain::values::{MentorId, Minutes, OrganisationName, PersonId, SessionId};
use serde_json::json;

use incubator_server::store::{EventRepo, Store, SNAPSHOT_EVERY};

#[derive(Debug, Subcommand)]
pub enum Bench {
    /// Commands per second and latency: cqrs-es execute vs our dispatch vs HTTP.
    Commands(CommandsArgs),
    /// Rebuild speed of all read models together against the floor: reading and decoding the
    /// same events without applying them.
    Rebuild(RebuildArgs),
    /// The read endpoints under concurrent load (p50, p99) on the demo data, beside `/healthz`
    /// (the HTTP floor) measured in the same run.
    Reads(ReadsArgs),
    /// `audit verify` speed against reading the same events in commit order with no hashing.
    Verify(RebuildArgs),
    /// An officer's command and a viewer's read, alone and then beside a flood of the work
    /// whose cost grows with the history (read models as of an instant, verifications) and
    /// of open live streams: their latency both ways, measured in the same run.
    Flood(FloodArgs),
}

#[derive(Debug, Args)]
pub struct FloodArgs {
    /// `sqlite` (a temporary file) or a postgres:// URL of a server where a temporary database
    /// may be created.
    #[arg(long, default_value = "sqlite")]
    pub store: String,
    /// Hubs' worth of demo data.
    #[arg(long, default_value_t = 1)]
    pub scale: u32,
    /// Start from a copy of this store instead of loading the demo year (as for `reads`).
    #[arg(long)]
    pub from: Option<String>,
    /// Requests for read models as of an instant kept in flight (an auditor's), and as many
    /// from a viewer (refused).
    #[arg(long, default_value_t = 200)]
    pub as_of: usize,
    /// Live streams held open (eight per token, from four loopback addresses).
    #[arg(long, default_value_t = 500)]
    pub streams: usize,
    /// Verifications kept in flight.
    #[arg(long, default_value_t = 4)]
    pub verifications: usize,
    /// Seconds of each measurement (alone, then in the flood).
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
}

#[derive(Debug, Args)]
pub struct ReadsArgs {
    /// `sqlite` (a temporary file) or a postgres:// URL of a server where a temporary database
    /// may be created.
    #[arg(long, default_value = "sqlite")]
    pub store: String,
    /// Hubs' worth of demo data.
    #[arg(long, default_value_t = 10)]
    pub scale: u32,
    /// Start from a copy of this store (sqlite://PATH, or postgres://HOST/DB, copied as a
    /// template: nothing may be connected to it) instead of loading the demo year.
    #[arg(long)]
    pub from: Option<String>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub tasks: usize,
    /// Seconds per endpoint.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// `sqlite` (a temporary file) or a postgres:// URL of a server where a temporary database
    /// may be created.
    #[arg(long, default_value = "sqlite")]
    pub store: String,
    /// Events in the log: the demo year (or the `--from` store's log), copied with fresh ids
    /// until there are this many.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: u64,
    /// Start from a copy of this store (sqlite://PATH, or postgres://HOST/DB, copied as a
    /// template: nothing may be connected to it) instead of loading the demo year.
    #[arg(long)]
    pub from: Option<String>,
}

#[derive(Debug, Args)]
pub struct CommandsArgs {
    /// `sqlite` (a temporary file) or a postgres:// URL of a server where a temporary database
    /// may be created.
    #[arg(long, default_value = "sqlite")]
    pub store: String,
    /// Concurrent tasks; each count is measured in turn.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub tasks: Vec<usize>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
}

/// Runs a benchmark and prints its table.
pub async fn run(bench: Bench) -> Result<(), String> {
    match bench {
        Bench::Commands(args) => commands(args).await,
        Bench::Rebuild(args) => rebuild_bench(args).await,
        Bench::Reads(args) => reads_bench(args).await,
        Bench::Verify(args) => verify_bench(args).await,
        Bench::Flood(args) => flood_bench(args).await,
    }
}

/// A temporary database, removed afterwards.
struct TempDb {
    url: String,
    drop_sql: Option<(String, String)>,
    dir: Option<std::path::PathBuf>,
}

impl TempDb {
    /// A new, empty database (or a copy of `from`) on `store`.
    async fn create(store: &str, from: Option<&str>) -> Result<Self, String> {
        let name = format!("incubator_bench_{}", uuid::Uuid::now_v7().simple());
        let copied = |kind: &str| {
            from.map(|url| {
                url.strip_prefix(kind).map(str::to_owned).ok_or_else(|| {
                    format!("--from must be a store of the --store's kind, not {url:?}")
                })
            })
            .transpose()
        };
        if store == "sqlite" {
            let dir = std::env::temp_dir().join(&name);
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let file = dir.join("bench.db");
            if let Some(source) = copied("sqlite://")? {
                for suffix in ["", "-wal", "-shm"] {
                    let part = format!("{source}{suffix}");
                    if std::path::Path::new(&part).exists() {
                        std::fs::copy(&part, format!("{}{suffix}", file.display()))
                            .map_err(|e| format!("cannot copy {part}: {e}"))?;
                    }
                }
            }
            return Ok(Self {
                url: format!("sqlite://{}", file.display()),
                drop_sql: None,
                dir: Some(dir),
            });
        }
        if !store.starts_with("postgres") {
            return Err(format!(
                "--store must be sqlite or a postgres:// URL, not {store:?}"
            ));
        }
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(store)
            .await
            .map_err(|e| format!("cannot reach {store}: {e}"))?;
        let template = match copied("postgres")? {
            Some(rest) => {
                let db = rest.rsplit('/').next().unwrap_or_default();
                if db.is_empty() || !db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(format!("--from names no database: {rest:?}"));
                }
                format!(" TEMPLATE {db}")
            }
            None => String::new(),
        };
        sqlx::query(&format!("CREATE DATABASE {name}{template}"))
            .execute(&admin)
            .await
            .map_err(|e| format!("cannot create a bench database: {e}"))?;
        admin.close().await;
        let base = store.rsplit_once('/').map_or(store, |(b, _)| b);
        Ok(Self {
            url: format!("{base}/{name}"),
            drop_sql: Some((
                store.to_owned(),
                format!("DROP DATABASE {name} WITH (FORCE)"),
            )),
            dir: None,
        })
    }

    async fn remove(self) {
        if let Some((admin, sql)) = self.drop_sql {
            if let Ok(pool) = sqlx::AnyPool::connect(&admin).await {
                let _ = sqlx::query(&sql).execute(&pool).await;
                pool.close().await;
            }
        }
        if let Some(dir) = self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The real server on a loopback port, for as long as a bench needs it.
struct Served {
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    async fn start(
        store: &Store,
        settings: incubator_server::http::Settings,
    ) -> Result<Self, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let base = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(incubator_server::server::serve(
            listener,
            store.clone(),
            settings,
            async {
                let _ = stopped.await;
            },
        ));
        Ok(Self { base, stop, task })
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// An HTTP client that sends `token` as its bearer token.
fn bearer_client(token: &str) -> Result<reqwest::Client, String> {
    bearer_client_at(token, None)
}

/// [`bearer_client`] connecting from `address` (a loopback address of its own: the service
/// holds at most 128 connections per address).
fn bearer_client_at(
    token: &str,
    address: Option<std::net::IpAddr>,
) -> Result<reqwest::Client, String> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}")
            .parse()
            .map_err(|_| "bad token header")?,
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .local_address(address)
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())
}

/// Latencies of one measurement.
struct Sample {
    mode: &'static str,
    tasks: usize,
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: usize,
}

impl Sample {
    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let mut v = self.latencies.clone();
        v.sort_unstable();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1000.0
    }
}

/// Startups in incubation with a mentor, ready to log sessions.
async fn prepare(store: &Store, n: usize) -> Result<Vec<(String, MentorId)>, String> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let id = uuid::Uuid::now_v7().to_string();
        let mentor = MentorId::new();
        let commands = [
            StartupCommand::Apply {
                name: OrganisationName::parse(&format!("Bench {i}")).map_err(|e| e.to_string())?,
                sector: None,
                founders: incubator_domain::values::AtMost::new(vec![PersonId::new()])
                    .map_err(|e| e.to_string())?,
                cohort: None,
                applied_on: chrono::Utc::now().date_naive(),
            },
            StartupCommand::Advance {
                to: Some(Stage::Screening),
                override_reason: None,
                on: chrono::Utc::now().date_naive(),
                today: chrono::Utc::now().date_naive(),
            },
            StartupCommand::AssignMentor {
                mentor_id: mentor,
                standing: incubator_domain::mentor::MentorStanding::Active,
            },
        ];
        for c in commands {
            store
                .execute(store.startups(), &id, c, None, HashMap::new())
                .await
                .map_err(|e| e.to_string())?;
        }
        out.push((id, mentor));
    }
    Ok(out)
}

fn session(mentor: MentorId) -> StartupCommand {
    StartupCommand::LogSession {
        session_id: SessionId::new(),
        mentor_id: mentor,
        held_on: chrono::Utc::now().date_naive(),
        minutes: Minutes::parse(60).expect("60 is valid"),
        topics: Default::default(),
        today: chrono::Utc::now().date_naive(),
    }
}

fn metadata(task: usize) -> HashMap<String, String> {
    HashMap::from([
        ("actor".to_owned(), format!("bench-{task}")),
        ("role".to_owned(), "officer".to_owned()),
        (
            "correlation_id".to_owned(),
            uuid::Uuid::now_v7().to_string(),
        ),
    ])
}

/// Runs `op` from `tasks` tasks for `seconds`, each task on its own startups.
async fn measure<F, Fut>(
    mode: &'static str,
    tasks: usize,
    seconds: f64,
    targets: &[(String, MentorId)],
    op: F,
) -> Sample
where
    F: Fn(usize, String, MentorId) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let op = Arc::new(op);
    let per_task = targets.len() / tasks;
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(seconds);
    let mut handles = Vec::new();
    for t in 0..tasks {
        let mine: Vec<_> = targets[t * per_task..(t + 1) * per_task].to_vec();
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            let mut i = 0;
            while Instant::now() < deadline {
                let (id, mentor) = mine[i % mine.len()].clone();
                i += 1;
                let t0 = Instant::now();
                if op(t, id, mentor).await {
                    lat.push(t0.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for h in handles {
        if let Ok((l, e)) = h.await {
            latencies.extend(l);
            errors += e;
        }
    }
    Sample {
        mode,
        tasks,
        latencies,
        elapsed: start.elapsed(),
        errors,
    }
}

/// The store a bench ran on, as its output names it.
fn store_name(store: &str) -> &'static str {
    if store == "sqlite" {
        "sqlite"
    } else {
        "postgres"
    }
}

/// A figure for the closing JSON line: a finite number, or null.
fn figure(x: f64) -> serde_json::Value {
    if x.is_finite() {
        json!((x * 1000.0).round() / 1000.0)
    } else {
        serde_json::Value::Null
    }
}

/// Prints the bench's last line: one JSON object with its figures.
fn json_line(v: serde_json::Value) {
    println!("{v}");
}

async fn commands(args: CommandsArgs) -> Result<(), String> {
    let db = TempDb::create(&args.store, None).await?;
    let result = commands_on(&db.url, &args).await;
    db.remove().await;
    let samples = result?;
    println!(
        "bench commands  store={}  seconds={}  (one SessionLogged event per command)",
        store_name(&args.store),
        args.seconds
    );
    println!(
        "{:<18} {:>5} {:>9} {:>11} {:>8} {:>8} {:>7} {:>10}",
        "mode", "tasks", "commands", "commands/s", "p50 ms", "p99 ms", "errors", "vs base"
    );
    let mut rows = Vec::new();
    let mut lowest_keyed = f64::INFINITY;
    for tasks in &args.tasks {
        let base = samples
            .iter()
            .find(|s| s.tasks == *tasks && s.mode == "cqrs-es execute")
            .map_or(f64::NAN, Sample::rate);
        for s in samples.iter().filter(|s| s.tasks == *tasks) {
            let ratio = s.rate() / base;
            if s.mode == "HTTP + key" {
                lowest_keyed = lowest_keyed.min(ratio);
            }
            rows.push(json!({
                "mode": s.mode,
                "tasks": s.tasks,
                "per_s": figure(s.rate()),
                "p50_ms": figure(s.percentile(0.5)),
                "p99_ms": figure(s.percentile(0.99)),
                "ratio": figure(ratio),
            }));
            println!(
                "{:<18} {:>5} {:>9} {:>11.0} {:>8.2} {:>8.2} {:>7} {:>9.2}x",
                s.mode,
                s.tasks,
                s.latencies.len(),
                s.rate(),
                s.percentile(0.5),
                s.percentile(0.99),
                s.errors,
                ratio
            );
        }
    }
    json_line(json!({
        "bench": "commands",
        "store": store_name(&args.store),
        "rows": rows,
        "ratio": figure(lowest_keyed),
    }));
    Ok(())
}

async fn commands_on(url: &str, args: &CommandsArgs) -> Result<Vec<Sample>, String> {
    let store = Store::open(url).await.map_err(|e| e.to_string())?;
    let server = Served::start(&store, incubator_server::http::Settings::default()).await?;
    let base_url = server.base.clone();
    let cqrs = Arc::new(CqrsFramework::new(
        PersistedEventStore::<EventRepo, Startup>::new_snapshot_store(
            store.new_repo(),
            SNAPSHOT_EVERY,
        ),
        vec![],
        (),
    ));
    let token =
        incubator_server::auth::create(&store.read, "bench", incubator_server::auth::Role::Officer)
            .await
            .map_err(|e| e.to_string())?;
    let client = bearer_client(&token)?;
    let mut samples = Vec::new();
    for &tasks in &args.tasks {
        let tasks = tasks.max(1);
        let targets = prepare(&store, tasks * 8).await?;
        let c = cqrs.clone();
        samples.push(
            measure(
                "cqrs-es execute",
                tasks,
                args.seconds,
                &targets,
                move |t, id, m| {
                    let c = c.clone();
                    async move {
                        c.execute_with_metadata(&id, session(m), metadata(t))
                            .await
                            .is_ok()
                    }
                },
            )
            .await,
        );
        let targets = prepare(&store, tasks * 8).await?;
        let s = store.clone();
        samples.push(
            measure(
                "store.execute",
                tasks,
                args.seconds,
                &targets,
                move |t, id, m| {
                    let s = s.clone();
                    async move {
                        s.execute(s.startups(), &id, session(m), None, metadata(t))
                            .await
                            .is_ok()
                    }
                },
            )
            .await,
        );
        for (mode, keyed) in [("HTTP", false), ("HTTP + key", true)] {
            let targets = prepare(&store, tasks * 8).await?;
            let (c, base) = (client.clone(), base_url.clone());
            samples.push(
                measure(mode, tasks, args.seconds, &targets, move |_, id, m| {
                    let (c, base) = (c.clone(), base.clone());
                    async move {
                        let mut req = c
                            .post(format!("{base}/api/v1/startups/{id}/sessions"))
                            .json(&json!({"mentor_id": m, "held_on": "2026-03-01", "minutes": 60}));
                        if keyed {
                            req = req.header("idempotency-key", uuid::Uuid::now_v7().to_string());
                        }
                        req.send().await.is_ok_and(|r| r.status().is_success())
                    }
                })
                .await,
            );
        }
    }
    server.stop().await;
    Ok(samples)
}

/// Replaces the first eight hex digits of every UUID in `text` with `copy`'s, so that each copy
/// of the demo year has ids of its own, consistent within the copy.
fn recopy(text: &str, copy: u32) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let is_hex = |c: u8| c.is_ascii_hexdigit();
    while i < b.len() {
        let candidate = b.len() - i >= 36
            && b[i..i + 36].iter().enumerate().all(|(k, c)| {
                if matches!(k, 8 | 13 | 18 | 23) {
                    *c == b'-'
                } else {
                    is_hex(*c)
                }
            });
        if candidate {
            out.push_str(&format!("{copy:08x}"));
            out.push_str(&text[i + 8..i + 36]);
            i += 36;
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Whether `store`'s log is empty (a new store, not a `--from` copy).
async fn empty(store: &Store) -> Result<bool, String> {
    let mut conn = store.read.pool.acquire().await.map_err(|e| e.to_string())?;
    let head = incubator_projections::log::head_position(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    Ok(head == 0)
}

/// Fills `store` with the demo year (unless it holds a log already), then copies of its log,
/// up to `target` events.
async fn fill(store: &Store, target: u64) -> Result<u64, String> {
    if empty(store).await? {
        crate::demo::load(store, 1535, 1, false).await?;
    }
    let db = &store.read;
    let payload = match db.dialect {
        incubator_projections::Dialect::Sqlite => "payload, metadata",
        incubator_projections::Dialect::Postgres => {
            "payload::text AS payload, metadata::text AS metadata"
        }
    };
    let rows = sqlx::query(&format!(
        "SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, {payload} \
         FROM events ORDER BY position"
    ))
    .fetch_all(&db.pool)
    .await
    .map_err(|e| e.to_string())?;
    let year: Vec<(String, String, i64, String, String, String, String)> = rows
        .iter()
        .map(|r| {
            use sqlx::Row;
            Ok((
                r.try_get("aggregate_type")?,
                r.try_get("aggregate_id")?,
                r.try_get("sequence")?,
                r.try_get("event_type")?,
                r.try_get("event_version")?,
                r.try_get("payload")?,
                r.try_get("metadata")?,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| e.to_string())?;
    let (cast_open, cast_close) = match db.dialect {
        incubator_projections::Dialect::Sqlite => ("", ""),
        incubator_projections::Dialect::Postgres => ("CAST(", " AS jsonb)"),
    };
    let mut count = year.len() as u64;
    let mut copy = 1u32;
    let bar = indicatif::ProgressBar::new(target);
    bar.set_position(count);
    while count < target {
        let mut tx = db.pool.begin().await.map_err(|e| e.to_string())?;
        for chunk in year.chunks(500) {
            let take = chunk.len().min((target - count) as usize);
            if take == 0 {
                break;
            }
            let mut sql = String::from(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
                 event_version, payload, metadata) VALUES ",
            );
            for k in 0..take {
                let n = k * 7;
                if k > 0 {
                    sql.push(',');
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, {cast_open}${}{cast_close}, {cast_open}${}{cast_close})",
                    n + 1, n + 2, n + 3, n + 4, n + 5, n + 6, n + 7
                ));
            }
            let mut q = sqlx::query(&sql);
            for (t, id, seq, et, ev, p, m) in &chunk[..take] {
                q = q
                    .bind(t.clone())
                    .bind(recopy(id, copy))
                    .bind(*seq)
                    .bind(et.clone())
                    .bind(ev.clone())
                    .bind(recopy(p, copy))
                    .bind(recopy(m, copy));
            }
            q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
            count += take as u64;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
        bar.set_position(count);
        copy += 1;
    }
    bar.finish_and_clear();
    // The copies are bulk-loaded, not appended: sealed as they stand, as an import's are.
    let mut conn = db.pool.acquire().await.map_err(|e| e.to_string())?;
    let head = incubator_projections::log::head_position(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    incubator_projections::audit::adopt_up_to(&mut conn, db.dialect, head)
        .await
        .map_err(|e| e.to_string())?;
    drop(conn);
    if db.dialect == incubator_projections::Dialect::Postgres {
        // As autovacuum would after a load this size: without statistics the planner may read
        // the log with a sequential scan and a sort per batch.
        sqlx::query("ANALYZE events")
            .execute(&db.pool)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(count)
}

/// Reads every event in commit order and decodes its payload, applying nothing: the floor a
/// rebuild cannot beat.
async fn read_and_decode(db: &incubator_projections::ReadDb) -> Result<u64, String> {
    use incubator_domain::{collaboration, mentor, residency, space, startup};
    let mut conn = db.pool.acquire().await.map_err(|e| e.to_string())?;
    let mut at = incubator_projections::Checkpoint::default();
    let mut n = 0u64;
    loop {
        let events = incubator_projections::log::read_after(&mut conn, db.dialect, at, 5_000)
            .await
            .map_err(|e| e.to_string())?;
        let Some(last) = events.last() else {
            break;
        };
        at = last.checkpoint;
        for e in &events {
            let ok = match e.aggregate_type.as_str() {
                "Startup" => serde_json::from_str::<startup::StartupEvent>(&e.payload).is_ok(),
                "Mentor" => serde_json::from_str::<mentor::MentorEvent>(&e.payload).is_ok(),
                "Space" => serde_json::from_str::<space::SpaceEvent>(&e.payload).is_ok(),
                "Residency" => {
                    serde_json::from_str::<residency::ResidencyEvent>(&e.payload).is_ok()
                }
                "Collaboration" => {
                    serde_json::from_str::<collaboration::CollaborationEvent>(&e.payload).is_ok()
                }
                _ => false,
            };
            if !ok {
                return Err(format!(
                    "event at position {} does not decode",
                    e.position()
                ));
            }
            n += 1;
        }
    }
    Ok(n)
}

async fn rebuild_bench(args: RebuildArgs) -> Result<(), String> {
    let db = TempDb::create(&args.store, args.from.as_deref()).await?;
    let result = rebuild_on(&db.url, args.events).await;
    db.remove().await;
    let (events, floor, rebuild, alone, (commands_alone, commands_during)) = result?;
    let models: Vec<&str> = alone.iter().map(|(name, _)| *name).collect();
    println!(
        "bench rebuild  store={}  events={events}  read models: {}",
        store_name(&args.store),
        models.join(", ")
    );
    println!(
        "{:<34} {:>9} {:>12} {:>10}",
        "mode", "seconds", "events/s", "vs floor"
    );
    let floor_rate = events as f64 / floor;
    let mut rows = vec![
        ("floor: read + decode, no apply".to_owned(), floor),
        ("rebuild: all models, one pass".to_owned(), rebuild),
    ];
    rows.extend(
        alone
            .into_iter()
            .map(|(name, secs)| (format!("  {name} alone"), secs)),
    );
    for (mode, secs) in rows {
        let rate = events as f64 / secs;
        println!(
            "{mode:<34} {secs:>9.2} {rate:>12.0} {:>9.2}x",
            rate / floor_rate
        );
    }
    println!(
        "{:<34} {:>9} {:>9} {:>9} {:>9}",
        "HTTP + key commands", "count", "failures", "p50 ms", "p99 ms"
    );
    for s in [&commands_alone, &commands_during] {
        println!(
            "{:<34} {:>9} {:>9} {:>9.2} {:>9.2}",
            s.mode,
            s.latencies.len(),
            s.errors,
            s.percentile(0.5),
            s.percentile(0.99)
        );
    }
    let rebuild_rate = events as f64 / rebuild;
    json_line(json!({
        "bench": "rebuild",
        "store": store_name(&args.store),
        "events": events,
        "floor_per_s": figure(floor_rate),
        "rebuild_per_s": figure(rebuild_rate),
        "ratio": figure(rebuild_rate / floor_rate),
        "commands_alone_p99_ms": figure(commands_alone.percentile(0.99)),
        "commands_during_rebuild": {
            "count": commands_during.latencies.len(),
            "failures": commands_during.errors,
            "p50_ms": figure(commands_during.percentile(0.5)),
            "p99_ms": figure(commands_during.percentile(0.99)),
        },
    }));
    Ok(())
}

/// Events, the floor's seconds, the rebuild's seconds, each model's seconds alone, and
/// commands alone and during a second rebuild.
type RebuildTimes = (u64, f64, f64, Vec<(&'static str, f64)>, (Sample, Sample));

async fn rebuild_on(url: &str, target: u64) -> Result<RebuildTimes, String> {
    let store = Store::open(url).await.map_err(|e| e.to_string())?;
    let events = fill(&store, target).await?;
    let started = Instant::now();
    let decoded = read_and_decode(&store.read).await?;
    let floor = started.elapsed().as_secs_f64();
    if decoded != events {
        return Err(format!("read {decoded} of {events} events"));
    }
    let models = incubator_projections::models::Model::ALL;
    let started = Instant::now();
    let rebuilt = incubator_projections::rebuild::rebuild_together(&store.read, &models, &|_| {})
        .await
        .map_err(|e| e.to_string())?;
    let rebuild = started.elapsed().as_secs_f64();
    if rebuilt.first().map(|r| r.events) != Some(events) {
        return Err("the rebuild did not see every event".into());
    }
    // Each model alone, to show where the time goes.
    let mut alone = Vec::new();
    for model in models {
        let started = Instant::now();
        incubator_projections::rebuild::rebuild(&store.read, &model, &|_| {})
            .await
            .map_err(|e| e.to_string())?;
        alone.push((
            incubator_projections::projector::Projection::name(&model),
            started.elapsed().as_secs_f64(),
        ));
    }
    let during = commands_during_rebuild(&store).await?;
    store.close().await;
    Ok((events, floor, rebuild, alone, during))
}

/// Keyed commands from one officer over HTTP: for two seconds alone, then for as long as a
/// rebuild of every model runs beside them (the service's projectors going on meanwhile).
async fn commands_during_rebuild(store: &Store) -> Result<(Sample, Sample), String> {
    use incubator_server::auth::{create, Role};
    let officer = create(&store.read, "bench-rebuild-officer", Role::Officer)
        .await
        .map_err(|e| e.to_string())?;
    let server = Served::start(store, incubator_server::http::Settings::default()).await?;
    let who = Beside::new(&server.base, &officer, &officer).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let alone = {
        let (who, stopped) = (who.clone(), stopped.clone());
        let timer =
            tokio::spawn(async move { who.commands_until(stopped, "commands alone").await });
        tokio::time::sleep(Duration::from_secs(2)).await;
        let _ = stop.send(true);
        timer.await.map_err(|e| e.to_string())?
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let timer = tokio::spawn(async move {
        who.commands_until(stopped, "commands during the rebuild")
            .await
    });
    let models = incubator_projections::models::Model::ALL;
    let rebuilt = incubator_projections::rebuild::rebuild_together(&store.read, &models, &|_| {})
        .await
        .map_err(|e| e.to_string());
    let _ = stop.send(true);
    let during = timer.await.map_err(|e| e.to_string())?;
    server.stop().await;
    rebuilt?;
    Ok((alone, during))
}

async fn verify_bench(args: RebuildArgs) -> Result<(), String> {
    let db = TempDb::create(&args.store, args.from.as_deref()).await?;
    let result = verify_on(&db.url, args.events).await;
    db.remove().await;
    let (events, rows) = result?;
    println!(
        "bench verify  store={}  events={events}",
        store_name(&args.store)
    );
    println!(
        "{:<44} {:>9} {:>12} {:>10}",
        "mode", "seconds", "events/s", "vs floor"
    );
    let floor_rate = events as f64 / rows[0].1;
    let verify_rate = events as f64 / rows[1].1;
    for (mode, secs) in rows {
        let rate = events as f64 / secs;
        println!(
            "{mode:<44} {secs:>9.2} {rate:>12.0} {:>9.2}x",
            rate / floor_rate
        );
    }
    json_line(json!({
        "bench": "verify",
        "store": store_name(&args.store),
        "events": events,
        "floor_per_s": figure(floor_rate),
        "verify_per_s": figure(verify_rate),
        "ratio": figure(verify_rate / floor_rate),
    }));
    Ok(())
}

/// Events, and each mode's seconds (the floor first).
async fn verify_on(url: &str, target: u64) -> Result<(u64, Vec<(&'static str, f64)>), String> {
    use incubator_projections::audit;
    let store = Store::open(url).await.map_err(|e| e.to_string())?;
    let events = fill(&store, target).await?;
    let started = Instant::now();
    while incubator_projections::projector::step(&store.read, &audit::Sealer, 5_000)
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {}
    let seal = started.elapsed().as_secs_f64();
    // The floor: the same events read in commit order, nothing hashed.
    let started = Instant::now();
    let mut conn = store.read.pool.acquire().await.map_err(|e| e.to_string())?;
    let mut at = incubator_projections::Checkpoint::default();
    let mut read = 0u64;
    loop {
        let batch =
            incubator_projections::log::read_after(&mut conn, store.read.dialect, at, 5_000)
                .await
                .map_err(|e| e.to_string())?;
        let Some(last) = batch.last() else {
            break;
        };
        at = last.checkpoint;
        read += batch.len() as u64;
    }
    drop(conn);
    let floor = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let verified = audit::verify(&store.read, audit::Range::ALL, &|_| {})
        .await
        .map_err(|e| e.to_string())?;
    let verify = started.elapsed().as_secs_f64();
    store.close().await;
    if read != events || verified.sealed != events || !verified.intact {
        return Err(format!(
            "read {read}, verified {} of {events} events, intact: {}",
            verified.sealed, verified.intact
        ));
    }
    Ok((
        events,
        vec![
            ("floor: read in commit order, no hashing", floor),
            ("audit verify: chains, seals and digests", verify),
            ("seal (what the server does as it goes)", seal),
        ],
    ))
}

/// The read endpoints measured by `bench reads`, after the HTTP floor.
const READS: &[&str] = &[
    "/healthz",
    "/api/v1/funding/pipeline",
    "/api/v1/funding/pipeline?cohort=2026-spring",
    "/api/v1/funding/cohorts",
    "/api/v1/funding/startups?stage=incubation&limit=50",
    "/api/v1/mentorship/mentors?limit=50",
    "/api/v1/mentorship/mentees?without_mentor=true&limit=50",
    "/api/v1/portfolio/summary",
    "/api/v1/portfolio/collaborations?when=active&limit=50",
    "/api/v1/space-usage/spaces?on=2026-06-01&limit=50",
    "/api/v1/space-usage/utilisation?from=2026-01-01&to=2026-12-31",
    "/api/v1/space-usage/vacancies?on=2026-06-01&limit=50",
    "/api/v1/space-usage/rent-roll?from=2026-01&to=2026-12",
    "/api/v1/space-usage/bookings?from=2026-06-01&to=2026-06-07&limit=50",
];

async fn reads_bench(args: ReadsArgs) -> Result<(), String> {
    let db = TempDb::create(&args.store, args.from.as_deref()).await?;
    let result = reads_on(&db.url, &args).await;
    db.remove().await;
    let (events, rows) = result?;
    println!(
        "bench reads  store={}  scale={} ({events} events)  tasks={}  seconds={}",
        store_name(&args.store),
        args.scale,
        args.tasks,
        args.seconds
    );
    println!(
        "{:<58} {:>9} {:>8} {:>8} {:>7}",
        "endpoint", "reads/s", "p50 ms", "p99 ms", "errors"
    );
    let mut floor_p99 = f64::NAN;
    let mut worst_p99 = 0f64;
    let mut json_rows = Vec::new();
    for (path, s) in rows {
        println!(
            "{path:<58} {:>9.0} {:>8.2} {:>8.2} {:>7}",
            s.rate(),
            s.percentile(0.5),
            s.percentile(0.99),
            s.errors
        );
        if path == "/healthz" {
            floor_p99 = s.percentile(0.99);
        } else {
            worst_p99 = worst_p99.max(s.percentile(0.99));
        }
        json_rows.push(json!({
            "endpoint": path,
            "per_s": figure(s.rate()),
            "p50_ms": figure(s.percentile(0.5)),
            "p99_ms": figure(s.percentile(0.99)),
        }));
    }
    json_line(json!({
        "bench": "reads",
        "store": store_name(&args.store),
        "scale": args.scale,
        "tasks": args.tasks,
        "floor_p99_ms": figure(floor_p99),
        "rows": json_rows,
        "worst_p99_ms": figure(worst_p99),
    }));
    Ok(())
}

/// The store at `url`, with `scale` demo years loaded unless it holds a log already, and
/// the log's head.
async fn demo_store(url: &str, scale: u32) -> Result<(Store, i64), String> {
    let store = Store::open(url).await.map_err(|e| e.to_string())?;
    if empty(&store).await? {
        crate::demo::load(&store, 1535, scale.max(1), true).await?;
    }
    let mut conn = store.read.pool.acquire().await.map_err(|e| e.to_string())?;
    let head = incubator_projections::log::head_position(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    drop(conn);
    Ok((store, head))
}

async fn reads_on(
    url: &str,
    args: &ReadsArgs,
) -> Result<(i64, Vec<(&'static str, Sample)>), String> {
    let (store, head) = demo_store(url, args.scale).await?;
    let token = incubator_server::auth::create(
        &store.read,
        "bench-reader",
        incubator_server::auth::Role::Viewer,
    )
    .await
    .map_err(|e| e.to_string())?;
    let server = Served::start(
        &store,
        incubator_server::http::Settings {
            max_concurrent_requests: 1024,
            ..incubator_server::http::Settings::default()
        },
    )
    .await?;
    let base = server.base.clone();
    let client = bearer_client(&token)?;
    // Every read model caught up with the whole log first.
    for (model, path) in [
        ("funding", "/api/v1/funding/pipeline"),
        ("mentorship", "/api/v1/mentorship/mentors?limit=1"),
        ("collaborations", "/api/v1/portfolio/summary"),
        ("space_usage", "/api/v1/space-usage/spaces?limit=1"),
    ] {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut ready = false;
        for _ in 0..60 {
            let r = client
                .get(format!("{base}{path}{sep}min_position={head}"))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            if r.status().is_success() {
                ready = true;
                break;
            }
        }
        if !ready {
            return Err(format!("the {model} model did not catch up"));
        }
    }
    let mut rows = Vec::new();
    let dummy: Vec<(String, MentorId)> = (0..args.tasks.max(1))
        .map(|_| (String::new(), MentorId::new()))
        .collect();
    for &path in READS {
        let (c, url) = (client.clone(), format!("{base}{path}"));
        let sample = measure(
            "read",
            args.tasks.max(1),
            args.seconds,
            &dummy,
            move |_, _, _| {
                let (c, url) = (c.clone(), url.clone());
                async move {
                    match c.get(&url).send().await {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    }
                }
            },
        )
        .await;
        rows.push((path, sample));
    }
    server.stop().await;
    Ok((head, rows))
}

async fn flood_bench(args: FloodArgs) -> Result<(), String> {
    let db = TempDb::create(&args.store, args.from.as_deref()).await?;
    let result = flood_on(&db.url, &args).await;
    db.remove().await;
    let f = result?;
    println!(
        "bench flood  store={}  {} events  as_of={} (+{} from a viewer)  streams={}  verifications={}",
        store_name(&args.store),
        f.events,
        args.as_of,
        args.as_of,
        args.streams,
        args.verifications
    );
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>8} {:>7}",
        "measured", "count", "p50 ms", "p99 ms", "max ms", "errors"
    );
    let mut rows = Vec::new();
    for s in [
        &f.command_alone,
        &f.read_alone,
        &f.command_flood,
        &f.read_flood,
    ] {
        let max = s
            .latencies
            .iter()
            .max()
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0);
        println!(
            "{:<34} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>7}",
            s.mode,
            s.latencies.len(),
            s.percentile(0.5),
            s.percentile(0.99),
            max,
            s.errors
        );
        rows.push(json!({"measured": s.mode, "count": s.latencies.len(),
            "p50_ms": figure(s.percentile(0.5)), "p99_ms": figure(s.percentile(0.99)),
            "max_ms": figure(max), "errors": s.errors}));
    }
    println!(
        "flood answers: as_of {:?}, viewer as_of {:?}, verify {:?}; streams open {}",
        f.as_of, f.viewer_as_of, f.verify, f.streams_open
    );
    let ratio = |flood: &Sample, alone: &Sample| flood.percentile(0.99) / alone.percentile(0.99);
    json_line(json!({
        "bench": "flood",
        "store": store_name(&args.store),
        "events": f.events,
        "streams_open": f.streams_open,
        "as_of_statuses": f.as_of,
        "viewer_as_of_statuses": f.viewer_as_of,
        "verify_statuses": f.verify,
        "rows": rows,
        "command_p99_ratio": figure(ratio(&f.command_flood, &f.command_alone)),
        "read_p99_ratio": figure(ratio(&f.read_flood, &f.read_alone)),
        "worst_p99_ms": figure(f.command_flood.percentile(0.99).max(f.read_flood.percentile(0.99))),
    }));
    Ok(())
}

/// What the flood bench measured.
struct Flooded {
    events: i64,
    command_alone: Sample,
    read_alone: Sample,
    command_flood: Sample,
    read_flood: Sample,
    /// Answers to the flood's requests, by status.
    as_of: std::collections::BTreeMap<u16, usize>,
    viewer_as_of: std::collections::BTreeMap<u16, usize>,
    verify: std::collections::BTreeMap<u16, usize>,
    streams_open: usize,
}

/// Keeps `url` asked with `token` by `tasks` tasks until `stop`, a hundred from each loopback
/// address `127.0.{subnet}.N`: every answer's status, counted.
fn keep_asking(
    token: &str,
    url: String,
    tasks: usize,
    (stop, subnet): (&tokio::sync::watch::Receiver<bool>, u8),
) -> Result<Vec<tokio::task::JoinHandle<std::collections::BTreeMap<u16, usize>>>, String> {
    let clients = (0..tasks.div_ceil(100))
        .map(|n| {
            let address = std::net::IpAddr::from([127, 0, subnet, 1 + (n % 250) as u8]);
            bearer_client_at(token, Some(address))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((0..tasks)
        .map(|i| {
            let (c, url, stop) = (clients[i / 100].clone(), url.clone(), stop.clone());
            tokio::spawn(async move {
                let mut seen = std::collections::BTreeMap::new();
                let mut asked = 0u64;
                while !*stop.borrow() {
                    asked += 1;
                    let url = url.replace("{n}", &format!("{i}{asked:06}"));
                    let status = match c.get(&url).send().await {
                        Ok(r) => {
                            let s = r.status().as_u16();
                            let _ = r.bytes().await;
                            s
                        }
                        Err(_) => 0,
                    };
                    *seen.entry(status).or_insert(0) += 1;
                    if status == 503 {
                        // As a client honouring Retry-After would, sooner.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                seen
            })
        })
        .collect())
}

async fn counted(
    tasks: Vec<tokio::task::JoinHandle<std::collections::BTreeMap<u16, usize>>>,
) -> std::collections::BTreeMap<u16, usize> {
    let mut all = std::collections::BTreeMap::new();
    for t in tasks {
        for (status, n) in t.await.unwrap_or_default() {
            *all.entry(status).or_insert(0) += n;
        }
    }
    all
}

/// The officer and the viewer whose requests are timed beside the flood.
#[derive(Clone)]
struct Beside {
    officer: reqwest::Client,
    viewer: reqwest::Client,
    base: String,
    founder: serde_json::Value,
}

impl Beside {
    /// An officer (`officer` token) with a founder registered, and a viewer (`viewer`).
    async fn new(base: &str, officer: &str, viewer: &str) -> Result<Self, String> {
        let officer = bearer_client(officer)?;
        let founder = officer
            .post(format!("{base}/api/v1/people"))
            .json(&json!({"name": "Bench Founder"}))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json::<serde_json::Value>()
            .await
            .map_err(|e| e.to_string())?["person_id"]
            .clone();
        Ok(Self {
            officer,
            viewer: bearer_client(viewer)?,
            base: base.to_owned(),
            founder,
        })
    }

    /// One keyed application; whether it was created.
    async fn apply(&self) -> bool {
        self.officer
            .post(format!("{}/api/v1/startups", self.base))
            .header("idempotency-key", uuid::Uuid::now_v7().to_string())
            .json(&json!({"name": "Beside The Flood", "founders": [self.founder]}))
            .send()
            .await
            .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED)
    }

    /// Applications one after another until `stop` turns true.
    async fn commands_until(
        self,
        mut stop: tokio::sync::watch::Receiver<bool>,
        mode: &'static str,
    ) -> Sample {
        let start = Instant::now();
        let (mut latencies, mut errors) = (Vec::new(), 0);
        while !*stop.borrow_and_update() {
            let t0 = Instant::now();
            if self.apply().await {
                latencies.push(t0.elapsed());
            } else {
                errors += 1;
            }
        }
        Sample {
            mode,
            tasks: 1,
            latencies,
            elapsed: start.elapsed(),
            errors,
        }
    }

    /// An officer's keyed application, then a viewer's pipeline read, each for `seconds`.
    async fn measure(self, flood: bool, seconds: f64) -> (Sample, Sample) {
        let one = [(String::new(), MentorId::new())];
        let who = self.clone();
        let command = measure(
            if flood {
                "command in the flood"
            } else {
                "command alone"
            },
            1,
            seconds,
            &one,
            move |_, _, _| {
                let who = who.clone();
                async move { who.apply().await }
            },
        )
        .await;
        let who = self;
        let read = measure(
            if flood {
                "pipeline read in the flood"
            } else {
                "pipeline read alone"
            },
            1,
            seconds,
            &one,
            move |_, _, _| {
                let who = who.clone();
                async move {
                    match who
                        .viewer
                        .get(format!("{}/api/v1/funding/pipeline", who.base))
                        .send()
                        .await
                    {
                        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
                        _ => false,
                    }
                }
            },
        )
        .await;
        (command, read)
    }
}

async fn flood_on(url: &str, args: &FloodArgs) -> Result<Flooded, String> {
    use incubator_server::auth::{create, Role};
    let (store, events) = demo_store(url, args.scale).await?;
    let token = |name: String, role| {
        let db = store.read.clone();
        async move { create(&db, &name, role).await.map_err(|e| e.to_string()) }
    };
    let officer = token("bench-officer".into(), Role::Officer).await?;
    let viewer_token = token("bench-viewer".into(), Role::Viewer).await?;
    let auditor = token("bench-auditor".into(), Role::Auditor).await?;
    let server = Served::start(&store, incubator_server::http::Settings::default()).await?;
    let base = server.base.clone();
    let who = Beside::new(&base, &officer, &viewer_token).await?;
    let beside = |flood: bool| who.clone().measure(flood, args.seconds);
    let (command_alone, read_alone) = beside(false).await;

    // The flood, from loopback addresses of its own (an address holds at most 128
    // connections; the officer and the viewer timed are other people): live streams, eight
    // per token and a hundred per address.
    let mut streams = Vec::new();
    let mut stream_clients = Vec::new();
    for i in 0..args.streams.div_ceil(8) {
        let t = token(format!("bench-wall-{i}"), Role::Viewer).await?;
        let address = std::net::IpAddr::from([127, 0, 2, 1 + (i * 8 / 100 % 250) as u8]);
        stream_clients.push(bearer_client_at(&t, Some(address))?);
    }
    for i in 0..args.streams {
        let r = stream_clients[i / 8]
            .get(format!("{base}/api/v1/live"))
            .send()
            .await
            .map_err(|e| format!("cannot open live stream {i}: {e}"))?;
        if r.status().is_success() {
            streams.push(r);
        }
    }
    let streams_open = streams.len();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // Each request asks another instant (`{n}` is replaced per request), so that none is
    // answered from another's kept answer: every one is a replay to queue or refuse.
    let as_of_url = format!("{base}/api/v1/funding/pipeline?as_of=2199-01-01T00:00:00.{{n}}Z");
    let as_of = keep_asking(&auditor, as_of_url.clone(), args.as_of, (&stopped, 3))?;
    let viewer_as_of = keep_asking(&viewer_token, as_of_url, args.as_of, (&stopped, 4))?;
    let verify = keep_asking(
        &auditor,
        format!("{base}/api/v1/audit/verify"),
        args.verifications,
        (&stopped, 5),
    )?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (command_flood, read_flood) = beside(true).await;
    let _ = stop.send(true);
    let (as_of, viewer_as_of, verify) = (
        counted(as_of).await,
        counted(viewer_as_of).await,
        counted(verify).await,
    );
    drop(streams);
    server.stop().await;
    store.close().await;
    Ok(Flooded {
        events,
        command_alone,
        read_alone,
        command_flood,
        read_flood,
        as_of,
        viewer_as_of,
        verify,
        streams_open,
    })
}

#[cfg(test)]
mod tests {
    use super::recopy;

    #[test]
    fn copies_get_ids_of_their_own() {
        let text = r#"{"a":"019ba8c3-beb0-77a1-aa27-7f14e42789d1","b":"x"}"#;
        assert_eq!(
            recopy(text, 3),
            r#"{"a":"00000003-beb0-77a1-aa27-7f14e42789d1","b":"x"}"#
        );
        assert_eq!(recopy("Zoé 2026-03-01", 1), "Zoé 2026-03-01");
    }
}
