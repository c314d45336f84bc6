//! A startup's life over HTTP: commands, state with ETag, history with metadata.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(
    a_startup_goes_from_application_to_graduation,
    if_match_with_the_current_version_is_honoured,
    history_shows_every_event_with_its_metadata,
    funding_mentorship_milestones_and_kpis_are_recorded,
    snapshots_give_the_same_state_as_a_full_replay,
);

async fn a_startup_goes_from_application_to_graduation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Sonic Forge", Some("2026-spring")).await;
    for (to, version) in [
        ("screening", 2),
        ("pre_incubation", 3),
        ("incubation", 4),
        ("acceleration", 5),
        ("graduated", 6),
    ] {
        let body = app.command(&id, "advance", json!({}), StatusCode::OK).await;
        assert_eq!(body["version"], version);
        assert_eq!(
            body["events"],
            json!([{"aggregate_type": "Startup", "aggregate_id": id, "sequence": version,
                    "event_type": "StageAdvanced"}])
        );
        let state = app.get_json(&format!("/api/v1/startups/{id}")).await;
        assert_eq!(state["stage"], to);
    }
    let r = app.get(&format!("/api/v1/startups/{id}")).await;
    assert_eq!(r.headers()["etag"], "\"6\"");
    let state: Value = r.json().await.unwrap();
    assert_eq!(state["name"], "Sonic Forge");
    assert_eq!(state["cohort"], "2026-spring");
    assert_eq!(state["version"], 6);
    app.stop().await;
}

async fn if_match_with_the_current_version_is_honoured(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Pixel Mill", None).await;
    let r = app
        .request(Method::POST, &format!("/api/v1/startups/{id}/advance"))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "\"2\"");
    app.stop().await;
}

async fn history_shows_every_event_with_its_metadata(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Loom Labs", None).await;
    let r = app
        .request(Method::POST, &format!("/api/v1/startups/{id}/reject"))
        .header("x-request-id", "audit-trail-42")
        .json(&json!({"reason": "outside the hub's creative scope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-request-id"], "audit-trail-42");
    let r_correlation = r
        .headers()
        .get("x-correlation-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let history = app.get_json(&format!("/api/v1/startups/{id}/events")).await;
    let events = history["items"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["event_type"], "Applied");
    assert_eq!(events[0]["sequence"], 1);
    assert_eq!(events[1]["event_type"], "Rejected");
    assert_eq!(events[1]["event_version"], "1.0");
    let meta = &events[1]["metadata"];
    // The caller's id is kept, apart from the service's own correlation id (a caller cannot
    // make its events look like part of another request).
    assert_eq!(meta["client_request_id"], "audit-trail-42");
    assert_ne!(meta["correlation_id"], "audit-trail-42");
    assert_eq!(
        meta["correlation_id"].as_str(),
        r_correlation.as_deref(),
        "the correlation id the answer named"
    );
    assert_eq!(meta["reason"], "outside the hub's creative scope");
    assert!(
        meta["actor"].as_str().unwrap().starts_with("officer-"),
        "the token's name"
    );
    assert_eq!(meta["role"], "officer");
    assert!(events[1]["position"].as_i64().unwrap() > events[0]["position"].as_i64().unwrap());
    let recorded = events[1]["recorded_at"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(recorded).is_ok(),
        "{recorded}"
    );
    assert_eq!(
        events[1]["payload"]["Rejected"]["reason"],
        "outside the hub's creative scope"
    );
    app.stop().await;
}

async fn funding_mentorship_milestones_and_kpis_are_recorded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Hangar Audio", Some("2026-spring")).await;
    app.command(&id, "advance", json!({}), StatusCode::OK).await;
    app.command(
        &id,
        "advance",
        json!({"to": "pre_incubation"}),
        StatusCode::OK,
    )
    .await;
    let grant = app
        .command(
            &id,
            "funding",
            json!({"programme": "Fit 4 Start", "kind": "grant",
                   "amount": {"cents": 15_000_000, "currency": "EUR"}, "awarded_on": "2026-02-01"}),
            StatusCode::CREATED,
        )
        .await;
    let grant_id = grant["grant_id"].as_str().unwrap();
    app.command(
        &id,
        &format!("funding/{grant_id}/tranches"),
        json!({"amount": {"cents": 5_000_000, "currency": "EUR"}, "paid_on": "2026-02-15"}),
        StatusCode::OK,
    )
    .await;
    app.command(
        &id,
        "equity-rounds",
        json!({"round": "pre_seed", "amount": {"cents": 25_000_000, "currency": "EUR"},
               "investors": ["Luxembourg Business Angel Network"], "closed_on": "2026-03-01"}),
        StatusCode::CREATED,
    )
    .await;
    let mentor = app.register_mentor().await;
    app.command(&id, "mentors", json!({"mentor_id": mentor}), StatusCode::OK)
        .await;
    app.command(
        &id,
        "sessions",
        json!({"mentor_id": mentor, "held_on": "2026-03-10", "minutes": 90,
               "topics": ["pricing", "go to market"]}),
        StatusCode::CREATED,
    )
    .await;
    app.command(
        &id,
        &format!("mentors/{mentor}/release"),
        json!({"reason": "focus moved to sales"}),
        StatusCode::OK,
    )
    .await;
    let m = app
        .command(
            &id,
            "milestones",
            json!({"title": "first paying customer", "due_on": "2026-06-30"}),
            StatusCode::CREATED,
        )
        .await;
    let mid = m["milestone_id"].as_str().unwrap();
    app.command(
        &id,
        &format!("milestones/{mid}/achieve"),
        json!({"on": "2026-05-02"}),
        StatusCode::OK,
    )
    .await;
    app.command(
        &id,
        "kpis",
        json!({"month": "2026-04", "revenue": {"cents": 420_000, "currency": "EUR"},
               "headcount": 5, "customers": 3}),
        StatusCode::OK,
    )
    .await;
    let s = app.get_json(&format!("/api/v1/startups/{id}")).await;
    assert_eq!(s["funding"][0]["tranches"][0]["amount"]["cents"], 5_000_000);
    assert_eq!(s["equity_rounds"][0]["round"], "pre_seed");
    assert_eq!(s["mentors"], json!([]));
    assert_eq!(s["sessions"], 1);
    assert_eq!(s["session_minutes"], 90);
    assert_eq!(s["milestones"][0]["achieved_on"], "2026-05-02");
    assert_eq!(s["kpis"]["2026-04"]["headcount"], 5);
    assert_eq!(s["version"], 12);
    app.stop().await;
}

async fn snapshots_give_the_same_state_as_a_full_replay(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Long History", None).await;
    app.command(&id, "advance", json!({}), StatusCode::OK).await;
    app.command(&id, "advance", json!({}), StatusCode::OK).await;
    let mentor = app.register_mentor().await;
    app.command(&id, "mentors", json!({"mentor_id": mentor}), StatusCode::OK)
        .await;
    // 4 events so far; 60 sessions cross two snapshot boundaries (every 25 events).
    for day in 0..60 {
        app.command(
            &id,
            "sessions",
            json!({"mentor_id": mentor, "held_on": format!("2026-03-{:02}", day % 28 + 1),
                   "minutes": 30 + day}),
            StatusCode::CREATED,
        )
        .await;
    }
    let state = app.get_json(&format!("/api/v1/startups/{id}")).await;
    assert_eq!(state["version"], 64);
    assert_eq!(state["sessions"], 60);
    // 30 + 31 + … + 89 minutes.
    assert_eq!(state["session_minutes"], (30..90).sum::<u64>());
    let pool = app.db.pool().await;
    let row = sqlx::query(
        "SELECT last_sequence, CAST(payload AS TEXT) AS payload FROM snapshots \
         WHERE aggregate_id = $1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .expect("a snapshot exists");
    let last: i64 = sqlx::Row::get(&row, "last_sequence");
    assert_eq!(last, 50, "snapshots are taken every 25 events");
    // The snapshot itself must equal a replay of its first 50 events: 46 sessions.
    let payload: String = sqlx::Row::get(&row, "payload");
    let snapshot: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(snapshot["state"]["sessions"], 46);
    assert_eq!(snapshot["state"]["session_minutes"], (30..76).sum::<u64>());
    pool.close().await;
    app.stop().await;
}
