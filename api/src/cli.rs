//! The `incubator` command line.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use incubator_server::server::{serve, shutdown_signal};
use incubator_server::store::open_store;
use incubator_server::telemetry::LogFormat;

/// Incubator keeps the record of a creative hub's programme (the 1535° hub in Differdange):
/// startups in incubation and their funding, mentors, artists' residencies, collaborations,
/// and the spaces of its buildings. Every change is an event in an append-only log that
/// auditors can replay and verify; dashboards read what it builds from the log, live.
///
/// Start with `incubator serve` (SQLite in ./incubator.db by default), create a token with
/// `incubator tokens create --role officer --name NAME`, or load a year of demo data with
/// `incubator demo`.
#[derive(Debug, Parser)]
#[command(name = "incubator", version, about, long_about)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, env = "INCUBATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API and run the projector.
    Serve(ServeArgs),
    /// Create, list and revoke API tokens.
    Tokens(TokensArgs),
    /// Rebuild read models from the log, or check them against a rebuild.
    Projections(crate::models_cli::ProjectionsArgs),
    /// Seal the log and verify it was not altered.
    Audit(crate::audit_cli::AuditArgs),
    /// Copy the whole store to a file while the service runs (SQLite: VACUUM INTO;
    /// PostgreSQL: pg_dump).
    Backup(crate::backup_cli::BackupArgs),
    /// Put a backup into a place that holds no store yet, then verify and check it.
    Restore(crate::backup_cli::RestoreArgs),
    /// Load a realistic year at the hub (deterministic from a seed) into an empty store.
    Demo(crate::demo::DemoArgs),
    /// Measure throughput and latency against a baseline taken in the same run.
    #[command(subcommand)]
    Bench(crate::bench::Bench),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "INCUBATOR_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The event store: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://incubator.db")]
    pub database_url: String,
    /// A request taking longer is answered 503 (e.g. 30s, 2m).
    #[arg(long, env = "INCUBATOR_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: std::time::Duration,
    /// The largest request body accepted, in bytes (413 above it).
    #[arg(long, env = "INCUBATOR_BODY_LIMIT", default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1024..))]
    pub body_limit: u32,
    /// Requests handled at once; more wait up to a second, then get 503.
    #[arg(long, env = "INCUBATOR_MAX_CONCURRENT_REQUESTS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_requests: u32,
    /// How long an Idempotency-Key and its response are kept (e.g. 24h, 7d).
    #[arg(long, env = "INCUBATOR_IDEMPOTENCY_RETENTION", default_value = "24h", value_parser = parse_retention)]
    pub idempotency_retention: std::time::Duration,
    /// A client taking longer to send a request's head is disconnected (e.g. 10s).
    #[arg(long, env = "INCUBATOR_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: std::time::Duration,
}

impl ServeArgs {
    /// The service settings these arguments give.
    pub fn settings(&self) -> incubator_server::http::Settings {
        incubator_server::http::Settings {
            request_timeout: self.request_timeout,
            body_limit: self.body_limit as usize,
            max_concurrent_requests: self.max_concurrent_requests as usize,
            idempotency_retention: self.idempotency_retention,
            header_read_timeout: self.header_read_timeout,
        }
    }
}

/// A token's lifetime: a minute to a hundred years.
fn parse_lifetime(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d < std::time::Duration::from_secs(60) || d > incubator_server::auth::MAX_LIFETIME {
        return Err("must be between 1m and 100 years".into());
    }
    Ok(d)
}

/// A retention of at least a minute: shorter would expire keys while clients still retry.
fn parse_retention(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| e.to_string())?;
    if d < std::time::Duration::from_secs(60) {
        return Err("must be at least 1m".into());
    }
    Ok(d)
}

#[derive(Debug, clap::Args)]
pub struct TokensArgs {
    #[command(flatten)]
    pub store: crate::args::StoreUrl,
    #[command(subcommand)]
    pub action: TokensAction,
}

#[derive(Debug, Subcommand)]
pub enum TokensAction {
    /// Create a token; the token alone is printed on standard output, once.
    Create {
        /// officer (commands and reads), auditor (every read), viewer (read models).
        #[arg(long, value_enum)]
        role: incubator_server::auth::Role,
        /// Who holds it; it becomes the actor in the metadata of their events.
        #[arg(long)]
        name: String,
        /// It stops working after this long (e.g. 90d, 12h); a rotation gives the new token
        /// the same lifetime. Without it, the token works until revoked or rotated.
        #[arg(long, value_parser = parse_lifetime)]
        expires_in: Option<std::time::Duration>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by name (the name may then be given to a new token).
    Revoke {
        /// The token's name.
        name: String,
    },
    /// Replace a token with a new one of the same name and role (the old one stops working);
    /// the new token alone is printed on standard output, once.
    Rotate {
        /// The token's name.
        name: String,
    },
}

/// Parses the command line and runs it. Every failure ends in one line on standard error and a
/// non-zero exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    incubator_server::telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the runtime: {e}")),
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => run_serve(args).await,
            Command::Bench(bench) => crate::bench::run(bench).await,
            Command::Tokens(args) => run_tokens(args).await,
            Command::Demo(args) => crate::demo::run(args).await,
            Command::Projections(args) => crate::models_cli::run(args).await,
            Command::Audit(args) => crate::audit_cli::run(args).await,
            Command::Backup(args) => crate::backup_cli::backup(args).await,
            Command::Restore(args) => crate::backup_cli::restore(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(line) => fail(line),
    }
}

fn fail(line: String) -> ExitCode {
    eprintln!("incubator: {line}");
    ExitCode::FAILURE
}

async fn run_serve(args: ServeArgs) -> Result<(), String> {
    let store = open_store(&args.database_url).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    match incubator_server::auth::any_active(&store.read).await {
        Ok(false) => tracing::warn!(
            "no API token exists, so every API request will get 401: create one with \
             `incubator tokens create --role officer --name NAME`"
        ),
        Ok(true) => {}
        Err(e) => return Err(format!("cannot read the API tokens: {e}")),
    }
    tracing::info!(address = %local, store = ?store.dialect(), "listening");
    serve(listener, store, args.settings(), shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn run_tokens(args: TokensArgs) -> Result<(), String> {
    use incubator_server::auth;
    let store = open_store(&args.store.database_url).await?;
    let db = &store.read;
    let result = match args.action {
        TokensAction::Create {
            role,
            name,
            expires_in,
        } => auth::create_expiring(db, &name, role, expires_in)
            .await
            .map(|token| {
                println!("{token}");
            }),
        TokensAction::List => auth::list(db).await.map(|tokens| {
            println!(
                "{:<30} {:<8} {:<25} {:<25} revoked",
                "name", "role", "created", "expires"
            );
            for t in tokens {
                println!(
                    "{:<30} {:<8} {:<25} {:<25} {}",
                    t.name,
                    t.role,
                    t.created_at,
                    t.expires_at.as_deref().unwrap_or("-"),
                    t.revoked_at.as_deref().unwrap_or("-")
                );
            }
        }),
        TokensAction::Revoke { name } => auth::revoke(db, &name).await,
        TokensAction::Rotate { name } => auth::rotate(db, &name).await.map(|token| {
            println!("{token}");
        }),
    };
    store.close().await;
    result.map_err(|e| e.to_string())
}
