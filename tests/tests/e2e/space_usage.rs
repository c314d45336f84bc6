//! The space-usage read model against figures computed by hand: occupants and history,
//! utilisation, vacancies, the rent roll and the week view of bookings.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use incubator_domain::values::{hub_instant, hub_local};
use incubator_tests::{both_stores, Backend, TestApp};
use serde_json::{json, Value};

both_stores!(space_usage_figures_match_a_hand_computation);

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{path}: {body}");
    body
}

async fn register(app: &TestApp, body: Value) -> String {
    post(app, "/api/v1/spaces", body).await["space_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn allocate(app: &TestApp, space: &str, occupant: Value, from: &str, to: Value) -> String {
    post(
        app,
        &format!("/api/v1/spaces/{space}/allocations"),
        json!({"occupant": occupant, "from": from, "to": to}),
    )
    .await["allocation_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn tenant(n: u32, name: &str) -> Value {
    json!({"kind": "tenant", "id": format!("0192f0c1-0000-7000-8000-{n:012}"), "name": name})
}

/// The UTC instant of `hh:mm` hub time on `day`, as RFC 3339.
fn at(day: NaiveDate, hh: u32, mm: u32) -> String {
    let t = hub_instant(day.and_time(NaiveTime::from_hms_opt(hh, mm, 0).unwrap()));
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn eur(cents: i64) -> Value {
    json!({"cents": cents, "currency": "EUR"})
}

/// The four spaces of the hand computation, and the first booking of the week.
struct Hub {
    s1: String,
    s2: String,
    s3: String,
    s4: String,
    b1: Value,
    /// The Monday of the booking week, at least two weeks ahead.
    monday: NaiveDate,
}

async fn space_usage_figures_match_a_hand_computation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hub = four_spaces_let_and_booked(&app).await;
    occupants_and_their_rents_on_a_day(&app, &hub).await;
    utilisation_of_february_and_of_the_booking_week(&app, &hub).await;
    bookings_in_start_order_and_the_week_view(&app, &hub).await;
    vacancies_and_the_rent_roll(&app, &hub).await;
    bad_periods_are_refused_and_the_model_replays(&app).await;
}

/// S1 to S4 registered, let and booked as the figures below assume.
async fn four_spaces_let_and_booked(app: &TestApp) -> Hub {
    let startup = app.apply("Slag Pixels", None).await;

    // S1: a 69 m² atelier; S2: a 40 m² office for two; S4: a 25 m² office; S3: a rehearsal
    // room open 08:00 to 20:00 (12 hours a day).
    let s1 = register(
        app,
        json!({"building": "zilleschapp", "kind": "studio", "name": "B-1.04", "area_m2": 69,
               "rent_per_m2": eur(600), "registered_on": "2026-01-05"}),
    )
    .await;
    let s2 = register(
        app,
        json!({"building": "schraeinerei", "kind": "office", "name": "A-2.10", "area_m2": 40,
               "capacity": 2, "rent_per_m2": eur(1000), "registered_on": "2026-01-01"}),
    )
    .await;
    let s4 = register(
        app,
        json!({"building": "schraeinerei", "kind": "office", "name": "A-2.11", "area_m2": 25,
               "rent_per_m2": eur(800), "registered_on": "2026-01-01"}),
    )
    .await;
    let s3 = register(
        app,
        json!({"building": "kesselbetrib", "kind": "rehearsal_room", "name": "Sonotron 3",
               "area_m2": 28, "rent_per_m2": eur(600), "registered_on": "2026-01-01",
               "opening_hours": {"opens": "08:00", "closes": "20:00"}}),
    )
    .await;

    // S1: the startup from 1 February, ended early on 28 February; a band from 1 March.
    let x = allocate(
        app,
        &s1,
        json!({"kind": "startup", "id": startup}),
        "2026-02-01",
        json!("2026-03-15"),
    )
    .await;
    post(
        app,
        &format!("/api/v1/spaces/{s1}/allocations/{x}/end"),
        json!({"last_day": "2026-02-28"}),
    )
    .await;
    allocate(
        app,
        &s1,
        tenant(1, "Rust Belt Brass"),
        "2026-03-01",
        Value::Null,
    )
    .await;
    // New terms do not change a lease already made.
    post(
        app,
        &format!("/api/v1/spaces/{s1}/terms"),
        json!({"rent_per_m2": eur(700)}),
    )
    .await;
    // S2: two tenants share it; a third allocation made in error is withdrawn.
    allocate(
        app,
        &s2,
        tenant(2, "Ore Studio"),
        "2026-01-16",
        json!("2026-02-14"),
    )
    .await;
    allocate(app, &s2, tenant(3, "Slag Sound"), "2026-02-01", Value::Null).await;
    let wrong = allocate(
        app,
        &s2,
        tenant(9, "Wrong Co"),
        "2026-05-01",
        json!("2026-05-31"),
    )
    .await;
    post(
        app,
        &format!("/api/v1/spaces/{s2}/allocations/{wrong}/cancel"),
        json!({"reason": "entered on the wrong office"}),
    )
    .await;
    // S4: one tenant for the first quarter.
    allocate(
        app,
        &s4,
        tenant(4, "Furnace Games"),
        "2026-01-01",
        json!("2026-03-31"),
    )
    .await;

    // S3: bookings in a week at least two weeks ahead, starting on a Monday.
    let mut monday = hub_local(chrono::Utc::now()).date() + Duration::days(14);
    while monday.weekday() != Weekday::Mon {
        monday = monday.succ_opt().unwrap();
    }
    let day = |n: i64| monday + Duration::days(n);
    let band = tenant(1, "Rust Belt Brass");
    let b1 = post(
        app,
        &format!("/api/v1/spaces/{s3}/bookings"),
        json!({"booked_by": band, "starts_at": at(day(0), 10, 0), "ends_at": at(day(0), 12, 0)}),
    )
    .await;
    post(
        app,
        &format!("/api/v1/spaces/{s3}/bookings"),
        json!({"booked_by": {"kind": "startup", "id": startup},
               "starts_at": at(day(1), 14, 0), "ends_at": at(day(1), 17, 30)}),
    )
    .await;
    let cancelled = post(
        app,
        &format!("/api/v1/spaces/{s3}/bookings"),
        json!({"booked_by": band, "starts_at": at(day(2), 9, 0), "ends_at": at(day(2), 10, 0)}),
    )
    .await;
    post(
        app,
        &format!(
            "/api/v1/spaces/{s3}/bookings/{}/cancel",
            cancelled["booking_id"].as_str().unwrap()
        ),
        json!({}),
    )
    .await;
    allocate(
        app,
        &s3,
        tenant(5, "Hangar Fest"),
        &day(3).to_string(),
        json!(day(3).to_string()),
    )
    .await;
    app.settle().await;
    Hub {
        s1,
        s2,
        s3,
        s4,
        b1,
        monday,
    }
}

/// Occupants on 10 February, and every allocation with its rent.
async fn occupants_and_their_rents_on_a_day(app: &TestApp, hub: &Hub) {
    let s1 = &hub.s1;
    let s2 = &hub.s2;
    let s3 = &hub.s3;
    let s4 = &hub.s4;
    // Occupants on 10 February, and every allocation.
    let page = app
        .get_json("/api/v1/space-usage/spaces?on=2026-02-10")
        .await;
    assert_eq!(page["on"], "2026-02-10");
    let items = page["items"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|s| s["space_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [s1.as_str(), s2.as_str(), s4.as_str(), s3.as_str()]);
    let names = |s: &Value, list: &str| -> Vec<String> {
        s[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["occupant"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&items[0], "occupants"), ["Slag Pixels"]);
    assert_eq!(
        names(&items[0], "allocations"),
        ["Slag Pixels", "Rust Belt Brass"]
    );
    assert_eq!(items[0]["allocations"][0]["to"], "2026-02-28");
    assert_eq!(items[0]["allocations"][1]["to"], Value::Null);
    // 69 m² × EUR 6.00, the terms when both were let; the space now asks EUR 7.00.
    assert_eq!(items[0]["allocations"][1]["monthly_rent_cents"], 41_400);
    assert_eq!(
        items[0]["rent_per_m2"],
        json!({"cents": 700, "currency": "EUR"})
    );
    assert_eq!(names(&items[1], "occupants"), ["Ore Studio", "Slag Sound"]);
    assert_eq!(
        names(&items[1], "allocations"),
        ["Ore Studio", "Slag Sound"]
    );
    // 40 m² × EUR 10.00 shared by two: EUR 200.00 each.
    assert_eq!(items[1]["allocations"][0]["monthly_rent_cents"], 20_000);
    assert_eq!(names(&items[2], "occupants"), ["Furnace Games"]);
    assert_eq!(items[3]["occupants"], json!([]));
    assert_eq!(items[3]["opens"], "08:00");

    let offices = app
        .get_json("/api/v1/space-usage/spaces?building=schraeinerei&limit=1")
        .await;
    assert_eq!(offices["items"][0]["space_id"], s2.as_str());
    let next = offices["next"].as_str().unwrap();
    let rest = app
        .get_json(&format!(
            "/api/v1/space-usage/spaces?building=schraeinerei&limit=1&after={next}"
        ))
        .await;
    assert_eq!(rest["items"][0]["space_id"], s4.as_str());
    assert_eq!(rest["next"], Value::Null);
}

/// Utilisation: February by hand, and the booking week.
async fn utilisation_of_february_and_of_the_booking_week(app: &TestApp, hub: &Hub) {
    let day = |n: i64| hub.monday + Duration::days(n);
    // February 2026, 28 days.
    // Zilleschapp: S1 69 m² × 28 days, all occupied: 1,932 of 1,932.
    // Schraeinerei: S2 40 × 28 = 1,120 available; Ore Studio 14 days × 20 m² + Slag Sound
    // 28 × 20 = 840 occupied; S4 25 × 28 = 700 of 700. 1,540 of 1,820 = 0.8462.
    // Kesselbetrib: the room, 28 days × 12 h = 336 open hours, none booked.
    // In all: 3,472 of 3,752 m²·days = 0.9254.
    let u = app
        .get_json("/api/v1/space-usage/utilisation?from=2026-02-01&to=2026-02-28")
        .await;
    let z = &u["buildings"]["zilleschapp"];
    assert_eq!(z["occupied_m2_days"], 1932.0);
    assert_eq!(z["available_m2_days"], 1932.0);
    assert_eq!(z["occupancy"], 1.0);
    assert_eq!(z["booking_rate"], Value::Null);
    let a = &u["buildings"]["schraeinerei"];
    assert_eq!(a["spaces"], 2);
    assert_eq!(a["occupied_m2_days"], 1540.0);
    assert_eq!(a["available_m2_days"], 1820.0);
    assert_eq!(a["occupancy"], 0.8462);
    let k = &u["buildings"]["kesselbetrib"];
    assert_eq!(k["rooms"], 1);
    assert_eq!(k["open_hours"], 336.0);
    assert_eq!(k["booked_hours"], 0.0);
    assert_eq!(k["booking_rate"], 0.0);
    assert_eq!(k["occupancy"], Value::Null);
    assert_eq!(u["total"]["occupied_m2_days"], 3472.0);
    assert_eq!(u["total"]["available_m2_days"], 3752.0);
    assert_eq!(u["total"]["occupancy"], 0.9254);
    let office = app
        .get_json("/api/v1/space-usage/utilisation?from=2026-02-01&to=2026-02-28&kind=office")
        .await;
    assert_eq!(office["total"]["occupancy"], 0.8462);
    assert_eq!(office["buildings"].as_object().unwrap().len(), 1);

    // The booking week: 2 h + 3.5 h booked, the cancelled hour not; the allocated day counts
    // as its 12 open hours. 17.5 of 7 × 12 = 84 hours: 0.2083.
    let week = app
        .get_json(&format!(
            "/api/v1/space-usage/utilisation?building=kesselbetrib&from={}&to={}",
            day(0),
            day(6)
        ))
        .await;
    assert_eq!(week["total"]["booked_hours"], 17.5);
    assert_eq!(week["total"]["open_hours"], 84.0);
    assert_eq!(week["total"]["booking_rate"], 0.2083);
}

/// The bookings, paged in start order, and the week view of the room.
async fn bookings_in_start_order_and_the_week_view(app: &TestApp, hub: &Hub) {
    let s3 = &hub.s3;
    let b1 = &hub.b1;
    let day = |n: i64| hub.monday + Duration::days(n);
    // The week view, in start order, one per page.
    let first = app
        .get_json(&format!(
            "/api/v1/space-usage/bookings?from={}&to={}&limit=1",
            day(0),
            day(6)
        ))
        .await;
    assert_eq!(first["items"][0]["booking_id"], b1["booking_id"]);
    assert_eq!(first["items"][0]["starts_at"], at(day(0), 10, 0));
    assert_eq!(first["items"][0]["minutes"], 120);
    assert_eq!(first["items"][0]["on"], day(0).to_string());
    assert_eq!(first["items"][0]["booked_by"]["name"], "Rust Belt Brass");
    let next = first["next"].as_str().unwrap();
    let second = app
        .get_json(&format!(
            "/api/v1/space-usage/bookings?from={}&to={}&limit=1&after={next}",
            day(0),
            day(6)
        ))
        .await;
    assert_eq!(second["items"][0]["booked_by"]["name"], "Slag Pixels");
    assert_eq!(second["items"][0]["minutes"], 210);
    assert_eq!(second["next"], Value::Null);

    // The week view: the one room, 12 open hours (720 minutes) a day; Monday 2 h booked,
    // Tuesday 3 h 30, Wednesday's booking cancelled, Thursday let for the whole day.
    let week = app
        .get_json(&format!("/api/v1/space-usage/week?from={}", day(0)))
        .await;
    assert_eq!(week["from"], day(0).to_string());
    assert_eq!(week["to"], day(6).to_string());
    let rooms = week["rooms"].as_array().unwrap();
    assert_eq!(rooms.len(), 1, "{week}");
    assert_eq!(rooms[0]["space_id"], s3.as_str());
    let days = rooms[0]["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let expected = [
        (1, 120, false),
        (1, 210, false),
        (0, 0, false),
        (0, 0, true),
    ];
    for (n, (bookings, minutes, let_whole_day)) in expected.into_iter().enumerate() {
        let d = &days[n];
        assert_eq!(d["on"], day(n as i64).to_string());
        assert_eq!(d["bookings"], bookings, "{d}");
        assert_eq!(d["booked_minutes"], minutes, "{d}");
        assert_eq!(d["open_minutes"], 720, "{d}");
        assert_eq!(d["let_whole_day"], let_whole_day, "{d}");
    }
    // Other buildings have no such room; a week view covers at most 31 days.
    let none = app
        .get_json(&format!(
            "/api/v1/space-usage/week?from={}&building=zilleschapp",
            day(0)
        ))
        .await;
    assert_eq!(none["rooms"], json!([]));
    let r = app
        .get(&format!(
            "/api/v1/space-usage/week?from={}&to={}",
            day(0),
            day(31)
        ))
        .await;
    assert_eq!(r.status(), 422);
}

/// Vacancies on 10 March and the rent roll of the first quarter.
async fn vacancies_and_the_rent_roll(app: &TestApp, hub: &Hub) {
    let s2 = &hub.s2;
    let s4 = &hub.s4;
    // Vacancies on 10 March: S2 has one place of two (20 m²); S4 frees up on 1 April; S1 is
    // let open-ended; the room is not let.
    let v = app
        .get_json("/api/v1/space-usage/vacancies?on=2026-03-10&within=30")
        .await;
    assert_eq!(v["until"], "2026-04-09");
    assert_eq!(v["vacant_now"], 1);
    assert_eq!(v["vacant_m2_now"], 20.0);
    assert_eq!(v["upcoming"], 1);
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["space_id"], s2.as_str());
    assert_eq!(items[0]["free_from"], "2026-03-10");
    assert_eq!(items[0]["free_places"], 1);
    assert_eq!(items[1]["space_id"], s4.as_str());
    assert_eq!(items[1]["free_from"], "2026-04-01");
    let soon = app
        .get_json("/api/v1/space-usage/vacancies?on=2026-03-10&within=10")
        .await;
    assert_eq!(soon["upcoming"], 0);
    assert_eq!(soon["items"].as_array().unwrap().len(), 1);

    // The rent roll, January to March 2026:
    // January: Ore Studio 16 of 31 days of EUR 200.00 = 103.23; Furnace Games 200.00.
    // February: Slag Pixels 414.00; Ore Studio 14 of 28 days = 100.00; Slag Sound 200.00;
    // Furnace Games 200.00. March: Rust Belt Brass 414.00 (its lease's terms); Slag Sound
    // 200.00; Furnace Games 200.00.
    let roll = app
        .get_json("/api/v1/space-usage/rent-roll?from=2026-01&to=2026-03")
        .await;
    assert_eq!(roll["currency"], "EUR");
    let months = roll["months"].as_array().unwrap();
    let totals: Vec<i64> = months
        .iter()
        .map(|m| m["total_cents"].as_i64().unwrap())
        .collect();
    assert_eq!(totals, [30_323, 91_400, 81_400]);
    assert_eq!(roll["total_cents"], 203_123);
    assert_eq!(
        months[1]["by_building"],
        json!({"schraeinerei": 50_000, "zilleschapp": 41_400})
    );
    assert_eq!(
        months[1]["by_occupant_kind"],
        json!({"startup": 41_400, "tenant": 50_000})
    );
    assert_eq!(months[1]["allocations"], 4);
    let a_only = app
        .get_json("/api/v1/space-usage/rent-roll?from=2026-01&to=2026-03&building=schraeinerei")
        .await;
    assert_eq!(a_only["total_cents"], 30_323 + 50_000 + 40_000);
}

/// Bad periods get a problem; the model replays to the same rows.
async fn bad_periods_are_refused_and_the_model_replays(app: &TestApp) {
    // Bad periods are refused with a problem, not answered.
    for bad in [
        "utilisation?from=2026-03-01&to=2026-02-01",
        "utilisation?from=2000-01-01&to=2026-01-01",
        "rent-roll?from=2026-03&to=2026-01",
        "rent-roll?from=2026-13",
        "vacancies?within=100000",
        "bookings?after=nonsense",
        "spaces?building=castle",
    ] {
        let r = app.get(&format!("/api/v1/space-usage/{bad}")).await;
        assert_eq!(r.status(), 422, "{bad}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{bad}"
        );
    }

    // The model replays to the same rows.
    let read = incubator_projections::ReadDb::connect(&app.db.url, 2)
        .await
        .unwrap();
    let checked = incubator_projections::rebuild::check(
        &read,
        &incubator_projections::models::Model::named("space_usage").unwrap(),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(checked.differences(), 0, "{checked:?}");
}
