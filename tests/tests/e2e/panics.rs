//! A handler that panics is answered: a 500 problem+json with its request id, never a dropped
//! connection; the server goes on serving, nothing is appended, and a retry with the same
//! `Idempotency-Key` is run again at once (the key is released, not left in progress). The
//! panic is the `execute:panic` failpoint, in every command's path.

use std::time::{Duration, Instant};

use incubator_server::auth::Role;
use incubator_tests::{
    both_stores, client, create_token, event_count, Backend, ServerProcess, TestDb,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(a_panicking_command_is_a_500_problem_and_the_server_goes_on);

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

async fn a_panicking_command_is_a_500_problem_and_the_server_goes_on(backend: Backend) {
    let db = TestDb::new(backend).await;
    let token = create_token(&db.url, "officer-panics", Role::Officer).await;
    let server = ServerProcess::start_with(
        BINARY,
        &db.url,
        &[],
        &[("INCUBATOR_FAILPOINTS", "execute:panic")],
    )
    .await;
    let c = client(Some(&token));
    let space = json!({"building": "zilleschapp", "kind": "studio", "name": "B-2.01",
                       "area_m2": 144, "rent_per_m2": {"cents": 600, "currency": "EUR"},
                       "registered_on": "2026-01-01"});
    for key in [None, Some("panic-1"), Some("panic-1")] {
        let started = Instant::now();
        let mut r = c
            .post(format!("{}/api/v1/spaces", server.base))
            .json(&space);
        if let Some(key) = key {
            r = r.header("idempotency-key", key);
        }
        let r = r
            .send()
            .await
            .unwrap_or_else(|e| panic!("an answer, not a dropped connection ({key:?}): {e}"));
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR, "{key:?}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        assert!(r.headers().contains_key("x-request-id"));
        let body: Value = r.json().await.expect("a problem");
        assert_eq!(
            body["type"], "urn:incubator:problem:internal_error",
            "{body}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{key:?} answered after {:?}: a released key is not waited for",
            started.elapsed()
        );
    }
    let health = c
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("the server is still up");
    assert_eq!(health.status(), StatusCode::OK);
    let pool = db.pool().await;
    assert_eq!(event_count(&pool).await, 0, "nothing was appended");
    pool.close().await;
    server.kill().await;
}
