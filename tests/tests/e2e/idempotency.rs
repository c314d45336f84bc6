//! `Idempotency-Key`: retries append once and get the first response; a reused key with
//! another request is refused; a key whose outcome a crash hid is settled from the log.

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, event_count, Backend, TestApp};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};
use sqlx::Row;

both_stores!(
    a_retry_with_the_same_key_gets_the_first_response_and_appends_nothing,
    the_same_key_with_another_request_is_refused,
    racing_retries_with_one_key_append_once,
    keys_belong_to_their_caller_and_expire,
    a_key_whose_response_was_lost_is_settled_from_the_log,
    a_recovered_answer_equals_the_first,
    an_attempt_whose_key_was_taken_over_appends_nothing,
);

/// An attempt whose key a retry took over (its process seemed gone, but was only slow) can
/// no longer append: its append checks the key in its own transaction and rolls back, events
/// and seals; and a takeover fails once the attempt it saw has appended.
async fn an_attempt_whose_key_was_taken_over_appends_nothing(backend: Backend) {
    use incubator_projections::append::{append, AppendError, NewEvent};
    use incubator_projections::keys::{self, Holder, Seen};
    let db = incubator_tests::TestDb::new(backend).await;
    let store = incubator_server::store::Store::open(&db.url).await.unwrap();
    let mut conn = store.read.pool.acquire().await.unwrap();
    let (actor, key) = ("officer", "k-1");
    assert!(keys::claim(
        &mut conn,
        (actor, key),
        "f",
        "/api/v1/startups",
        1_000,
        "gone"
    )
    .await
    .unwrap());
    let payload = json!({"Voided": {"reason": "duplicate"}});
    let metadata = json!({"actor": actor});
    let event = |sequence| NewEvent {
        aggregate_type: "Startup",
        aggregate_id: "00000000-0000-7000-8000-0000000000aa",
        sequence,
        event_type: "Voided",
        event_version: "1",
        payload: &payload,
        metadata: &metadata,
    };
    let first = Holder {
        actor: actor.into(),
        key: key.into(),
        started_at: 1_000,
    };
    // The attempt appends once; a takeover that saw no append then fails.
    append(&store.read, &[event(1)], None, Some(&first))
        .await
        .unwrap();
    let seen = Seen {
        state: "pending",
        started_at: 1_000,
        commits: 0,
    };
    assert!(
        !keys::retake(&mut conn, (actor, key), seen, (2_000, 0), "retry")
            .await
            .unwrap()
    );
    // A takeover that saw it succeeds; the first attempt's next append is refused whole.
    let seen = Seen { commits: 1, ..seen };
    assert!(
        keys::retake(&mut conn, (actor, key), seen, (2_000, 0), "retry")
            .await
            .unwrap()
    );
    let refused = append(&store.read, &[event(2)], None, Some(&first)).await;
    assert!(matches!(refused, Err(AppendError::KeyLost)), "{refused:?}");
    let pool = db.pool().await;
    assert_eq!(event_count(&pool).await, 1);
    let seals: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_chain")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get("n");
    assert_eq!(seals, 1, "the refused append's seal went with it");
    drop(conn);
    store.close().await;
}

fn key() -> String {
    uuid::Uuid::now_v7().to_string()
}

async fn send(app: &TestApp, path: &str, key: &str, body: &Value) -> (StatusCode, bool, Value) {
    let r = app
        .request(Method::POST, path)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .expect("request");
    split(r).await
}

async fn split(r: Response) -> (StatusCode, bool, Value) {
    let replayed = r.headers().get("idempotent-replayed").is_some();
    (r.status(), replayed, r.json().await.unwrap_or(Value::Null))
}

/// An application founded by a person registered on `app`.
async fn application(app: &TestApp) -> Value {
    let founder = app.person().await;
    json!({"name": "Forge Audio", "founders": [founder], "applied_on": "2026-02-01"})
}

async fn a_retry_with_the_same_key_gets_the_first_response_and_appends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;

    // Creating a startup: the retry names the same startup, and there is one.
    let create_key = key();
    let k = create_key.clone();
    let body = application(&app).await;
    let (s1, r1, first) = send(&app, "/api/v1/startups", &k, &body).await;
    assert_eq!((s1, r1), (StatusCode::CREATED, false), "{first}");
    let before = event_count(&pool).await;
    let (s2, r2, second) = send(&app, "/api/v1/startups", &k, &body).await;
    assert_eq!((s2, r2), (StatusCode::CREATED, true));
    assert_eq!(first, second);
    assert_eq!(event_count(&pool).await, before);
    let id = first["startup_id"].as_str().unwrap().to_owned();

    // The same body with its keys in another order and other spacing is the same request.
    let reordered = format!(
        r#"{{ "applied_on": "2026-02-01",  "founders": {}, "name": "Forge Audio" }}"#,
        body["founders"]
    );
    let r = app
        .request(Method::POST, "/api/v1/startups")
        .header("idempotency-key", &k)
        .header("content-type", "application/json")
        .body(reordered)
        .send()
        .await
        .unwrap();
    let (s3, r3, third) = split(r).await;
    assert_eq!((s3, r3), (StatusCode::CREATED, true));
    assert_eq!(third, first);

    // A sub-record: the retry names the same grant, and the ETag and Location come back too.
    let k = key();
    let award = json!({"programme": "Fit 4 Start", "kind": "grant",
        "amount": {"cents": 5_000_000, "currency": "EUR"}, "awarded_on": "2026-03-01"});
    let path = format!("/api/v1/startups/{id}/funding");
    let (s, _, granted) = send(&app, &path, &k, &award).await;
    assert_eq!(s, StatusCode::CREATED);
    let r = app
        .request(Method::POST, &path)
        .header("idempotency-key", &k)
        .json(&award)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["etag"], "\"2\"");
    let (s, replayed, again) = split(r).await;
    assert_eq!((s, replayed), (StatusCode::CREATED, true));
    assert_eq!(again["grant_id"], granted["grant_id"]);
    let state = app.get_json(&format!("/api/v1/startups/{id}")).await;
    assert_eq!(state["version"], 2, "one award, not two");

    // A refusal is an answer too: the retry gets the same 409, even though the record moved on.
    let k = key();
    let skip = json!({"to": "incubation"});
    let (s, _, refused) = send(&app, &format!("/api/v1/startups/{id}/advance"), &k, &skip).await;
    assert_eq!(s, StatusCode::CONFLICT, "{refused}");
    app.command(&id, "advance", json!({}), StatusCode::OK).await;
    let (s, replayed, again) =
        send(&app, &format!("/api/v1/startups/{id}/advance"), &k, &skip).await;
    assert_eq!((s, replayed), (StatusCode::CONFLICT, true));
    assert_eq!(again, refused);

    // The events of a keyed command carry the key.
    let history = app.get_json(&format!("/api/v1/startups/{id}/events")).await;
    assert_eq!(
        history["items"][0]["metadata"]["idempotency_key"],
        json!(create_key)
    );

    // A key that is not a key.
    let r = app
        .request(Method::POST, "/api/v1/startups")
        .header("idempotency-key", "two words")
        .json(&application(&app).await)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    pool.close().await;
    app.stop().await;
}

async fn the_same_key_with_another_request_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let k = key();
    let (s, _, first) = send(&app, "/api/v1/startups", &k, &application(&app).await).await;
    assert_eq!(s, StatusCode::CREATED);
    let id = first["startup_id"].as_str().unwrap().to_owned();
    let before = event_count(&pool).await;

    // Another body.
    let (s, _, problem) = send(&app, "/api/v1/startups", &k, &application(&app).await).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["type"],
        "urn:incubator:problem:idempotency_key_reused"
    );
    // Another endpoint.
    let (s, _, _) = send(
        &app,
        &format!("/api/v1/startups/{id}/reject"),
        &k,
        &json!({"reason": "x"}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Another If-Match.
    let k2 = key();
    let path = format!("/api/v1/startups/{id}/advance");
    let (s, _, _) = send(&app, &path, &k2, &json!({})).await;
    assert_eq!(s, StatusCode::OK);
    let r = app
        .request(Method::POST, &path)
        .header("idempotency-key", &k2)
        .header("if-match", "\"1\"")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(event_count(&pool).await, before + 1, "only the advance");
    pool.close().await;
    app.stop().await;
}

async fn racing_retries_with_one_key_append_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    for round in 0..5 {
        let k = key();
        let body = application(&app).await;
        let attempts = if round == 0 { 2 } else { 6 };
        let results = futures::future::join_all(
            (0..attempts).map(|_| send(&app, "/api/v1/startups", &k, &body)),
        )
        .await;
        let firsts = results.iter().filter(|(_, replayed, _)| !replayed).count();
        assert_eq!(
            firsts, 1,
            "exactly one attempt ran the command: {results:?}"
        );
        for (status, _, body) in &results {
            assert_eq!(*status, StatusCode::CREATED, "{body}");
            assert_eq!(body, &results[0].2, "every attempt got the first response");
        }
        assert_eq!(event_count(&pool).await, round + 1);
    }
    pool.close().await;
    app.stop().await;
}

async fn keys_belong_to_their_caller_and_expire(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let k = key();
    let body = application(&app).await;
    let (_, _, mine) = send(&app, "/api/v1/startups", &k, &body).await;

    // Another officer's identical key and body is another request.
    let other = client(Some(&app.token(Role::Officer).await));
    let r = other
        .post(format!("{}/api/v1/startups", app.base))
        .header("idempotency-key", &k)
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s, replayed, theirs) = split(r).await;
    assert_eq!((s, replayed), (StatusCode::CREATED, false));
    assert_ne!(mine["startup_id"], theirs["startup_id"]);
    assert_eq!(event_count(&pool).await, 2);

    // Past the retention (24 h by default) the key is forgotten, and the request runs again.
    let day_and_a_bit = 25 * 3600 * 1000_i64;
    sqlx::query("UPDATE idempotency_keys SET started_at = started_at - $1")
        .bind(day_and_a_bit)
        .execute(&pool)
        .await
        .unwrap();
    let (s, replayed, again) = send(&app, "/api/v1/startups", &k, &body).await;
    assert_eq!((s, replayed), (StatusCode::CREATED, false));
    assert_ne!(again["startup_id"], mine["startup_id"]);
    assert_eq!(event_count(&pool).await, 3);
    pool.close().await;
    app.stop().await;
}

/// An answer as a client sees it: status, `Location`, `ETag` and body.
async fn whole(r: Response) -> (StatusCode, Option<String>, Option<String>, Value) {
    let header = |n: &str| {
        r.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (location, etag) = (header("location"), header("etag"));
    (r.status(), location, etag, r.json().await.unwrap())
}

/// Sends `body` to `path` with a fresh key; then forgets the recorded answer as a crash would
/// (the row left pending, its lease long past) and retries: the answer recovered from the log
/// must equal the first, whole.
async fn recovered_equals_first(app: &TestApp, pool: &sqlx::AnyPool, path: &str, body: &Value) {
    let k = key();
    let send = || {
        app.request(Method::POST, path)
            .header("idempotency-key", &k)
            .json(body)
            .send()
    };
    let first = whole(send().await.unwrap()).await;
    assert!(first.0.is_success(), "{first:?}");
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'pending', status = NULL, body = NULL, \
         started_at = started_at - 600000 WHERE idem_key = $1",
    )
    .bind(&k)
    .execute(pool)
    .await
    .unwrap();
    let r = send().await.unwrap();
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    let recovered = whole(r).await;
    assert_eq!(recovered, first, "POST {path}: recovered from the log");
}

async fn a_recovered_answer_equals_the_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    // A new record: 201 with its Location.
    let founder = app.person().await;
    recovered_equals_first(
        &app,
        &pool,
        "/api/v1/startups",
        &json!({"name": "Recovered Co", "founders": [founder], "applied_on": "2026-02-01"}),
    )
    .await;
    // A sub-record: 201 naming the session it logged.
    let id = app.apply("Mentored Co", None).await;
    app.command(&id, "advance", json!({"on": "2026-02-02"}), StatusCode::OK)
        .await;
    let mentor = app.register_mentor().await;
    app.command(&id, "mentors", json!({"mentor_id": mentor}), StatusCode::OK)
        .await;
    recovered_equals_first(
        &app,
        &pool,
        &format!("/api/v1/startups/{id}/sessions"),
        &json!({"mentor_id": mentor, "held_on": "2026-03-02", "minutes": 60}),
    )
    .await;
    // A plain command: 200.
    recovered_equals_first(
        &app,
        &pool,
        &format!("/api/v1/startups/{id}/cohort"),
        &json!({"cohort": "2026-autumn"}),
    )
    .await;
    pool.close().await;
    app.stop().await;
}

async fn a_key_whose_response_was_lost_is_settled_from_the_log(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.db.pool().await;
    let id = app.apply("Lost Reply", None).await;
    let award = json!({"programme": "Creative Industries", "kind": "grant",
        "amount": {"cents": 1_000_000, "currency": "EUR"}, "awarded_on": "2026-03-01"});
    let path = format!("/api/v1/startups/{id}/funding");

    // The command committed, then the process died before recording the response: the row is
    // left pending, and its lease has long passed.
    let k = key();
    let (s, _, _) = send(&app, &path, &k, &award).await;
    assert_eq!(s, StatusCode::CREATED);
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'pending', status = NULL, body = NULL, \
         started_at = started_at - 600000 WHERE idem_key = $1",
    )
    .bind(&k)
    .execute(&pool)
    .await
    .unwrap();
    let (s, replayed, body) = send(&app, &path, &k, &award).await;
    // The status the route answers (201: it awards a grant), as the first attempt did.
    assert_eq!((s, replayed), (StatusCode::CREATED, true), "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(
        body["events"],
        json!([{"aggregate_type": "Startup", "aggregate_id": id, "sequence": 2,
                "event_type": "FundingAwarded"}])
    );
    assert_eq!(event_count(&pool).await, 2, "not applied twice");

    // The command failed in a way that says nothing (a 5xx), and in fact appended nothing:
    // the retry runs it.
    let k = key();
    let (s, _, _) = send(&app, &path, &k, &award).await;
    assert_eq!(s, StatusCode::CREATED);
    sqlx::query(
        "UPDATE idempotency_keys SET state = 'unsettled', status = NULL, body = NULL, \
         head_position = (SELECT MAX(position) FROM events) WHERE idem_key = $1",
    )
    .bind(&k)
    .execute(&pool)
    .await
    .unwrap();
    let (s, replayed, body) = send(&app, &path, &k, &award).await;
    assert_eq!((s, replayed), (StatusCode::CREATED, false), "{body}");
    assert_eq!(event_count(&pool).await, 4);
    let (s, replayed, again) = send(&app, &path, &k, &award).await;
    assert_eq!((s, replayed), (StatusCode::CREATED, true));
    assert_eq!(again, body);
    assert_eq!(event_count(&pool).await, 4);
    pool.close().await;
    app.stop().await;
}
