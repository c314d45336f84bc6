//! The HTTP API under `/api/v1`: routers per area, merged in [`app`].

pub mod answers;
mod audit;
mod collaborations;
mod common;
mod dashboard;
pub mod error;
pub mod extract;
mod fresh;
mod funding;
pub mod health;
pub mod heavy;
pub mod idempotency;
mod lists;
pub mod live;
mod mentors;
mod mentorship;
pub mod openapi;
mod people;
mod portfolio;
mod prelude;
mod residencies;
#[cfg(test)]
mod router_tests;
mod space_usage;
mod spaces;
mod startups;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use incubator_projections::projector::Progress;
use serde_json::json;
use tokio::sync::{watch, Semaphore};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{self, Role};
use crate::metrics::Metrics;
use crate::store::Store;
use error::ApiError;

/// The caller's id of a request, echoed (or the service's, when it sent none).
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// The service's own id of a request: the `correlation_id` of its events and log lines.
pub static CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");

/// The service's limits and retention, from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// A request that takes longer is answered 503.
    pub request_timeout: Duration,
    /// The largest request body accepted (413 above it).
    pub body_limit: usize,
    /// Requests handled at once under `/api/v1`; more wait briefly, then get 503.
    pub max_concurrent_requests: usize,
    /// How long an `Idempotency-Key` and its response are kept.
    pub idempotency_retention: Duration,
    /// How long a client may take to send a request's head; then it is disconnected.
    pub header_read_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            body_limit: 64 * 1024,
            max_concurrent_requests: 256,
            idempotency_retention: Duration::from_secs(24 * 3600),
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// Each read model's progress, by name.
    pub models: Arc<BTreeMap<&'static str, watch::Receiver<Progress>>>,
    pub settings: Settings,
    /// Permits for requests under `/api/v1` ([`Settings::max_concurrent_requests`]).
    pub permits: Arc<Semaphore>,
    pub metrics: Arc<Metrics>,
    /// Turns true when the service begins to shut down: long-lived responses (the live
    /// stream) end, so that the graceful shutdown does not wait on them.
    pub closing: watch::Receiver<bool>,
    /// The bounds of work whose cost grows with the history, and its kept answers.
    pub heavy: Arc<heavy::Heavy>,
    /// The tokens verified, and the revocations seen.
    pub tokens: Arc<auth::TokenCache>,
    /// The live streams open, in all and per token.
    pub streams: Arc<live::Streams>,
    /// What the background probe knows of the store.
    pub health: watch::Receiver<health::Health>,
    /// This process as the holder of idempotency keys.
    pub owners: Arc<idempotency::Owners>,
    /// Read-model answers kept until their model moves.
    pub answers: Arc<answers::Answers>,
}

impl AppState {
    /// The application layer on this state's store and counters.
    pub fn app(&self) -> crate::app::App {
        crate::app::App::new(self.store.clone(), self.metrics.clone())
    }

    /// A read model's progress now (the default before its projector reports).
    pub fn progress(&self, model: &str) -> Progress {
        self.models
            .get(model)
            .map(|r| *r.borrow())
            .unwrap_or_default()
    }

    /// The state of a service on `store`; `closing` turns true when it begins to shut down.
    pub fn new(
        store: Store,
        models: BTreeMap<&'static str, watch::Receiver<Progress>>,
        settings: Settings,
        closing: watch::Receiver<bool>,
    ) -> Self {
        Self {
            closing,
            permits: Arc::new(Semaphore::new(settings.max_concurrent_requests)),
            metrics: Arc::new(Metrics::default()),
            tokens: auth::TokenCache::start(store.commands.clone()),
            health: health::watch(store.clone()),
            owners: idempotency::Owners::start(store.commands.clone()),
            store,
            models: Arc::new(models),
            settings,
            heavy: Arc::default(),
            streams: Arc::default(),
            answers: Arc::default(),
        }
    }
}

pub use crate::app::{Actor, Caller, ClientRequestId, RequestId};

/// The bearer token a request was authenticated with (kept in memory only: long-lived
/// responses check that it is still valid).
#[derive(Clone)]
pub struct Bearer(pub String);

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bearer(…)")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let unauthorized = ApiError::Unauthorized {
            detail: "this API needs a bearer token: Authorization: Bearer <token>",
        };
        Ok(Self {
            actor: parts
                .extensions
                .get::<Actor>()
                .cloned()
                .ok_or(unauthorized)?,
            request: parts
                .extensions
                .get::<RequestId>()
                .cloned()
                .unwrap_or_else(|| RequestId(Uuid::now_v7().to_string())),
            client_request: parts
                .extensions
                .get::<ClientRequestId>()
                .map(|c| c.0.clone()),
            idempotency_key: parts
                .extensions
                .get::<idempotency::IdempotencyKey>()
                .map(|k| k.0.clone()),
            expected_version: extract::if_match(&parts.headers)?,
        })
    }
}

/// The OpenAPI document as served, built once.
#[derive(Debug, Clone)]
struct OpenApiJson(Arc<String>);

/// The whole application.
pub fn app(state: AppState) -> Router {
    let (router, doc) = routes(&state).split_for_parts();
    let json = doc.to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot serialise the OpenAPI document");
        "{}".to_owned()
    });
    let success = idempotency::SuccessStatus::of(&doc);
    let settings = state.settings.clone();
    router
        .merge(dashboard::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .layer(CatchPanicLayer::custom(panicked))
        .layer(Extension(OpenApiJson(Arc::new(json))))
        .layer(Extension(success))
        .layer(middleware::from_fn_with_state(
            settings.request_timeout,
            time_limit,
        ))
        .layer(middleware::from_fn_with_state(state.metrics.clone(), observe))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .extensions()
                .get::<RequestId>()
                .map_or("-", |r| r.0.as_str())
                .to_owned();
            let client = req
                .extensions()
                .get::<ClientRequestId>()
                .map_or("-", |r| r.0.as_str())
                .to_owned();
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = id, client_request_id = client)
        }))
        .layer(middleware::from_fn(identify))
}

/// A handler (or a layer inside this one) panicked: a 500 problem+json, and the panic in the log
/// (its message only: the request is already in the span), never a dropped connection.
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request's handler panicked");
    ApiError::Internal.into_response()
}

/// Every route, with its OpenAPI entry: the same value routes requests and describes them.
pub fn routes(state: &AppState) -> OpenApiRouter<AppState> {
    // Commands: officers only, with Idempotency-Key. Reads of records and their history:
    // auditors and up. Read models: viewers and up.
    // A panicking handler is answered 500 inside every other layer, so that they (the
    // idempotency key's settling included) see an answer, not an unwinding.
    let commands = |r: OpenApiRouter<AppState>| {
        r.route_layer(CatchPanicLayer::custom(panicked))
            .route_layer(middleware::from_fn_with_state(
                state.clone(),
                idempotency::middleware,
            ))
            .route_layer(middleware::from_fn_with_state(Role::Officer, require))
    };
    let records = |r: OpenApiRouter<AppState>| {
        r.route_layer(CatchPanicLayer::custom(panicked))
            .route_layer(middleware::from_fn_with_state(Role::Auditor, require))
    };
    let models = |r: OpenApiRouter<AppState>| {
        r.route_layer(CatchPanicLayer::custom(panicked))
            .route_layer(middleware::from_fn_with_state(Role::Viewer, require))
    };
    let api = merge_documented(vec![
        ("startups", commands(startups::commands())),
        ("mentors", commands(mentors::commands())),
        ("spaces", commands(spaces::commands())),
        ("people", commands(people::commands())),
        ("residencies", commands(residencies::commands())),
        ("collaborations", commands(collaborations::commands())),
        ("startups", records(startups::reads())),
        ("mentors", records(mentors::reads())),
        ("spaces", records(spaces::reads())),
        ("people", records(people::reads())),
        ("residencies", records(residencies::reads())),
        ("collaborations", records(collaborations::reads())),
        ("audit", records(audit::router())),
        ("lists", records(lists::router())),
        ("funding", models(funding::router())),
        ("mentorship", models(mentorship::router())),
        ("portfolio", models(portfolio::router())),
        ("space_usage", models(space_usage::router())),
        ("live", models(live::router())),
    ])
    .layer(middleware::from_fn_with_state(state.clone(), authenticate))
    .layer(middleware::from_fn_with_state(
        state.clone(),
        health::refuse_while_down,
    ))
    .layer(DefaultBodyLimit::max(state.settings.body_limit))
    .layer(middleware::from_fn_with_state(
        state.clone(),
        limit_concurrency,
    ))
    .route_layer(middleware::from_fn(tag_route));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .nest("/api/v1", api)
        .routes(routes!(openapi_json))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .route_layer(middleware::from_fn(tag_route))
}

/// Schemas that two modules' routers name alike but describe differently: merging would keep
/// one and silently document the other module's bodies wrong.
pub fn schema_clashes(parts: &[(&'static str, OpenApiRouter<AppState>)]) -> Vec<String> {
    let mut seen: BTreeMap<String, (&str, serde_json::Value)> = BTreeMap::new();
    let mut clashes = Vec::new();
    for (module, router) in parts {
        let Some(components) = &router.get_openapi().components else {
            continue;
        };
        for (name, schema) in &components.schemas {
            let schema = serde_json::to_value(schema).unwrap_or_default();
            match seen.get(name) {
                Some((other, first)) if *first != schema => {
                    clashes.push(format!("{name} ({other} and {module})"))
                }
                Some(_) => {}
                None => {
                    seen.insert(name.clone(), (module, schema));
                }
            }
        }
    }
    clashes
}

/// Merges the modules' routers, refusing (at start-up, in every test that builds the app)
/// two schemas of one name for different types.
fn merge_documented(
    parts: Vec<(&'static str, OpenApiRouter<AppState>)>,
) -> OpenApiRouter<AppState> {
    let clashes = schema_clashes(&parts);
    assert!(
        clashes.is_empty(),
        "request or response schemas named alike for different types: {clashes:?}"
    );
    parts
        .into_iter()
        .fold(OpenApiRouter::new(), |all, (_, router)| all.merge(router))
}

/// `GET /api/v1/openapi.json`: this document (no token needed).
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "operations",
    summary = "The OpenAPI document of this API",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)),
)]
async fn openapi_json(Extension(doc): Extension<OpenApiJson>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}

/// Attaches the service's correlation id (always its own) and the caller's `X-Request-Id`
/// (kept apart), and answers with both: `X-Correlation-Id` the service's, `X-Request-Id` the
/// caller's when it sent one, else the service's.
async fn identify(mut req: Request, next: Next) -> Response {
    let client = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    let id = Uuid::now_v7().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));
    if let Some(client) = &client {
        req.extensions_mut().insert(ClientRequestId(client.clone()));
    }
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&id) {
        headers.insert(CORRELATION_ID.clone(), v);
    }
    if let Ok(v) = HeaderValue::from_str(client.as_deref().unwrap_or(&id)) {
        headers.insert(REQUEST_ID.clone(), v);
    }
    response
}

/// Resolves the bearer token to an [`Actor`]: 401 without a valid one.
async fn authenticate(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
        .ok_or(ApiError::Unauthorized {
            detail: "this API needs a bearer token: Authorization: Bearer <token>",
        })?;
    let (name, role) = state
        .tokens
        .verify(&token)
        .await?
        .ok_or(ApiError::Unauthorized {
            detail: "the bearer token is unknown, revoked or expired",
        })?;
    req.extensions_mut().insert(Actor { name, role });
    req.extensions_mut().insert(Bearer(token));
    Ok(next.run(req).await)
}

/// The matched route pattern of a response, for metrics and logs.
#[derive(Debug, Clone)]
struct Route(String);

/// Copies the matched route pattern onto the response (only a route layer sees it).
async fn tag_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| Route(m.as_str().to_owned()));
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}

/// Counts every response by route and status, times it, and logs one line for it.
async fn observe(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    let response = next.run(req).await;
    let elapsed = started.elapsed();
    let route = response
        .extensions()
        .get::<Route>()
        .map_or("unmatched", |r| r.0.as_str());
    let status = response.status().as_u16();
    metrics.request(method.as_str(), route, status, elapsed.as_secs_f64());
    if response.headers().contains_key(&idempotency::REPLAYED) {
        metrics.replay();
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if matches!(route, "/healthz" | "/readyz" | "/metrics") {
        // Probes and scrapes every few seconds would drown the log.
        tracing::debug!(route, status, latency_ms, "response");
    } else {
        tracing::info!(route, status, latency_ms, "response");
    }
    response
}

/// Answers 503 `request_timeout` (problem+json) to a request still running after `limit`.
async fn time_limit(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request timed out");
            ApiError::Timeout.into_response()
        }
    }
}

/// Admits a request when a permit is free within a second; 503 `busy` otherwise, so that a
/// flood queues briefly instead of piling up without bound.
async fn limit_concurrency(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let permit = tokio::time::timeout(Duration::from_secs(1), state.permits.acquire_owned())
        .await
        .map_err(|_| ApiError::Busy)?
        .map_err(|_| ApiError::Busy)?;
    let response = next.run(req).await;
    drop(permit);
    Ok(response)
}

/// A route layer refusing (403) actors whose role is below the layer's state.
async fn require(State(needed): State<Role>, req: Request, next: Next) -> Response {
    match req.extensions().get::<Actor>() {
        Some(actor) if actor.role >= needed => next.run(req).await,
        Some(actor) => ApiError::Forbidden {
            role: actor.role.as_str(),
            needed: needed.as_str(),
        }
        .into_response(),
        None => ApiError::Unauthorized {
            detail: "this API needs a bearer token: Authorization: Bearer <token>",
        }
        .into_response(),
    }
}

/// `GET /healthz`: the process is up (nothing else is checked).
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "The process is up",
    responses((status = 200, description = "Up", body = Object, example = json!({"status": "ok"}))),
)]
async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the store answered the background probe (within two seconds, at
/// most half a second ago) and the projector runs; otherwise 503 problem+json naming the
/// failing check. It queries nothing itself.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    summary = "The store answers and the projector runs",
    responses(
        (status = 200, description = "Ready", body = Object,
         example = json!({"status": "ready", "checks": {"store": "ok", "projector": "running", "position": 42}})),
        openapi::NotReady,
    ),
)]
async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.health.borrow().store;
    let mut models = serde_json::Map::new();
    let mut worst = "running";
    let mut lowest: Option<i64> = None;
    for (name, receiver) in state.models.iter() {
        let progress = *receiver.borrow();
        let status = if receiver.has_changed().is_err() {
            "stopped"
        } else if progress.consecutive_failures >= 3 {
            "failing"
        } else if progress.leading {
            "running"
        } else {
            // Another process projects; this one follows its checkpoint.
            "standby"
        };
        let rank = |s: &str| match s {
            "running" => 0,
            "standby" => 1,
            "failing" => 2,
            _ => 3,
        };
        if rank(status) > rank(worst) {
            worst = status;
        }
        lowest = Some(lowest.map_or(progress.checkpoint.position, |l: i64| {
            l.min(progress.checkpoint.position)
        }));
        models.insert(
            (*name).to_owned(),
            json!({"projector": status, "position": progress.checkpoint.position}),
        );
    }
    let projector = if state.models.is_empty() {
        "stopped"
    } else {
        worst
    };
    let checks = json!({
        "store": store,
        "projector": projector,
        "position": lowest.unwrap_or(0),
        "models": models,
    });
    if store == "ok" && matches!(projector, "running" | "standby") {
        Json(json!({"status": "ready", "checks": checks})).into_response()
    } else {
        ApiError::NotReady { checks }.into_response()
    }
}

/// `GET /metrics`: Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain", body = String)),
)]
async fn metrics(State(state): State<AppState>) -> Response {
    // The log's head as the background probe last read it: a scrape queries nothing.
    let head = state.health.borrow().head;
    for (name, receiver) in state.models.iter() {
        let position = receiver.borrow().checkpoint.position;
        state.metrics.projection(name, position, head.max(position));
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The position read model `model` reflects, for read responses.
pub fn position(state: &AppState, model: &str) -> i64 {
    state.progress(model).checkpoint.position
}

/// How long a read waits for its read model to reach the position it asked for.
pub const FRESHNESS_WAIT: Duration = Duration::from_secs(5);

/// Waits (up to [`FRESHNESS_WAIT`]) until the read model has applied the event at
/// `min_position` — the position a command answered with — so a client reads its own writes.
/// 422 if no event has that position; 503 `not_yet_projected` if the wait runs out.
pub async fn wait_for_position(
    state: &AppState,
    model: &str,
    min_position: Option<i64>,
) -> Result<(), ApiError> {
    let Some(wanted) = min_position else {
        return Ok(());
    };
    if wanted < 1 {
        // The same answer on both stores (SQLite's shortcut below would take any number).
        return Err(ApiError::invalid(
            "min_position",
            format!("positions in the log start at 1, not {wanted}"),
        ));
    }
    if position(state, model) >= wanted
        && state.store.dialect() == incubator_projections::Dialect::Sqlite
    {
        return Ok(());
    }
    let target = {
        let mut conn = state.store.read.pool.acquire().await?;
        incubator_projections::log::at_position(&mut conn, state.store.dialect(), wanted).await?
    }
    .ok_or_else(|| ApiError::invalid("min_position", format!("no event has position {wanted}")))?;
    let Some(mut progress) = state.models.get(model).cloned() else {
        return Err(ApiError::internal(&format!("no read model {model}")));
    };
    let reached = tokio::time::timeout(FRESHNESS_WAIT, async {
        progress
            .wait_for(|p| p.checkpoint >= target)
            .await
            .map(|_| ())
    })
    .await;
    match reached {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(ApiError::NotYetProjected {
            wanted,
            current: position(state, model),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod one {
        use axum::Json;
        use serde::Deserialize;
        use utoipa::ToSchema;

        #[derive(Deserialize, ToSchema)]
        #[allow(dead_code)] // only its schema matters
        pub struct Body {
            pub name: String,
        }

        #[utoipa::path(post, path = "/one", request_body = Body, responses((status = 200)))]
        pub async fn handler(Json(_b): Json<Body>) {}
    }

    mod two {
        use axum::Json;
        use serde::Deserialize;
        use utoipa::ToSchema;

        /// Named as `one::Body`, shaped otherwise.
        #[derive(Deserialize, ToSchema)]
        #[allow(dead_code)] // only its schema matters
        pub struct Body {
            pub minutes: u32,
        }

        #[utoipa::path(post, path = "/two", request_body = Body, responses((status = 200)))]
        pub async fn handler(Json(_b): Json<Body>) {}
    }

    #[test]
    fn two_modules_naming_different_bodies_alike_are_caught() {
        let parts = vec![
            (
                "one",
                OpenApiRouter::<AppState>::new().routes(routes!(one::handler)),
            ),
            (
                "two",
                OpenApiRouter::<AppState>::new().routes(routes!(two::handler)),
            ),
        ];
        assert_eq!(schema_clashes(&parts), ["Body (one and two)"]);
        let same = vec![
            (
                "one",
                OpenApiRouter::<AppState>::new().routes(routes!(one::handler)),
            ),
            (
                "again",
                OpenApiRouter::<AppState>::new().routes(routes!(one::handler)),
            ),
        ];
        assert!(schema_clashes(&same).is_empty());
    }
}
