//! Read-model answers are validated by their model's position (`ETag`, `If-None-Match` → 304)
//! and shared between clients until the model moves; answers that name people from the
//! registry are never kept, so an erasure shows at once.

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(
    an_answer_holds_until_its_model_moves_and_is_shared_meanwhile,
    answers_naming_people_are_never_kept,
);

/// `incubator_read_answers_total{outcome}` now.
async fn answers(app: &TestApp, outcome: &str) -> f64 {
    let text = client(None)
        .get(format!("{}/metrics", app.direct))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series = format!("incubator_read_answers_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

fn etag(r: &reqwest::Response) -> String {
    r.headers()
        .get("etag")
        .expect("an ETag")
        .to_str()
        .unwrap()
        .to_owned()
}

async fn an_answer_holds_until_its_model_moves_and_is_shared_meanwhile(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Held Answer", Some("2026-spring")).await;
    let history = app.get_json(&format!("/api/v1/startups/{id}/events")).await;
    let at = history["items"][0]["position"].as_i64().unwrap();
    let path = "/api/v1/funding/pipeline?cohort=2026-spring";

    let first = app.get(&format!("{path}&min_position={at}")).await;
    assert_eq!(first.status(), StatusCode::OK);
    let tag = etag(&first);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["startups"], 1);
    let computed = answers(&app, "computed").await;

    // The client holding the answer is told it still holds, without the answer.
    let again = app
        .request(Method::GET, path)
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(etag(&again), tag);
    assert!(again.bytes().await.unwrap().is_empty());
    assert_eq!(answers(&app, "not_modified").await, 1.0);

    // Another client (another role, no min_position) is sent the kept answer, not a new one.
    let viewer = client(Some(&app.token(Role::Viewer).await));
    let r = viewer
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(etag(&r), tag);
    assert_eq!(r.json::<Value>().await.unwrap(), body);
    assert_eq!(answers(&app, "kept").await, 1.0);
    assert_eq!(answers(&app, "computed").await, computed);

    // A command moves the model: the old tag no longer holds, and the answer is new.
    let r = app
        .post(
            "/api/v1/startups",
            json!({"name": "Moves The Model", "founders": [app.person().await],
                   "cohort": "2026-spring"}),
        )
        .await;
    let moved = r.json::<Value>().await.unwrap()["position"]
        .as_i64()
        .unwrap();
    let r = app
        .request(Method::GET, &format!("{path}&min_position={moved}"))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_ne!(etag(&r), tag);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["startups"], 2);
    assert!(body["position"].as_i64().unwrap() >= moved);
    app.stop().await;
}

/// The people registry changes without any read model moving: a list naming people is
/// computed for each request, so a renamed (or erased) person shows at once.
async fn answers_naming_people_are_never_kept(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .post("/api/v1/people", json!({"name": "Anne Schmit"}))
        .await;
    let person = r.json::<Value>().await.unwrap()["person_id"].clone();
    let r = app
        .post(
            "/api/v1/mentors",
            json!({"person_id": person, "expertise": ["sound art"]}),
        )
        .await;
    let at = r.json::<Value>().await.unwrap()["position"].clone();
    let path = format!("/api/v1/mentorship/mentors?min_position={at}");
    let r = app.get(&path).await;
    assert!(
        r.headers().get("etag").is_none(),
        "not validated by position"
    );
    assert_eq!(
        r.json::<Value>().await.unwrap()["items"][0]["name"],
        "Anne Schmit"
    );
    let person = person.as_str().unwrap();
    let r = app
        .request(Method::PUT, &format!("/api/v1/people/{person}"))
        .json(&json!({"name": "Anne Schmit-Weber"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let shown = app.get_json(&path).await;
    assert_eq!(shown["items"][0]["name"], "Anne Schmit-Weber");
    let listed = app
        .get_json(&format!("/api/v1/mentors?min_position={at}"))
        .await;
    assert_eq!(listed["items"][0]["person_name"], "Anne Schmit-Weber");
    app.stop().await;
}
