//! The collaborations read model against figures computed by hand.

use incubator_tests::{both_stores, Backend, TestApp};
use serde_json::{json, Value};

both_stores!(the_portfolio_counts_stages_disciplines_scopes_milestones_and_outputs);

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{path}: {body}");
    body
}

async fn propose(app: &TestApp, title: &str) -> String {
    post(
        app,
        "/api/v1/collaborations",
        json!({"title": title, "challenge": "c", "disciplines": ["light art", "robotics"]}),
    )
    .await["collaboration_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn partner(app: &TestApp, c: &str, scope: &str, discipline: &str) -> Value {
    post(
        app,
        &format!("/api/v1/collaborations/{c}/participants"),
        json!({"kind": "partner", "party_id": uuid::Uuid::now_v7(), "name": format!("{scope} lab"),
               "scope": scope, "discipline": discipline, "role": "partner"}),
    )
    .await
}

async fn the_portfolio_counts_stages_disciplines_scopes_milestones_and_outputs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let startup = app.apply("Coder Co", None).await;
    let c1 = propose(&app, "Slag Light").await;
    post(
        &app,
        &format!("/api/v1/collaborations/{c1}/participants"),
        json!({"kind": "startup", "party_id": startup, "discipline": "creative coding", "role": "code"}),
    )
    .await;
    partner(&app, &c1, "national", "light art").await;
    partner(&app, &c1, "european", "media art").await;
    post(
        &app,
        &format!("/api/v1/collaborations/{c1}/agreement"),
        json!({"ip_terms": "i", "licence": "l"}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/collaborations/{c1}/activate"),
        json!({}),
    )
    .await;
    let m1 = post(
        &app,
        &format!("/api/v1/collaborations/{c1}/milestones"),
        json!({"title": "one", "due_on": "2026-05-01"}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/collaborations/{c1}/milestones"),
        json!({"title": "two", "due_on": "2026-09-01"}),
    )
    .await;
    let m1 = m1["milestone_id"].as_str().unwrap().to_owned();
    post(
        &app,
        &format!("/api/v1/collaborations/{c1}/milestones/{m1}/achieve"),
        json!({"on": "2026-04-20"}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/collaborations/{c1}/outputs"),
        json!({"kind": "prototype", "title": "p", "on": "2026-04-01"}),
    )
    .await;
    post(
        &app,
        &format!("/api/v1/collaborations/{c1}/outputs"),
        json!({"kind": "artwork", "title": "a", "on": "2026-06-01"}),
    )
    .await;

    let c2 = propose(&app, "Echo").await;
    partner(&app, &c2, "local", "sculpture").await;
    post(
        &app,
        &format!("/api/v1/collaborations/{c2}/abandon"),
        json!({"reason": "no funding"}),
    )
    .await;
    let c3 = propose(&app, "Memory").await;
    let last = partner(&app, &c3, "european", "dance").await;
    let at = last["position"].as_i64().unwrap();

    let s = app
        .get_json(&format!("/api/v1/portfolio/summary?min_position={at}"))
        .await;
    assert_eq!(
        s["stages"],
        json!({"abandoned": 1, "active": 1, "proposed": 1})
    );
    assert_eq!(
        s["disciplines"],
        json!({"creative coding": 1, "light art": 1, "media art": 1}),
        "participants of active collaborations only"
    );
    assert_eq!(
        s["partners_by_scope"],
        json!({"european": 1, "national": 1})
    );
    assert_eq!(s["milestones_due"], 1);
    assert_eq!(s["milestones_done"], 1);
    assert_eq!(s["outputs"], json!({"artwork": 1, "prototype": 1}));

    let active = app
        .get_json("/api/v1/portfolio/collaborations?when=active")
        .await;
    let ids: Vec<&str> = active["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["collaboration_id"].as_str().unwrap())
        .collect();
    let mut expected = vec![c1.as_str(), c3.as_str()];
    expected.sort_unstable();
    assert_eq!(ids, expected);
    let one = active["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["collaboration_id"] == c1.as_str())
        .unwrap()
        .clone();
    assert_eq!(one["stage"], "active");
    assert_eq!(one["participants"].as_array().unwrap().len(), 3);
    assert_eq!(
        one["partners_by_scope"],
        json!({"european": 1, "national": 1})
    );
    assert_eq!(one["milestones_due"], 1);
    assert_eq!(one["milestones_done"], 1);
    assert_eq!(one["outputs"], json!({"artwork": 1, "prototype": 1}));
    let past = app
        .get_json("/api/v1/portfolio/collaborations?when=past")
        .await;
    assert_eq!(past["items"].as_array().unwrap().len(), 1);
    assert_eq!(past["items"][0]["collaboration_id"], c2.as_str());
    assert_eq!(past["items"][0]["stage"], "abandoned");
    assert!(past["items"][0]["ended_on"].is_string());
    let page = app
        .get_json("/api/v1/portfolio/collaborations?limit=2")
        .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert!(page["next"].is_string());
    app.stop().await;
}
