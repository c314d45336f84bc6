//! What a client trips over first, answered the same way on both stores: unknown filter
//! values named with the values allowed, positions that cannot exist, and moments written as a
//! person writes them.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

both_stores!(
    an_unknown_filter_value_is_refused_naming_the_values_allowed,
    a_position_that_cannot_exist_is_refused_on_both_stores,
    a_moment_may_be_a_date_or_a_hub_time,
    a_token_is_rotated_and_a_revoked_name_reused,
    the_help_says_what_the_tool_is_for,
    mentors_are_named_for_those_who_may_see_names,
    days_outside_the_years_1900_to_2199_are_refused_at_the_edge,
    a_record_entered_by_mistake_is_voided_out_of_the_figures,
    a_rent_roll_past_64_bits_is_refused_not_wrapped,
);

/// The largest area at the largest rent the domain allows, let for ten years: each month's
/// rent fits in 64 bits, the ten years' total does not. Refused (422), never wrapped into a
/// negative total (release) or a panic (debug).
async fn a_rent_roll_past_64_bits_is_refused_not_wrapped(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .post(
            "/api/v1/spaces",
            serde_json::json!({"building": "zilleschapp", "kind": "hall", "name": "The Whole Hall",
                   "area_m2": 100_000, "rent_per_m2": {"cents": 1_000_000_000_000i64, "currency": "EUR"},
                   "registered_on": "2026-01-01"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let space = r.json::<Value>().await.unwrap()["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let startup = app.apply("Big Tenant", None).await;
    let r = app
        .post(
            &format!("/api/v1/spaces/{space}/allocations"),
            serde_json::json!({"occupant": {"kind": "startup", "id": startup}, "from": "2026-01-01"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.settle().await;
    // One year: 12 × 10^17 cents, within 64 bits.
    let year = app
        .get_json("/api/v1/space-usage/rent-roll?from=2026-01&to=2026-12")
        .await;
    assert_eq!(year["total_cents"], 1_200_000_000_000_000_000i64, "{year}");
    // Ten years: past 64 bits.
    let r = app
        .get("/api/v1/space-usage/rent-roll?from=2026-01&to=2035-12")
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("exceed"),
        "{problem}"
    );
    app.stop().await;
}

async fn a_record_entered_by_mistake_is_voided_out_of_the_figures(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = app.apply("Twice Entered", Some("2026-spring")).await;
    let duplicate = app.apply("Twice Entered", Some("2026-spring")).await;
    let mentor = app.register_mentor().await;
    for id in [&first, &duplicate] {
        app.command(
            id,
            "advance",
            serde_json::json!({"on": "2026-02-01"}),
            StatusCode::OK,
        )
        .await;
        app.command(
            id,
            "mentors",
            serde_json::json!({"mentor_id": mentor}),
            StatusCode::OK,
        )
        .await;
    }
    let at = app
        .command(
            &duplicate,
            "void",
            serde_json::json!({"reason": "the same application, entered twice"}),
            StatusCode::OK,
        )
        .await["position"]
        .clone();
    let pipeline = app
        .get_json(&format!(
            "/api/v1/funding/pipeline?cohort=2026-spring&min_position={at}"
        ))
        .await;
    assert_eq!(pipeline["startups"], 1, "{pipeline}");
    let mentors = app
        .get_json(&format!(
            "/api/v1/mentorship/mentors?mentor={mentor}&min_position={at}"
        ))
        .await;
    assert_eq!(mentors["items"][0]["load"], 1, "{mentors}");
    let listed = app
        .get_json(&format!("/api/v1/startups?stage=voided&min_position={at}"))
        .await;
    assert_eq!(listed["items"][0]["id"], duplicate.as_str());
    // Kept in the log, with its reason; closed to anything more.
    let history = app
        .get_json(&format!("/api/v1/startups/{duplicate}/history"))
        .await;
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event_type"], "Voided");
    assert_eq!(
        last["metadata"]["reason"],
        "the same application, entered twice"
    );
    let refused = app
        .command(
            &duplicate,
            "advance",
            serde_json::json!({}),
            StatusCode::CONFLICT,
        )
        .await;
    assert_eq!(refused["type"], "urn:incubator:problem:startup_voided");
    app.stop().await;
}

async fn days_outside_the_years_1900_to_2199_are_refused_at_the_edge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let startup = app.apply("Far Future", None).await;
    let r = app
        .post(
            "/api/v1/spaces",
            serde_json::json!({"building": "zilleschapp", "kind": "studio", "name": "B-1.04",
                "area_m2": 69, "rent_per_m2": {"cents": 600, "currency": "EUR"},
                "registered_on": "2026-01-01"}),
        )
        .await;
    let space = r.json::<Value>().await.unwrap()["space_id"].clone();
    for (from, to) in [("2026-02-01", "+10000-01-01"), ("1899-12-31", "2026-03-01")] {
        let r = app
            .post(
                &format!("/api/v1/spaces/{}/allocations", space.as_str().unwrap()),
                serde_json::json!({"occupant": {"kind": "startup", "id": startup},
                                   "from": from, "to": to}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let p: Value = r.json().await.unwrap();
        assert!(
            p["detail"].as_str().unwrap().contains("years 1900 to 2199"),
            "{p}"
        );
    }
    // Reads that once did date arithmetic on such days, and panicked.
    for path in [
        "/api/v1/space-usage/week?from=%2B262142-12-31",
        "/api/v1/space-usage/bookings?from=%2B262142-12-31",
        "/api/v1/space-usage/vacancies?on=%2B262142-12-31&within=1",
    ] {
        let p = problem(&app, path).await;
        assert!(p["field"].is_string(), "{path}: {p}");
    }
    let p = problem(
        &app,
        "/api/v1/space-usage/rent-roll?from=1999-12&to=2000-02",
    )
    .await;
    assert!(
        p["detail"].as_str().unwrap().contains("2000 to 2199"),
        "{p}"
    );
    app.stop().await;
}

async fn mentors_are_named_for_those_who_may_see_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .post("/api/v1/people", serde_json::json!({"name": "Jean Weber"}))
        .await;
    let person = r.json::<Value>().await.unwrap()["person_id"].clone();
    let r = app
        .post(
            "/api/v1/mentors",
            serde_json::json!({"person_id": person, "expertise": ["law"]}),
        )
        .await;
    let at = r.json::<Value>().await.unwrap()["position"].clone();
    let path = format!("/api/v1/mentorship/mentors?min_position={at}");
    let officer = app.get_json(&path).await;
    assert_eq!(officer["items"][0]["name"], "Jean Weber");
    let viewer =
        incubator_tests::client(Some(&app.token(incubator_server::auth::Role::Viewer).await));
    let seen: Value = viewer
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        seen["items"][0]["name"],
        Value::Null,
        "viewers see no names"
    );
    assert_eq!(
        seen["items"][0]["mentor_id"],
        officer["items"][0]["mentor_id"]
    );
    app.stop().await;
}

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

/// `incubator tokens ARGS` on the app's store: whether it succeeded, and its standard output.
fn tokens(app: &TestApp, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(BINARY)
        .arg("tokens")
        .args(args)
        .args(["--database-url", &app.db.url])
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
            + &String::from_utf8_lossy(&out.stderr),
    )
}

async fn session(app: &TestApp, token: &str) -> StatusCode {
    incubator_tests::client(Some(token))
        .get(format!("{}/api/v1/session", app.base))
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_token_is_rotated_and_a_revoked_name_reused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (ok, first) = tokens(
        &app,
        &["create", "--role", "viewer", "--name", "lobby screen"],
    );
    assert!(ok, "{first}");
    assert_eq!(session(&app, &first).await, StatusCode::OK);
    let (ok, again) = tokens(
        &app,
        &["create", "--role", "viewer", "--name", "lobby screen"],
    );
    assert!(
        !ok && again.contains("rotate"),
        "an active name is not given twice: {again}"
    );
    let (ok, second) = tokens(&app, &["rotate", "lobby screen"]);
    assert!(ok, "{second}");
    assert_ne!(first, second);
    assert_eq!(
        incubator_tests::once_refused(|| session(&app, &first)).await,
        StatusCode::UNAUTHORIZED,
        "rotated out"
    );
    assert_eq!(session(&app, &second).await, StatusCode::OK);
    let (ok, out) = tokens(&app, &["revoke", "lobby screen"]);
    assert!(ok, "{out}");
    assert_eq!(
        incubator_tests::once_refused(|| session(&app, &second)).await,
        StatusCode::UNAUTHORIZED
    );
    let (ok, third) = tokens(
        &app,
        &["create", "--role", "viewer", "--name", "lobby screen"],
    );
    assert!(ok, "a revoked name is free again: {third}");
    let who: Value = incubator_tests::client(Some(&third))
        .get(format!("{}/api/v1/session", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(who["name"], "lobby screen");
    let (ok, listed) = tokens(&app, &["list"]);
    assert!(ok);
    assert_eq!(listed.matches("lobby screen").count(), 3, "{listed}");
    app.stop().await;
}

async fn the_help_says_what_the_tool_is_for(_backend: Backend) {
    let out = std::process::Command::new(BINARY)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.starts_with("Incubator keeps the record of a creative hub's programme"),
        "{help}"
    );
}

async fn problem(app: &TestApp, path: &str) -> Value {
    let r = app.get(path).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "GET {path}");
    r.json().await.unwrap()
}

async fn an_unknown_filter_value_is_refused_naming_the_values_allowed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.apply("Filtered", None).await;
    // On PostgreSQL the feed reads below the visibility horizon: wait for it.
    app.settle().await;
    let p = problem(&app, "/api/v1/audit/events?aggregate_type=startup").await;
    assert_eq!(p["field"], "aggregate_type");
    let detail = p["detail"].as_str().unwrap();
    for allowed in ["Startup", "Mentor", "Space", "Residency", "Collaboration"] {
        assert!(detail.contains(allowed), "{detail}");
    }
    let page = app
        .get_json("/api/v1/audit/events?aggregate_type=Startup")
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn a_position_that_cannot_exist_is_refused_on_both_stores(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for path in [
        "/api/v1/funding/pipeline?min_position=-1",
        "/api/v1/funding/pipeline?min_position=0",
        "/api/v1/mentorship/mentors?min_position=-1",
    ] {
        let p = problem(&app, path).await;
        assert_eq!(p["field"], "min_position", "{path}: {p}");
    }
    app.stop().await;
}

async fn a_moment_may_be_a_date_or_a_hub_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Dated", None).await;
    for at in [
        "2026-12-31",
        "2026-12-31T09:30",
        "2026-12-31T09:30:00%2B01:00",
    ] {
        let r = app.get(&format!("/api/v1/startups/{id}?as_of={at}")).await;
        assert_eq!(r.status(), StatusCode::OK, "as_of={at}");
        let r = app
            .get(&format!("/api/v1/audit/events?from=2026-01-01&to={at}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "to={at}");
    }
    // Before the application was recorded: it did not exist then.
    let r = app
        .get(&format!("/api/v1/startups/{id}?as_of=2020-01-01"))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let p = problem(&app, &format!("/api/v1/startups/{id}?as_of=31/12/2026")).await;
    assert_eq!(p["field"], "as_of");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("expected RFC 3339, e.g. 2026-03-31T00:00:00+02:00"),
        "{detail}"
    );
    assert!(detail.contains("Europe/Luxembourg"), "{detail}");
    let p = problem(&app, "/api/v1/funding/pipeline?as_of=2999-01-01").await;
    assert_eq!(p["field"], "as_of", "{p}");
    app.stop().await;
}
