//! `GET /live`: the read models' positions as server-sent events, driven by the projector, so
//! that a dashboard refreshes a panel only when its model has moved; `GET /session`: who a
//! token is.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::{Extension, Json};
use futures::Stream;
use serde::Serialize;
use tokio::sync::watch;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;

use incubator_projections::projector::Progress;

use crate::auth::Revocations;
use crate::places::{Full, Place, Places};

use super::error::ApiError;
use super::{Actor, AppState, Bearer};

/// After a model moves, how long the stream waits to gather the other models' moves of the
/// same burst into one event.
const GATHER: Duration = Duration::from_millis(50);

/// How often an open stream checks that its token has not expired (revocations end it at
/// once: it watches them).
const RECHECK: Duration = Duration::from_secs(60);

/// Live streams open at once, in all; one more is refused with 503 `busy`.
pub const MAX_STREAMS: usize = 512;
/// Live streams one token (by name) may hold open at once; one more is refused with 429.
pub const MAX_STREAMS_PER_TOKEN: usize = 8;

/// The live streams open: in all, and per token name.
pub type Streams = Places<String>;

/// A place for one more stream of the token named `name`, within both caps.
pub fn admit(streams: &Arc<Streams>, name: &str) -> Result<Place<String>, ApiError> {
    streams
        .take(&name.to_owned(), MAX_STREAMS_PER_TOKEN, MAX_STREAMS)
        .map_err(|full| match full {
            Full::Key(n) => ApiError::TooManyStreams(n),
            Full::Total => ApiError::Busy,
        })
}

pub fn router() -> OpenApiRouter<AppState> {
    super::common::router![live, session]
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
    revocations: watch::Receiver<Revocations>,
    last: Option<Positions>,
    _place: Place<String>,
}

impl Feed {
    /// Whether the stream's token is still good: asked again at each revocation the service
    /// sees, and every [`RECHECK`] for its expiry. Fails closed: a store that cannot say, or a
    /// service out of touch with the revocations, ends the stream (the client reconnects,
    /// and is authenticated again).
    async fn still_valid(&mut self) -> bool {
        self.checked = tokio::time::Instant::now();
        if !self.revocations.borrow_and_update().in_touch {
            return false;
        }
        matches!(self.state.tokens.verify(&self.token).await, Ok(Some(_)))
    }

    /// The next event: at once when the positions differ from the last sent, otherwise when a
    /// model moves. None when the service shuts down, its projectors have stopped, or the token
    /// is no longer valid.
    async fn next(&mut self) -> Option<Positions> {
        loop {
            if self.checked.elapsed() >= RECHECK && !self.still_valid().await {
                return None;
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
            let revoked = tokio::select! {
                (result, _, _) = moved => {
                    result.ok()?;
                    false
                }
                _ = self.closing.changed() => return None,
                seen = self.revocations.changed() => {
                    seen.ok()?;
                    true
                }
                _ = tokio::time::sleep_until(recheck) => continue,
            };
            if revoked {
                if !self.still_valid().await {
                    return None;
                }
                continue;
            }
            tokio::time::sleep(GATHER).await;
        }
    }
}

/// `GET /live`: `text/event-stream` of `positions` events, one at once and then one whenever
/// a read model moves (a burst of moves within 50 ms is one event), with a keep-alive comment
/// every 15 s. The stream ends when the service shuts down, as soon as the service sees its
/// token revoked (within a second, whichever process revoked it), when it expires, and when
/// the service loses touch with the store's revocations. A token holds at most 8 streams
/// (429 past that), the service 512 (503). A client refetches the panels whose model moved,
/// passing the new position as `min_position`.
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
        (status = 429, description = "This token holds as many streams open as one token may",
         body = super::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "As many streams are open as the service holds",
         body = super::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])),
    extensions(("x-role" = json!("viewer"))),
)]
async fn live(
    State(state): State<AppState>,
    Extension(Bearer(token)): Extension<Bearer>,
    Extension(actor): Extension<Actor>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let place = admit(&state.streams, &actor.name)?;
    let feed = Feed {
        state: state.clone(),
        token,
        checked: tokio::time::Instant::now(),
        revocations: state.tokens.revocations(),
        _place: place,
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
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_capped_in_all_and_per_token_and_give_their_places_back() {
        let streams = Arc::new(Streams::default());
        let mut places = Vec::new();
        for i in 0..MAX_STREAMS {
            places.push(admit(&streams, &format!("screen {}", i % 100)).unwrap());
        }
        assert!(matches!(admit(&streams, "another"), Err(ApiError::Busy)));
        drop(places.pop());
        let place = admit(&streams, "another").unwrap();
        assert_eq!(streams.held(), MAX_STREAMS);
        drop(place);
        drop(places);
        assert_eq!(streams.held(), 0);
        let mine: Vec<_> = (0..MAX_STREAMS_PER_TOKEN)
            .map(|_| admit(&streams, "one").unwrap())
            .collect();
        assert!(matches!(
            admit(&streams, "one"),
            Err(ApiError::TooManyStreams(n)) if n == MAX_STREAMS_PER_TOKEN
        ));
        drop(mine);
        assert_eq!(streams.keys(), 0);
    }
}
