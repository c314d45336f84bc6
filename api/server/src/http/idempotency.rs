//! `Idempotency-Key` on commands: a retry with the same key and request gets the first
//! response and appends nothing; the same key with another request gets 422.
//!
//! Keys belong to the caller (the token's name) and are kept for the configured retention.
//! A key is claimed by inserting a `pending` row before the command runs, so of two racing
//! retries exactly one runs the command; the other waits for its response and replays it.
//!
//! The command's events carry the key in their metadata. That closes the one gap a separate
//! table leaves: if the process dies after the events commit but before the response is
//! recorded (or the command ended in a 5xx whose effect is unknown), the next retry looks in
//! the log for events carrying the key, after the log's head when the key was claimed, and
//! answers from them instead of running the command again.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use incubator_projections::{keys, log, ReadDb};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::{ApiError, Transient};
use super::{Actor, AppState};

/// The request header naming a command attempt.
pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a response that replays the first response to the same key.
pub static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The key of the request being handled, for the events' metadata.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub String);

/// Each command route's success status as the OpenAPI document gives it (201 for a route that
/// creates a record or sub-record): what an answer recovered from the log answers with.
#[derive(Debug, Clone, Default)]
pub struct SuccessStatus(std::sync::Arc<std::collections::BTreeMap<(String, String), u16>>);

impl SuccessStatus {
    /// Read from the document: each operation's lowest 2xx status.
    pub fn of(doc: &utoipa::openapi::OpenApi) -> Self {
        let mut map = std::collections::BTreeMap::new();
        let doc = serde_json::to_value(doc).unwrap_or_default();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let status = op["responses"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(s, _)| s.parse::<u16>().ok())
                    .filter(|s| (200..300).contains(s))
                    .min();
                if let Some(status) = status {
                    map.insert((method.to_ascii_uppercase(), path.clone()), status);
                }
            }
        }
        Self(std::sync::Arc::new(map))
    }

    fn get(&self, method: &Method, route: &str) -> u16 {
        self.0
            .get(&(method.as_str().to_owned(), route.to_owned()))
            .copied()
            .unwrap_or(200)
    }
}

/// How long a retry waits for a racing first attempt to answer before giving up with 409.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(10);

/// How often a serving process records that it is alive ([`Owners::beat`]).
pub const BEAT_EVERY: Duration = Duration::from_millis(500);
/// How long a process may be silent before the keys it holds count as abandoned (it died):
/// six beats missed.
const SILENT_AFTER_MS: i64 = 3_000;

/// This process as the holder of idempotency keys: its instance id (written into the keys it
/// claims, and beaten in `key_owners`), and the attempts it is running now.
#[derive(Debug)]
pub struct Owners {
    pub instance: String,
    /// Attempts running here, by (actor, key, start), and how many (racing claims of one key
    /// within one millisecond enter the same entry).
    running: std::sync::Mutex<std::collections::HashMap<(String, String, i64), usize>>,
}

impl Owners {
    /// A new instance on `db`, beating every [`BEAT_EVERY`] until it is dropped.
    pub fn start(db: ReadDb) -> std::sync::Arc<Self> {
        let owners = std::sync::Arc::new(Self {
            instance: uuid::Uuid::now_v7().to_string(),
            running: Default::default(),
        });
        tokio::spawn(Self::beat(std::sync::Arc::downgrade(&owners), db));
        owners
    }

    async fn beat(owners: std::sync::Weak<Self>, db: ReadDb) {
        let mut ticks = tokio::time::interval(BEAT_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut first = true;
        loop {
            ticks.tick().await;
            let Some(owners) = owners.upgrade() else {
                return;
            };
            let beaten = async {
                let mut conn = db.pool.acquire().await?;
                if first {
                    // Processes silent for a day are long gone.
                    keys::forget_silent(&mut conn, db.dialect, 86_400_000).await?;
                }
                keys::beat(&mut conn, db.dialect, &owners.instance).await
            };
            match tokio::time::timeout(Duration::from_secs(2), beaten).await {
                Ok(Ok(())) => first = false,
                Ok(Err(e)) => tracing::debug!(error = %e, "could not beat"),
                Err(_) => tracing::debug!("beat timed out"),
            }
        }
    }

    /// Marks the attempt (`actor`, `key`, `started_at`) running here until the guard drops.
    /// Taken before the key's row names this process, so no retry here ever finds the row
    /// without the attempt.
    fn running(self: &std::sync::Arc<Self>, actor: &str, key: &str, started_at: i64) -> Running {
        let id = (actor.to_owned(), key.to_owned(), started_at);
        if let Ok(mut set) = self.running.lock() {
            *set.entry(id.clone()).or_default() += 1;
        }
        Running {
            owners: self.clone(),
            id,
        }
    }

    fn is_running(&self, actor: &str, key: &str, started_at: i64) -> bool {
        self.running
            .lock()
            .is_ok_and(|set| set.contains_key(&(actor.to_owned(), key.to_owned(), started_at)))
    }
}

/// An attempt running in this process; forgotten when dropped.
struct Running {
    owners: std::sync::Arc<Owners>,
    id: (String, String, i64),
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut set) = self.owners.running.lock() {
            if let Some(n) = set.get_mut(&self.id) {
                *n -= 1;
                if *n == 0 {
                    set.remove(&self.id);
                }
            }
        }
    }
}

/// Response headers kept with a stored response.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::ETAG, header::LOCATION];

/// The middleware on command routes (after authentication).
pub async fn middleware(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let Some(raw) = req.headers().get(&IDEMPOTENCY_KEY) else {
        return Ok(next.run(req).await);
    };
    let key = parse_key(raw)?;
    let actor = req
        .extensions()
        .get::<Actor>()
        .cloned()
        .ok_or(ApiError::Unauthorized {
            detail: "this API needs a bearer token: Authorization: Bearer <token>",
        })?;
    let (mut parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, state.settings.body_limit)
        .await
        .map_err(|e| {
            if e.into_inner()
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::TooLarge
            } else {
                ApiError::Malformed {
                    detail: "the request body could not be read".into(),
                }
            }
        })?;
    let fingerprint = fingerprint(&parts.method, parts.uri.path(), &parts.headers, &bytes);
    let success_status = match (
        parts.extensions.get::<SuccessStatus>(),
        parts.extensions.get::<axum::extract::MatchedPath>(),
    ) {
        (Some(statuses), Some(route)) => statuses.get(&parts.method, route.as_str()),
        _ => 200,
    };
    parts.extensions.insert(IdempotencyKey(key.clone()));
    let req = Request::from_parts(parts, Body::from(bytes));
    let keys = Keys {
        db: state.store.commands.clone(),
        owners: state.owners.clone(),
        actor: actor.name,
        key,
        fingerprint,
        retention: state.settings.idempotency_retention,
        lease: state.settings.request_timeout + Duration::from_secs(5),
        success_status,
        path: req.uri().path().to_owned(),
    };
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    let mut waiting = false;
    loop {
        match keys.claim(waiting).await? {
            Claim::Owner(running) => return Ok(keys.run(req, next, running).await),
            Claim::Done(stored) => return Ok(stored.replay()),
            Claim::Again => {}
            Claim::Running => {
                waiting = true;
                if tokio::time::Instant::now() >= deadline {
                    return Err(ApiError::KeyInProgress);
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }
}

/// A key: 1 to 255 visible ASCII characters (a UUID is the usual choice).
fn parse_key(raw: &HeaderValue) -> Result<String, ApiError> {
    let bad = || ApiError::Malformed {
        detail: "Idempotency-Key must be 1 to 255 visible ASCII characters, such as a UUID".into(),
    };
    let text = raw.to_str().map_err(|_| bad())?.trim();
    if text.is_empty() || text.len() > 255 || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(text.to_owned())
}

/// What identifies "the same request": method, path, `If-Match`, and the body (as canonical
/// JSON when it is JSON, so that key order and spacing do not matter).
fn fingerprint(method: &Method, path: &str, headers: &HeaderMap, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(method.as_str());
    h.update(b"\n");
    h.update(path);
    h.update(b"\n");
    if let Some(v) = headers.get(header::IF_MATCH) {
        h.update(v.as_bytes());
    }
    h.update(b"\n");
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => canonical(&v, &mut h),
        Err(_) => h.update(body),
    }
    hex::encode(h.finalize())
}

/// Feeds `v` to the hash with object keys sorted.
fn canonical(v: &Value, h: &mut Sha256) {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            h.update(b"{");
            for (k, v) in entries {
                h.update(Value::String(k.clone()).to_string());
                h.update(b":");
                canonical(v, h);
                h.update(b",");
            }
            h.update(b"}");
        }
        Value::Array(items) => {
            h.update(b"[");
            for v in items {
                canonical(v, h);
                h.update(b",");
            }
            h.update(b"]");
        }
        other => h.update(other.to_string()),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// One caller's key for one request.
struct Keys {
    db: ReadDb,
    owners: std::sync::Arc<Owners>,
    actor: String,
    key: String,
    fingerprint: String,
    retention: Duration,
    lease: Duration,
    /// The route's success status, for an answer recovered from the log.
    success_status: u16,
    /// The request's path, which names the record the route addresses.
    path: String,
}

enum Claim {
    /// This request holds the key and runs the command.
    Owner(Running),
    /// A response is known: replay it.
    Done(Stored),
    /// Another attempt with the key is running.
    Running,
    /// The key was just freed: claim again at once.
    Again,
}

/// A stored (or recovered) response.
struct Stored {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Stored {
    fn replay(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = (status, self.body).into_response();
        let headers = response.headers_mut();
        for (name, value) in self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(&value),
            ) {
                headers.insert(n, v);
            }
        }
        headers.insert(REPLAYED.clone(), HeaderValue::from_static("true"));
        response
    }
}

impl Keys {
    /// Claims the key, or reports the state of whoever has it. One statement in the common
    /// case (a new key): the insert reads the log's head itself.
    /// A retry waiting for another attempt (`waiting`) reads the row before trying to
    /// insert one: its polls are reads, not writes (on SQLite, each insert would take the
    /// write lock that commands need).
    async fn claim(&self, waiting: bool) -> Result<Claim, ApiError> {
        let mut conn = self.db.pool.acquire().await?;
        let now = now_ms();
        let mut row = None;
        if waiting {
            row = keys::read(&mut conn, &self.actor, &self.key).await?;
        }
        if row.is_none() {
            let running = self.owners.running(&self.actor, &self.key, now);
            let claimed = keys::claim(
                &mut conn,
                (&self.actor, &self.key),
                &self.fingerprint,
                &self.path,
                now,
                &self.owners.instance,
            )
            .await?;
            if claimed {
                return Ok(Claim::Owner(running));
            }
            drop(running);
            row = keys::read(&mut conn, &self.actor, &self.key).await?;
        }
        let Some(row) = row else {
            // Expired and deleted between our insert and our read: try again.
            return Ok(Claim::Again);
        };
        let started_at = row.started_at;
        if now - started_at > millis(self.retention) {
            // Past its retention (the purge has not run yet): forget it and claim afresh.
            keys::forget(&mut conn, &self.actor, &self.key, started_at).await?;
            return Ok(Claim::Again);
        }
        if row.fingerprint != self.fingerprint {
            return Err(ApiError::KeyReused);
        }
        match row.state.as_str() {
            "done" => Ok(Claim::Done(Stored {
                status: row
                    .status
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or(200),
                headers: row
                    .headers
                    .as_deref()
                    .and_then(|h| serde_json::from_str(h).ok())
                    .unwrap_or_default(),
                body: row.body.unwrap_or_default(),
            })),
            "pending"
                if now - started_at <= millis(self.lease)
                    && self.holder_is_there(&mut conn, &row).await? =>
            {
                Ok(Claim::Running)
            }
            _ => {
                // Unsettled, pending past any request's lifetime, or pending for a process
                // that is gone: its attempt is over, and whether it appended anything is in
                // the log.
                drop(conn);
                let seen = keys::Seen {
                    state: &row.state,
                    started_at,
                    commits: row.commits,
                };
                self.recover(seen, row.head_position).await
            }
        }
    }

    /// Whether the attempt holding the pending key `row` may still be running: it runs in
    /// this process, or in one that beat within [`SILENT_AFTER_MS`] (a key claimed before
    /// owners were recorded waits for its lease, as before).
    async fn holder_is_there(
        &self,
        conn: &mut sqlx::AnyConnection,
        row: &keys::KeyRow,
    ) -> Result<bool, sqlx::Error> {
        let Some(owner) = row.owner.as_deref() else {
            return Ok(true);
        };
        if owner == self.owners.instance {
            return Ok(self
                .owners
                .is_running(&self.actor, &self.key, row.started_at));
        }
        Ok(keys::silent_for(conn, self.db.dialect, owner)
            .await?
            .is_some_and(|ms| ms <= SILENT_AFTER_MS))
    }

    /// Settles a key whose attempt ended without a recorded response.
    async fn recover(&self, seen: keys::Seen<'_>, head_at_claim: i64) -> Result<Claim, ApiError> {
        let (state, started_at) = (seen.state, seen.started_at);
        let mut conn = self.db.pool.acquire().await?;
        let events = log::find_by_metadata(
            &mut conn,
            self.db.dialect,
            head_at_claim,
            &[
                ("idempotency_key", self.key.as_str()),
                ("actor", self.actor.as_str()),
            ],
        )
        .await?;
        if !events.is_empty() && self.completed(&events) {
            // It did append: answer as the command did, from its events.
            let stored = self.answer_from(&events);
            self.settle(&mut conn, state, started_at, &stored).await?;
            return Ok(Claim::Done(stored));
        }
        // It appended nothing, or only the first step of a change across two records (the
        // application layer resumes it): run the command now, if no other retry took the key
        // first.
        // A later start than the attempt taken over, even within its millisecond: the appends
        // of that attempt tell themselves from this one's by it.
        let now = now_ms().max(started_at + 1);
        let head = log::head_position(&mut conn).await?;
        let running = self.owners.running(&self.actor, &self.key, now);
        let taken = keys::retake(
            &mut conn,
            (&self.actor, &self.key),
            seen,
            (now, head),
            &self.owners.instance,
        )
        .await?;
        Ok(if taken {
            Claim::Owner(running)
        } else {
            Claim::Running
        })
    }

    /// Whether `events` (appended under the key) hold the command's own: a route that
    /// addresses a record (its id in the path) is done when that record has events; one
    /// that creates a record addresses none, and its events are the new record's.
    fn completed(&self, events: &[log::LoggedEvent]) -> bool {
        let addresses_a_record = self
            .path
            .split('/')
            .any(|segment| uuid::Uuid::parse_str(segment).is_ok());
        !addresses_a_record || events.iter().any(|e| self.path.contains(&e.aggregate_id))
    }

    /// The answer the command gave, rebuilt from the events it appended (in log order): its
    /// record's id, version (the `ETag`) and last position, every event with its record, the
    /// ids of the sub-records it created (read from the events as the handler reads them),
    /// the route's success status, and `Location` when it created its record.
    fn answer_from(&self, events: &[log::LoggedEvent]) -> Stored {
        // The record the route addresses is named in its path; a route that creates one names
        // none, and its events are that record's alone.
        let primary = events
            .iter()
            .map(|e| e.aggregate_id.as_str())
            .find(|id| self.path.contains(id))
            .or_else(|| events.last().map(|e| e.aggregate_id.as_str()))
            .unwrap_or_default()
            .to_owned();
        let own: Vec<&log::LoggedEvent> = events
            .iter()
            .filter(|e| e.aggregate_id == primary)
            .collect();
        let kind = own.first().map_or("", |e| e.aggregate_type.as_str());
        let version = own.iter().map(|e| e.sequence).max().unwrap_or(0);
        let position = own.iter().map(|e| e.position()).max();
        let appended: Vec<crate::store::Appended> = events
            .iter()
            .map(|e| crate::store::Appended {
                aggregate_type: e.aggregate_type.clone(),
                aggregate_id: e.aggregate_id.clone(),
                sequence: e.sequence as u64,
                event_type: e.event_type.clone(),
                answer_id: crate::store::answer_id_of(&e.aggregate_type, &e.payload),
            })
            .collect();
        let mut body = serde_json::Map::new();
        body.insert(format!("{}_id", kind.to_ascii_lowercase()), json!(primary));
        body.insert("version".into(), json!(version));
        body.insert("position".into(), json!(position));
        // The sub-records the record's own events created (a residency's arrival names the
        // allocation its own event records).
        for (field, id) in appended
            .iter()
            .filter(|e| e.aggregate_id == primary)
            .filter_map(|e| e.answer_id)
        {
            body.insert(field.to_owned(), json!(id));
        }
        body.insert("events".into(), json!(appended));
        let mut headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            ("etag".to_owned(), super::extract::etag(version as u64)),
        ];
        if own.first().is_some_and(|e| e.sequence == 1) {
            if let Some(collection) = crate::store::collection_of(kind) {
                headers.push(("location".into(), format!("/api/v1/{collection}/{primary}")));
            }
        }
        Stored {
            status: self.success_status,
            headers,
            body: Value::Object(body).to_string(),
        }
    }

    /// Records `stored` as the key's response, if the key is still in the state we saw.
    async fn settle(
        &self,
        conn: &mut sqlx::AnyConnection,
        state: &str,
        started_at: i64,
        stored: &Stored,
    ) -> Result<(), sqlx::Error> {
        let headers = serde_json::to_string(&stored.headers).unwrap_or_else(|_| "[]".into());
        let answer = keys::Answer {
            status: i64::from(stored.status),
            headers: &headers,
            body: &stored.body,
        };
        keys::settle(conn, &self.actor, &self.key, (state, started_at), answer).await
    }

    /// Runs the command as the key's owner and records its response. The work runs in a task
    /// of its own, so a client that hangs up does not leave the key half-settled.
    async fn run(self, req: Request, next: Next, running: Running) -> Response {
        let started_at = running.id.2;
        let holder = keys::Holder {
            actor: self.actor.clone(),
            key: self.key.clone(),
            started_at,
        };
        let task = tokio::spawn(async move {
            // Every append of the command checks in its transaction that the key is still
            // this attempt's (`store::HOLDER`).
            let response = crate::store::HOLDER.scope(holder, next.run(req)).await;
            let transient = response.status().is_server_error()
                || response.extensions().get::<Transient>().is_some();
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_else(|_| Bytes::new());
            let recorded = match self.db.pool.acquire().await {
                Ok(mut conn) if transient => {
                    keys::unsettle(&mut conn, &self.actor, &self.key, started_at).await
                }
                Ok(mut conn) => {
                    let stored = Stored {
                        status: parts.status.as_u16(),
                        headers: KEPT_HEADERS
                            .iter()
                            .filter_map(|n| {
                                let v = parts.headers.get(n)?.to_str().ok()?;
                                Some((n.as_str().to_owned(), v.to_owned()))
                            })
                            .collect(),
                        body: String::from_utf8_lossy(&bytes).into_owned(),
                    };
                    self.settle(&mut conn, "pending", started_at, &stored).await
                }
                Err(e) => Err(e),
            };
            if let Err(e) = recorded {
                // The row stays pending; a retry here (the attempt is over) or after the
                // lease settles it from the log.
                tracing::warn!(error = %e, "could not record the response to an idempotency key");
            }
            drop(running);
            Response::from_parts(parts, Body::from(bytes))
        });
        task.await
            .unwrap_or_else(|e| ApiError::internal(&e).into_response())
    }
}

/// Deletes keys older than `retention` every `every`, until the process ends.
pub async fn purge_expired(db: ReadDb, retention: Duration, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let cutoff = now_ms() - millis(retention);
        match keys::purge(&db, cutoff).await {
            Ok(deleted) if deleted > 0 => tracing::info!(deleted, "expired idempotency keys"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_key_order_and_spacing() {
        let h = HeaderMap::new();
        let a = fingerprint(&Method::POST, "/x", &h, br#"{"a":1,"b":[1,{"c":2,"d":3}]}"#);
        let b = fingerprint(
            &Method::POST,
            "/x",
            &h,
            br#"{ "b": [1, {"d":3, "c":2}], "a": 1 }"#,
        );
        assert_eq!(a, b);
        let c = fingerprint(&Method::POST, "/x", &h, br#"{"a":2,"b":[1,{"c":2,"d":3}]}"#);
        assert_ne!(a, c);
        let other_path = fingerprint(&Method::POST, "/y", &h, br#"{"a":1,"b":[1,{"c":2,"d":3}]}"#);
        assert_ne!(a, other_path);
        let mut m = HeaderMap::new();
        m.insert(header::IF_MATCH, HeaderValue::from_static("\"3\""));
        assert_ne!(
            a,
            fingerprint(&Method::POST, "/x", &m, br#"{"a":1,"b":[1,{"c":2,"d":3}]}"#)
        );
    }

    #[test]
    fn keys_are_visible_ascii() {
        assert!(parse_key(&HeaderValue::from_static("0192f-abc")).is_ok());
        assert!(parse_key(&HeaderValue::from_static("")).is_err());
        assert!(parse_key(&HeaderValue::from_static("a b")).is_err());
        let long = "k".repeat(256);
        assert!(parse_key(&HeaderValue::from_str(&long).unwrap()).is_err());
    }
}
