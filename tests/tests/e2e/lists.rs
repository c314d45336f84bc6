//! The records' own lists: startups, mentors, spaces, residencies and collaborations, filtered,
//! searched (by name, or by the person's name from the registry) and paged, on both stores.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(every_kind_of_record_has_a_filtered_searchable_paged_list);

async fn created(app: &TestApp, path: &str, body: Value, field: &str) -> String {
    let r = app.post(path, body).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "POST {path}: {body}");
    body[field].as_str().unwrap().to_owned()
}

/// The ids a list shows, after `min_position` (the last command's).
async fn ids(app: &TestApp, path: &str) -> Vec<String> {
    let page = app.get_json(path).await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn every_kind_of_record_has_a_filtered_searchable_paged_list(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    startups_filtered_searched_and_paged(&app).await;
    the_other_records_by_name_and_filter(&app).await;
    viewers_read_models_not_records(&app).await;
    app.stop().await;
}

/// Startups by stage, cohort and name (any case, `%` literally), paged by cursor; an unknown
/// stage names the stages allowed.
async fn startups_filtered_searched_and_paged(app: &TestApp) {
    let forge = app.apply("Sonic Forge", Some("2026-spring")).await;
    let slag = app.apply("Slag Labs", Some("2026-autumn")).await;
    let third = app.apply("Furnace Audio", Some("2026-spring")).await;
    let at = app
        .command(
            &slag,
            "advance",
            json!({"on": "2026-02-01"}),
            StatusCode::OK,
        )
        .await["position"]
        .clone();
    let startups = |query: &str| format!("/api/v1/startups?min_position={at}&{query}");
    assert_eq!(
        ids(app, &startups("")).await,
        [forge.as_str(), slag.as_str(), third.as_str()]
    );
    assert_eq!(
        ids(app, &startups("stage=screening")).await,
        [slag.as_str()]
    );
    assert_eq!(
        ids(app, &startups("cohort=2026-spring")).await,
        [forge.as_str(), third.as_str()]
    );
    assert_eq!(
        ids(app, &startups("q=FORGE")).await,
        [forge.as_str()],
        "any case"
    );
    assert_eq!(
        ids(app, &startups("q=%25")).await,
        Vec::<String>::new(),
        "literally"
    );
    // Paged by cursor.
    let first = app.get_json(&startups("limit=2")).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap();
    assert_eq!(
        ids(app, &startups(&format!("limit=2&after={next}"))).await,
        [third.as_str()]
    );
    let row = &app.get_json(&startups("stage=screening")).await["items"][0];
    assert_eq!(row["name"], "Slag Labs");
    assert_eq!(row["cohort"], "2026-autumn");
    assert_eq!(row["version"], 2);
    // An unknown stage names the stages allowed.
    let r = app.get("/api/v1/startups?stage=incubating").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let p: Value = r.json().await.unwrap();
    assert!(
        p["detail"].as_str().unwrap().contains("pre_incubation"),
        "{p}"
    );
}

/// Mentors and residencies are found by the person's name, from the registry.
async fn the_other_records_by_name_and_filter(app: &TestApp) {
    let person = created(
        app,
        "/api/v1/people",
        json!({"name": "Ana Lúcia Pereira"}),
        "person_id",
    )
    .await;
    let mentor = created(
        app,
        "/api/v1/mentors",
        json!({"person_id": person, "expertise": ["law"]}),
        "mentor_id",
    )
    .await;
    app.register_mentor().await;
    let artist = created(
        app,
        "/api/v1/people",
        json!({"name": "Mira Kessel"}),
        "person_id",
    )
    .await;
    let residency = created(
        app,
        "/api/v1/residencies",
        json!({"call": "Open call 2027", "artist": artist, "discipline": "sound art",
               "proposal": "p", "requested_from": "2027-04-01", "requested_to": "2027-06-30"}),
        "residency_id",
    )
    .await;
    let space = created(
        app,
        "/api/v1/spaces",
        json!({"building": "kesselbetrib", "kind": "rehearsal_room", "name": "Sonotron 1",
               "area_m2": 28, "rent_per_m2": {"cents": 600, "currency": "EUR"},
               "opening_hours": {"opens": "08:00", "closes": "23:00"}}),
        "space_id",
    )
    .await;
    let collab = created(
        app,
        "/api/v1/collaborations",
        json!({"title": "Slag Light", "challenge": "c", "disciplines": ["light art"]}),
        "collaboration_id",
    )
    .await;
    let at = app
        .post(
            &format!("/api/v1/collaborations/{collab}/abandon"),
            json!({"reason": "no partner"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["position"]
        .clone();
    let list = |what: &str, query: &str| format!("/api/v1/{what}?min_position={at}&{query}");
    assert_eq!(
        ids(app, &list("mentors", "q=pereira")).await,
        [mentor.as_str()]
    );
    let row = &app.get_json(&list("mentors", "q=pereira")).await["items"][0];
    assert_eq!(row["person_name"], "Ana Lúcia Pereira");
    assert_eq!(row["stage"], "active");
    assert_eq!(
        ids(app, &list("mentors", "q=LÚCIA")).await,
        [mentor.as_str()],
        "Unicode case"
    );
    assert_eq!(
        ids(app, &list("residencies", "q=kessel")).await,
        [residency.as_str()]
    );
    assert_eq!(
        ids(app, &list("residencies", "stage=applied")).await,
        [residency]
    );
    assert_eq!(
        ids(
            app,
            &list("spaces", "building=kesselbetrib&kind=rehearsal_room")
        )
        .await,
        [space]
    );
    assert!(ids(app, &list("spaces", "building=zilleschapp"))
        .await
        .is_empty());
    assert_eq!(
        ids(app, &list("collaborations", "stage=abandoned")).await,
        [collab]
    );
}

/// Viewers read the models, not the records.
async fn viewers_read_models_not_records(app: &TestApp) {
    let viewer =
        incubator_tests::client(Some(&app.token(incubator_server::auth::Role::Viewer).await));
    let r = viewer
        .get(format!("{}/api/v1/startups", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
