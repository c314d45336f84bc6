//! `incubator backup` and `incubator restore`: a copy of the whole store (the log, its seal,
//! the read models, the people registry, tokens and keys) taken while the service runs, and put
//! back into an empty place, then verified and checked.
//!
//! - SQLite: `VACUUM INTO`, SQLite's online backup: one consistent copy from a read snapshot,
//!   while commands go on (in WAL mode a reader blocks no writer). The copy is a plain database
//!   file; `restore` copies it to a path that holds no database yet.
//! - PostgreSQL: `pg_dump --format=custom` (a consistent snapshot too) and `pg_restore` into
//!   an empty database, the tools PostgreSQL ships for it (`docs/operations.md` has the
//!   procedure, and what to mind when restoring into another cluster).
//!
//! After a restore, `audit verify` and `projections check` run on the restored store; the
//! command fails unless both are clean.

use std::path::{Path, PathBuf};

use incubator_projections::audit::{self, Range};
use incubator_projections::models::Model;
use incubator_projections::projector::Projection;
use incubator_projections::rebuild;
use incubator_server::store::open_store;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub store: crate::args::StoreUrl,
    /// The file to write (it must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub store: crate::args::StoreUrl,
    /// The backup `incubator backup` wrote.
    #[arg(long)]
    pub from: PathBuf,
}

fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite:")
        .map(|p| p.trim_start_matches("//"))
}

/// Runs `program` with `args`; its standard error in the message when it fails.
fn tool(program: &str, args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new(program)
        .args(args)
        .output()
        .map_err(|e| {
            format!("cannot run {program} (PostgreSQL's client tools, on the PATH): {e}")
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `incubator backup --out FILE`.
pub async fn backup(args: BackupArgs) -> Result<(), String> {
    let url = &args.store.database_url;
    if args.out.exists() {
        return Err(format!(
            "{} exists: a backup never overwrites a file",
            args.out.display()
        ));
    }
    let out = args
        .out
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", args.out.display()))?;
    let store = open_store(url).await?;
    let events = rebuild::log_size(&store.read)
        .await
        .map_err(|e| format!("cannot read the log: {e}"))?;
    let done = if sqlite_path(url).is_some() {
        sqlx::query("VACUUM INTO $1")
            .bind(out)
            .execute(&store.read.pool)
            .await
            .map(drop)
            .map_err(|e| format!("cannot back up to {out}: {e}"))
    } else {
        tool("pg_dump", &["--format=custom", "--file", out, url])
    };
    store.close().await;
    done?;
    println!("backed up {events} events to {out}");
    Ok(())
}

/// `incubator restore --from FILE`: into a place that holds no store yet, then verified and
/// checked.
pub async fn restore(args: RestoreArgs) -> Result<(), String> {
    let url = &args.store.database_url;
    let from = args
        .from
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", args.from.display()))?;
    if !args.from.is_file() {
        return Err(format!("no backup at {from}"));
    }
    match sqlite_path(url) {
        Some(path) => {
            if Path::new(path).exists() {
                return Err(format!(
                    "{path} exists: restore into a path that holds no database (move the old one aside)"
                ));
            }
            std::fs::copy(from, path).map_err(|e| format!("cannot copy {from} to {path}: {e}"))?;
        }
        None => {
            empty_postgres(url).await?;
            tool(
                "pg_restore",
                &[
                    "--no-owner",
                    "--no-privileges",
                    "--exit-on-error",
                    "--dbname",
                    url,
                    from,
                ],
            )?;
            transaction_ids_passed(url).await?;
        }
    }
    let store = open_store(url).await?;
    let result = clean(&store).await;
    store.close().await;
    result
}

/// The one value `sql` selects from the database at `url`, on a connection of its own.
async fn scalar<T>(url: &str, sql: &'static str) -> Result<T, String>
where
    T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url)
        .await
        .map_err(|e| format!("cannot connect to {url}: {e}"))?;
    let value = sqlx::query_scalar(sql)
        .fetch_one(&pool)
        .await
        .map_err(|e| format!("cannot read {url}: {e}"));
    pool.close().await;
    value
}

/// The log is read in commit order by transaction id, and only below the cluster's oldest
/// running one: restored events whose ids this cluster has not reached yet would stay unread
/// (a restore into another cluster, whose counter is behind the one the backup came from).
async fn transaction_ids_passed(url: &str) -> Result<(), String> {
    let behind: bool = scalar(
        url,
        "SELECT COALESCE(MAX(transaction_id)::text::numeric, 0) \
                >= pg_snapshot_xmin(pg_current_snapshot())::text::numeric FROM events",
    )
    .await?;
    if behind {
        return Err(
            "the restored log carries transaction ids this PostgreSQL cluster has not reached: \
             its events would stay unread. Restore into the cluster the backup came from (or a \
             copy of it), or move the log with `incubator audit export` and `audit import` \
             (docs/operations.md)"
                .into(),
        );
    }
    Ok(())
}

/// Refuses a PostgreSQL database that holds tables already.
async fn empty_postgres(url: &str) -> Result<(), String> {
    let tables: i64 = scalar(
        url,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .await?;
    if tables > 0 {
        return Err(format!(
            "the database holds {tables} tables already: restore into an empty database \
             (createdb NAME)"
        ));
    }
    Ok(())
}

/// Verification and every model's check, on the restored store (after sealing what the
/// service had not sealed yet when the backup was taken, as a service starting on it would).
async fn clean(store: &incubator_server::store::Store) -> Result<(), String> {
    audit::seal_all(&store.read)
        .await
        .map_err(|e| format!("cannot seal the restored store: {e}"))?;
    let verified = audit::verify(&store.read, Range::ALL, &|_| {})
        .await
        .map_err(|e| format!("cannot verify the restored store: {e}"))?;
    let mut differences = 0;
    for model in Model::ALL {
        let checked = rebuild::check(&store.read, &model, &|_| {})
            .await
            .map_err(|e| format!("cannot check {}: {e}", model.name()))?;
        differences += checked.differences();
    }
    println!(
        "restored {} events: verify {} ({} sealed, {} snapshots), every read model checked, \
         {differences} differences",
        verified.events, verified.verdict, verified.sealed, verified.snapshots
    );
    if verified.intact && differences == 0 {
        Ok(())
    } else {
        Err(format!(
            "the restored store is not clean: verify says {}, {differences} differences in the \
             read models",
            verified.verdict
        ))
    }
}
