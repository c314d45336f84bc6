//! Running the service: the projector and the HTTP server, until shutdown.

use std::future::Future;
use std::time::Duration;

use std::collections::BTreeMap;

use incubator_projections::audit;
use incubator_projections::models::Model;
use incubator_projections::projector::{self, Progress, Projection};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::{app, idempotency, AppState, Settings};
use crate::store::Store;

/// Expired idempotency keys are deleted at least this often.
const PURGE_AT_MOST_EVERY: Duration = Duration::from_secs(600);

/// Serves `store` on `listener` until `shutdown` resolves, then drains requests, stops the
/// projector (which finishes its batch: it commits or rolls back whole) and closes the pools.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    // One projector task per read model, all under this process's lease.
    let holder = format!("pid-{}-{}", std::process::id(), uuid::Uuid::now_v7());
    let mut models = BTreeMap::new();
    let mut projectors = Vec::new();
    for model in Model::ALL {
        let (progress_tx, progress_rx) = watch::channel(Progress::default());
        models.insert(model.name(), progress_rx);
        projectors.push(tokio::spawn(projector::run(
            store.projectors.clone(),
            model,
            store.committed.clone(),
            progress_tx,
            stop_rx.clone(),
            holder.clone(),
        )));
    }
    // The sealer: hash chains and digests over the log, under the same lease.
    let (seal_tx, seal_rx) = watch::channel(Progress::default());
    models.insert(audit::SEALER, seal_rx);
    projectors.push(tokio::spawn(projector::run(
        store.projectors.clone(),
        audit::Sealer,
        store.committed.clone(),
        seal_tx,
        stop_rx.clone(),
        holder.clone(),
    )));
    let purge = tokio::spawn(idempotency::purge_expired(
        store.read.clone(),
        settings.idempotency_retention,
        (settings.idempotency_retention / 10).clamp(Duration::from_secs(1), PURGE_AT_MOST_EVERY),
    ));
    let (closing_tx, closing) = watch::channel(false);
    let state = AppState::new(store.clone(), models, settings, closing);
    // Changes across two records that a crash or an outage interrupted: past twice a
    // request's lifetime (an idempotent retry resumes one before), finished or undone.
    let lifetime = state.settings.request_timeout + Duration::from_secs(5);
    let settle = tokio::spawn(crate::app::studio::settle_forever(
        state.app(),
        lifetime * 2,
        (lifetime / 2).clamp(Duration::from_secs(1), Duration::from_secs(30)),
    ));
    let header_read = state.settings.header_read_timeout;
    let result = crate::connections::serve(listener, app(state), header_read, async move {
        shutdown.await;
        let _ = closing_tx.send(true);
    })
    .await;
    purge.abort();
    settle.abort();
    let _ = stop_tx.send(true);
    for projector in projectors {
        let _ = projector.await;
    }
    store.close().await;
    result
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
