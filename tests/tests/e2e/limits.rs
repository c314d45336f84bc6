//! Limits: body size, request time, requests at once, page sizes, and cursor pagination.

use std::time::{Duration, Instant};

use incubator_server::http::Settings;
use incubator_tests::{both_stores, event_count, Backend, TestApp, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

both_stores!(
    histories_are_paged_by_cursor,
    a_body_over_the_limit_is_413_and_appends_nothing,
    a_stalled_request_times_out_and_a_full_server_answers_busy,
    a_slow_client_is_disconnected_and_one_address_holds_a_bounded_share,
);

/// A client sending a request's head a byte at a time (slowloris) is disconnected after the
/// header-read timeout; one address holding as many connections as one may has its next one
/// closed at once, while a request on a connection it holds still works.
async fn a_slow_client_is_disconnected_and_one_address_holds_a_bounded_share(backend: Backend) {
    let settings = Settings {
        header_read_timeout: Duration::from_secs(1),
        ..Settings::default()
    };
    let app = TestApp::spawn_with(TestDb::new(backend).await, settings).await;
    let addr = app.direct.trim_start_matches("http://").to_owned();

    let started = Instant::now();
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut closed = false;
    for byte in b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaa" {
        if slow.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        let mut buf = [0u8; 256];
        if let Ok(read) =
            tokio::time::timeout(Duration::from_millis(100), slow.read(&mut buf)).await
        {
            // Closed (0 bytes, or reset), or an answer (408) before closing.
            assert!(matches!(read, Ok(0) | Err(_)) || buf.starts_with(b"HTTP/1.1 408"));
            closed = true;
            break;
        }
    }
    let took = started.elapsed();
    assert!(closed, "a head sent over {took:?} was still being read");
    assert!(took < Duration::from_secs(5), "{took:?}");

    // One address's share: every connection the server lets it hold, then one more.
    let mut held = Vec::new();
    for _ in 0..incubator_server::connections::PER_ADDRESS {
        held.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    let mut over = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let _ = over
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(2), over.read(&mut buf))
        .await
        .expect("closed at once, not left waiting");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "the extra connection was served"
    );
    // A connection it holds is served.
    let mut first = held.swap_remove(0);
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    first.read_to_end(&mut answer).await.unwrap();
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    drop(held);
    drop(first);
    // Places come back: a fresh client is served again.
    let r = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(r) = incubator_tests::client(None)
                .get(format!("{}/healthz", app.direct))
                .send()
                .await
            {
                return r.status();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(r, StatusCode::OK);
    app.stop().await;
}

async fn histories_are_paged_by_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Paged", None).await;
    for _ in 0..6 {
        app.command(
            &id,
            "funding",
            json!({"programme": "Fit 4 Start", "kind": "grant",
                   "amount": {"cents": 100, "currency": "EUR"}, "awarded_on": "2026-03-01"}),
            StatusCode::CREATED,
        )
        .await;
    }
    let all = app.get_json(&format!("/api/v1/startups/{id}/events")).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 7);
    assert_eq!(all["next"], Value::Null);

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let q = after
            .as_ref()
            .map_or(String::new(), |a| format!("&after={a}"));
        let page = app
            .get_json(&format!("/api/v1/startups/{id}/events?limit=3{q}"))
            .await;
        pages += 1;
        seen.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(n) => after = Some(n.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(&Value::Array(seen), &all["items"]);

    for bad in ["limit=0", "limit=501", "limit=x", "after=-1", "color=red"] {
        let r = app
            .get(&format!("/api/v1/startups/{id}/events?{bad}"))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let r = app.get("/api/v1/funding/startups?limit=100000").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.stop().await;
}

async fn a_body_over_the_limit_is_413_and_appends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let id = app.apply("Heavy", None).await;
    let before = event_count(&pool).await;
    let huge = json!({"reason": "x".repeat(100 * 1024)});
    for key in [None, Some("big-1")] {
        let mut req = app
            .request(Method::POST, &format!("/api/v1/startups/{id}/reject"))
            .json(&huge);
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "key {key:?}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "key {key:?}"
        );
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["type"], "urn:incubator:problem:body_too_large");
    }
    assert_eq!(event_count(&pool).await, before);
    pool.close().await;
    app.stop().await;
}

async fn a_stalled_request_times_out_and_a_full_server_answers_busy(backend: Backend) {
    let settings = Settings {
        request_timeout: Duration::from_secs(3),
        max_concurrent_requests: 1,
        ..Settings::default()
    };
    let app = TestApp::spawn_with(TestDb::new(backend).await, settings).await;
    let token = app.token(incubator_server::auth::Role::Officer).await;

    // A client that announces a body and never sends it holds the only permit (straight to
    // the server: the contract proxy would wait for the body itself).
    let addr = app.direct.trim_start_matches("http://").to_owned();
    let mut stalled = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stalled
        .write_all(
            format!(
                "POST /api/v1/startups HTTP/1.1\r\nHost: {addr}\r\n\
                 Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
                 Content-Length: 100\r\n\r\n{{"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Another request waits a second for a permit, then is told the server is busy.
    let started = Instant::now();
    let r = app.get("/api/v1/funding/pipeline").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers()["retry-after"], "1");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "urn:incubator:problem:busy");
    assert!(started.elapsed() < Duration::from_secs(3));

    // The stalled request is abandoned at the timeout with a problem, not left hanging.
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stalled.read(&mut buf).await.unwrap();
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains("request_timeout") {
                break;
            }
        }
    })
    .await
    .expect("the stalled request is answered");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");

    // The permit is back: the server answers again.
    let r = app.get("/api/v1/funding/pipeline").await;
    assert_eq!(r.status(), StatusCode::OK);
    app.stop().await;
}
