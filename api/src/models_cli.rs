//! `incubator projections rebuild|check [NAME] [--json]`.

use std::time::Instant;

use crate::progress::bar;
use incubator_projections::models::Model;
use incubator_projections::projector::Projection;
use incubator_projections::rebuild::{self, Checked};
use serde_json::json;

use incubator_server::store::Store;

/// What to do with the read models.
#[derive(Debug, clap::Subcommand)]
pub enum ProjectionsAction {
    /// Rebuild read models from position 0 and swap them in (readers never see a half-built one).
    Rebuild(Target),
    /// Rebuild read models aside and compare them with the live ones row by row; exits 1 on any
    /// difference.
    Check(Target),
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// One read model (default: all of them).
    pub name: Option<String>,
    /// Print a JSON report on standard output instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ProjectionsArgs {
    #[command(flatten)]
    pub store: crate::args::StoreUrl,
    #[command(subcommand)]
    pub action: ProjectionsAction,
}

fn models(name: Option<&str>) -> Result<Vec<Model>, String> {
    match name {
        None => Ok(Model::ALL.to_vec()),
        Some(n) => Model::named(n).map(|m| vec![m]).ok_or_else(|| {
            format!(
                "no read model named {n:?}; there are: {}",
                Model::names().join(", ")
            )
        }),
    }
}

/// Runs the command; `Err` carries the one line to print (and exit 1).
pub async fn run(args: ProjectionsArgs) -> Result<(), String> {
    let store = incubator_server::store::open_store(&args.store.database_url).await?;
    let result = match args.action {
        ProjectionsAction::Rebuild(t) => rebuild_all(&store, &t).await,
        ProjectionsAction::Check(t) => check_all(&store, &t).await,
    };
    store.close().await;
    result
}

async fn rebuild_all(store: &Store, t: &Target) -> Result<(), String> {
    let total = rebuild::log_size(&store.read)
        .await
        .map_err(|e| e.to_string())?;
    let models = models(t.name.as_deref())?;
    let label = if models.len() == 1 {
        models[0].name()
    } else {
        "all"
    };
    let bar = bar(total, t.json, label);
    let started = Instant::now();
    let done = rebuild::rebuild_together(&store.read, &models, &|n| {
        bar.set_position(n);
        incubator_server::app::failpoint("rebuild-batch");
    })
    .await
    .map_err(|e| format!("cannot rebuild {label}: {e}"))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let mut reports = Vec::new();
    for r in &done {
        if !t.json {
            println!(
                "{}: rebuilt from {} events in {:.2} s ({:.0} events/s, all models together), at position {}",
                r.model,
                r.events,
                seconds,
                r.events as f64 / seconds.max(1e-9),
                r.checkpoint.position
            );
        }
        reports.push(json!({"model": r.model, "events": r.events,
            "position": r.checkpoint.position, "seconds": seconds}));
    }
    if t.json {
        println!("{}", json!({ "rebuilt": reports }));
    }
    Ok(())
}

async fn check_all(store: &Store, t: &Target) -> Result<(), String> {
    let total = rebuild::log_size(&store.read)
        .await
        .map_err(|e| e.to_string())?;
    let mut reports: Vec<Checked> = Vec::new();
    for model in models(t.name.as_deref())? {
        let bar = bar(total, t.json, model.name());
        let checked = rebuild::check(&store.read, &model, &|n| {
            bar.set_position(n);
            incubator_server::app::failpoint("check-batch");
        })
        .await
        .map_err(|e| format!("cannot check {}: {e}", model.name()))?;
        bar.finish_and_clear();
        if !t.json {
            let rows: usize = checked.tables.iter().map(|t| t.rows).sum();
            println!(
                "{}: {} events replayed up to position {}, {} rows in {} tables, {} differences",
                checked.model,
                checked.events,
                checked.checkpoint.position,
                rows,
                checked.tables.len(),
                checked.differences()
            );
            for table in &checked.tables {
                for row in table.only_live.iter().take(20) {
                    println!("  {}: only live:    {row}", table.table);
                }
                for row in table.only_rebuilt.iter().take(20) {
                    println!("  {}: only rebuilt: {row}", table.table);
                }
            }
        }
        reports.push(checked);
    }
    let differences: usize = reports.iter().map(Checked::differences).sum();
    if t.json {
        println!(
            "{}",
            json!({ "checked": reports, "differences": differences })
        );
    }
    if differences > 0 {
        return Err(format!(
            "{differences} rows differ between the live read models and a rebuild"
        ));
    }
    Ok(())
}
