//! `GET /api/v1/live`: the read models' positions as server-sent events, on both stores; a
//! command moves them within the stream; a shutdown ends the stream instead of hanging on it.

use std::time::Duration;

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, create_token, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

both_stores!(
    the_live_stream_follows_the_projector,
    a_revocation_by_another_process_reaches_requests_and_streams_within_a_second,
    streams_are_capped_per_token_and_tokens_expire,
);

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

/// Reads the stream until a `positions` event satisfying `wanted` arrives (10 s at most).
async fn next_positions(
    r: &mut reqwest::Response,
    buffer: &mut String,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            if !block.lines().any(|l| l == "event: positions") {
                continue;
            }
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            let v: Value = serde_json::from_str(&data).expect("positions are JSON");
            if wanted(&v) {
                return v;
            }
        }
        let chunk = tokio::time::timeout_at(deadline, r.chunk())
            .await
            .expect("no wanted event within 10 s")
            .expect("read the stream")
            .expect("the stream ended");
        buffer.push_str(std::str::from_utf8(&chunk).expect("UTF-8"));
    }
}

async fn the_live_stream_follows_the_projector(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.apply("Before Co", None).await;
    app.settle().await;
    let viewer = client(Some(&app.token(Role::Viewer).await));

    let session = viewer
        .get(format!("{}/api/v1/session", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), StatusCode::OK);
    let session: Value = session.json().await.unwrap();
    assert_eq!(session["role"], "viewer");

    let mut r = viewer
        .get(format!("{}/api/v1/live", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut buffer = String::new();
    // At once: where every model stands (the one event of the application, applied).
    let first = next_positions(&mut r, &mut buffer, |_| true).await;
    for model in ["funding", "mentorship", "collaborations", "space_usage"] {
        assert_eq!(first["models"][model], 1, "{model} in {first}");
    }

    // A command: the models move, and the stream says so.
    let founder = app.person().await;
    let done = app
        .post(
            "/api/v1/startups",
            serde_json::json!({
                "name": "Live Co",
                "founders": [founder],
                "sector": "creative tech",
                "applied_on": "2026-01-15",
            }),
        )
        .await;
    assert_eq!(done.status(), StatusCode::CREATED);
    let position = done.json::<Value>().await.unwrap()["position"]
        .as_i64()
        .expect("the command's position");
    let moved = next_positions(&mut r, &mut buffer, |v| {
        v["models"]["funding"].as_i64() >= Some(position)
    })
    .await;
    assert_eq!(moved["models"]["funding"], position);

    // Revoking the token ends its stream within a second or two.
    let screen = client(Some(
        &create_token(&app.db.url, "revoked screen", Role::Viewer).await,
    ));
    let mut doomed = screen
        .get(format!("{}/api/v1/live", app.base))
        .send()
        .await
        .unwrap();
    let mut doomed_buffer = String::new();
    next_positions(&mut doomed, &mut doomed_buffer, |_| true).await;
    {
        let tokens = incubator_server::store::Store::open(&app.db.url)
            .await
            .unwrap();
        incubator_server::auth::revoke(&tokens.read, "revoked screen")
            .await
            .unwrap();
        tokens.close().await;
    }
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        while let Ok(Some(_)) = doomed.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "a revoked token's stream stayed open");

    // Shutting down ends the stream (the graceful shutdown does not wait on it forever).
    let stopping = tokio::spawn(app.stop());
    let end = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(_)) = r.chunk().await {}
    })
    .await;
    assert!(end.is_ok(), "the stream outlived the shutdown");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("the server stopped")
        .expect("stop");
}

/// A token revoked by another process (`incubator tokens revoke`): the service, which answered
/// it from its cache a moment before, refuses it within a second, and ends its stream.
async fn a_revocation_by_another_process_reaches_requests_and_streams_within_a_second(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let name = format!("lobby-{}", uuid::Uuid::now_v7());
    let screen = client(Some(&create_token(&app.db.url, &name, Role::Viewer).await));
    let session = format!("{}/api/v1/session", app.base);
    // Known, then cached: a few requests.
    for _ in 0..3 {
        let r = screen.get(&session).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let mut stream = screen
        .get(format!("{}/api/v1/live", app.base))
        .send()
        .await
        .unwrap();
    let mut buffer = String::new();
    next_positions(&mut stream, &mut buffer, |_| true).await;

    let out = tokio::process::Command::new(BINARY)
        .args(["tokens", "revoke", &name, "--database-url", &app.db.url])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let revoked = tokio::time::Instant::now();
    let refused = tokio::time::timeout(Duration::from_secs(1), async {
        loop {
            let r = screen.get(&session).send().await.unwrap();
            if r.status() == StatusCode::UNAUTHORIZED {
                return;
            }
            assert_eq!(r.status(), StatusCode::OK);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(
        refused.is_ok(),
        "still accepted a second after its revocation"
    );
    let ended = tokio::time::timeout_at(revoked + Duration::from_secs(1), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "its stream outlived the revocation by a second"
    );
    app.stop().await;
}

/// One token holds at most eight streams at once (429 for a ninth; closing one frees its
/// place), and a token made to expire stops working when it does.
async fn streams_are_capped_per_token_and_tokens_expire(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let screen = client(Some(&app.token(Role::Viewer).await));
    let live = format!("{}/api/v1/live", app.direct);
    let mut open = Vec::new();
    for _ in 0..incubator_server::http::live::MAX_STREAMS_PER_TOKEN {
        let r = screen.get(&live).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        open.push(r);
    }
    let r = screen.get(&live).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["type"], "urn:incubator:problem:too_many_streams");
    // Another token is not held back by this one's streams.
    let other = client(Some(&app.token(Role::Viewer).await));
    let r = other.get(&live).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(r);
    // A stream closed gives its place back.
    drop(open.pop());
    let freed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let r = screen.get(&live).send().await.unwrap();
            if r.status() == StatusCode::OK {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(freed.is_ok(), "a closed stream kept its place");
    drop(open);

    // A token that expires in two seconds.
    let store = incubator_server::store::Store::open(&app.db.url)
        .await
        .unwrap();
    let token = incubator_server::auth::create_expiring(
        &store.read,
        "short-lived",
        Role::Viewer,
        Some(Duration::from_secs(2)),
    )
    .await
    .unwrap();
    store.close().await;
    let brief = client(Some(&token));
    let session = format!("{}/api/v1/session", app.base);
    assert_eq!(
        brief.get(&session).send().await.unwrap().status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(2300)).await;
    assert_eq!(
        brief.get(&session).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

/// A service that cannot ask the store about revocations any more stops trusting what it knows:
/// its live streams end (fail closed) rather than stream on for a token it cannot check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_end_when_the_store_cannot_say_whether_their_token_is_revoked() {
    let mut db = incubator_tests::TestDb::new(Backend::Postgres).await;
    let proxy = incubator_tests::Proxy::start(incubator_tests::postgres_address()).await;
    db.through(&proxy);
    let app = TestApp::spawn_on(db).await;
    let screen = client(Some(&app.token(Role::Viewer).await));
    let mut stream = screen
        .get(format!("{}/api/v1/live", app.direct))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut buffer = String::new();
    next_positions(&mut stream, &mut buffer, |_| true).await;
    proxy.cut();
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived the store's silence");
    proxy.restore();
    app.stop().await;
}
