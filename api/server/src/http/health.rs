//! What the service knows of its store, found out in the background: a probe asks the database
//! on a connection of its own (never one a request waits for) every [`EVERY`], and reads the
//! log's head meanwhile. `/readyz` and `/metrics` answer from it without a query of their own,
//! so probes and scrapes cost the database nothing however often they come; and once the store
//! is known to be down (two probes in a row failed), requests under `/api/v1` get 503
//! `store_unavailable` at once instead of after a pool's acquire timeout, until a probe finds it
//! back.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::watch;

use super::error::ApiError;
use crate::store::Store;

/// How often the store is asked.
pub const EVERY: Duration = Duration::from_millis(500);
/// How long a probe may take before it counts as failed.
const PATIENCE: Duration = Duration::from_secs(2);
/// Failed probes in a row after which the store is known to be down.
const DOWN_AFTER: u32 = 2;

/// The last probe's findings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// `ok`, `unreachable` or `timeout`.
    pub store: &'static str,
    /// Whether requests are refused at once (the store known to be down).
    pub down: bool,
    /// The log's head at the last probe that reached the store.
    pub head: i64,
}

impl Default for Health {
    fn default() -> Self {
        Self {
            store: "ok",
            down: false,
            head: 0,
        }
    }
}

/// Starts the probe on `store` (on its pool kept for it); its findings, to watch. The probe
/// ends when every receiver is dropped.
pub fn watch(store: Store) -> watch::Receiver<Health> {
    let (tx, rx) = watch::channel(Health::default());
    tokio::spawn(probe(store, tx));
    rx
}

async fn probe(store: Store, tx: watch::Sender<Health>) {
    let db = &store.probe;
    let mut failed = 0u32;
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if tx.is_closed() {
            return;
        }
        let asked = tokio::time::timeout(PATIENCE, async {
            let mut conn = db.pool.acquire().await?;
            incubator_projections::log::head_position(&mut conn).await
        })
        .await;
        let last = tx.borrow().clone();
        let now = match asked {
            Ok(Ok(head)) => {
                if last.down {
                    // The connections the outage broke go before the first request comes.
                    store.sweep().await;
                    tracing::info!("the store answers again");
                }
                failed = 0;
                Health {
                    store: "ok",
                    down: false,
                    head,
                }
            }
            failed_probe => {
                failed += 1;
                let store = match failed_probe {
                    Ok(Err(e)) => {
                        if failed == DOWN_AFTER {
                            tracing::warn!(error = %e, "the store is unreachable: requests get 503 at once until it answers");
                        }
                        "unreachable"
                    }
                    _ => "timeout",
                };
                Health {
                    store,
                    down: failed >= DOWN_AFTER,
                    head: last.head,
                }
            }
        };
        if now != last {
            tx.send_replace(now);
        }
    }
}

/// Refuses a request at once, 503 `store_unavailable`, while the store is known to be down.
pub async fn refuse_while_down(
    State(state): State<super::AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if state.health.borrow().down {
        return Err(ApiError::Unavailable);
    }
    Ok(next.run(req).await)
}
