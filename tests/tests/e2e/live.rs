//! `GET /api/v1/live`: the read models' positions as server-sent events, on both stores; a
//! command moves them within the stream; a shutdown ends the stream instead of hanging on it.

use std::time::Duration;

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, create_token, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

both_stores!(the_live_stream_follows_the_projector);

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

    // Revoking the token ends its stream within seconds.
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
    let ended = tokio::time::timeout(Duration::from_secs(15), async {
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
