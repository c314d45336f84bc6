//! The HTTP API under `/api/v1`: routers per area, merged in [`app`].

pub mod error;
pub mod extract;
mod funding;
mod startups;

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use incubator_projections::Checkpoint;
use serde_json::json;
use tokio::sync::watch;
use tower_http::trace::TraceLayer;
use uuid::Uuid;

use crate::auth::{self, Role};
use crate::store::Store;
use error::ApiError;

/// The header carrying the correlation id, in and out.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// The funding projection's progress.
    pub funding_progress: watch::Receiver<Checkpoint>,
}

/// Who sent a request (the token's name), and in which role.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

/// The correlation id of a request: the caller's `X-Request-Id` when it is a sane token,
/// otherwise a fresh UUID v7.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The metadata every event of a command carries.
pub fn metadata(
    actor: &Actor,
    request: &RequestId,
    reason: Option<&str>,
) -> HashMap<String, String> {
    let mut m = HashMap::from([
        ("actor".to_owned(), actor.name.clone()),
        ("role".to_owned(), actor.role.as_str().to_owned()),
        ("correlation_id".to_owned(), request.0.clone()),
    ]);
    if let Some(reason) = reason {
        m.insert("reason".to_owned(), reason.to_owned());
    }
    m
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .merge(
            startups::commands()
                .route_layer(middleware::from_fn_with_state(Role::Officer, require)),
        )
        .merge(
            startups::reads().route_layer(middleware::from_fn_with_state(Role::Auditor, require)),
        )
        .merge(funding::router().route_layer(middleware::from_fn_with_state(Role::Viewer, require)))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map_or("-", MatchedPath::as_str)
                .to_owned();
            let id = req
                .extensions()
                .get::<RequestId>()
                .map_or("-", |r| r.0.as_str())
                .to_owned();
            tracing::info_span!("request", method = %req.method(), route, request_id = id)
        }))
        .layer(middleware::from_fn(identify))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
}

/// Attaches the request id and the actor, and echoes the id on the response.
async fn identify(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(req).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID.clone(), v);
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
    let (name, role) =
        auth::verify(&state.store.read, &token)
            .await?
            .ok_or(ApiError::Unauthorized {
                detail: "the bearer token is unknown or revoked",
            })?;
    req.extensions_mut().insert(Actor { name, role });
    Ok(next.run(req).await)
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

async fn healthz() -> impl IntoResponse {
    Json(json!({"status": "ok"}))
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// The position a read model reflects, for read responses.
pub fn position(state: &State<AppState>) -> i64 {
    state.funding_progress.borrow().position
}
