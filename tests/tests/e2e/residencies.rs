//! Residencies over HTTP: the whole lifecycle, the studio allocated through the space on
//! arrival and extension (and given back, or withdrawn when the residency refuses), and the
//! rules on the way.

use incubator_tests::{both_stores, event_count, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(
    a_residency_from_open_call_to_completion,
    a_taken_studio_a_refused_arrival_and_a_cancellation,
    bad_residency_input_is_refused_and_appends_nothing,
);

async fn created(app: &TestApp, path: &str, body: Value, field: &str) -> String {
    let r = app.post(path, body).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
    body[field].as_str().unwrap().to_owned()
}

async fn step(app: &TestApp, id: &str, action: &str, body: Value, status: StatusCode) -> Value {
    let r = app
        .post(&format!("/api/v1/residencies/{id}/{action}"), body)
        .await;
    let got = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{action} on residency {id}: {body}");
    body
}

async fn studio(app: &TestApp, name: &str) -> String {
    created(
        app,
        "/api/v1/spaces",
        json!({"building": "zilleschapp", "kind": "studio", "name": name, "area_m2": 144,
               "rent_per_m2": {"cents": 600, "currency": "EUR"}, "registered_on": "2026-01-01"}),
        "space_id",
    )
    .await
}

async fn application(app: &TestApp, artist: &str) -> String {
    application_in(app, artist, 2027).await
}

/// An application for a stay from April to June of `year`.
async fn application_in(app: &TestApp, artist: &str, year: i32) -> String {
    created(
        app,
        "/api/v1/residencies",
        json!({"call": format!("Open call {year}"), "artist": artist, "discipline": "sound art",
               "proposal": "Recording the silence of the cold blast furnaces",
               "requested_from": format!("{year}-04-01"), "requested_to": format!("{year}-06-30"),
               "applied_on": format!("{year}-01-15")}),
        "residency_id",
    )
    .await
}

fn agreement(studio: &str) -> Value {
    agreement_in(studio, 2027)
}

/// The agreement for a stay from April to June of `year`.
fn agreement_in(studio: &str, year: i32) -> Value {
    json!({"starts_on": format!("{year}-04-01"), "ends_on": format!("{year}-06-30"),
           "stipend": {"cents": 150000, "currency": "EUR"}, "studio_id": studio})
}

async fn a_residency_from_open_call_to_completion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, room, mentor) = accepted_with_a_mentor_and_an_agreement(&app).await;
    let allocations = arrives_stays_longer_and_completes(&app, &id, &room, &mentor).await;
    completed_with_both_allocations(&app, &id, &room, &allocations).await;
    app.stop().await;
}

/// An artist's application, wait-listed then accepted (a late decline refused), a mentor
/// assigned and the agreement signed for a studio.
async fn accepted_with_a_mentor_and_an_agreement(app: &TestApp) -> (String, String, String) {
    let artist = created(
        app,
        "/api/v1/people",
        json!({"name": "Mira Kessel"}),
        "person_id",
    )
    .await;
    let room = studio(app, "B-2.01").await;
    let mentor = app.register_mentor().await;
    let id = application_in(app, &artist, 2026).await;

    step(
        app,
        &id,
        "wait-list",
        json!({"reason": "studios full until April"}),
        StatusCode::OK,
    )
    .await;
    step(app, &id, "accept", json!({}), StatusCode::OK).await;
    step(
        app,
        &id,
        "decline",
        json!({"reason": "too late"}),
        StatusCode::CONFLICT,
    )
    .await;
    step(
        app,
        &id,
        "mentors",
        json!({"mentor_id": mentor}),
        StatusCode::OK,
    )
    .await;
    step(
        app,
        &id,
        "agreement",
        agreement_in(&room, 2026),
        StatusCode::OK,
    )
    .await;
    (id, room, mentor)
}

/// Arrives (the studio allocated in the same answer), a mentoring session, an extension (a
/// second allocation), a public moment, completed; the two allocations' ids.
async fn arrives_stays_longer_and_completes(
    app: &TestApp,
    id: &str,
    room: &str,
    mentor: &str,
) -> [String; 2] {
    let arrived = step(
        app,
        id,
        "arrive",
        json!({"arrived_on": "2026-04-02"}),
        StatusCode::OK,
    )
    .await;
    let first = arrived["allocation_id"].as_str().unwrap().to_owned();
    // The answer lists every event the arrival appended, the studio's allocation first.
    let appended = |answer: &Value| -> Vec<(String, String)> {
        answer["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let kind = e["aggregate_type"].as_str().unwrap();
                let id = e["aggregate_id"].as_str().unwrap();
                (
                    format!("{kind} {id}"),
                    e["event_type"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let (studio, residency) = (format!("Space {room}"), format!("Residency {id}"));
    assert_eq!(
        appended(&arrived),
        [
            (studio.clone(), "SpaceAllocated".to_owned()),
            (residency.clone(), "ArtistArrived".to_owned())
        ]
    );
    let session = app
        .post(
            &format!("/api/v1/residencies/{id}/sessions"),
            json!({"mentor_id": mentor, "held_on": "2026-05-05", "minutes": 90}),
        )
        .await;
    assert_eq!(session.status(), StatusCode::CREATED);
    step(app, id, "complete", json!({}), StatusCode::CONFLICT).await;
    let extended = step(
        app,
        id,
        "extend",
        json!({"ends_on": "2026-07-31", "reason": "exhibition moved to July"}),
        StatusCode::OK,
    )
    .await;
    let second = extended["allocation_id"].as_str().unwrap().to_owned();
    assert_eq!(
        appended(&extended),
        [
            (studio.clone(), "SpaceAllocated".to_owned()),
            (residency.clone(), "ResidencyExtended".to_owned())
        ]
    );
    let moment = app
        .post(
            &format!("/api/v1/residencies/{id}/public-moments"),
            json!({"kind": "open_studio", "title": "Furnace tapes", "held_on": "2026-07-20"}),
        )
        .await;
    assert_eq!(moment.status(), StatusCode::CREATED);
    step(
        app,
        id,
        "complete",
        json!({"completed_on": "2026-07-31"}),
        StatusCode::OK,
    )
    .await;
    step(
        app,
        id,
        "cancel",
        json!({"reason": "x"}),
        StatusCode::CONFLICT,
    )
    .await;
    [first, second]
}

/// The completed record, and its studio holding both allocations for the residency.
async fn completed_with_both_allocations(
    app: &TestApp,
    id: &str,
    room: &str,
    allocations: &[String; 2],
) {
    let [first, second] = allocations;
    let r = app.get_json(&format!("/api/v1/residencies/{id}")).await;
    assert_eq!(r["stage"], "completed");
    assert_eq!(r["agreement"]["ends_on"], "2026-07-31");
    assert_eq!(r["allocations"], json!([first, second]));
    assert_eq!(r["sessions"], 1);
    assert_eq!(r["session_minutes"], 90);
    assert_eq!(r["public_moments"][0]["kind"], "open_studio");
    assert_eq!(r["artist_person"]["name"], "Mira Kessel");
    // The studio holds both allocations, for the residency.
    let space = app.get_json(&format!("/api/v1/spaces/{room}")).await;
    let allocations = space["allocations"].as_array().unwrap();
    assert_eq!(allocations.len(), 2);
    assert_eq!(
        allocations[0]["occupant"],
        json!({"kind": "residency", "id": id})
    );
    assert_eq!(allocations[0]["from"], "2026-04-02");
    assert_eq!(allocations[0]["to"], "2026-06-30");
    assert_eq!(allocations[1]["from"], "2026-07-01");
    assert_eq!(allocations[1]["to"], "2026-07-31");
    let history = app
        .get_json(&format!("/api/v1/residencies/{id}/events"))
        .await;
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "ResidencyApplied",
            "ResidencyWaitListed",
            "ResidencyAccepted",
            "ResidentMentorAssigned",
            "AgreementSigned",
            "ArtistArrived",
            "ResidentSessionLogged",
            "ResidencyExtended",
            "PublicMomentRecorded",
            "ResidencyCompleted",
        ]
    );
}

async fn a_taken_studio_a_refused_arrival_and_a_cancellation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let artist = created(
        &app,
        "/api/v1/people",
        json!({"name": "Jo Schmit"}),
        "person_id",
    )
    .await;
    let room = studio(&app, "B-2.02").await;
    let first = application(&app, &artist).await;
    let second = application(&app, &artist).await;
    for id in [&first, &second] {
        step(&app, id, "accept", json!({}), StatusCode::OK).await;
        step(&app, id, "agreement", agreement(&room), StatusCode::OK).await;
    }
    step(
        &app,
        &first,
        "arrive",
        json!({"arrived_on": "2027-04-01"}),
        StatusCode::OK,
    )
    .await;
    // The studio is taken: the space refuses, and the residency does not move.
    let taken = step(
        &app,
        &second,
        "arrive",
        json!({"arrived_on": "2027-04-01"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(taken["type"], "urn:incubator:problem:allocation_conflict");
    let r = app.get_json(&format!("/api/v1/residencies/{second}")).await;
    assert_eq!(r["stage"], "contracted");
    assert_eq!(r["version"], 3);

    // A residency that refuses after the studio was allocated (a stale If-Match) gets the
    // allocation withdrawn again.
    let other_room = studio(&app, "B-2.03").await;
    let third = application(&app, &artist).await;
    step(&app, &third, "accept", json!({}), StatusCode::OK).await;
    step(
        &app,
        &third,
        "agreement",
        agreement(&other_room),
        StatusCode::OK,
    )
    .await;
    let r = app
        .request(Method::POST, &format!("/api/v1/residencies/{third}/arrive"))
        .header("if-match", "\"1\"")
        .json(&json!({"arrived_on": "2027-04-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let space = app.get_json(&format!("/api/v1/spaces/{other_room}")).await;
    assert_eq!(space["allocations"], json!([]));
    let history = app
        .get_json(&format!("/api/v1/spaces/{other_room}/events"))
        .await;
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["SpaceRegistered", "SpaceAllocated", "AllocationCancelled"]
    );

    // Cancelling the first residency gives its studio back (its allocation starts in 2027:
    // not yet begun, so it is withdrawn).
    let cancelled = step(
        &app,
        &first,
        "cancel",
        json!({"reason": "family emergency"}),
        StatusCode::OK,
    )
    .await;
    let listed: Vec<(&str, &str)> = cancelled["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["aggregate_type"].as_str().unwrap(),
                e["event_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("Residency", "ResidencyCancelled"),
            ("Space", "AllocationCancelled")
        ],
        "the answer lists the studio given back too"
    );
    let space = app.get_json(&format!("/api/v1/spaces/{room}")).await;
    assert_eq!(space["allocations"], json!([]));
    step(
        &app,
        &second,
        "arrive",
        json!({"arrived_on": "2027-04-01"}),
        StatusCode::OK,
    )
    .await;
    app.stop().await;
}

async fn bad_residency_input_is_refused_and_appends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let artist = app.person().await;
    let id = application(&app, &artist).await;
    let before = event_count(&pool).await;
    let good = json!({"call": "Open call", "artist": artist, "discipline": "dance",
                      "proposal": "p", "requested_from": "2027-04-01", "requested_to": "2027-06-30"});
    let mut cases = Vec::new();
    for (field, value) in [
        ("requested_to", json!("2027-03-01")),
        ("requested_from", json!("April")),
        ("artist", json!(42)),
        ("proposal", json!("x".repeat(4001))),
        ("discipline", json!("")),
        ("studio", json!("B-2")),
    ] {
        let mut body = good.clone();
        body[field] = value;
        cases.push(("/api/v1/residencies".to_owned(), body));
    }
    cases.push((
        format!("/api/v1/residencies/{id}/agreement"),
        agreement(&uuid::Uuid::now_v7().to_string()),
    ));
    cases.push((format!("/api/v1/residencies/{id}/arrive"), json!({})));
    cases.push((
        format!("/api/v1/residencies/{id}/public-moments"),
        json!({"kind": "concert", "title": "t", "held_on": "2027-05-01"}),
    ));
    cases.push((
        format!("/api/v1/residencies/{id}/sessions"),
        json!({"mentor_id": artist, "held_on": "2027-05-01", "minutes": 1}),
    ));
    cases.push((
        format!("/api/v1/residencies/{id}/accept"),
        json!({"now": true}),
    ));
    cases.push((
        format!("/api/v1/residencies/{}/accept", uuid::Uuid::now_v7()),
        json!({}),
    ));
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
