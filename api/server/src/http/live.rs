//! `GET /live`: the read models' positions as server-sent events, driven by the projector, so
//! that a dashboard refreshes a panel only when its model has moved; `GET /session`: who a
//! token is.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::{Extension, Json};
use futures::Stream;
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use incubator_projections::projector::Progress;

use crate::auth;

use super::{Actor, AppState, Bearer};

/// After a model moves, how long the stream waits to gather the other models' moves of the
/// same burst into one event.
const GATHER: Duration = Duration::from_millis(50);

/// How often an open stream checks that its token has not been revoked.
const RECHECK: Duration = Duration::from_secs(5);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live))
        .routes(routes!(session))
}

/// The data of a `positions` event: each read model's position (the sealer included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Positions {
    pub models: BTreeMap<&'static str, i64>,
}

fn positions(models: &[(&'static str, watch::Receiver<Progress>)]) -> Positions {
    Positions {
        models: models
            .iter()
            .map(|(name, rx)| (*name, rx.borrow().checkpoint.position))
            .collect(),
    }
}

/// The stream's state between events.
struct Feed {
    state: AppState,
    token: String,
    checked: tokio::time::Instant,
    models: Vec<(&'static str, watch::Receiver<Progress>)>,
    closing: watch::Receiver<bool>,
    last: Option<Positions>,
}

impl Feed {
    /// The next event: at once when the positions differ from the last sent, otherwise when a
    /// model moves. None when the service shuts down, its projectors have stopped, or the token
    /// has been revoked (checked every [`RECHECK`]).
    async fn next(&mut self) -> Option<Positions> {
        loop {
            if self.checked.elapsed() >= RECHECK {
                match auth::verify(&self.state.store.read, &self.token).await {
                    Ok(None) => return None,
                    // A store that does not answer ends nothing: the next check decides.
                    Ok(Some(_)) | Err(_) => self.checked = tokio::time::Instant::now(),
                }
            }
            let now = positions(&self.models);
            if self.last.as_ref() != Some(&now) {
                self.last = Some(now.clone());
                return Some(now);
            }
            if *self.closing.borrow() {
                return None;
            }
            let recheck = self.checked + RECHECK;
            let moved = futures::future::select_all(
                self.models.iter_mut().map(|(_, rx)| Box::pin(rx.changed())),
            );
            tokio::select! {
                (result, _, _) = moved => result.ok()?,
                _ = self.closing.changed() => return None,
                _ = tokio::time::sleep_until(recheck) => continue,
            }
            tokio::time::sleep(GATHER).await;
        }
    }
}

/// `GET /live`: `text/event-stream` of `positions` events, one at once and then one whenever
/// a read model moves (a burst of moves within 50 ms is one event), with a keep-alive comment
/// every 15 s. The stream ends when the service shuts down or within 5 s of its token's
/// revocation. A client refetches the panels whose model moved, passing the new position as
/// `min_position`.
#[utoipa::path(
    get,
    path = "/live",
    tag = "operations",
    summary = "Read-model positions as server-sent events",
    responses(
        (status = 200,
         description = "A stream of server-sent events, one whenever a read model moves: \
             `event: positions`, `id:` the highest position, and `data:` one line of JSON, \
             `{\"models\": {\"<model>\": <position>, …}}` (every read model and the seal). \
             The body is that text, not JSON.",
         content_type = "text/event-stream", body = String,
         example = json!("event: positions\nid: 7390\ndata: {\"models\":{\"funding\":7390,\"mentorship\":7390}}\n\n")),
        (status = 401, description = "No valid token", body = super::openapi::Problem,
         content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("viewer"))),
)]
async fn live(
    State(state): State<AppState>,
    Extension(Bearer(token)): Extension<Bearer>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let feed = Feed {
        state: state.clone(),
        token,
        checked: tokio::time::Instant::now(),
        models: state
            .models
            .iter()
            .map(|(name, rx)| (*name, rx.clone()))
            .collect(),
        closing: state.closing.clone(),
        last: None,
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        let now = feed.next().await?;
        let head = now.models.values().copied().max().unwrap_or(0);
        let event = Event::default()
            .event("positions")
            .id(head.to_string())
            .json_data(&now)
            .unwrap_or_else(|_| Event::default().comment("unserialisable"));
        Some((Ok(event), feed))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Who the bearer token belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct Session {
    /// The token's name.
    pub name: String,
    /// `viewer`, `auditor` or `officer`.
    pub role: String,
}

/// `GET /session`: the token's name and role (any valid token), for a page to show who is
/// signed in.
#[utoipa::path(
    get,
    path = "/session",
    tag = "operations",
    summary = "The name and role of the bearer token",
    responses(
        (status = 200, description = "Signed in", body = Session),
        (status = 401, description = "No valid token", body = super::openapi::Problem,
         content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("viewer"))),
)]
async fn session(Extension(actor): Extension<Actor>) -> Json<Session> {
    Json(Session {
        name: actor.name,
        role: actor.role.as_str().to_owned(),
    })
}
