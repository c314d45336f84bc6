//! Collaborations over HTTP: proposal, participants of several kinds, the co-production
//! agreement, activation rules, phases, milestones, outputs, conclusion.

use incubator_tests::{both_stores, event_count, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    a_collaboration_from_proposal_to_conclusion,
    bad_collaboration_input_is_refused_and_appends_nothing,
);

async fn step(app: &TestApp, id: &str, action: &str, body: Value, status: StatusCode) -> Value {
    let r = app
        .post(&format!("/api/v1/collaborations/{id}/{action}"), body)
        .await;
    let got = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{action} on collaboration {id}: {body}");
    body
}

async fn propose(app: &TestApp) -> String {
    let r = app
        .post(
            "/api/v1/collaborations",
            json!({"title": "Slag Light", "challenge": "Turn furnace slag into light-diffusing panels",
                   "disciplines": ["materials science", "light art"], "proposed_on": "2026-02-01"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["collaboration_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_collaboration_from_proposal_to_conclusion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, leaving) = proposed_joined_and_activated(&app).await;
    worked_on_and_concluded(&app, &id, &leaving).await;
    the_concluded_record(&app, &id).await;
    a_proposal_abandoned(&app).await;
    app.stop().await;
}

/// Proposed, a startup joins, an agreement; one discipline is refused activation until two
/// partners join; activated. The collaboration's id and the startup's participant id.
async fn proposed_joined_and_activated(app: &TestApp) -> (String, String) {
    let startup = app.apply("Slag Labs", None).await;
    let id = propose(app).await;
    let joined = step(
        app,
        &id,
        "participants",
        json!({"kind": "startup", "party_id": startup, "discipline": "materials science", "role": "prototyping"}),
        StatusCode::CREATED,
    )
    .await;
    let startup_participant = joined["participant_id"].as_str().unwrap().to_owned();
    // One discipline only: not yet interdisciplinary.
    step(
        app,
        &id,
        "agreement",
        json!({"ip_terms": "Process to Slag Labs, artwork to the artist", "licence": "CC BY 4.0"}),
        StatusCode::OK,
    )
    .await;
    let lonely = step(app, &id, "activate", json!({}), StatusCode::CONFLICT).await;
    assert_eq!(
        lonely["type"],
        "urn:incubator:problem:not_interdisciplinary"
    );
    step(
        app,
        &id,
        "participants",
        json!({"kind": "partner", "party_id": uuid::Uuid::now_v7(), "name": "Luxembourg Institute of Science and Technology",
               "scope": "national", "discipline": "light art", "role": "technology partner"}),
        StatusCode::CREATED,
    )
    .await;
    step(
        app,
        &id,
        "participants",
        json!({"kind": "partner", "party_id": uuid::Uuid::now_v7(), "name": "Ars Electronica",
               "scope": "european", "discipline": "media art", "role": "exhibition partner"}),
        StatusCode::CREATED,
    )
    .await;
    step(
        app,
        &id,
        "agreement",
        json!({"ip_terms": "again", "licence": "x"}),
        StatusCode::CONFLICT,
    )
    .await;
    step(
        app,
        &id,
        "activate",
        json!({"on": "2026-03-02"}),
        StatusCode::OK,
    )
    .await;
    (id, startup_participant)
}

/// A phase, a milestone achieved once, two outputs, the startup leaves, concluded; a concluded
/// collaboration cannot be abandoned.
async fn worked_on_and_concluded(app: &TestApp, id: &str, startup_participant: &str) {
    step(
        app,
        id,
        "phases",
        json!({"title": "Prototyping", "starts_on": "2026-03-02", "ends_on": "2026-05-31"}),
        StatusCode::CREATED,
    )
    .await;
    let m = step(
        app,
        id,
        "milestones",
        json!({"title": "First panel cast", "due_on": "2026-04-15"}),
        StatusCode::CREATED,
    )
    .await;
    let milestone = m["milestone_id"].as_str().unwrap().to_owned();
    step(
        app,
        id,
        &format!("milestones/{milestone}/achieve"),
        json!({"on": "2026-04-10"}),
        StatusCode::OK,
    )
    .await;
    step(
        app,
        id,
        &format!("milestones/{milestone}/achieve"),
        json!({}),
        StatusCode::CONFLICT,
    )
    .await;
    step(
        app,
        id,
        "outputs",
        json!({"kind": "prototype", "title": "Panel v1", "on": "2026-05-01"}),
        StatusCode::CREATED,
    )
    .await;
    step(
        app,
        id,
        "outputs",
        json!({"kind": "exhibition", "title": "Slag Light at the Hangar", "on": "2026-06-12"}),
        StatusCode::CREATED,
    )
    .await;
    step(
        app,
        id,
        &format!("participants/{startup_participant}/leave"),
        json!({"reason": "pivoted"}),
        StatusCode::OK,
    )
    .await;
    step(
        app,
        id,
        "conclude",
        json!({"on": "2026-12-01"}),
        StatusCode::OK,
    )
    .await;
    step(
        app,
        id,
        "abandon",
        json!({"reason": "too late"}),
        StatusCode::CONFLICT,
    )
    .await;
}

/// The concluded record and its thirteen events.
async fn the_concluded_record(app: &TestApp, id: &str) {
    let c = app.get_json(&format!("/api/v1/collaborations/{id}")).await;
    assert_eq!(c["stage"], "concluded");
    assert_eq!(c["activated_on"], "2026-03-02");
    assert_eq!(c["ended_on"], "2026-12-01");
    let scopes: Vec<&str> = c["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, ["national", "european"]);
    assert_eq!(c["milestones"][0]["done_on"], "2026-04-10");
    assert_eq!(c["outputs"].as_array().unwrap().len(), 2);
    assert_eq!(c["agreement"]["licence"], "CC BY 4.0");
    let history = app
        .get_json(&format!("/api/v1/collaborations/{id}/events"))
        .await;
    // Proposed, 3 joined, agreement, activated, phase, milestone set and achieved, 2 outputs,
    // left, concluded.
    assert_eq!(history["items"].as_array().unwrap().len(), 13);
}

/// Abandoning a proposal.
async fn a_proposal_abandoned(app: &TestApp) {
    let other = propose(app).await;
    step(
        app,
        &other,
        "abandon",
        json!({"reason": "no partner found"}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        app.get_json(&format!("/api/v1/collaborations/{other}"))
            .await["stage"],
        "abandoned"
    );
}

async fn bad_collaboration_input_is_refused_and_appends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let id = propose(&app).await;
    let before = event_count(&pool).await;
    let cases = [
        (
            "/api/v1/collaborations".to_owned(),
            json!({"title": "T", "challenge": "c", "disciplines": []}),
        ),
        (
            "/api/v1/collaborations".to_owned(),
            json!({"title": "T", "challenge": "c", "disciplines": ["a", "A"]}),
        ),
        (
            "/api/v1/collaborations".to_owned(),
            json!({"title": "T", "challenge": "c", "disciplines": "a"}),
        ),
        (
            format!("/api/v1/collaborations/{id}/participants"),
            json!({"kind": "partner", "party_id": uuid::Uuid::now_v7(), "discipline": "d", "role": "r"}),
        ),
        (
            format!("/api/v1/collaborations/{id}/participants"),
            json!({"kind": "startup", "party_id": uuid::Uuid::now_v7(), "discipline": "d", "role": "r"}),
        ),
        (
            format!("/api/v1/collaborations/{id}/participants"),
            json!({"kind": "partner", "party_id": uuid::Uuid::now_v7(), "name": "N", "scope": "global", "discipline": "d", "role": "r"}),
        ),
        (
            format!("/api/v1/collaborations/{id}/phases"),
            json!({"title": "p", "starts_on": "2026-03-02", "ends_on": "2026-05-31"}),
        ),
        (
            format!("/api/v1/collaborations/{id}/outputs"),
            json!({"kind": "song", "title": "t", "on": "2026-05-01"}),
        ),
        (format!("/api/v1/collaborations/{id}/activate"), json!({})),
        (
            format!("/api/v1/collaborations/{}/activate", uuid::Uuid::now_v7()),
            json!({}),
        ),
    ];
    for (path, body) in cases {
        let r = app.post(&path, body.clone()).await;
        assert!(
            r.status().is_client_error(),
            "{path} {body}: {}",
            r.status()
        );
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
    assert_eq!(event_count(&pool).await, before);
    pool.close().await;
    app.stop().await;
}
