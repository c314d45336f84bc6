//! Work whose cost grows with the history, bounded whoever asks: a read model as of an instant
//! (a replay of the log into temporary copies), and the auditors' verification and consistency
//! check.
//!
//! - It runs on a pool of its own (`Store::heavy`), so it never takes the
//!   connections that authentication, commands, reads and the projector use.
//! - At most [`RUNNING`] replays run at once and [`QUEUED`] more wait their turn; past that the
//!   answer is 503 `busy` with `Retry-After`, at once, so a flood queues nothing.
//! - An instant in the future is the present (the log holds nothing later), and answers as of
//!   an instant more than [`SETTLED`] ago are kept ([`KEPT`] at most, the oldest forgotten
//!   first): nothing can still be committed with an earlier `recorded_at`, so they cannot
//!   change.
//! - Verifications and consistency checks run one at a time ([`Heavy::check_turn`]).
//! - All of it runs on a thread of its own ([`Heavy::run`]), so that its computing (decoding,
//!   hashing, replaying) never holds the runtime's workers that requests are served on: the
//!   system's scheduler shares the processors between the two, and a command is served
//!   between two slices of a replay. Ending the request (answered, timed out, disconnected)
//!   aborts the work.

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use incubator_domain::values::Moment;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use super::error::ApiError;
use crate::app::Actor;
use crate::auth::Role;

/// Replays running at once.
pub const RUNNING: usize = crate::store::REPLAYS as usize;
/// Replays waiting for a turn; one more is refused with 503 `busy`.
pub const QUEUED: usize = 8;
/// Answers as of an instant at least this long ago are kept: past the request timeout and
/// the commit of any transaction that began before it.
pub const SETTLED: Duration = Duration::from_secs(120);
/// Answers kept, across models and queries.
pub const KEPT: usize = 256;

type Kept = Arc<dyn Any + Send + Sync>;

/// The bounds, the thread and the kept answers of one service.
pub struct Heavy {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    checks: Semaphore,
    kept: Mutex<(HashMap<String, Kept>, VecDeque<String>)>,
    /// The runtime on the heavy work's own thread; it stops when this is dropped.
    runtime: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Default for Heavy {
    fn default() -> Self {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (started, handle) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("incubator-heavy".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                match runtime {
                    Ok(runtime) => {
                        let _ = started.send(Some(runtime.handle().clone()));
                        runtime.block_on(async {
                            let _ = stopped.await;
                        });
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start the heavy work's runtime");
                        let _ = started.send(None);
                    }
                }
            });
        // Without a thread of its own (the system refused one), the work runs on the
        // caller's runtime: bounded the same, only sharing its workers.
        let runtime = thread
            .ok()
            .and_then(|_| handle.recv().ok().flatten())
            .unwrap_or_else(tokio::runtime::Handle::current);
        Self {
            running: Arc::new(Semaphore::new(RUNNING)),
            admitted: Arc::new(Semaphore::new(RUNNING + QUEUED)),
            checks: Semaphore::new(1),
            kept: Mutex::new((HashMap::new(), VecDeque::new())),
            runtime,
            _stop: stop,
        }
    }
}

/// A task on the heavy thread, aborted when dropped (its request ended).
struct Aborting<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Aborting<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl std::fmt::Debug for Heavy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Heavy")
            .field("running", &(RUNNING - self.running.available_permits()))
            .finish()
    }
}

/// A replay's turn: held while it runs; dropping it (the request ended) frees it.
#[derive(Debug)]
pub struct Turn {
    _running: OwnedSemaphorePermit,
    _admitted: OwnedSemaphorePermit,
}

/// An instant to look back to, as the service will answer for it.
#[derive(Debug, Clone, Copy)]
pub struct LookBack {
    /// The instant asked for, or now when it was later.
    pub until: Moment,
    /// Whether an answer for it can no longer change.
    pub settled: bool,
}

impl LookBack {
    /// The present for an instant in the future.
    pub fn of(asked: Moment) -> Self {
        let now = chrono::Utc::now();
        let until = asked.0.min(now);
        let settled = chrono::Duration::from_std(SETTLED).is_ok_and(|d| until <= now - d);
        Self {
            until: Moment(until),
            settled,
        }
    }
}

/// Who may ask for a read model as it was: auditors and officers. A model's past is history,
/// as a record's is; viewer tokens are the wall screens', which show the present.
pub fn may_look_back(actor: &Actor) -> Result<(), ApiError> {
    if actor.role >= Role::Auditor {
        Ok(())
    } else {
        Err(ApiError::Forbidden {
            role: actor.role.as_str(),
            needed: Role::Auditor.as_str(),
        })
    }
}

impl Heavy {
    /// A turn to replay: at once when one is free, after the replays ahead when the queue has
    /// room, else 503 `busy` at once.
    pub async fn turn(&self) -> Result<Turn, ApiError> {
        let admitted = self
            .admitted
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy)?;
        let running = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::Busy)?;
        Ok(Turn {
            _running: running,
            _admitted: admitted,
        })
    }

    /// The turn of a verification or a consistency check: one at a time, 503 `busy` at once
    /// while another runs.
    pub fn check_turn(&self) -> Result<SemaphorePermit<'_>, ApiError> {
        self.checks.try_acquire().map_err(|_| ApiError::Busy)
    }

    /// The answer kept under `key`, if any.
    pub fn kept<T: Clone + Send + Sync + 'static>(&self, key: &str) -> Option<T> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.0.get(key)?.downcast_ref::<T>().cloned()
    }

    /// Keeps `answer` under `key`, forgetting the oldest past [`KEPT`].
    pub fn keep<T: Send + Sync + 'static>(&self, key: String, answer: T) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *kept;
        if map.insert(key.clone(), Arc::new(answer)).is_none() {
            order.push_back(key);
        }
        while order.len() > KEPT {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }

    /// Runs `work` on the heavy thread; dropping the returned future (the request ended)
    /// aborts it.
    pub async fn run<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        let mut task = Aborting(self.runtime.spawn(work));
        (&mut task.0).await.map_err(|e| ApiError::internal(&e))?
    }

    /// The answer for `key` as of `back`: kept, or computed by `work` on the heavy thread in a
    /// turn (and kept when settled).
    pub async fn answer<T, F>(&self, key: String, back: LookBack, work: F) -> Result<T, ApiError>
    where
        T: Clone + Send + Sync + 'static,
        F: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
    {
        if back.settled {
            if let Some(answer) = self.kept::<T>(&key) {
                return Ok(answer);
            }
        }
        let _turn = self.turn().await?;
        let answer = self.run(work).await?;
        if back.settled {
            self.keep(key, answer.clone());
        }
        Ok(answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_queue_a_replay_is_refused_at_once() {
        let heavy = Heavy::default();
        let mut turns = Vec::new();
        for _ in 0..RUNNING {
            turns.push(heavy.turn().await.unwrap());
        }
        // The queue's places: each waits (here, for ever: nothing ends).
        let heavy = Arc::new(heavy);
        let mut waiting = Vec::new();
        for _ in 0..QUEUED {
            let h = heavy.clone();
            waiting.push(tokio::spawn(async move { h.turn().await.map(drop) }));
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(waiting.iter().all(|w| !w.is_finished()));
        let refused = tokio::time::timeout(Duration::from_millis(100), heavy.turn())
            .await
            .expect("refused at once, not queued");
        assert!(matches!(refused, Err(ApiError::Busy)));
        // A turn ends: the first in the queue runs.
        drop(turns.pop());
        tokio::time::timeout(Duration::from_secs(1), async {
            while !waiting.iter().any(|w| w.is_finished()) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
    }

    #[test]
    fn the_future_is_the_present_and_only_the_settled_past_is_kept() {
        let future = Moment(chrono::Utc::now() + chrono::Duration::days(365 * 100));
        let back = LookBack::of(future);
        assert!(back.until.0 <= chrono::Utc::now());
        assert!(!back.settled);
        let past = Moment(chrono::Utc::now() - chrono::Duration::days(1));
        let back = LookBack::of(past);
        assert_eq!(back.until, past);
        assert!(back.settled);
        let heavy = Heavy::default();
        for i in 0..KEPT + 10 {
            heavy.keep(format!("k{i}"), i);
        }
        assert_eq!(heavy.kept::<usize>("k0"), None, "the oldest forgotten");
        assert_eq!(
            heavy.kept::<usize>(&format!("k{}", KEPT + 9)),
            Some(KEPT + 9)
        );
        assert_eq!(heavy.kept::<String>(&format!("k{}", KEPT + 9)), None);
    }
}
