//! The application layer: the work that spans aggregates, or needs facts from another
//! aggregate, written once for every caller (the HTTP API, the demo, the coming workspace).
//!
//! - [`App::execute`]: one command on one record for a [`Caller`], counted and logged.
//! - [`App::mentor_standing`], [`App::occupant_standing`]: the facts about another record
//!   that a command carries into the domain (which stays pure).
//! - [`studio`]: a residency's studio, a change across the residency and its space that
//!   either completes or is visibly undone, even across a crash (journalled in
//!   `pending_changes`, resumed by an idempotent retry, settled by [`studio::settle`]).
//!
//! Errors are the service's one error type ([`ApiError`]); HTTP only renders it.

pub mod studio;

use std::collections::HashMap;
use std::sync::Arc;

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::Aggregate;
use incubator_domain::mentor::{Mentor, MentorStanding};
use incubator_domain::space::{Occupant, OccupantKind, OccupantStanding};
use incubator_domain::{CommandInfo, DomainRule};
use uuid::Uuid;

use crate::auth::Role;
use crate::http::error::ApiError;
use crate::metrics::Metrics;
use crate::store::{CommandError, Committed, EventRepo, Store};

/// Who did something (a token's name), and in which role.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

/// The correlation id of a request: a fresh UUID v7 the service chose (a caller cannot make
/// its events look like part of another request). The caller's own `X-Request-Id` is kept
/// apart, as `client_request_id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The caller's `X-Request-Id`, when it sent a sane one (1 to 128 visible ASCII characters).
#[derive(Debug, Clone)]
pub struct ClientRequestId(pub String);

/// Who sent a command and how: everything a command needs besides its body.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub request: RequestId,
    /// The caller's `X-Request-Id`, if it sent one.
    pub client_request: Option<String>,
    /// The request's `Idempotency-Key`, if it has one.
    pub idempotency_key: Option<String>,
    /// The version named by `If-Match`, if any.
    pub expected_version: Option<u64>,
}

impl Caller {
    /// The metadata every event of the command carries.
    pub fn metadata(&self, reason: Option<&str>) -> HashMap<String, String> {
        let mut m = HashMap::from([
            ("actor".to_owned(), self.actor.name.clone()),
            ("role".to_owned(), self.actor.role.as_str().to_owned()),
            ("correlation_id".to_owned(), self.request.0.clone()),
        ]);
        if let Some(reason) = reason {
            m.insert("reason".to_owned(), reason.to_owned());
        }
        if let Some(key) = &self.idempotency_key {
            m.insert("idempotency_key".to_owned(), key.clone());
        }
        if let Some(id) = &self.client_request {
            m.insert("client_request_id".to_owned(), id.clone());
        }
        m
    }

    /// The same caller for a command on another record: its `If-Match` was about this one.
    pub fn elsewhere(&self) -> Self {
        Self {
            expected_version: None,
            ..self.clone()
        }
    }
}

/// The store and the command counters: what the application layer works with.
#[derive(Clone, Debug)]
pub struct App {
    pub store: Store,
    pub metrics: Arc<Metrics>,
}

impl App {
    pub fn new(store: Store, metrics: Arc<Metrics>) -> Self {
        Self { store, metrics }
    }

    /// Runs `command` against aggregate `id` for `caller`; counts and logs the outcome.
    pub async fn execute<A>(
        &self,
        caller: &Caller,
        events: &PersistedEventStore<EventRepo, A>,
        id: Uuid,
        command: A::Command,
    ) -> Result<Committed, ApiError>
    where
        A: Aggregate<Services = ()> + Clone,
        A::Command: Clone + CommandInfo,
        A::Error: Clone + DomainRule,
        A::Event: incubator_domain::AnswerIds,
    {
        failpoint("execute");
        let reason = command.reason().map(|r| r.as_str().to_owned());
        let name = command.name();
        let outcome = self
            .store
            .execute(
                events,
                &id.to_string(),
                command,
                caller.expected_version,
                caller.metadata(reason.as_deref()),
            )
            .await;
        let label = match &outcome {
            Ok(_) => "accepted",
            Err(CommandError::Rule(_)) => "refused",
            Err(CommandError::VersionMismatch { .. }) => "version_mismatch",
            Err(CommandError::Conflict) => "conflict",
            Err(CommandError::Unavailable(_)) => "unavailable",
            Err(CommandError::Internal(_)) => "error",
        };
        self.metrics.command(name, label);
        match &outcome {
            Ok(_) => tracing::info!(command = name, outcome = label, "command"),
            Err(e) => tracing::info!(command = name, outcome = label, reason = %e, "command"),
        }
        Ok(outcome?)
    }

    /// What a startup or residency is told about mentor `id`.
    pub async fn mentor_standing(&self, id: Uuid) -> Result<MentorStanding, ApiError> {
        let (mentor, _) = self
            .store
            .load(self.store.mentors(), &id.to_string())
            .await?;
        Ok(Mentor::standing(&mentor))
    }

    /// Whether `occupant` names a record of its kind (a tenant is named in the command itself).
    pub async fn occupant_standing(
        &self,
        occupant: &Occupant,
    ) -> Result<OccupantStanding, ApiError> {
        let id = occupant.id.to_string();
        let known = match occupant.kind {
            OccupantKind::Tenant => true,
            OccupantKind::Startup => {
                let (s, _) = self.store.load(self.store.startups(), &id).await?;
                s.state.is_some()
            }
            OccupantKind::Residency => {
                let (r, _) = self.store.load(self.store.residencies(), &id).await?;
                r.state.is_some()
            }
        };
        Ok(if known {
            OccupantStanding::Known
        } else {
            OccupantStanding::Unknown
        })
    }
}

/// A point where the crash tests stop the process (`INCUBATOR_FAILPOINTS=name,…` with the
/// `failpoints` feature, which only the test suite turns on), panic there (`name:panic`) or
/// wait there (`name:slow`, two seconds, or `name:slow=MS`, for a test that must act while
/// long work runs);
/// nothing otherwise.
#[inline]
pub fn failpoint(name: &str) {
    #[cfg(feature = "failpoints")]
    if let Ok(points) = std::env::var("INCUBATOR_FAILPOINTS") {
        for point in points.split(',') {
            if point == name {
                eprintln!("failpoint {name}: aborting");
                std::process::abort();
            }
            if point.strip_suffix(":panic") == Some(name) {
                panic!("failpoint {name}");
            }
            // `name:slow` waits two seconds, `name:slow=MS` that many milliseconds.
            if let Some(slow) = point
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(":slow"))
            {
                let ms = slow
                    .strip_prefix('=')
                    .map_or(Some(2000), |ms| ms.parse().ok());
                if let Some(ms) = ms {
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
            }
        }
    }
    #[cfg(not(feature = "failpoints"))]
    let _ = name;
}
