//! A store that goes away: commands and reads answer 503 problem+json promptly, `/readyz`
//! fails, nothing is half written, and service resumes by itself when the database returns.

use std::time::{Duration, Instant};

use incubator_tests::{client, event_count, postgres_address, Backend, Proxy, TestApp, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// How long the service may take to notice the database went away.
const PROMPT: Duration = Duration::from_secs(7);
/// How long an answer may take once it knows: a request waits for no connection (before the
/// probe, one waited for the pool's 5 s acquire timeout).
const AT_ONCE: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_going_away_is_503_and_service_resumes_when_it_returns() {
    let mut db = TestDb::new(Backend::Postgres).await;
    let direct = db.pool().await;
    let proxy = Proxy::start(postgres_address()).await;
    db.through(&proxy);
    let app = TestApp::spawn_with(db, incubator_server::http::Settings::default()).await;
    let id = app.apply("Weathervane", None).await;
    app.settle().await;
    let before = event_count(&direct).await;

    proxy.cut();

    // The service finds out in the background (its probe asks every half second): /readyz
    // says so, from what the probe found.
    let noticed = Instant::now();
    let problem = loop {
        let r = client(None)
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::SERVICE_UNAVAILABLE {
            let problem = r.json::<Value>().await.unwrap();
            // The projectors may report their failures first.
            if problem["checks"]["store"] != "ok" {
                break problem;
            }
        }
        assert!(noticed.elapsed() < PROMPT, "/readyz never noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(problem["checks"]["store"], "ok", "{problem}");
    // Once the store is known to be down, requests are refused at once, not after a pool's
    // wait for a connection (5 s).
    tokio::time::sleep(Duration::from_millis(1200)).await;

    // Commands, with and without a key, and reads: 503 problem+json, at once.
    let key = uuid::Uuid::now_v7().to_string();
    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            format!("/api/v1/startups/{id}/advance"),
            Some(json!({})),
        ),
        (
            Method::POST,
            "/api/v1/startups".into(),
            Some(json!({"name": "Nope", "founders": [uuid::Uuid::now_v7()]})),
        ),
        (Method::GET, format!("/api/v1/startups/{id}"), None),
        (Method::GET, format!("/api/v1/startups/{id}/events"), None),
        (Method::GET, "/api/v1/funding/pipeline".into(), None),
    ];
    for (method, path, body) in &attempts {
        for with_key in [false, true] {
            if with_key && *method != Method::POST {
                continue;
            }
            let started = Instant::now();
            let mut req = app.request(method.clone(), path);
            if let Some(body) = body {
                req = req.json(body);
            }
            if with_key {
                req = req.header("idempotency-key", &key);
            }
            let r = req.send().await.unwrap();
            let took = started.elapsed();
            assert_eq!(
                r.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{method} {path}"
            );
            assert!(took < AT_ONCE, "{method} {path} took {took:?}");
            assert_eq!(r.headers()["content-type"], "application/problem+json");
            assert!(r.headers().contains_key("retry-after"));
            let problem: Value = r.json().await.unwrap();
            assert_eq!(problem["status"], 503, "{problem}");
        }
    }
    // The process itself is fine.
    let r = client(None)
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        event_count(&direct).await,
        before,
        "nothing written while away"
    );

    proxy.restore();

    // Service resumes without a restart.
    let mut resumed = None;
    for _ in 0..100 {
        let r = client(None)
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::OK {
            resumed = Some(());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(resumed.is_some(), "/readyz recovers within 10 s");
    // The keyed command, retried now, runs once.
    for _ in 0..2 {
        let r = app
            .request(Method::POST, &format!("/api/v1/startups/{id}/advance"))
            .header("idempotency-key", &key)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert_eq!(status, StatusCode::OK, "{}", r.text().await.unwrap());
    }
    let state = app.get_json(&format!("/api/v1/startups/{id}")).await;
    assert_eq!(state["stage"], "screening");
    assert_eq!(state["version"], 2);
    app.settle().await;
    let pipeline = app.get_json("/api/v1/funding/pipeline").await;
    assert_eq!(pipeline["position"], json!(before + 1), "{pipeline}");
    assert_eq!(event_count(&direct).await, before + 1);
    direct.close().await;
    app.stop().await;
}
