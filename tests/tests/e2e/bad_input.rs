//! Bad input gets the right 4xx problem+json and appends nothing.

use incubator_tests::{both_stores, event_count, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(bad_input_is_refused_with_a_problem_and_appends_nothing);

/// Sends a request and checks the status, the problem+json shape and its `type` code.
async fn expect_problem(
    app: &TestApp,
    req: reqwest::RequestBuilder,
    status: StatusCode,
    code: &str,
) -> Value {
    let r = req.send().await.expect("request");
    assert_eq!(r.status(), status);
    assert_eq!(
        r.headers()["content-type"],
        "application/problem+json",
        "problem media type"
    );
    assert!(r.headers().contains_key("x-request-id"));
    let body: Value = r.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(
        body["type"],
        format!("urn:incubator:problem:{code}"),
        "{body}"
    );
    assert!(body["title"].is_string() && body["detail"].is_string());
    let _ = app;
    body
}

async fn bad_input_is_refused_with_a_problem_and_appends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Steelworks Studio", None).await;
    let pool = app.db.pool().await;
    let before = event_count(&pool).await;
    malformed_bodies(&app, &id).await;
    unknown_and_malformed_ids(&app, &id).await;
    commands_the_rules_refuse(&app, &id).await;
    unknown_routes_and_bad_queries(&app, &id).await;

    assert_eq!(event_count(&pool).await, before, "nothing was appended");
    let state = app.get_json(&format!("/api/v1/startups/{id}")).await;
    assert_eq!(state["version"], 1);
    assert_eq!(state["stage"], "application");
    pool.close().await;
    app.stop().await;
}

/// Bodies that are not the command: malformed JSON, wrong types (named by field), unknown
/// fields, not JSON at all.
async fn malformed_bodies(app: &TestApp, id: &str) {
    let post = |path: String| app.request(Method::POST, &path);
    let advance = format!("/api/v1/startups/{id}/advance");
    expect_problem(
        app,
        post("/api/v1/startups".into())
            .header("content-type", "application/json")
            .body("{\"name\": \"x\","),
        StatusCode::BAD_REQUEST,
        "malformed_request",
    )
    .await;
    // Wrong types, named by field.
    let b = expect_problem(
        app,
        post("/api/v1/startups".into()).json(&json!({"name": 42, "founders": []})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert_eq!(b["field"], "name");
    let b = expect_problem(
        app,
        post(format!("/api/v1/startups/{id}/funding")).json(&json!({
            "programme": "Fit 4 Start", "kind": "grant",
            "amount": {"cents": 100, "currency": "EURO"}, "awarded_on": "2026-01-01"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert_eq!(b["field"], "amount.currency");
    let b = expect_problem(
        app,
        post(format!("/api/v1/startups/{id}/funding")).json(&json!({
            "programme": "Fit 4 Start", "kind": "grant",
            "amount": {"cents": -100, "currency": "EUR"}, "awarded_on": "2026-01-01"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert_eq!(b["field"], "amount");
    let b = expect_problem(
        app,
        post(format!("/api/v1/startups/{id}/funding")).json(&json!({
            "programme": "Fit 4 Start", "kind": "grant",
            "amount": {"cents": 100, "currency": "EUR"}, "awarded_on": "2026-02-30"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert_eq!(b["field"], "awarded_on");
    // Unknown fields are refused, not ignored.
    let b = expect_problem(
        app,
        post(advance.clone()).json(&json!({"to": "screening", "force": true})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert!(b["detail"].as_str().unwrap().contains("force"));
    // Not JSON at all.
    expect_problem(
        app,
        post(advance.clone())
            .header("content-type", "text/plain")
            .body("to=screening"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

/// Unknown and malformed ids.
async fn unknown_and_malformed_ids(app: &TestApp, id: &str) {
    let post = |path: String| app.request(Method::POST, &path);
    let unknown = uuid::Uuid::now_v7();
    expect_problem(
        app,
        post(format!("/api/v1/startups/{unknown}/advance")),
        StatusCode::NOT_FOUND,
        "startup_not_found",
    )
    .await;
    expect_problem(
        app,
        app.request(Method::GET, &format!("/api/v1/startups/{unknown}")),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app,
        post("/api/v1/startups/not-a-uuid/advance".into()),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    // A segment that is not even UTF-8 once decoded (found by the property test).
    for path in [
        "/api/v1/startups/%A0/advance".to_owned(),
        format!("/api/v1/startups/{id}/mentors/%FF%FE/release"),
    ] {
        expect_problem(app, post(path), StatusCode::NOT_FOUND, "not_found").await;
    }
    expect_problem(
        app,
        app.request(Method::GET, "/api/v1/startups/%C3%28/events"),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app,
        post(format!("/api/v1/startups/{id}/funding/{unknown}/tranches")).json(&json!({
            "amount": {"cents": 100, "currency": "EUR"}, "paid_on": "2026-01-01"})),
        StatusCode::NOT_FOUND,
        "unknown_grant",
    )
    .await;
}

/// Commands the rules refuse: forbidden transitions, a stale or malformed `If-Match`, values out
/// of range.
async fn commands_the_rules_refuse(app: &TestApp, id: &str) {
    let post = |path: String| app.request(Method::POST, &path);
    let advance = format!("/api/v1/startups/{id}/advance");
    let unknown = uuid::Uuid::now_v7();
    expect_problem(
        app,
        post(advance.clone()).json(&json!({"to": "incubation"})),
        StatusCode::CONFLICT,
        "skip_requires_override",
    )
    .await;
    expect_problem(
        app,
        post(advance.clone()).json(&json!({"to": "application"})),
        StatusCode::CONFLICT,
        "invalid_transition",
    )
    .await;
    // A stale If-Match, and a malformed one.
    let b = expect_problem(
        app,
        post(advance.clone()).header("if-match", "\"7\""),
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    )
    .await;
    assert_eq!(b["current_version"], 1);
    expect_problem(
        app,
        post(advance.clone()).header("if-match", "seven"),
        StatusCode::BAD_REQUEST,
        "malformed_request",
    )
    .await;
    // Domain values out of range: a zero grant, a session with an unassigned mentor.
    expect_problem(
        app,
        post(format!("/api/v1/startups/{id}/funding")).json(&json!({
            "programme": "Fit 4 Start", "kind": "grant",
            "amount": {"cents": 0, "currency": "EUR"}, "awarded_on": "2026-01-01"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "non_positive_amount",
    )
    .await;
    expect_problem(
        app,
        post(format!("/api/v1/startups/{id}/sessions")).json(&json!({
            "mentor_id": unknown, "held_on": "2026-01-01", "minutes": 60})),
        StatusCode::CONFLICT,
        "mentor_not_assigned",
    )
    .await;
}

/// Unknown routes and methods, and bad query parameters on reads.
async fn unknown_routes_and_bad_queries(app: &TestApp, id: &str) {
    expect_problem(
        app,
        app.request(Method::GET, "/api/v1/nothing-here"),
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    expect_problem(
        app,
        app.request(Method::DELETE, &format!("/api/v1/startups/{id}")),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    // Bad query parameters on reads.
    let b = expect_problem(
        app,
        app.request(Method::GET, "/api/v1/funding/startups?stage=dreaming"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
    assert_eq!(b["field"], "stage");
    expect_problem(
        app,
        app.request(Method::GET, "/api/v1/funding/startups?limit=0"),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_value",
    )
    .await;
}
