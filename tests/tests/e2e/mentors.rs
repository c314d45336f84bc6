//! Mentors over HTTP: registration, expertise, retirement and reactivation, and the startup
//! side refusing unknown or retired mentors.

use incubator_tests::{both_stores, event_count, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    a_mentor_lifecycle_and_what_startups_may_assign,
    bad_mentor_input_is_refused_and_appends_nothing,
);

async fn mentor_command(
    app: &TestApp,
    id: &str,
    action: &str,
    body: Value,
    status: StatusCode,
) -> Value {
    let r = app
        .post(&format!("/api/v1/mentors/{id}/{action}"), body)
        .await;
    let got = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{action} on mentor {id}: {body}");
    body
}

async fn a_mentor_lifecycle_and_what_startups_may_assign(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let person = app.person().await;
    let r = app
        .post(
            "/api/v1/mentors",
            json!({"person_id": person, "expertise": ["fundraising", "audio"], "registered_on": "2026-01-05"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    let mentor = body["mentor_id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/v1/mentors/{mentor}"));
    assert_eq!(body["version"], 1);
    assert_eq!(
        body["events"],
        json!([{"aggregate_type": "Mentor", "aggregate_id": mentor, "sequence": 1,
                "event_type": "MentorRegistered"}])
    );

    let r = app.get(&format!("/api/v1/mentors/{mentor}")).await;
    assert_eq!(r.headers()["etag"], "\"1\"");
    let state: Value = r.json().await.unwrap();
    assert_eq!(state["person_id"], json!(person));
    assert_eq!(state["status"], "active");
    assert_eq!(state["expertise"], json!(["fundraising", "audio"]));
    assert_eq!(state["registered_on"], "2026-01-05");

    mentor_command(
        &app,
        &mentor,
        "expertise",
        json!({"expertise": ["law"]}),
        StatusCode::OK,
    )
    .await;
    // The same list again changes nothing and appends nothing.
    let same = mentor_command(
        &app,
        &mentor,
        "expertise",
        json!({"expertise": ["law"]}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(same["version"], 2);
    assert_eq!(same["events"], json!([]));

    let startup = app.apply("Mentored", None).await;
    let retired = mentor_command(
        &app,
        &mentor,
        "retire",
        json!({"reason": "moved to Lisbon", "retired_on": "2026-04-01"}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(retired["version"], 3);
    mentor_command(
        &app,
        &mentor,
        "retire",
        json!({"reason": "again"}),
        StatusCode::CONFLICT,
    )
    .await;
    let refused = app
        .command(
            &startup,
            "mentors",
            json!({"mentor_id": mentor}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(refused["type"], "urn:incubator:problem:mentor_retired");

    mentor_command(
        &app,
        &mentor,
        "reactivate",
        json!({"reason": "back in Luxembourg"}),
        StatusCode::OK,
    )
    .await;
    mentor_command(
        &app,
        &mentor,
        "reactivate",
        json!({"reason": "twice"}),
        StatusCode::CONFLICT,
    )
    .await;
    app.command(
        &startup,
        "mentors",
        json!({"mentor_id": mentor}),
        StatusCode::OK,
    )
    .await;
    let unknown = app
        .command(
            &startup,
            "mentors",
            json!({"mentor_id": uuid::Uuid::now_v7()}),
            StatusCode::NOT_FOUND,
        )
        .await;
    assert_eq!(unknown["type"], "urn:incubator:problem:unknown_mentor");

    let state = app.get_json(&format!("/api/v1/mentors/{mentor}")).await;
    assert_eq!(state["status"], "active");
    assert_eq!(state["retired_on"], "2026-04-01");
    assert_eq!(state["version"], 4);
    let history = app
        .get_json(&format!("/api/v1/mentors/{mentor}/events"))
        .await;
    assert_eq!(history["aggregate_type"], "Mentor");
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "MentorRegistered",
            "ExpertiseChanged",
            "MentorRetired",
            "MentorReactivated"
        ]
    );
    assert_eq!(history["items"][2]["metadata"]["reason"], "moved to Lisbon");

    // Commands on an unknown mentor.
    mentor_command(
        &app,
        &uuid::Uuid::now_v7().to_string(),
        "retire",
        json!({"reason": "x"}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let r = app
        .get(&format!("/api/v1/mentors/{}", uuid::Uuid::now_v7()))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn bad_mentor_input_is_refused_and_appends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let mentor = app.register_mentor().await;
    let before = event_count(&pool).await;
    let person = app.person().await;
    for (body, status, field) in [
        (
            json!({"person_id": person, "expertise": []}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"person_id": "someone", "expertise": ["law"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("person_id"),
        ),
        (
            json!({"person_id": person, "expertise": ["law", "LAW"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"person_id": person, "expertise": [""]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("expertise[0]"),
        ),
        (
            json!({"person_id": person, "expertise": ["law"], "name": "Jo"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        ),
        (
            json!({"person_id": person, "expertise": ["law"], "registered_on": "2026-02-30"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("registered_on"),
        ),
    ] {
        let r = app.post("/api/v1/mentors", body.clone()).await;
        assert_eq!(r.status(), status, "{body}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let problem: Value = r.json().await.unwrap();
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "{body}: {problem}");
        }
    }
    mentor_command(
        &app,
        &mentor,
        "retire",
        json!({}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    mentor_command(
        &app,
        &mentor,
        "retire",
        json!({"reason": "early", "retired_on": "2025-01-01"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    mentor_command(
        &app,
        &mentor,
        "expertise",
        json!({"expertise": "law"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(event_count(&pool).await, before);
    pool.close().await;
    app.stop().await;
}
