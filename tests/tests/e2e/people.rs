//! The people registry: details kept apart from the log; erasure removes them from every
//! response and from the database, while the events that refer to the person remain and
//! replay.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;

both_stores!(
    an_erased_person_is_gone_from_responses_and_database_but_events_remain,
    bad_people_input_is_refused_and_writes_nothing,
);

const NAME: &str = "Ana Lúcia Pereira-Quintus";
const EMAIL: &str = "ana.quintus@example.lu";
const PHONE: &str = "+352 621 000 123";

async fn an_erased_person_is_gone_from_responses_and_database_but_events_remain(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let person = a_registered_person(&app).await;
    erased_everywhere_it_is_shown(&app, &person).await;
    gone_from_the_database(&pool, backend, &person).await;
    erased_details_cannot_come_back(&app, &person).await;
    pool.close().await;
    app.stop().await;
}

/// Registered with an idempotency key (the answer names only the id), then corrected.
async fn a_registered_person(app: &TestApp) -> String {
    let r = app
        .request(Method::POST, "/api/v1/people")
        .header("idempotency-key", "person-1")
        .json(&json!({"name": "Ana Pereira", "email": EMAIL, "phone": PHONE}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        created.as_object().unwrap().len(),
        1,
        "only the id: {created}"
    );
    let person = created["person_id"].as_str().unwrap().to_owned();
    let r = app
        .request(Method::PUT, &format!("/api/v1/people/{person}"))
        .json(&json!({"name": NAME, "email": EMAIL, "phone": PHONE}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let shown = app.get_json(&format!("/api/v1/people/{person}")).await;
    assert_eq!(shown["name"], NAME);
    assert_eq!(shown["email"], EMAIL);
    assert_eq!(shown["erased"], false);
    person
}

/// Erased after founding a startup and mentoring: every response shows the person as erased,
/// the events remain and replay.
async fn erased_everywhere_it_is_shown(app: &TestApp, person: &str) {
    // A startup founded by the person, and the person as a mentor.
    let r = app
        .post(
            "/api/v1/startups",
            json!({"name": "Quintus Sound", "founders": [person], "applied_on": "2026-02-01"}),
        )
        .await;
    let startup = r.json::<Value>().await.unwrap()["startup_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.command(&startup, "advance", json!({}), StatusCode::OK)
        .await;
    let r = app
        .post(
            "/api/v1/mentors",
            json!({"person_id": person, "expertise": ["sound"]}),
        )
        .await;
    let mentor = r.json::<Value>().await.unwrap()["mentor_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = app.get_json(&format!("/api/v1/startups/{startup}")).await;
    assert_eq!(s["people"][&person]["name"], NAME);
    let m = app.get_json(&format!("/api/v1/mentors/{mentor}")).await;
    assert_eq!(m["person"]["name"], NAME);
    let history_before = app
        .get_json(&format!("/api/v1/startups/{startup}/events"))
        .await;

    // Erase.
    let r = app
        .post(
            &format!("/api/v1/people/{person}/erase"),
            json!({"reason": "request under GDPR art. 17 of 2026-11-20"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let tombstone: Value = r.json().await.unwrap();
    assert_eq!(tombstone["erased"], true);
    assert_eq!(tombstone["name"], Value::Null);
    assert!(tombstone["erased_at"].is_string());

    // Every response shows the person as erased, without details.
    for path in [
        format!("/api/v1/people/{person}"),
        format!("/api/v1/startups/{startup}"),
        format!("/api/v1/mentors/{mentor}"),
        format!("/api/v1/startups/{startup}/events"),
        "/api/v1/people".to_owned(),
        "/api/v1/funding/startups".to_owned(),
    ] {
        let text = app.get(&path).await.text().await.unwrap();
        for secret in [NAME, "Ana Pereira", EMAIL, PHONE] {
            assert!(
                !text.contains(secret),
                "{path} still shows {secret}: {text}"
            );
        }
    }
    let s = app.get_json(&format!("/api/v1/startups/{startup}")).await;
    assert_eq!(
        s["people"][&person],
        json!({"name": null, "erased": true, "registered": true})
    );
    assert_eq!(s["founders"], json!([person]), "the reference stays");
    let m = app.get_json(&format!("/api/v1/mentors/{mentor}")).await;
    assert_eq!(m["person"]["erased"], true);

    // The events remain, unchanged, and replay: the state is rebuilt from them.
    let history_after = app
        .get_json(&format!("/api/v1/startups/{startup}/events"))
        .await;
    assert_eq!(history_after, history_before);
    assert_eq!(s["stage"], "screening");
    assert_eq!(s["version"], 2);
    app.command(&startup, "advance", json!({}), StatusCode::OK)
        .await;
}

/// Gone from the database: the registry row, stored responses, everywhere.
async fn gone_from_the_database(pool: &sqlx::AnyPool, backend: Backend, person: &str) {
    let row = sqlx::query(
        "SELECT name, email, phone, erased_by, erasure_reason FROM people WHERE person_id = $1",
    )
    .bind(person)
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(row.get::<Option<String>, _>("name"), None);
    assert_eq!(row.get::<Option<String>, _>("email"), None);
    assert_eq!(row.get::<Option<String>, _>("phone"), None);
    assert!(row.get::<Option<String>, _>("erased_by").is_some());
    let dumps = match backend {
        Backend::Sqlite => [
            "SELECT payload || metadata AS t FROM events",
            "SELECT payload AS t FROM snapshots",
            "SELECT COALESCE(body, '') || fingerprint AS t FROM idempotency_keys",
            "SELECT COALESCE(name, '') || COALESCE(email, '') || COALESCE(phone, '') AS t FROM people",
        ],
        Backend::Postgres => [
            "SELECT payload::text || metadata::text AS t FROM events",
            "SELECT payload::text AS t FROM snapshots",
            "SELECT COALESCE(body, '') || fingerprint AS t FROM idempotency_keys",
            "SELECT COALESCE(name, '') || COALESCE(email, '') || COALESCE(phone, '') AS t FROM people",
        ],
    };
    for sql in dumps {
        for row in sqlx::query(sql).fetch_all(pool).await.unwrap() {
            let t: String = row.get("t");
            for secret in [NAME, "Ana Pereira", EMAIL, PHONE] {
                assert!(!t.contains(secret), "{sql}: {t}");
            }
            assert!(
                !t.contains(person) || !sql.contains("idempotency"),
                "a stored response names the person"
            );
        }
    }
}

/// Erased details cannot come back; erasing again changes nothing.
async fn erased_details_cannot_come_back(app: &TestApp, person: &str) {
    let r = app
        .request(Method::PUT, &format!("/api/v1/people/{person}"))
        .json(&json!({"name": NAME}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = app
        .post(
            &format!("/api/v1/people/{person}/erase"),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .post(
            &format!("/api/v1/people/{}/erase", uuid::Uuid::now_v7()),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

async fn bad_people_input_is_refused_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "Jo", "email": "jo-at-example"}), "email"),
        (json!({"name": "Jo", "phone": "call me"}), "phone"),
        (json!({"name": "Jo", "address": "Differdange"}), ""),
        (json!({"email": "jo@example.lu"}), ""),
    ] {
        let r = app.post("/api/v1/people", body.clone()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let problem: Value = r.json().await.unwrap();
        if !field.is_empty() {
            assert_eq!(problem["field"], field, "{body}");
        }
    }
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM people")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(n, 0);
    let r = app
        .request(
            Method::PUT,
            &format!("/api/v1/people/{}", uuid::Uuid::now_v7()),
        )
        .json(&json!({"name": "Nobody"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    pool.close().await;
    app.stop().await;
}
