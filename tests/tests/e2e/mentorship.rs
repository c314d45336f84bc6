//! The mentorship read model against figures computed by hand.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(mentors_load_sessions_hours_and_who_has_no_mentor);

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{path}: {body}");
    body
}

/// What the story builds: three mentors (the third retired), startups in and out of the
/// programme with sessions, two residents, and the position of the last command.
struct Programme {
    m1: String,
    m2: String,
    m3: String,
    s1: String,
    s2: String,
    s4: String,
    r1: String,
    r2: String,
    at: i64,
}

async fn mentors_load_sessions_hours_and_who_has_no_mentor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let p = a_programme(&app).await;
    each_mentors_load_and_hours(&app, &p).await;
    a_period_and_pages(&app, &p.m1).await;
    who_has_no_mentor(&app, &p).await;
    app.stop().await;
}

/// Mentors, startups with assignments and sessions (one mentor released), two residents.
async fn a_programme(app: &TestApp) -> Programme {
    let m1 = app.register_mentor().await;
    let m2 = app.register_mentor().await;
    let m3 = app.register_mentor().await;
    post(
        app,
        &format!("/api/v1/mentors/{m3}/retire"),
        json!({"reason": "moved"}),
    )
    .await;

    let in_programme = |name: &'static str| {
        let app = &app;
        async move {
            let id = app.apply(name, None).await;
            app.command(&id, "advance", json!({}), StatusCode::OK).await;
            app.command(&id, "advance", json!({}), StatusCode::OK).await;
            id
        }
    };
    let s1 = in_programme("Mentored").await;
    let s2 = in_programme("Alone").await;
    let _s3 = app.apply("Just applied", None).await;
    let s4 = in_programme("Gone").await;
    app.command(&s4, "withdraw", json!({"reason": "closed"}), StatusCode::OK)
        .await;

    for m in [&m1, &m2] {
        app.command(&s1, "mentors", json!({"mentor_id": m}), StatusCode::OK)
            .await;
    }
    for (mentor, day, minutes) in [
        (&m1, "2026-03-05", 60),
        (&m1, "2026-03-20", 30),
        (&m1, "2026-04-02", 90),
        (&m2, "2025-12-15", 45),
    ] {
        app.command(
            &s1,
            "sessions",
            json!({"mentor_id": mentor, "held_on": day, "minutes": minutes}),
            StatusCode::CREATED,
        )
        .await;
    }
    app.command(
        &s1,
        &format!("mentors/{m2}/release"),
        json!({}),
        StatusCode::OK,
    )
    .await;

    let residency = |n: u32| {
        let app = &app;
        async move {
            let artist = app.person().await;
            let r = post(
                app,
                "/api/v1/residencies",
                json!({"call": "Open call", "artist": artist, "discipline": "sculpture",
                       "proposal": "p", "requested_from": "2027-04-01", "requested_to": "2027-06-30",
                       "applied_on": format!("2026-01-0{n}")}),
            )
            .await;
            let id = r["residency_id"].as_str().unwrap().to_owned();
            post(app, &format!("/api/v1/residencies/{id}/accept"), json!({})).await;
            id
        }
    };
    let r1 = residency(1).await;
    let r2 = residency(2).await;
    let last = post(
        app,
        &format!("/api/v1/residencies/{r1}/mentors"),
        json!({"mentor_id": m1}),
    )
    .await;
    let at = last["position"].as_i64().unwrap();
    Programme {
        m1,
        m2,
        m3,
        s1,
        s2,
        s4,
        r1,
        r2,
        at,
    }
}

/// Each mentor's load, mentees and hours, per month and year.
async fn each_mentors_load_and_hours(app: &TestApp, p: &Programme) {
    let (m1, m2, m3, s1, r1, at) = (&p.m1, &p.m2, &p.m3, &p.s1, &p.r1, p.at);
    let page = app
        .get_json(&format!("/api/v1/mentorship/mentors?min_position={at}"))
        .await;
    assert!(page["position"].as_i64().unwrap() >= at);
    let by_id = |page: &Value, id: &str| -> Value {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["mentor_id"] == id)
            .cloned()
            .unwrap()
    };
    let one = by_id(&page, m1);
    assert_eq!(one["status"], "active");
    assert_eq!(one["load"], 2);
    let mentees: Vec<(&str, &str)> = one["mentees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["kind"].as_str().unwrap(), m["id"].as_str().unwrap()))
        .collect();
    assert_eq!(
        mentees,
        [("residency", r1.as_str()), ("startup", s1.as_str())]
    );
    assert_eq!(
        one["total"],
        json!({"sessions": 3, "minutes": 180, "hours": 3.0})
    );
    assert_eq!(
        one["per_month"],
        json!({"2026-03": {"sessions": 2, "minutes": 90, "hours": 1.5},
               "2026-04": {"sessions": 1, "minutes": 90, "hours": 1.5}})
    );
    assert_eq!(
        one["per_year"],
        json!({"2026": {"sessions": 3, "minutes": 180, "hours": 3.0}})
    );
    let two = by_id(&page, m2);
    assert_eq!(two["load"], 0, "released");
    assert_eq!(
        two["total"],
        json!({"sessions": 1, "minutes": 45, "hours": 0.75})
    );
    assert_eq!(
        two["per_year"],
        json!({"2025": {"sessions": 1, "minutes": 45, "hours": 0.75}})
    );
    let three = by_id(&page, m3);
    assert_eq!(three["status"], "retired");
    assert_eq!(three["total"]["sessions"], 0);
}

/// A period: 10 March to 30 April 2026.
async fn a_period_and_pages(app: &TestApp, m1: &str) {
    let period = app
        .get_json(&format!(
            "/api/v1/mentorship/mentors?mentor={m1}&from=2026-03-10&to=2026-04-30"
        ))
        .await;
    assert_eq!(period["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        period["items"][0]["total"],
        json!({"sessions": 2, "minutes": 120, "hours": 2.0})
    );

    // Pages of two.
    let first = app.get_json("/api/v1/mentorship/mentors?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap();
    let second = app
        .get_json(&format!("/api/v1/mentorship/mentors?limit=2&after={next}"))
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next"], Value::Null);
}

/// Who in the programme has no mentor: the startup left alone, the second resident.
async fn who_has_no_mentor(app: &TestApp, p: &Programme) {
    let (m1, s1, s2, s4, r2) = (&p.m1, &p.s1, &p.s2, &p.s4, &p.r2);
    let alone = app
        .get_json("/api/v1/mentorship/mentees?without_mentor=true")
        .await;
    let ids: Vec<&str> = alone["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    let mut expected = vec![r2.as_str(), s2.as_str()];
    // Residents sort before startups (by kind, then id).
    expected.sort_by_key(|id| if *id == r2.as_str() { 0 } else { 1 });
    assert_eq!(ids, expected);
    let mentored = app
        .get_json("/api/v1/mentorship/mentees?kind=startup")
        .await;
    let s1_row = mentored["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == s1.as_str())
        .unwrap()
        .clone();
    assert_eq!(s1_row["mentors"], json!([m1]));
    assert_eq!(
        s1_row["total"],
        json!({"sessions": 4, "minutes": 225, "hours": 3.75})
    );
    assert_eq!(s1_row["stage"], "pre_incubation");
    assert_eq!(s1_row["in_programme"], true);
    let gone = mentored["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == s4.as_str())
        .unwrap()
        .clone();
    assert_eq!(gone["in_programme"], false);

    for bad in [
        "from=2026-05-01&to=2026-04-01",
        "after=nonsense",
        "kind=mentor",
        "limit=0",
    ] {
        let r = app.get(&format!("/api/v1/mentorship/mentees?{bad}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
}
