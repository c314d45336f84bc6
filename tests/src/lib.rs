//! Helpers for the end-to-end tests: a database of its own per test (a temp SQLite file, or a
//! fresh PostgreSQL database), the real server on port 0, and an HTTP client.
//!
//! PostgreSQL is required: its URL comes from `INCUBATOR_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). A test that cannot reach it fails; it never
//! skips.

pub mod browser;
pub mod contract;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use incubator_projections::{Dialect, ReadDb};
use incubator_server::auth::{self, Role};
use incubator_server::store::Store;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Which event store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the tests use.
pub fn postgres_admin_url() -> String {
    std::env::var("INCUBATOR_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database of the test's own, removed when dropped.
#[derive(Debug)]
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Dir(PathBuf),
    Database(String),
}

impl TestDb {
    /// Creates an empty database on `backend`.
    pub async fn new(backend: Backend) -> Self {
        let name = format!("incubator_test_{}", uuid::Uuid::now_v7().simple());
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = format!("sqlite://{}", dir.join("events.db").display());
                Self {
                    backend,
                    url,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Backend::Postgres => {
                let template = postgres_template(&postgres_admin_url()).await;
                Self::postgres(Some(template)).await
            }
        }
    }

    /// A PostgreSQL database of the test's own: a copy of `template`, or empty.
    async fn postgres(template: Option<&str>) -> Self {
        let admin = postgres_admin_url();
        let name = format!("incubator_test_{}", uuid::Uuid::now_v7().simple());
        let create = match template {
            Some(template) => format!("CREATE DATABASE {name} TEMPLATE {template}"),
            None => format!("CREATE DATABASE {name}"),
        };
        // One copy at a time: PostgreSQL refuses to copy a template that another copy is
        // reading.
        let _one = COPYING.lock().await;
        let pool = admin_pool(&admin).await;
        sqlx::query(&create)
            .execute(&pool)
            .await
            .expect("PostgreSQL is required for these tests: cannot create a database");
        pool.close().await;
        Self {
            backend: Backend::Postgres,
            url: database_url(&admin, &name),
            cleanup: Cleanup::Database(name),
        }
    }

    /// A place holding no store at all, not even the schema: a SQLite path with no file yet,
    /// or an empty PostgreSQL database (for restores).
    pub async fn blank(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self::new(backend).await,
            Backend::Postgres => Self::postgres(None).await,
        }
    }

    /// Whether the database `name` (`prefix` and a UUID v7) was made at least `hours` ago.
    fn made_hours_ago(name: &str, prefix: &str, hours: u64) -> bool {
        let Some(made) = name
            .strip_prefix(prefix)
            .and_then(|id| uuid::Uuid::try_parse(id).ok())
            .and_then(|id| id.get_timestamp())
        else {
            return false;
        };
        let (seconds, _) = made.to_unix();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        now.saturating_sub(seconds) >= hours * 3600
    }

    /// Sends this PostgreSQL database's connections through `proxy` (which a test can cut).
    pub fn through(&mut self, proxy: &Proxy) {
        let real_url = self.url.clone();
        let (base, name) = real_url.rsplit_once('/').expect("a database URL");
        let host = base.rsplit_once('@').map_or(base, |(_, h)| h);
        self.url = real_url.replace(
            &format!("{host}/{name}"),
            &format!("127.0.0.1:{}/{name}", proxy.port),
        );
        assert_ne!(self.url, real_url);
    }

    /// A fresh database holding the demo year (`demo --seed 1535 --scale 1`, as [`run_demo`]
    /// loads it with `binary`), copied from one loaded once per run and store: loading the year
    /// costs about a minute of a two-core machine, a copy a second. The source is kept for the
    /// run (one per store); a PostgreSQL one from an earlier run is dropped when the next is
    /// built.
    pub async fn with_demo(backend: Backend, binary: &str) -> Self {
        Self::with_demo_output(backend, binary).await.0
    }

    /// [`TestDb::with_demo`], with what the load printed on standard output (the one load of
    /// the run: the demo's own test reads its summary there).
    pub async fn with_demo_output(backend: Backend, binary: &str) -> (Self, String) {
        let db = Self::new(backend).await;
        match backend {
            Backend::Sqlite => {
                let source = DEMO_SQLITE
                    .get_or_init(|| async {
                        let dir = std::env::temp_dir()
                            .join(format!("incubator_demo_{}", uuid::Uuid::now_v7().simple()));
                        std::fs::create_dir_all(&dir).expect("temp dir");
                        let file = dir.join("events.db");
                        let url = format!("sqlite://{}", file.display());
                        let (ok, stdout, stderr) = run_demo(binary, &url, 1).await;
                        assert!(ok, "the demo did not load: {stderr}");
                        (file, stdout)
                    })
                    .await;
                let (source, stdout) = (&source.0, source.1.clone());
                let target = db.url.trim_start_matches("sqlite://").to_owned();
                for suffix in ["", "-wal", "-shm"] {
                    let from = PathBuf::from(format!("{}{suffix}", source.display()));
                    if from.exists() {
                        std::fs::copy(&from, format!("{target}{suffix}")).expect("copy the demo");
                    }
                }
                (db, stdout)
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let source = DEMO_POSTGRES
                    .get_or_init(|| async {
                        let pool = admin_pool(&admin).await;
                        for old in sqlx::query(
                            "SELECT datname::text AS datname FROM pg_database WHERE datname LIKE 'incubator_demo_%'",
                        )
                        .fetch_all(&pool)
                        .await
                        .expect("list earlier demo databases")
                        {
                            let old: String = old.get("datname");
                            // Only a run's that ended long ago: another run may be using its
                            // own right now (its name's UUID v7 says when it was made).
                            if !Self::made_hours_ago(&old, "incubator_demo_", 3) {
                                continue;
                            }
                            let _ =
                                sqlx::query(&format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)"))
                                    .execute(&pool)
                                    .await;
                        }
                        let name = format!("incubator_demo_{}", uuid::Uuid::now_v7().simple());
                        let template = postgres_template(&admin).await;
                        {
                            let _one = COPYING.lock().await;
                            sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                                .execute(&pool)
                                .await
                                .expect("create the demo database");
                        }
                        pool.close().await;
                        let (ok, stdout, stderr) =
                            run_demo(binary, &database_url(&admin, &name), 1).await;
                        assert!(ok, "the demo did not load: {stderr}");
                        (name, stdout)
                    })
                    .await;
                let (source, stdout) = (&source.0, source.1.clone());
                let Cleanup::Database(name) = &db.cleanup else {
                    unreachable!("a PostgreSQL test database")
                };
                let _one = COPYING.lock().await;
                let pool = admin_pool(&admin).await;
                sqlx::query(&format!("DROP DATABASE {name}"))
                    .execute(&pool)
                    .await
                    .expect("make room for the copy");
                sqlx::query(&format!("CREATE DATABASE {name} TEMPLATE {source}"))
                    .execute(&pool)
                    .await
                    .expect("copy the demo database");
                pool.close().await;
                (db, stdout)
            }
        }
    }

    /// A pool for looking at the database directly, as an auditor or an attacker would.
    pub async fn pool(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::pool::PoolOptions::new()
            .max_connections(4)
            .connect(&self.url)
            .await
            .expect("connect to the test database")
    }
}

/// The migrated database every PostgreSQL test database is copied from (`CREATE DATABASE …
/// TEMPLATE`), named by the schema's digest: built once, by the first test that needs it,
/// under a temporary name renamed when complete, so that an interrupted build is never used.
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
static COPYING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
/// The demo year loaded once per run: a SQLite file, a PostgreSQL database.
/// The run's demo sources, with what their load printed.
static DEMO_SQLITE: tokio::sync::OnceCell<(PathBuf, String)> = tokio::sync::OnceCell::const_new();
static DEMO_POSTGRES: tokio::sync::OnceCell<(String, String)> = tokio::sync::OnceCell::const_new();

fn database_url(admin: &str, name: &str) -> String {
    let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
    format!("{base}/{name}")
}

async fn postgres_template(admin: &str) -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let digest = incubator_projections::db::schema_digest(Dialect::Postgres);
            let name = format!("incubator_template_{digest}");
            let pool = admin_pool(admin).await;
            let exists = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&pool)
                .await
                .expect("look for the template database")
                .is_some();
            if !exists {
                let building = format!("{name}_{}", uuid::Uuid::now_v7().simple());
                sqlx::query(&format!("CREATE DATABASE {building}"))
                    .execute(&pool)
                    .await
                    .expect("PostgreSQL is required for these tests: cannot create a database");
                let db = ReadDb::connect(&database_url(admin, &building), 1)
                    .await
                    .expect("connect to the template being built");
                db.migrate().await.expect("migrate the template");
                db.pool.close().await;
                // A closed connection's backend may linger a moment: the rename ends it, and
                // waits for it.
                let rename = format!("ALTER DATABASE {building} RENAME TO {name}");
                let linger = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                              WHERE datname = $1 AND pid <> pg_backend_pid()";
                let _ = sqlx::query(linger).bind(&building).execute(&pool).await;
                let mut renamed = sqlx::query(&rename).execute(&pool).await;
                for _ in 0..200 {
                    if renamed.is_err() {
                        let _ = sqlx::query(linger).bind(&building).execute(&pool).await;
                    }
                    let taken = sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1")
                        .bind(&name)
                        .fetch_optional(&pool)
                        .await
                        .expect("look for the template database")
                        .is_some();
                    if renamed.is_ok() || taken {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    renamed = sqlx::query(&rename).execute(&pool).await;
                }
                if renamed.is_err() {
                    // Another run built it meanwhile: use theirs.
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                            .execute(&pool)
                            .await;
                }
            }
            pool.close().await;
            name
        })
        .await
}

async fn admin_pool(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    sqlx::pool::PoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .unwrap_or_else(|e| {
            panic!("PostgreSQL is required for these tests ({url}): {e}");
        })
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database(name) => {
                let name = name.clone();
                // Drop runs inside the test's runtime; a thread of its own can block on another.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    rt.block_on(async {
                        let pool = admin_pool(&postgres_admin_url()).await;
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&pool)
                                .await;
                        pool.close().await;
                    });
                })
                .join();
            }
        }
    }
}

/// The real server, in this process, on a port of its own.
pub struct TestApp {
    pub db: TestDb,
    /// Where tests send requests: a proxy that holds every exchange to the OpenAPI document.
    pub base: String,
    /// The server itself, for what a proxy would change (connection-level behaviour).
    pub direct: String,
    /// Reports (when the app is stopped or dropped) every exchange that broke the document.
    pub contract: contract::ContractProxy,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// Starts a server on a fresh database.
    pub async fn spawn(backend: Backend) -> Self {
        let db = TestDb::new(backend).await;
        Self::spawn_on(db).await
    }

    /// Starts a server on an existing database.
    pub async fn spawn_on(db: TestDb) -> Self {
        Self::spawn_with(db, incubator_server::http::Settings::default()).await
    }

    /// Starts a server on an existing database with `settings`.
    pub async fn spawn_with(db: TestDb, settings: incubator_server::http::Settings) -> Self {
        let store = Store::open(&db.url).await.expect("open the store");
        let token = auth::create(
            &store.read,
            &format!("officer-{}", uuid::Uuid::now_v7()),
            Role::Officer,
        )
        .await
        .expect("create a token");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(incubator_server::server::serve(
            listener,
            store,
            settings,
            async {
                let _ = stopped.await;
            },
        ));
        let direct = format!("http://{addr}");
        let contract = contract::ContractProxy::start(&direct).await;
        Self {
            db,
            base: contract.base.clone(),
            direct,
            contract,
            client: client(Some(&token)),
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Stops the server gracefully and gives the database back.
    pub async fn stop(mut self) -> TestDb {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server");
        }
        // `TestApp` has a `Drop`-free shape, so the database can be moved out; the contract
        // proxy reports what broke the document as it is dropped.
        let TestApp { db, contract, .. } = self;
        drop(contract);
        db
    }

    /// A new token with `role`, for tests of access rules.
    pub async fn token(&self, role: Role) -> String {
        create_token(
            &self.db.url,
            &format!("{role}-{}", uuid::Uuid::now_v7()),
            role,
        )
        .await
    }

    /// A request to `path` (under the server root).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.request(Method::POST, path)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path)
            .send()
            .await
            .expect("request")
    }

    /// `GET path`, expecting 200 and JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.expect("json")
    }

    /// Registers a person in the people registry and returns their id.
    pub async fn person(&self) -> String {
        register_person(&self.client, &self.base).await
    }

    /// Registers an application (with a founder registered for it) and returns the startup's
    /// id.
    pub async fn apply(&self, name: &str, cohort: Option<&str>) -> String {
        let founder = self.person().await;
        let r = self
            .post(
                "/api/v1/startups",
                json!({
                    "name": name,
                    "founders": [founder],
                    "cohort": cohort,
                    "sector": "creative tech",
                    "applied_on": "2026-01-15",
                }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "apply {name}");
        let body: Value = r.json().await.expect("json");
        body["startup_id"].as_str().expect("id").to_owned()
    }

    /// Registers a mentor (with a fresh person id) and returns the mentor's id.
    pub async fn register_mentor(&self) -> String {
        let person = self.person().await;
        let r = self
            .post(
                "/api/v1/mentors",
                json!({
                    "person_id": person,
                    "expertise": ["fundraising", "sound design"],
                    "registered_on": "2026-01-10",
                }),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED, "register a mentor");
        let body: Value = r.json().await.expect("json");
        body["mentor_id"].as_str().expect("id").to_owned()
    }

    /// `POST /api/v1/startups/{id}/{action}`, expecting `status`; returns the body.
    pub async fn command(&self, id: &str, action: &str, body: Value, status: StatusCode) -> Value {
        let r = self
            .post(&format!("/api/v1/startups/{id}/{action}"), body)
            .await;
        let got = r.status();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "{action} on {id}: {body}");
        body
    }

    /// Waits until the funding projection has applied every event in the log.
    pub async fn settle(&self) {
        let pool = self.db.pool().await;
        settle(&pool, self.db.backend).await;
        pool.close().await;
    }
}

/// Registers a person through `client` (an officer's) on the server at `base`; their id.
pub async fn register_person(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .post(format!("{base}/api/v1/people"))
        .json(&json!({"name": "Test Person"}))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::CREATED, "register a person");
    let body: Value = r.json().await.expect("json");
    body["person_id"].as_str().expect("id").to_owned()
}

/// The status `ask` gives once it is 401, asking again for up to a second: a service answers
/// known tokens from its cache, and sees a revocation made elsewhere within a poll
/// (`auth::REVOCATION_POLL`). The last status when it never turns.
pub async fn once_refused<F, Fut>(mut ask: F) -> StatusCode
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StatusCode>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let status = ask().await;
        if status == StatusCode::UNAUTHORIZED || tokio::time::Instant::now() >= deadline {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Creates a token on the database at `url` (migrating it if needed).
pub async fn create_token(url: &str, name: &str, role: Role) -> String {
    let store = Store::open(url).await.expect("open the store");
    let token = auth::create(&store.read, name, role)
        .await
        .expect("create a token");
    store.close().await;
    token
}

/// Waits (up to 20 s) until every read model and the sealer have applied every committed
/// event.
pub async fn settle(pool: &AnyPool, backend: Backend) {
    let pending = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) AS n FROM events WHERE position > \
             COALESCE((SELECT position FROM projector_checkpoints WHERE projection = $1), 0)"
        }
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM events e LEFT JOIN projector_checkpoints c \
             ON c.projection = $1 \
             WHERE c.projection IS NULL \
                OR (e.transaction_id, e.position) > (c.transaction_id::text::xid8, c.position)"
        }
    };
    // Every read model, not only the first.
    let sealer = [incubator_projections::audit::SEALER];
    for model in incubator_projections::models::Model::names()
        .into_iter()
        .chain(sealer)
    {
        let mut caught_up = false;
        for _ in 0..400 {
            let n: i64 = sqlx::query(pending)
                .bind(model)
                .fetch_one(pool)
                .await
                .expect("count pending")
                .get("n");
            if n == 0 {
                caught_up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            caught_up,
            "the {model} projector did not catch up within 20 s"
        );
    }
}

/// Runs `binary demo --seed 1535 --scale N` on the store at `url`: whether it succeeded, its
/// standard output and its standard error.
pub async fn run_demo(binary: &str, url: &str, scale: u32) -> (bool, String, String) {
    let out = tokio::process::Command::new(binary)
        .args(["demo", "--seed", "1535", "--scale", &scale.to_string()])
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run the demo");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Counts the events in the log.
pub async fn event_count(pool: &AnyPool) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM events")
        .fetch_one(pool)
        .await
        .expect("count")
        .get("n")
}

/// An HTTP client without proxies, sending `token` as bearer token.
pub fn client(token: Option<&str>) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(token) = token {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The `incubator` binary as a child process (for crash tests).
pub struct ServerProcess {
    pub child: tokio::process::Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts `binary serve` on `url` and waits until it answers.
    pub async fn start(binary: &str, url: &str) -> Self {
        Self::start_with(binary, url, &[], &[]).await
    }

    /// Starts `binary serve` on `url` with more arguments and environment variables (a
    /// shorter `--request-timeout`, `INCUBATOR_FAILPOINTS`), and waits until it answers.
    pub async fn start_with(binary: &str, url: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = tokio::process::Command::new(binary)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .envs(env.iter().copied())
            .env("DATABASE_URL", url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start the server");
        let base = format!("http://127.0.0.1:{port}");
        let c = client(None);
        for _ in 0..200 {
            if let Ok(r) = c.get(format!("{base}/healthz")).send().await {
                if r.status().is_success() {
                    return Self { child, base };
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not start");
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// SIGKILL: no shutdown, no flush, nothing.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("kill");
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).expect("bind");
    l.local_addr().expect("addr").port()
}

/// Runs an async test body once per backend: `both_stores!(name, body_fn)` makes
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await;
                }
            }
        )*
    };
}

/// A TCP proxy to a server, which a test can cut (every connection reset, new ones refused
/// at once) and restore: a database that goes away and comes back, without stopping the
/// PostgreSQL server other tests are using.
pub struct Proxy {
    pub port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    links: std::sync::Arc<std::sync::Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    /// Starts forwarding a local port to `target` (`host:port`).
    pub async fn start(target: String) -> Self {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("address").port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let links = std::sync::Arc::new(std::sync::Mutex::new(Vec::<JoinHandle<()>>::new()));
        let accept = tokio::spawn({
            let up = up.clone();
            let links = links.clone();
            async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let target = target.clone();
                    let link = tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                    links.lock().expect("links").push(link);
                }
            }
        });
        Self {
            port,
            up,
            links,
            accept,
        }
    }

    /// The database goes away: open connections are reset, new ones closed at once.
    pub fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for link in self.links.lock().expect("links").drain(..) {
            link.abort();
        }
    }

    /// The database is back.
    pub fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

/// `host:port` of the PostgreSQL server the tests use.
pub fn postgres_address() -> String {
    let url = postgres_admin_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let host = rest.split_once('@').map_or(rest, |(_, h)| h);
    let host = host.split(['/', '?']).next().unwrap_or("127.0.0.1:5432");
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}
