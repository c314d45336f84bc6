//! `incubator audit seal|verify`.

use incubator_projections::audit::{self, Range, Verified};
use indicatif::{ProgressBar, ProgressStyle};

/// What to do for the auditors.
#[derive(Debug, clap::Subcommand)]
pub enum AuditAction {
    /// Seal the events committed since the last seal (the server does this continuously; this
    /// is for a store with no server running).
    Seal,
    /// Recompute every event's hash chain and the log-wide digests and compare them with the
    /// seal; names the first broken event and exits 1 when anything differs.
    Verify(VerifyArgs),
    /// Write the log (events.jsonl: commit order, metadata, hashes) and every read model's
    /// tables (one CSV each) into a directory.
    Export {
        /// The directory to write (created if missing).
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Read an exported events.jsonl into an empty store (the server then builds the read
    /// models and seals the log).
    Import {
        /// The events.jsonl written by `audit export`.
        file: std::path::PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The first global position to check (default: the start of the log).
    #[arg(long)]
    pub from: Option<i64>,
    /// The last global position to check (default: the end of the log).
    #[arg(long)]
    pub to: Option<i64>,
    /// Print the JSON report on standard output instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub store: crate::args::StoreUrl,
    #[command(subcommand)]
    pub action: AuditAction,
}

/// Runs the command; `Err` carries the one line to print (and exit 1).
pub async fn run(args: AuditArgs) -> Result<(), String> {
    let store = incubator_server::store::open_store(&args.store.database_url).await?;
    let result = match args.action {
        AuditAction::Seal => seal(&store).await,
        AuditAction::Verify(v) => verify(&store, &v).await,
        AuditAction::Export { out } => export(&store, &out).await,
        AuditAction::Import { file } => import(&store, &file).await,
    };
    store.close().await;
    result
}

async fn export(
    store: &incubator_server::store::Store,
    dir: &std::path::Path,
) -> Result<(), String> {
    use incubator_projections::export;
    use incubator_projections::models::Model;
    use incubator_projections::rebuild::Rebuildable;
    let fail = |e: &dyn std::fmt::Display| format!("cannot export to {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    let total = incubator_projections::rebuild::log_size(&store.read)
        .await
        .map_err(|e| fail(&e))?;
    let bar = crate::progress::bar(total, false, "export");
    let file = std::fs::File::create(dir.join("events.jsonl")).map_err(|e| fail(&e))?;
    let mut out = std::io::BufWriter::new(file);
    let n = export::export_log(&store.read, &mut out, &|n| bar.set_position(n))
        .await
        .map_err(|e| fail(&e))?;
    bar.finish_and_clear();
    let mut tables = 0;
    for model in Model::ALL {
        for table in model.tables() {
            let csv = export::table_csv(&store.read, table)
                .await
                .map_err(|e| fail(&e))?;
            std::fs::write(dir.join(format!("{table}.csv")), csv).map_err(|e| fail(&e))?;
            tables += 1;
        }
    }
    println!(
        "exported {n} events to {} and {tables} read-model tables as CSV",
        dir.join("events.jsonl").display()
    );
    Ok(())
}

async fn import(
    store: &incubator_server::store::Store,
    file: &std::path::Path,
) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("cannot import {}: {e}", file.display());
    let input = std::io::BufReader::new(std::fs::File::open(file).map_err(|e| fail(&e))?);
    // The file is read once, so its length in events is not known ahead: a counter.
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("    import {elapsed_precise} {pos} events ({per_sec})")
    {
        bar.set_style(style);
    }
    let n = incubator_projections::export::import_log(&store.read, input, &|n| bar.set_position(n))
        .await
        .map_err(|e| fail(&e))?;
    bar.finish_and_clear();
    println!(
        "imported {n} events, each sealed as it stands; start the server (or `audit seal`) to \
         chain their digests and build the read models"
    );
    Ok(())
}

async fn seal(store: &incubator_server::store::Store) -> Result<(), String> {
    let sealed = audit::seal_all(&store.read)
        .await
        .map_err(|e| format!("cannot seal: {e}"))?;
    println!(
        "chained {sealed} digest batch(es): every event sealed with its append is in a digest \
         (`audit verify` names any event without a seal)"
    );
    Ok(())
}

fn report_line(v: &Verified) -> String {
    format!(
        "{} events read, {} checked against their seal ({} not in a digest yet), {} not sealed \
         yet, {} digests recomputed, {} snapshots replayed",
        v.events, v.sealed, v.undigested, v.unsealed, v.digests, v.snapshots
    )
}

async fn verify(store: &incubator_server::store::Store, args: &VerifyArgs) -> Result<(), String> {
    let total = incubator_projections::rebuild::log_size(&store.read)
        .await
        .map_err(|e| e.to_string())?;
    let bar = crate::progress::bar(total, args.json, "verify");
    let range = Range {
        from: args.from.unwrap_or(0),
        to: args.to.unwrap_or(i64::MAX),
    };
    let v = audit::verify(&store.read, range, &|n| bar.set_position(n))
        .await
        .map_err(|e| format!("cannot verify: {e}"))?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&v).map_err(|e| e.to_string())?);
    } else {
        println!("{}", report_line(&v));
        if let Some(d) = &v.latest_digest {
            println!(
                "latest digest #{} over seals 1..={}: {} (sealed {})",
                d.digest_seq, d.last_seal, d.digest, d.sealed_at
            );
        }
        for f in &v.findings {
            println!(
                "{}: position {} {} {} #{}: {}",
                f.kind, f.position, f.aggregate_type, f.aggregate_id, f.sequence, f.detail
            );
        }
    }
    match &v.first {
        None if v.unsealed > 0 => Err(format!(
            "not verified: {} events are not sealed yet, so nothing is proven about them; \
             run `incubator audit seal` (or start the server) and verify again",
            v.unsealed
        )),
        None => Ok(()),
        Some(f) => Err(format!(
            "the log does not match its seal: {} findings; first: {} event at position {} ({} {} #{})",
            v.found, f.kind, f.position, f.aggregate_type, f.aggregate_id, f.sequence
        )),
    }
}
