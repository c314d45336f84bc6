//! The router in process (`tower::ServiceExt::oneshot`, no socket): how each kind of bad
//! request is mapped to a problem+json answer by the extractors and the error type, on a real
//! SQLite store in a temporary file.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use serde_json::Value;
use tokio::sync::watch;
use tower::ServiceExt;

use super::{app, AppState, Settings};
use crate::auth::{self, Role};
use crate::store::Store;

/// An answer: status, content type, body.
type Answer = (StatusCode, String, Value);

struct Harness {
    router: axum::Router,
    token: String,
    store: Store,
    _dir: TempDir,
}

/// A directory removed when the test ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn harness(settings: Settings) -> Harness {
    let dir = std::env::temp_dir().join(format!("incubator-router-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("router.db").display());
    let store = Store::open(&url).await.unwrap();
    let token = auth::create(&store.read, "router-test", Role::Officer)
        .await
        .unwrap();
    let (_tx, closing) = watch::channel(false);
    let state = AppState::new(store.clone(), BTreeMap::new(), settings, closing);
    Harness {
        router: app(state),
        token,
        store,
        _dir: TempDir(dir),
    }
}

impl Harness {
    /// Sends `request` (with the token unless `anonymous`) and returns the status, the
    /// content type and the body as JSON.
    async fn send(&self, request: Request<Body>, anonymous: bool) -> (StatusCode, String, Value) {
        let mut request = request;
        if !anonymous {
            request.headers_mut().insert(
                header::AUTHORIZATION,
                format!("Bearer {}", self.token).parse().unwrap(),
            );
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            kind,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn get(&self, uri: &str) -> (StatusCode, String, Value) {
        let request = Request::get(uri).body(Body::empty()).unwrap();
        self.send(request, false).await
    }

    async fn post(
        &self,
        uri: &str,
        kind: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, String, Value) {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, kind)
            .body(body.into())
            .unwrap();
        self.send(request, false).await
    }
}

/// The problem's status, type suffix and field, after checking it is problem+json.
fn problem((status, kind, body): (StatusCode, String, Value)) -> (u16, String, Value) {
    assert_eq!(kind, "application/problem+json", "{status}: {body}");
    assert_eq!(body["status"], status.as_u16(), "{body}");
    let code = body["type"]
        .as_str()
        .and_then(|t| t.rsplit(':').next())
        .unwrap_or_default()
        .to_owned();
    (status.as_u16(), code, body["field"].clone())
}

#[tokio::test]
async fn every_bad_request_is_a_problem_with_its_own_status_and_type() {
    let h = harness(Settings::default()).await;
    let json = "application/json";
    let cases: Vec<(&str, Answer, u16, &str, Value)> =
        vec![
        ("no such route", h.get("/api/v1/nowhere").await, 404, "not_found", Value::Null),
        (
            "a malformed id names no record",
            h.get("/api/v1/startups/not-a-uuid").await,
            404,
            "not_found",
            Value::Null,
        ),
        (
            "no token",
            h.send(Request::get("/api/v1/startups").body(Body::empty()).unwrap(), true)
                .await,
            401,
            "unauthorized",
            Value::Null,
        ),
        (
            "not JSON",
            h.post("/api/v1/startups", json, "{not json").await,
            400,
            "malformed_request",
            Value::Null,
        ),
        (
            "not application/json",
            h.post("/api/v1/startups", "text/plain", "{}").await,
            415,
            "unsupported_media_type",
            Value::Null,
        ),
        (
            "a field of the wrong type, named",
            h.post("/api/v1/startups", json, r#"{"name": 42}"#).await,
            422,
            "invalid_value",
            Value::from("name"),
        ),
        (
            "21 founders: the domain's bound, named",
            h.post(
                "/api/v1/startups",
                json,
                serde_json::json!({"name": "Too Many", "founders": vec![uuid::Uuid::nil(); 21]})
                    .to_string(),
            )
            .await,
            422,
            "invalid_value",
            Value::from("founders"),
        ),
        (
            "an unknown query parameter, named",
            h.get("/api/v1/funding/startups?colour=red").await,
            422,
            "invalid_value",
            Value::Null,
        ),
        (
            "a read model's freshness that is no position",
            h.get("/api/v1/funding/startups?min_position=soon").await,
            422,
            "invalid_value",
            Value::from("min_position"),
        ),
        (
            "a position before the log's first",
            h.get("/api/v1/funding/pipeline?min_position=0").await,
            422,
            "invalid_value",
            Value::from("min_position"),
        ),
    ];
    for (what, answer, status, code, field) in cases {
        let (got_status, got_code, got_field) = problem(answer);
        assert_eq!((got_status, got_code.as_str()), (status, code), "{what}");
        if !field.is_null() {
            assert_eq!(got_field, field, "{what}");
        }
    }
}

#[tokio::test]
async fn a_method_the_route_does_not_take_and_a_body_too_large_are_problems_too() {
    let h = harness(Settings {
        body_limit: 1024,
        ..Settings::default()
    })
    .await;
    let (status, code, _) = problem(
        h.send(
            Request::delete("/api/v1/startups")
                .body(Body::empty())
                .unwrap(),
            false,
        )
        .await,
    );
    assert_eq!((status, code.as_str()), (405, "method_not_allowed"));
    let big = format!(r#"{{"name": "{}"}}"#, "x".repeat(4096));
    let (status, code, _) = problem(h.post("/api/v1/startups", "application/json", big).await);
    assert_eq!((status, code.as_str()), (413, "body_too_large"));
}

#[tokio::test]
async fn a_read_model_read_answers_its_page_with_the_position_it_reflects() {
    let h = harness(Settings::default()).await;
    let (status, _, body) = h.get("/api/v1/funding/startups?limit=5").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"], serde_json::json!([]));
    assert_eq!(body["next"], Value::Null);
    assert_eq!(body["position"], 0);
}

/// A made-up request method is counted under `method="other"`: no client can grow the number
/// of series `/metrics` keeps (any string was a new label value before).
#[tokio::test]
async fn made_up_methods_share_one_metrics_series() {
    let h = harness(Settings::default()).await;
    for method in ["FOOBAR", "BREW", "X-ANYTHING-1"] {
        let request = Request::builder()
            .method(method)
            .uri("/api/v1/startups")
            .body(Body::empty())
            .unwrap();
        let (status, _, _) = h.send(request, false).await;
        assert!(status.is_client_error(), "{method}: {status}");
    }
    let scrape = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .unwrap();
    let response = h.router.clone().oneshot(scrape).await.unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for method in ["FOOBAR", "BREW", "X-ANYTHING-1"] {
        assert!(
            !text.contains(method),
            "a series labelled {method}:\n{text}"
        );
    }
    assert!(text.contains("method=\"other\""), "{text}");
}

/// Every connection of the read side held, as a flood of reads, exports or checks would hold
/// them: a keyed command (its token, its key, its events, its position) still answers, on
/// connections of its own, instead of waiting out the pool's 5 s and answering 503.
#[tokio::test]
async fn a_command_waits_for_no_connection_the_reads_hold() {
    let h = harness(Settings::default()).await;
    let mut held = Vec::new();
    while let Some(conn) = h.store.read.pool.try_acquire() {
        held.push(conn);
    }
    while held.len() < 8 {
        held.push(h.store.read.pool.acquire().await.unwrap());
    }
    let request = Request::post("/api/v1/spaces")
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", "while-the-reads-hold-the-pool")
        .body(Body::from(
            serde_json::json!({"building": "kesselbetrib", "kind": "office", "name": "C-0.01",
                   "area_m2": 40, "rent_per_m2": {"cents": 900, "currency": "EUR"},
                   "registered_on": "2026-01-05"})
            .to_string(),
        ))
        .unwrap();
    let answered = tokio::time::timeout(std::time::Duration::from_secs(3), h.send(request, false))
        .await
        .expect("the command waited for a connection the reads hold");
    assert_eq!(answered.0, StatusCode::CREATED, "{:?}", answered.2);
    drop(held);
}
