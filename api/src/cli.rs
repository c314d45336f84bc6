//! The `incubator` command line.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::server::{serve, shutdown_signal};
use crate::store::Store;

/// Incubator: the event-sourced programme tracker of a creative hub.
#[derive(Debug, Parser)]
#[command(name = "incubator", version, about)]
pub struct Cli {
    /// Log format on standard error.
    #[arg(long, env = "INCUBATOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API and run the projector.
    Serve(ServeArgs),
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
}

/// Parses the command line and runs it. Every failure ends in one line on standard error and a
/// non-zero exit.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init(cli.log_format);
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
    let store = Store::open(&args.database_url).await.map_err(|e| match e {
        crate::store::OpenError::Scheme(_) => e.to_string(),
        _ => format!("{e} ({})", redact(&args.database_url)),
    })?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    tracing::info!(address = %local, store = ?store.dialect(), "listening");
    serve(listener, store, shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
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
