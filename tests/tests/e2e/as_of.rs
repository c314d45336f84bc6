//! Time travel: any record's state as of an instant or a version, rebuilt from its events,
//! against states worked out by hand.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    every_kind_of_record_shows_its_past_states,
    the_pipeline_and_space_usage_show_a_past_instant,
);

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{path}: {body}");
    body
}

/// The instants at which each of the record's events was recorded, in order.
async fn instants(app: &TestApp, record: &str) -> Vec<String> {
    app.get_json(&format!("{record}/events?limit=500")).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["recorded_at"].as_str().unwrap().to_owned())
        .collect()
}

async fn state(app: &TestApp, record: &str, query: &str) -> Value {
    let r = app.get(&format!("{record}?{query}")).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{record}?{query}: {body}");
    body
}

/// The state as of the instant of event `i` (0-based) is the state after every event recorded
/// up to that millisecond: the same as the version that counts them.
async fn as_of_event(app: &TestApp, record: &str, at: &[String], i: usize) -> Value {
    let n = at.iter().filter(|t| **t <= at[i]).count();
    let by_time = state(app, record, &format!("as_of={}", at[i])).await;
    assert_eq!(
        by_time,
        state(app, record, &format!("version={n}")).await,
        "{record} as of {}",
        at[i]
    );
    by_time
}

async fn refused(app: &TestApp, record: &str, query: &str, status: StatusCode) {
    let r = app.get(&format!("{record}?{query}")).await;
    assert_eq!(r.status(), status, "{record}?{query}");
}

async fn every_kind_of_record_shows_its_past_states(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let s = a_startup_across_snapshots(&app).await;

    a_mentor(&app).await;

    a_space(&app, &s).await;

    a_residency(&app).await;

    a_collaboration(&app, &s).await;
}

/// A startup: applied, screening, pre-incubation, then 30 monthly KPI reports: more events
/// than a snapshot holds (one every 25), so the past is rebuilt across snapshots.
async fn a_startup_across_snapshots(app: &TestApp) -> String {
    let s = app.apply("Tempo", None).await;
    app.command(&s, "advance", json!({}), StatusCode::OK).await;
    app.command(&s, "advance", json!({}), StatusCode::OK).await;
    for m in 0..30 {
        let month = format!("{}-{:02}", 2024 + m / 12, m % 12 + 1);
        app.command(
            &s,
            "kpis",
            json!({"month": month, "revenue": {"cents": 100 * (m + 1), "currency": "EUR"},
                   "headcount": 3, "customers": m}),
            StatusCode::OK,
        )
        .await;
    }
    let record = format!("/api/v1/startups/{s}");
    let at = instants(app, &record).await;
    assert_eq!(at.len(), 33);
    // `/history` is `/events` by the name auditors use.
    assert_eq!(
        app.get_json(&format!("{record}/history?limit=10&after=5"))
            .await,
        app.get_json(&format!("{record}/events?limit=10&after=5"))
            .await
    );
    let v1 = state(app, &record, "version=1").await;
    assert_eq!(
        (v1["stage"].as_str(), v1["version"].as_u64()),
        (Some("application"), Some(1))
    );
    let v2 = state(app, &record, "version=2").await;
    assert_eq!(v2["stage"], "screening");
    assert_eq!(v2["version"], 2);
    as_of_event(app, &record, &at, 1).await;
    // 26 events in: pre-incubation and 23 KPI months, the last 2025-11.
    let v26 = state(app, &record, "version=26").await;
    assert_eq!(v26["stage"], "pre_incubation");
    assert_eq!(v26["kpis"].as_object().unwrap().len(), 23);
    assert!(v26["kpis"].get("2025-11").is_some() && v26["kpis"].get("2025-12").is_none());
    let now = state(app, &record, "").await;
    assert_eq!(now["version"], 33);
    assert_eq!(now["kpis"].as_object().unwrap().len(), 30);
    assert_eq!(state(app, &record, "version=33").await["kpis"], now["kpis"]);
    // An instant with an offset means the same moment.
    let t2 = chrono::DateTime::parse_from_rfc3339(&at[1])
        .unwrap()
        .with_timezone(&chrono::FixedOffset::east_opt(2 * 3600).unwrap())
        .to_rfc3339()
        .replace('+', "%2B");
    assert_eq!(
        state(app, &record, &format!("as_of={t2}")).await["version"],
        2
    );
    refused(
        app,
        &record,
        "as_of=2000-01-01T00:00:00Z",
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(app, &record, "version=34", StatusCode::NOT_FOUND).await;
    refused(app, &record, "version=0", StatusCode::UNPROCESSABLE_ENTITY).await;
    refused(
        app,
        &record,
        &format!("version=1&as_of={}", at[0]),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    refused(
        app,
        &record,
        "as_of=yesterday",
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    s
}

/// A mentor: registered with two areas, then one, then retired.
async fn a_mentor(app: &TestApp) {
    let m = app.register_mentor().await;
    let record = format!("/api/v1/mentors/{m}");
    post(
        app,
        &format!("{record}/expertise"),
        json!({"expertise": ["law"]}),
    )
    .await;
    post(
        app,
        &format!("{record}/retire"),
        json!({"reason": "moved abroad"}),
    )
    .await;
    let at = instants(app, &record).await;
    as_of_event(app, &record, &at, 0).await;
    let first = state(app, &record, "version=1").await;
    assert_eq!(first["expertise"], json!(["fundraising", "sound design"]));
    assert_eq!(first["status"], "active");
    let second = state(app, &record, "version=2").await;
    assert_eq!(second["expertise"], json!(["law"]));
    assert_eq!(second["status"], "active");
    assert_eq!(state(app, &record, "").await["status"], "retired");
}

/// A space: registered at EUR 6.00/m², allocated, then new terms.
async fn a_space(app: &TestApp, s: &str) {
    let sp = post(
        app,
        "/api/v1/spaces",
        json!({"building": "zilleschapp", "kind": "studio", "name": "B-1.04", "area_m2": 69,
               "rent_per_m2": {"cents": 600, "currency": "EUR"}, "registered_on": "2026-01-05"}),
    )
    .await["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = format!("/api/v1/spaces/{sp}");
    post(
        app,
        &format!("{record}/allocations"),
        json!({"occupant": {"kind": "startup", "id": s}, "from": "2026-02-01"}),
    )
    .await;
    post(
        app,
        &format!("{record}/terms"),
        json!({"rent_per_m2": {"cents": 700, "currency": "EUR"}}),
    )
    .await;
    let at = instants(app, &record).await;
    as_of_event(app, &record, &at, 0).await;
    let registered = state(app, &record, "version=1").await;
    assert_eq!(registered["allocations"], json!([]));
    let allocated = state(app, &record, "version=2").await;
    assert_eq!(allocated["allocations"].as_array().unwrap().len(), 1);
    assert_eq!(allocated["rent_per_m2"]["cents"], 600);
    assert_eq!(state(app, &record, "").await["rent_per_m2"]["cents"], 700);
}

/// A residency: applied, then wait-listed, then accepted.
async fn a_residency(app: &TestApp) {
    let artist = post(app, "/api/v1/people", json!({"name": "Mira Kessel"})).await["person_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = post(
        app,
        "/api/v1/residencies",
        json!({"call": "Open call 2027", "artist": artist, "discipline": "sound art",
               "proposal": "Recording the silence", "requested_from": "2027-04-01",
               "requested_to": "2027-06-30", "applied_on": "2027-01-15"}),
    )
    .await["residency_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = format!("/api/v1/residencies/{r}");
    post(
        app,
        &format!("{record}/wait-list"),
        json!({"reason": "studios full"}),
    )
    .await;
    post(app, &format!("{record}/accept"), json!({})).await;
    let stages: Vec<Value> = {
        let mut v = Vec::new();
        for n in 1..=3 {
            v.push(state(app, &record, &format!("version={n}")).await["stage"].clone());
        }
        v
    };
    assert_eq!(
        stages,
        [json!("applied"), json!("waiting_list"), json!("accepted")]
    );
}

/// A collaboration: proposed, then a participant joins.
async fn a_collaboration(app: &TestApp, s: &str) {
    let c = post(
        app,
        "/api/v1/collaborations",
        json!({"title": "Slag Light", "challenge": "c", "disciplines": ["light art", "robotics"]}),
    )
    .await["collaboration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = format!("/api/v1/collaborations/{c}");
    post(
        app,
        &format!("{record}/participants"),
        json!({"kind": "startup", "party_id": s, "discipline": "creative coding", "role": "code"}),
    )
    .await;
    let at = instants(app, &record).await;
    as_of_event(app, &record, &at, 0).await;
    let proposed = state(app, &record, "version=1").await;
    assert_eq!(proposed["participants"], json!([]));
    assert_eq!(
        state(app, &record, "").await["participants"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// The funding pipeline and space utilisation as they stood at an instant, replayed from the
/// log, against figures worked out by hand.
async fn the_pipeline_and_space_usage_show_a_past_instant(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(20));
    let a = app.apply("Alpha", Some("2026-spring")).await;
    let space = post(
        &app,
        "/api/v1/spaces",
        json!({"building": "zilleschapp", "kind": "studio", "name": "B-1.04", "area_m2": 69,
               "rent_per_m2": {"cents": 600, "currency": "EUR"}, "registered_on": "2026-01-05"}),
    )
    .await["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The instant to look back to: after Alpha applied and the space was registered.
    let then = instants(&app, &format!("/api/v1/spaces/{space}")).await[0].clone();
    pause().await;
    app.command(&a, "advance", json!({}), StatusCode::OK).await;
    app.apply("Beta", Some("2026-spring")).await;
    post(
        &app,
        &format!("/api/v1/spaces/{space}/allocations"),
        json!({"occupant": {"kind": "startup", "id": a}, "from": "2026-02-01", "to": "2026-02-14"}),
    )
    .await;
    app.settle().await;

    let count = |p: &Value, stage: &str| {
        p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == stage)
            .unwrap()["startups"]
            .clone()
    };
    // Then: Alpha alone, in application. Now: Alpha in screening, Beta in application.
    let past = app
        .get_json(&format!("/api/v1/funding/pipeline?as_of={then}"))
        .await;
    assert_eq!(past["startups"], 1);
    assert_eq!(count(&past, "application"), 1);
    assert_eq!(count(&past, "screening"), 0);
    assert_eq!(past["as_of"].as_str().map(|s| !s.is_empty()), Some(true));
    let now = app.get_json("/api/v1/funding/pipeline").await;
    assert_eq!(now["startups"], 2);
    assert_eq!(count(&now, "application"), 1);
    assert_eq!(count(&now, "screening"), 1);

    // February: 69 m² × 28 days = 1,932 m²·days available; then nothing let, now 14 days.
    let feb = "from=2026-02-01&to=2026-02-28";
    let past = app
        .get_json(&format!(
            "/api/v1/space-usage/utilisation?{feb}&as_of={then}"
        ))
        .await;
    assert_eq!(past["total"]["available_m2_days"], 1932.0);
    assert_eq!(past["total"]["occupied_m2_days"], 0.0);
    let now = app
        .get_json(&format!("/api/v1/space-usage/utilisation?{feb}"))
        .await;
    assert_eq!(now["total"]["occupied_m2_days"], 966.0);
    assert_eq!(now["total"]["occupancy"], 0.5);
    // Before anything was recorded: an empty hub.
    let before = app
        .get_json(&format!(
            "/api/v1/space-usage/utilisation?{feb}&as_of=2000-01-01T00:00:00Z"
        ))
        .await;
    assert_eq!(before["total"]["spaces"], 0);
    // The live model is untouched by a look into the past.
    assert_eq!(
        app.get_json(&format!("/api/v1/space-usage/utilisation?{feb}"))
            .await,
        now
    );
}
