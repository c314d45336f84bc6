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
    if backend == Backend::Sqlite {
        // The details written into the file itself, as they would be in time.
        checkpoint(&pool).await;
        assert!(in_file(&app.db.url, EMAIL), "the details are in the file");
    }
    erased_everywhere_it_is_shown(&app, &person).await;
    gone_from_the_database(&pool, backend, &person).await;
    if backend == Backend::Sqlite {
        gone_from_the_file(&pool, &app.db.url).await;
    }
    erased_details_cannot_come_back(&app, &person).await;
    the_trail_names_who_and_when_not_what(&app, &person).await;
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
    // A refused correction, with a key: its answer (kept for retries) does not repeat the
    // refused value.
    let r = refused_correction(app, &person).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["field"], "email", "{problem}");
    assert!(!problem.to_string().contains(BAD_EMAIL), "{problem}");
    let shown = app.get_json(&format!("/api/v1/people/{person}")).await;
    assert_eq!(shown["name"], NAME);
    assert_eq!(shown["email"], EMAIL);
    assert_eq!(shown["erased"], false);
    person
}

/// A mistyped e-mail address, refused.
const BAD_EMAIL: &str = "ana.quintus-at-example.lu";

async fn refused_correction(app: &TestApp, person: &str) -> reqwest::Response {
    app.request(Method::PUT, &format!("/api/v1/people/{person}"))
        .header("idempotency-key", "person-2")
        .json(&json!({"name": NAME, "email": BAD_EMAIL}))
        .send()
        .await
        .unwrap()
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
            for secret in [NAME, "Ana Pereira", EMAIL, PHONE, BAD_EMAIL] {
                assert!(!t.contains(secret), "{sql}: {t}");
            }
            assert!(
                !t.contains(person) || !sql.contains("idempotency"),
                "a stored response names the person"
            );
        }
    }
}

/// Gone from the SQLite file itself: the freed space is overwritten (`secure_delete`), so once
/// the write-ahead log is checkpointed into the file, no byte of the details is left on disk.
async fn gone_from_the_file(pool: &sqlx::AnyPool, url: &str) {
    checkpoint(pool).await;
    for secret in [EMAIL, PHONE, "Pereira-Quintus"] {
        assert!(!in_file(url, secret), "{secret} is still in {url}");
    }
}

/// Whether `text` is anywhere in the SQLite database at `url` or its write-ahead log.
fn in_file(url: &str, text: &str) -> bool {
    let path = url.strip_prefix("sqlite://").unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

/// Copies SQLite's write-ahead log into the database file and empties it.
async fn checkpoint(pool: &sqlx::AnyPool) {
    let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>(0), 0, "the checkpoint was not blocked");
}

/// Erased details cannot come back; erasing again changes nothing; the refused correction's
/// answer was forgotten with the person, so its retry runs again (refused again, not replayed).
async fn erased_details_cannot_come_back(app: &TestApp, person: &str) {
    let r = refused_correction(app, person).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.headers().get("idempotent-replayed").is_none());
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

/// The registry's trail: who registered, corrected, read and erased the person, and when;
/// the fields by name, never their values; and each page of the registry read.
async fn the_trail_names_who_and_when_not_what(app: &TestApp, person: &str) {
    let trail = app
        .get_json(&format!("/api/v1/people/trail?person={person}"))
        .await;
    let items = trail["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .map(|l| l["action"].as_str().unwrap())
        .collect();
    // Newest first: the reads after the erasure, the erasure (once, though it ran twice),
    // the reads, the correction, the registration.
    let at = |action: &str| actions.iter().position(|a| *a == action).unwrap();
    assert!(at("erased") < at("updated"), "{trail}");
    assert_eq!(
        actions.iter().filter(|a| **a == "erased").count(),
        1,
        "{trail}"
    );
    assert!(actions.contains(&"read"), "{trail}");
    assert_eq!(actions.last(), Some(&"registered"), "{trail}");
    let updated = items.iter().find(|l| l["action"] == "updated").unwrap();
    assert_eq!(updated["detail"], "name,email,phone");
    assert!(items
        .iter()
        .all(|l| l["actor"].as_str().unwrap().starts_with("officer-")));
    for secret in [NAME, "Ana Pereira", EMAIL, PHONE] {
        assert!(!trail.to_string().contains(secret), "{trail}");
    }
    let all = app.get_json("/api/v1/people/trail").await;
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["action"] == "listed"),
        "{all}"
    );
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
