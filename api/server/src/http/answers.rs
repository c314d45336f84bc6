//! Read-model answers shared until their model moves.
//!
//! A read model changes only when its projector moves it, so the answer to a read is the same
//! for everyone until the model's position moves (or the hub's day turns, for the answers that
//! count to today). Each answer is served with that as its validator, `ETag:
//! "v<version>.<model>.<position>.<day>"`: a client that sends it back in `If-None-Match` gets
//! `304 Not Modified` without the answer being computed, and an answer computed once is kept
//! and sent to every client that asks the same (path and query, `min_position` aside) while it
//! holds. Answers that name people from the registry (which changes without any model moving)
//! are never kept (see `common::read!`).
//!
//! Bounded: at most [`MAX_ANSWERS`] answers of at most [`MAX_BYTES`] each; the oldest goes
//! first, and an answer whose model has moved on is replaced when it is next asked for.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use serde::Serialize;

use super::error::ApiError;
use super::AppState;

/// How many answers are kept.
pub const MAX_ANSWERS: usize = 512;
/// The largest answer kept (larger ones are computed for each request).
pub const MAX_BYTES: usize = 512 * 1024;

/// What an answer is the answer to (the path names the model).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    /// The path and the query without `min_position`.
    resource: String,
    day: NaiveDate,
}

#[derive(Debug)]
struct Kept {
    position: i64,
    body: Bytes,
}

/// The kept answers, and the answers being computed.
#[derive(Debug, Default)]
pub struct Answers {
    kept: Mutex<(HashMap<Key, Kept>, VecDeque<Key>)>,
    /// One lock per answer being computed: the clients that ask for it meanwhile wait for the
    /// first one's answer instead of each computing it (64 dashboards at once cost one).
    computing: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

/// `mutex` locked; a panic elsewhere while it was held leaves the maps whole (each change to
/// them is one call), so a poisoned lock is taken as it is.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Answers {
    fn get(&self, key: &Key, position: i64) -> Option<Bytes> {
        locked(&self.kept)
            .0
            .get(key)
            .filter(|k| k.position == position)
            .map(|k| k.body.clone())
    }

    fn put(&self, key: Key, position: i64, body: Bytes) {
        if body.len() > MAX_BYTES {
            return;
        }
        let mut kept = locked(&self.kept);
        let (map, order) = &mut *kept;
        if map.insert(key.clone(), Kept { position, body }).is_none() {
            order.push_back(key);
            while map.len() > MAX_ANSWERS {
                match order.pop_front() {
                    Some(oldest) => map.remove(&oldest),
                    None => break,
                };
            }
        }
    }

    /// The computation of `key`'s answer: the one running, else a new one.
    fn computing<'a>(&'a self, key: &'a Key) -> Computing<'a> {
        let lock = locked(&self.computing)
            .entry(key.clone())
            .or_default()
            .clone();
        Computing {
            answers: self,
            key,
            lock,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        locked(&self.kept).0.len()
    }
}

/// A request's share in the computation of one answer. Its lock is forgotten when the last
/// request holding or waiting for it is done, or cancelled (a client that went away).
struct Computing<'a> {
    answers: &'a Answers,
    key: &'a Key,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl Drop for Computing<'_> {
    fn drop(&mut self) {
        let mut computing = locked(&self.answers.computing);
        // The map's reference and this one are all that is left.
        if Arc::strong_count(&self.lock) <= 2 {
            computing.remove(self.key);
        }
    }
}

/// The request's path and query without `min_position` (which only says how fresh the answer
/// must be, not what it is).
fn resource(uri: &axum::http::Uri) -> String {
    let query = uri.query().unwrap_or("");
    let rest: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            !pair.is_empty() && pair.split('=').next() != Some(super::fresh::MIN_POSITION)
        })
        .collect();
    if rest.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{}", uri.path(), rest.join("&"))
    }
}

/// Whether `If-None-Match` names `etag` (or is `*`); weak and strong tags compare alike.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// The answer to a read of `model` at `position`: `304` when the client holds it, the kept
/// answer when there is one, else `compute`'s, kept for the next client when `share`.
pub async fn answer<T, F>(
    state: &AppState,
    model: &'static str,
    position: i64,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    share: bool,
    compute: F,
) -> Result<Response, ApiError>
where
    T: Serialize,
    F: Future<Output = Result<Json<T>, ApiError>>,
{
    if !share {
        return compute.await.map(IntoResponse::into_response);
    }
    let day = super::common::today();
    let etag = format!(
        "\"v{}.{model}.{position}.{day}\"",
        env!("CARGO_PKG_VERSION")
    );
    let tagged = |status: StatusCode, body: Option<Bytes>| {
        let mut response = match body {
            Some(body) => (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            None => status.into_response(),
        };
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, value);
        }
        response
    };
    if not_modified(headers, &etag) {
        state.metrics.answer("not_modified");
        return Ok(tagged(StatusCode::NOT_MODIFIED, None));
    }
    let key = Key {
        resource: resource(uri),
        day,
    };
    let answers = &state.answers;
    if let Some(body) = answers.get(&key, position) {
        state.metrics.answer("kept");
        return Ok(tagged(StatusCode::OK, Some(body)));
    }
    // One computation per answer: whoever asks while it runs waits for it, then finds it kept.
    let computing = answers.computing(&key);
    let _turn = computing.lock.lock().await;
    let body = match answers.get(&key, position) {
        Some(body) => {
            state.metrics.answer("kept");
            body
        }
        None => {
            let Json(value) = compute.await?;
            let body = Bytes::from(serde_json::to_vec(&value).map_err(|_| ApiError::Internal)?);
            answers.put(key.clone(), position, body.clone());
            state.metrics.answer("computed");
            body
        }
    };
    Ok(tagged(StatusCode::OK, Some(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: usize) -> Key {
        Key {
            resource: format!("/funding/startups?after={n}"),
            day: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
        }
    }

    #[test]
    fn an_answer_holds_only_at_its_position_and_the_oldest_goes_first() {
        let answers = Answers::default();
        answers.put(key(0), 7, Bytes::from_static(b"{}"));
        assert_eq!(answers.get(&key(0), 7), Some(Bytes::from_static(b"{}")));
        assert_eq!(answers.get(&key(0), 8), None, "the model moved on");
        for n in 1..=MAX_ANSWERS {
            answers.put(key(n), 7, Bytes::from_static(b"{}"));
        }
        assert_eq!(answers.len(), MAX_ANSWERS);
        assert_eq!(answers.get(&key(0), 7), None, "the oldest went first");
        assert!(answers.get(&key(MAX_ANSWERS), 7).is_some());
        answers.put(key(0), 7, Bytes::from(vec![b' '; MAX_BYTES + 1]));
        assert_eq!(answers.get(&key(0), 7), None, "too large to keep");
    }

    #[test]
    fn askers_of_one_answer_share_one_computation_and_its_lock_is_forgotten_after() {
        let answers = Answers::default();
        let (one, two) = (key(1), key(2));
        let first = answers.computing(&one);
        let second = answers.computing(&one);
        assert!(
            Arc::ptr_eq(&first.lock, &second.lock),
            "the second waits on the first's lock"
        );
        assert!(!Arc::ptr_eq(&first.lock, &answers.computing(&two).lock));
        assert!(
            !locked(&answers.computing).contains_key(&two),
            "cancelled: forgotten"
        );
        drop(first);
        assert!(
            locked(&answers.computing).contains_key(&one),
            "one still waits"
        );
        drop(second);
        assert!(!locked(&answers.computing).contains_key(&one));
    }

    #[test]
    fn the_resource_leaves_out_only_min_position() {
        let uri: axum::http::Uri = "/api/v1/funding/startups?min_position=4&stage=incubation"
            .parse()
            .unwrap();
        assert_eq!(resource(&uri), "/api/v1/funding/startups?stage=incubation");
        let uri: axum::http::Uri = "/api/v1/funding/pipeline?min_position=4".parse().unwrap();
        assert_eq!(resource(&uri), "/api/v1/funding/pipeline");
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_lists_and_stars() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(not_modified(&headers, "\"b\""));
        assert!(!not_modified(&headers, "\"c\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(not_modified(&headers, "\"c\""));
    }
}
