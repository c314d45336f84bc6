//! Rules that keep the impossible out of the log, over HTTP on both stores: a room held by a
//! booking decided with a clock running ahead, things dated in the future or before their
//! record existed, occupants and people that name no record, and mentors released when their
//! mentee leaves.

use incubator_domain::space::{Occupant, OccupantKind, OccupantStanding, SpaceCommand};
use incubator_server::store::Store;
use incubator_tests::{both_stores, event_count, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    a_room_held_by_a_booking_decided_ahead_of_time_is_not_booked_twice,
    what_has_to_have_happened_cannot_be_dated_in_the_future,
    nothing_is_used_or_awarded_before_its_record_existed,
    an_occupant_or_a_person_must_name_a_record,
    a_mentee_who_leaves_no_longer_counts_in_a_mentors_load,
);

/// `POST path`, expecting `status`; the body.
async fn post(app: &TestApp, path: &str, body: Value, status: StatusCode) -> Value {
    let r = app.post(path, body).await;
    let got = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "POST {path}: {body}");
    body
}

/// Asserts a refusal's problem type.
fn refused(problem: &Value, code: &str) {
    assert_eq!(
        problem["type"],
        format!("urn:incubator:problem:{code}"),
        "{problem}"
    );
}

fn room() -> Value {
    json!({"building": "kesselbetrib", "kind": "rehearsal_room", "name": "Sonotron 1",
           "area_m2": 28, "rent_per_m2": {"cents": 600, "currency": "EUR"},
           "opening_hours": {"opens": "08:00", "closes": "23:00"}, "registered_on": "2026-01-05"})
}

fn band() -> Value {
    json!({"kind": "tenant", "id": "0192f0c1-0000-7000-8000-000000000001", "name": "Rust Belt Brass"})
}

/// 14:00–16:00 hub time on a day two weeks ahead, as UTC instants.
fn slot(days_ahead: i64, from_hour: u32, to_hour: u32) -> (String, String) {
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(days_ahead);
    let at = |h: u32| {
        incubator_domain::values::hub_instant(day.and_hms_opt(h, 0, 0).unwrap())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    (at(from_hour), at(to_hour))
}

async fn a_room_held_by_a_booking_decided_ahead_of_time_is_not_booked_twice(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let room = post(&app, "/api/v1/spaces", room(), StatusCode::CREATED).await["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (starts, ends) = slot(14, 14, 16);
    post(
        &app,
        &format!("/api/v1/spaces/{room}/bookings"),
        json!({"booked_by": band(), "starts_at": starts, "ends_at": ends}),
        StatusCode::CREATED,
    )
    .await;
    // Another caller, whose clock runs two months ahead, books a later slot (the demo plans
    // its year this way).
    let store = Store::open(&app.db.url).await.unwrap();
    let ahead = chrono::Utc::now() + chrono::Duration::days(60);
    let (later_starts, later_ends) = slot(70, 10, 11);
    store
        .execute(
            store.spaces(),
            &room,
            SpaceCommand::Book {
                booking_id: uuid::Uuid::now_v7(),
                booked_by: Occupant {
                    kind: OccupantKind::Tenant,
                    id: uuid::Uuid::now_v7(),
                    name: Some(incubator_domain::values::OrganisationName::parse("Ahead").unwrap()),
                },
                standing: OccupantStanding::Known,
                starts_at: later_starts.parse().unwrap(),
                ends_at: later_ends.parse().unwrap(),
                now: ahead,
            },
            None,
            Default::default(),
        )
        .await
        .unwrap();
    store.close().await;
    // Back at real time: 15:00–17:00 overlaps the first booking, which still holds the room.
    let (overlap_starts, overlap_ends) = slot(14, 15, 17);
    let problem = post(
        &app,
        &format!("/api/v1/spaces/{room}/bookings"),
        json!({"booked_by": band(), "starts_at": overlap_starts, "ends_at": overlap_ends}),
        StatusCode::CONFLICT,
    )
    .await;
    refused(&problem, "booking_conflict");
    app.stop().await;
}

/// A startup in incubation with a mentor and a Fit 4 Start award; (startup, mentor, grant).
async fn incubated(app: &TestApp) -> (String, String, String) {
    let id = app.apply("Sonic Forge", Some("2026-spring")).await;
    for to in ["screening", "pre_incubation", "incubation"] {
        app.command(
            &id,
            "advance",
            json!({"to": to, "on": "2026-02-01"}),
            StatusCode::OK,
        )
        .await;
    }
    let mentor = app.register_mentor().await;
    app.command(&id, "mentors", json!({"mentor_id": mentor}), StatusCode::OK)
        .await;
    let grant = app
        .command(
            &id,
            "funding",
            json!({"programme": "Fit 4 Start", "kind": "grant",
                   "amount": {"cents": 5_000_000, "currency": "EUR"}, "awarded_on": "2026-03-01"}),
            StatusCode::CREATED,
        )
        .await["grant_id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, mentor, grant)
}

async fn what_has_to_have_happened_cannot_be_dated_in_the_future(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (id, mentor, grant) = incubated(&app).await;
    let pool = app.db.pool().await;
    let before = event_count(&pool).await;
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(2)).to_string();
    let problem = app
        .command(
            &id,
            "sessions",
            json!({"mentor_id": mentor, "held_on": tomorrow, "minutes": 60}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    refused(&problem, "dated_in_the_future");
    let problem = app
        .command(
            &id,
            &format!("funding/{grant}/tranches"),
            json!({"amount": {"cents": 100, "currency": "EUR"}, "paid_on": tomorrow}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    refused(&problem, "dated_in_the_future");
    assert_eq!(event_count(&pool).await, before, "nothing appended");
    // In the past is fine.
    app.command(
        &id,
        "sessions",
        json!({"mentor_id": mentor, "held_on": "2026-03-02", "minutes": 60}),
        StatusCode::CREATED,
    )
    .await;
    app.command(
        &id,
        &format!("funding/{grant}/tranches"),
        json!({"amount": {"cents": 100, "currency": "EUR"}, "paid_on": "2026-03-15"}),
        StatusCode::OK,
    )
    .await;
    app.stop().await;
}

async fn nothing_is_used_or_awarded_before_its_record_existed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let startup = app.apply("Early Bird", None).await; // applied 15 January 2026
    app.command(
        &startup,
        "advance",
        json!({"on": "2026-01-20"}),
        StatusCode::OK,
    )
    .await;
    let problem = app
        .command(
            &startup,
            "funding",
            json!({"programme": "Fit 4 Start", "kind": "grant",
                   "amount": {"cents": 5_000_000, "currency": "EUR"}, "awarded_on": "2026-01-14"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    refused(&problem, "award_before_application");
    let atelier = post(
        &app,
        "/api/v1/spaces",
        json!({"building": "zilleschapp", "kind": "studio", "name": "B-1.04", "area_m2": 69,
               "rent_per_m2": {"cents": 600, "currency": "EUR"}, "registered_on": "2026-07-01"}),
        StatusCode::CREATED,
    )
    .await["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let problem = post(
        &app,
        &format!("/api/v1/spaces/{atelier}/allocations"),
        json!({"occupant": {"kind": "startup", "id": startup}, "from": "2026-06-01"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    refused(&problem, "before_registration");
    post(
        &app,
        &format!("/api/v1/spaces/{atelier}/allocations"),
        json!({"occupant": {"kind": "startup", "id": startup}, "from": "2026-07-01"}),
        StatusCode::CREATED,
    )
    .await;
    app.stop().await;
}

async fn an_occupant_or_a_person_must_name_a_record(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let room = post(&app, "/api/v1/spaces", room(), StatusCode::CREATED).await["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = event_count(&pool).await;
    let nobody = uuid::Uuid::now_v7();
    let (starts, ends) = slot(3, 10, 11);
    for kind in ["startup", "residency"] {
        let problem = post(
            &app,
            &format!("/api/v1/spaces/{room}/bookings"),
            json!({"booked_by": {"kind": kind, "id": nobody}, "starts_at": starts, "ends_at": ends}),
            StatusCode::NOT_FOUND,
        )
        .await;
        refused(&problem, "unknown_occupant");
        let problem = post(
            &app,
            &format!("/api/v1/spaces/{room}/allocations"),
            json!({"occupant": {"kind": kind, "id": nobody}, "from": "2026-02-01"}),
            StatusCode::NOT_FOUND,
        )
        .await;
        refused(&problem, "unknown_occupant");
    }
    let problem = post(
        &app,
        &format!("/api/v1/spaces/{room}/bookings"),
        json!({"booked_by": {"kind": "tenant", "id": nobody}, "starts_at": starts, "ends_at": ends}),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    refused(&problem, "tenant_without_name");
    let problem = post(
        &app,
        "/api/v1/startups",
        json!({"name": "Ghost Co", "founders": [nobody]}),
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(&problem, "unknown_person");
    let problem = post(
        &app,
        "/api/v1/mentors",
        json!({"person_id": nobody, "expertise": ["law"]}),
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(&problem, "unknown_person");
    let problem = post(
        &app,
        "/api/v1/residencies",
        json!({"call": "Open call", "artist": nobody, "discipline": "dance", "proposal": "p",
               "requested_from": "2027-01-01", "requested_to": "2027-02-01"}),
        StatusCode::NOT_FOUND,
    )
    .await;
    refused(&problem, "unknown_person");
    assert_eq!(event_count(&pool).await, before, "nothing appended");
    // A startup that exists may book.
    let startup = app.apply("Real Co", None).await;
    post(
        &app,
        &format!("/api/v1/spaces/{room}/bookings"),
        json!({"booked_by": {"kind": "startup", "id": startup}, "starts_at": starts, "ends_at": ends}),
        StatusCode::CREATED,
    )
    .await;
    app.stop().await;
}

/// The load of `mentor` in the mentorship model once it has applied `position`.
async fn load(app: &TestApp, mentor: &str, position: &Value) -> Value {
    let page = app
        .get_json(&format!(
            "/api/v1/mentorship/mentors?mentor={mentor}&min_position={position}"
        ))
        .await;
    page["items"][0]["load"].clone()
}

async fn a_mentee_who_leaves_no_longer_counts_in_a_mentors_load(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mentor = app.register_mentor().await;
    let residency = |call: &'static str| {
        let app = &app;
        let mentor = mentor.clone();
        async move {
            let artist = app.person().await;
            let id = post(
                app,
                "/api/v1/residencies",
                json!({"call": call, "artist": artist, "discipline": "sound art", "proposal": "p",
                       "requested_from": "2027-01-01", "requested_to": "2027-02-01"}),
                StatusCode::CREATED,
            )
            .await["residency_id"]
                .as_str()
                .unwrap()
                .to_owned();
            post(
                app,
                &format!("/api/v1/residencies/{id}/accept"),
                json!({}),
                StatusCode::OK,
            )
            .await;
            let at = post(
                app,
                &format!("/api/v1/residencies/{id}/mentors"),
                json!({"mentor_id": mentor}),
                StatusCode::OK,
            )
            .await["position"]
                .clone();
            (id, at)
        }
    };
    let (cancelled, _) = residency("Call A").await;
    let (released, _) = residency("Call B").await;
    let startup = app.apply("Leaving Co", None).await;
    let at = app
        .command(
            &startup,
            "mentors",
            json!({"mentor_id": mentor}),
            StatusCode::OK,
        )
        .await["position"]
        .clone();
    assert_eq!(load(&app, &mentor, &at).await, 3);

    let at = post(
        &app,
        &format!("/api/v1/residencies/{cancelled}/cancel"),
        json!({"reason": "the artist could not come"}),
        StatusCode::OK,
    )
    .await["position"]
        .clone();
    assert_eq!(load(&app, &mentor, &at).await, 2, "a cancelled residency");
    let at = post(
        &app,
        &format!("/api/v1/residencies/{released}/mentors/{mentor}/release"),
        json!({"reason": "another mentor fits better"}),
        StatusCode::OK,
    )
    .await["position"]
        .clone();
    assert_eq!(load(&app, &mentor, &at).await, 1, "a released resident");
    let state = app
        .get_json(&format!("/api/v1/residencies/{released}"))
        .await;
    assert_eq!(state["mentors"], json!([]));
    let at = app
        .command(
            &startup,
            "withdraw",
            json!({"reason": "founders moved on"}),
            StatusCode::OK,
        )
        .await["position"]
        .clone();
    assert_eq!(load(&app, &mentor, &at).await, 0, "a withdrawn startup");
    app.stop().await;
}
