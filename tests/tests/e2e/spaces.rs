//! Spaces over HTTP: registration and terms, allocations, hourly bookings, decommissioning,
//! and two officers racing for the same space and period.

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, event_count, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(
    a_space_is_allocated_booked_and_decommissioned,
    two_officers_racing_for_one_space_and_period_one_wins,
    bad_space_input_is_refused_and_appends_nothing,
);

/// Registers a space and returns its id.
async fn register(app: &TestApp, body: Value) -> String {
    let r = app.post("/api/v1/spaces", body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let body: Value = r.json().await.unwrap();
    body["space_id"].as_str().unwrap().to_owned()
}

fn atelier() -> Value {
    json!({"building": "zilleschapp", "kind": "studio", "name": "B-1.04", "area_m2": 69,
           "rent_per_m2": {"cents": 600, "currency": "EUR"}, "registered_on": "2026-01-05"})
}

/// A Sonotron rehearsal room, open 08:00 to 23:00 hub time.
fn rehearsal_room() -> Value {
    json!({"building": "kesselbetrib", "kind": "rehearsal_room", "name": "Sonotron 3",
           "area_m2": 28, "rent_per_m2": {"cents": 600, "currency": "EUR"},
           "opening_hours": {"opens": "08:00", "closes": "23:00"}})
}

async fn space_command(
    app: &TestApp,
    id: &str,
    action: &str,
    body: Value,
    status: StatusCode,
) -> Value {
    let r = app
        .post(&format!("/api/v1/spaces/{id}/{action}"), body)
        .await;
    let got = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{action} on space {id}: {body}");
    body
}

fn band() -> Value {
    json!({"kind": "tenant", "id": "0192f0c1-0000-7000-8000-000000000001", "name": "Rust Belt Brass"})
}

async fn a_space_is_allocated_booked_and_decommissioned(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let atelier = an_atelier_allocated_then_decommissioned(&app).await;
    a_room_booked_by_the_hour(&app, &atelier).await;
    app.stop().await;
}

/// An atelier: registered, new terms, allocated until full, an allocation ended early, then
/// decommissioned and refused to new occupants.
async fn an_atelier_allocated_then_decommissioned(app: &TestApp) -> String {
    let startup = app.apply("Tenant Co", None).await;
    let atelier = register(app, atelier()).await;
    let state = app.get_json(&format!("/api/v1/spaces/{atelier}")).await;
    assert_eq!(state["building"], "zilleschapp");
    assert_eq!(state["capacity"], 1);
    assert_eq!(
        state["rent_per_m2"],
        json!({"cents": 600, "currency": "EUR"})
    );

    space_command(
        app,
        &atelier,
        "terms",
        json!({"rent_per_m2": {"cents": 650, "currency": "EUR"}}),
        StatusCode::OK,
    )
    .await;
    let occupant = json!({"kind": "startup", "id": startup});
    let first = space_command(
        app,
        &atelier,
        "allocations",
        json!({"occupant": occupant, "from": "2026-02-01", "to": "2026-07-31"}),
        StatusCode::CREATED,
    )
    .await;
    let allocation = first["allocation_id"].as_str().unwrap().to_owned();
    let full = space_command(
        app,
        &atelier,
        "allocations",
        json!({"occupant": band(), "from": "2026-07-01"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(full["type"], "urn:incubator:problem:allocation_conflict");
    assert!(
        full["detail"].as_str().unwrap().contains("2026-07-01"),
        "{full}"
    );
    // Ending the first allocation on 30 June frees July.
    space_command(
        app,
        &atelier,
        &format!("allocations/{allocation}/end"),
        json!({"last_day": "2026-06-30", "reason": "moved to building A"}),
        StatusCode::OK,
    )
    .await;
    space_command(
        app,
        &atelier,
        "allocations",
        json!({"occupant": band(), "from": "2026-07-01", "to": "2026-12-31"}),
        StatusCode::CREATED,
    )
    .await;
    let refused = space_command(
        app,
        &atelier,
        "decommission",
        json!({"reason": "roof", "on": "2026-09-01"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(refused["type"], "urn:incubator:problem:space_still_in_use");
    let state = app.get_json(&format!("/api/v1/spaces/{atelier}")).await;
    assert_eq!(state["rent_per_m2"]["cents"], 650);
    let allocations = state["allocations"].as_array().unwrap();
    assert_eq!(allocations.len(), 2);
    assert_eq!(allocations[0]["to"], "2026-06-30");
    assert_eq!(allocations[1]["occupant"]["name"], "Rust Belt Brass");
    space_command(
        app,
        &atelier,
        "decommission",
        json!({"reason": "roof", "on": "2027-01-01"}),
        StatusCode::OK,
    )
    .await;
    let gone = space_command(
        app,
        &atelier,
        "allocations",
        json!({"occupant": band(), "from": "2027-02-01"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(gone["type"], "urn:incubator:problem:space_decommissioned");
    atelier
}

/// Hourly bookings: 18:00 to 20:00 hub time on 2 March 2027 is 17:00 to 19:00 UTC.
async fn a_room_booked_by_the_hour(app: &TestApp, atelier: &str) {
    let room = register(app, rehearsal_room()).await;
    let booking = space_command(
        app,
        &room,
        "bookings",
        json!({"booked_by": band(), "starts_at": "2027-03-02T18:00:00+01:00", "ends_at": "2027-03-02T19:00:00Z"}),
        StatusCode::CREATED,
    )
    .await;
    let booking_id = booking["booking_id"].as_str().unwrap().to_owned();
    let overlap = space_command(
        app,
        &room,
        "bookings",
        json!({"booked_by": band(), "starts_at": "2027-03-02T18:30:00Z", "ends_at": "2027-03-02T20:00:00Z"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(overlap["type"], "urn:incubator:problem:booking_conflict");
    for (starts, ends, problem) in [
        (
            "2027-03-02T06:45:00Z",
            "2027-03-02T08:00:00Z",
            "outside_opening_hours",
        ),
        ("2027-03-02T17:10:00Z", "2027-03-02T18:00:00Z", "bad_slot"),
        (
            "2020-03-02T17:00:00Z",
            "2020-03-02T18:00:00Z",
            "booking_in_the_past",
        ),
    ] {
        let p = space_command(
            app,
            &room,
            "bookings",
            json!({"booked_by": band(), "starts_at": starts, "ends_at": ends}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["type"], format!("urn:incubator:problem:{problem}"));
    }
    let not_bookable = space_command(
        app,
        atelier,
        "bookings",
        json!({"booked_by": band(), "starts_at": "2027-03-02T17:00:00Z", "ends_at": "2027-03-02T18:00:00Z"}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        not_bookable["type"],
        "urn:incubator:problem:space_decommissioned"
    );
    let state = app.get_json(&format!("/api/v1/spaces/{room}")).await;
    assert_eq!(state["bookings"][0]["starts_at"], "2027-03-02T17:00:00Z");
    space_command(
        app,
        &room,
        "decommission",
        json!({"reason": "x"}),
        StatusCode::CONFLICT,
    )
    .await;
    space_command(
        app,
        &room,
        &format!("bookings/{booking_id}/cancel"),
        json!({"reason": "gig moved"}),
        StatusCode::OK,
    )
    .await;
    space_command(
        app,
        &room,
        &format!("bookings/{booking_id}/cancel"),
        json!({}),
        StatusCode::NOT_FOUND,
    )
    .await;
    // The slot is free again.
    space_command(
        app,
        &room,
        "bookings",
        json!({"booked_by": band(), "starts_at": "2027-03-02T18:30:00Z", "ends_at": "2027-03-02T20:00:00Z"}),
        StatusCode::CREATED,
    )
    .await;

    let history = app.get_json(&format!("/api/v1/spaces/{room}/events")).await;
    let types: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "SpaceRegistered",
            "RoomBooked",
            "BookingCancelled",
            "RoomBooked"
        ]
    );
    assert_eq!(history["items"][2]["metadata"]["reason"], "gig moved");
}

async fn two_officers_racing_for_one_space_and_period_one_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let officers = [
        client(Some(&app.token(Role::Officer).await)),
        client(Some(&app.token(Role::Officer).await)),
    ];
    let startup = app.apply("Racing Co", None).await;
    for round in 0..8 {
        let (space, path, bodies, problem) = if round % 2 == 0 {
            let space = register(&app, atelier()).await;
            let body = |n: u32| {
                json!({"occupant": {"kind": "startup", "id": startup},
                                         "from": "2026-09-01", "to": format!("2027-0{}-28", n + 1)})
            };
            (
                space.clone(),
                format!("/api/v1/spaces/{space}/allocations"),
                [body(1), body(2)],
                "allocation_conflict",
            )
        } else {
            let space = register(&app, rehearsal_room()).await;
            let body = |n: u32| {
                json!({"booked_by": band(),
                                         "starts_at": format!("2027-03-0{}T17:00:00Z", 2),
                                         "ends_at": format!("2027-03-02T1{}:00:00Z", 8 + n)})
            };
            (
                space.clone(),
                format!("/api/v1/spaces/{space}/bookings"),
                [body(0), body(1)],
                "booking_conflict",
            )
        };
        let send = |i: usize| {
            officers[i]
                .request(Method::POST, format!("{}{path}", app.base))
                .json(&bodies[i])
                .send()
        };
        let (a, b) = tokio::join!(send(0), send(1));
        let (a, b) = (a.unwrap(), b.unwrap());
        let mut statuses = [a.status(), b.status()];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::CREATED, StatusCode::CONFLICT],
            "round {round}"
        );
        let loser: Value = if a.status() == StatusCode::CONFLICT {
            a.json().await.unwrap()
        } else {
            b.json().await.unwrap()
        };
        assert_eq!(
            loser["type"],
            format!("urn:incubator:problem:{problem}"),
            "round {round}"
        );
        let state = app.get_json(&format!("/api/v1/spaces/{space}")).await;
        let held = state["allocations"].as_array().unwrap().len()
            + state["bookings"].as_array().unwrap().len();
        assert_eq!(held, 1, "exactly one winner in round {round}");
        assert_eq!(state["version"], 2);
    }
    app.stop().await;
}

async fn bad_space_input_is_refused_and_appends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let room = register(&app, rehearsal_room()).await;
    let before = event_count(&pool).await;
    let mut bad = Vec::new();
    for (field, value) in [
        ("building", json!("d")),
        ("kind", json!("garage")),
        ("area_m2", json!(-5)),
        ("area_m2", json!(0)),
        ("capacity", json!(0)),
        ("rent_per_m2", json!({"cents": 600, "currency": "USD"})),
        ("rent_per_m2", json!(6)),
        (
            "opening_hours",
            json!({"opens": "25:00", "closes": "23:00"}),
        ),
        (
            "opening_hours",
            json!({"opens": "23:00", "closes": "08:00"}),
        ),
        (
            "opening_hours",
            json!({"opens": "08:00", "closes": "23:00", "days": "all"}),
        ),
        ("name", json!("")),
        ("colour", json!("red")),
    ] {
        let mut body = rehearsal_room();
        body[field] = value;
        bad.push(("/api/v1/spaces".to_owned(), body));
    }
    for body in [
        json!({"booked_by": band(), "starts_at": "tomorrow", "ends_at": "2027-03-02T19:00:00Z"}),
        json!({"booked_by": {"kind": "dragon", "id": uuid::Uuid::now_v7()}, "starts_at": "2027-03-02T17:00:00Z", "ends_at": "2027-03-02T19:00:00Z"}),
        json!({"booked_by": band(), "starts_at": "2027-03-02T19:00:00Z", "ends_at": "2027-03-02T17:00:00Z"}),
        json!({"booked_by": band(), "starts_at": "2027-03-02T17:00:00Z"}),
    ] {
        bad.push((format!("/api/v1/spaces/{room}/bookings"), body));
    }
    bad.push((
        format!("/api/v1/spaces/{room}/allocations"),
        json!({"occupant": band(), "from": "2026-09-01", "to": "2026-08-01"}),
    ));
    bad.push((format!("/api/v1/spaces/{room}/terms"), json!({})));
    bad.push((
        format!(
            "/api/v1/spaces/{room}/allocations/{}/end",
            uuid::Uuid::now_v7()
        ),
        json!({"last_day": "2026-09-01"}),
    ));
    bad.push((
        format!("/api/v1/spaces/{}/allocations", uuid::Uuid::now_v7()),
        json!({"occupant": band(), "from": "2026-09-01"}),
    ));
    for (path, body) in bad {
        let r = app.post(&path, body.clone()).await;
        assert!(
            r.status().is_client_error(),
            "{path} {body}: {}",
            r.status()
        );
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path} {body}"
        );
    }
    assert_eq!(event_count(&pool).await, before);
    pool.close().await;
    app.stop().await;
}
