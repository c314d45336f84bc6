//! Changes across two records cut by a crash between their steps (the process aborts at a
//! failpoint, as under SIGKILL): a retry of the same request resumes the change with the same
//! allocation and answers it as done only once it is; without a retry the service undoes the
//! first step, visibly; a cancellation's studio is given back after a restart.

use std::time::Duration;

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, create_token, Backend, ServerProcess, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    an_arrival_cut_between_its_steps_is_finished_by_its_retry,
    an_arrival_cut_between_its_steps_and_never_retried_is_undone,
    a_cancellation_cut_before_the_studio_is_given_back_gives_it_back,
    the_first_retry_after_a_crash_is_answered,
);

/// After a crash, the first retry is answered: the crashed process stopped beating, so the
/// key it held is known abandoned within seconds, not after a request's lifetime (35 s with
/// the default `--request-timeout`, when the retry waited 10 s and got 409). So whether the
/// attempt appended nothing (it died before the command ran) or the first step of a change
/// across two records, the retry after the restart settles it, appending each event once.
async fn the_first_retry_after_a_crash_is_answered(backend: Backend) {
    let db = TestDb::new(backend).await;
    let token = create_token(&db.url, "officer-restarts", Role::Officer).await;
    let (mut hub, failing) = Hub::failing(&db.url, &token, &[], "arrive.after_space").await;
    let (id, studio) = hub.contracted().await;
    let arrive = format!("/residencies/{id}/arrive");
    let body = json!({"arrived_on": "2027-04-01"});
    crash_on(
        failing,
        &hub,
        &arrive,
        body.clone(),
        Some("arrive-after-restart"),
    )
    .await;
    let server = ServerProcess::start(BINARY, &db.url).await;
    hub.base = server.base.clone();
    let (status, answer) = hub
        .post(&arrive, body.clone(), Some("arrive-after-restart"))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let allocated = types(&hub.studio_events(&studio).await)
        .iter()
        .filter(|t| **t == "SpaceAllocated")
        .count();
    assert_eq!(allocated, 1);
    assert_eq!(
        hub.get(&format!("/residencies/{id}")).await["stage"],
        "in_residence"
    );
    server.kill().await;

    // Nothing appended: the process dies as the command begins.
    let failing =
        ServerProcess::start_with(BINARY, &db.url, &[], &[("INCUBATOR_FAILPOINTS", "execute")])
            .await;
    hub.base = failing.base.clone();
    let founder = hub
        .created("/people", json!({"name": "Ada Muller"}), "person_id")
        .await;
    let apply = json!({"name": "Restarted Co", "founders": [founder],
                       "applied_on": "2027-02-01"});
    crash_on(
        failing,
        &hub,
        "/startups",
        apply.clone(),
        Some("apply-after-restart"),
    )
    .await;
    let server = ServerProcess::start(BINARY, &db.url).await;
    hub.base = server.base.clone();
    let (status, answer) = hub
        .post("/startups", apply, Some("apply-after-restart"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    let listed = hub
        .get(&format!(
            "/startups?limit=100&min_position={}",
            answer["position"]
        ))
        .await;
    let named = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == "Restarted Co")
        .count();
    assert_eq!(named, 1, "{listed}");
    server.kill().await;
}

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

/// A short request lifetime, so that a crashed attempt's key and journal row are settled in
/// seconds: a retry resumes after 6 s, the service settles on its own after 12 s.
const SHORT: [&str; 2] = ["--request-timeout", "1s"];

struct Hub {
    c: reqwest::Client,
    base: String,
}

impl Hub {
    /// A hub on a server that aborts at `failpoint`, started with `args`.
    async fn failing(
        url: &str,
        token: &str,
        args: &[&str],
        failpoint: &str,
    ) -> (Self, ServerProcess) {
        let failing =
            ServerProcess::start_with(BINARY, url, args, &[("INCUBATOR_FAILPOINTS", failpoint)])
                .await;
        let hub = Self {
            c: client(Some(token)),
            base: failing.base.clone(),
        };
        (hub, failing)
    }

    async fn post(&self, path: &str, body: Value, key: Option<&str>) -> (StatusCode, Value) {
        let mut r = self
            .c
            .post(format!("{}/api/v1{path}", self.base))
            .json(&body);
        if let Some(key) = key {
            r = r.header("idempotency-key", key);
        }
        let r = r.send().await.expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn created(&self, path: &str, body: Value, field: &str) -> String {
        let (status, body) = self.post(path, body, None).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {body}");
        body[field].as_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str) -> Value {
        let r = self
            .c
            .get(format!("{}/api/v1{path}", self.base))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    }

    /// The studio's events, by type.
    async fn studio_events(&self, studio: &str) -> Vec<Value> {
        self.get(&format!("/spaces/{studio}/events")).await["items"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The studio's events once an allocation on it is cancelled (polled for up to 30 s: the
    /// service settles an interrupted change on its own schedule).
    async fn studio_events_once_cancelled(&self, studio: &str) -> Vec<Value> {
        let mut events = Vec::new();
        for _ in 0..120 {
            events = self.studio_events(studio).await;
            if types(&events).contains(&"AllocationCancelled") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        events
    }

    /// A contracted residency with its studio: (residency, studio).
    async fn contracted(&self) -> (String, String) {
        let artist = self
            .created("/people", json!({"name": "Mira Kessel"}), "person_id")
            .await;
        let studio = self
            .created(
                "/spaces",
                json!({"building": "zilleschapp", "kind": "studio", "name": "B-2.01",
                       "area_m2": 144, "rent_per_m2": {"cents": 600, "currency": "EUR"},
                       "registered_on": "2026-01-01"}),
                "space_id",
            )
            .await;
        let id = self
            .created(
                "/residencies",
                json!({"call": "Open call 2027", "artist": artist, "discipline": "sound art",
                       "proposal": "Recording the silence of the cold blast furnaces",
                       "requested_from": "2027-04-01", "requested_to": "2027-06-30",
                       "applied_on": "2027-01-15"}),
                "residency_id",
            )
            .await;
        let (status, _) = self
            .post(&format!("/residencies/{id}/accept"), json!({}), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let agreement = json!({"starts_on": "2027-04-01", "ends_on": "2027-06-30",
                               "stipend": {"cents": 150000, "currency": "EUR"},
                               "studio_id": studio});
        let (status, body) = self
            .post(&format!("/residencies/{id}/agreement"), agreement, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (id, studio)
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect()
}

/// Sends `path` to a server that aborts at a failpoint on the way, and waits for it to die.
async fn crash_on(
    mut server: ServerProcess,
    hub: &Hub,
    path: &str,
    body: Value,
    key: Option<&str>,
) {
    let mut r = hub.c.post(format!("{}/api/v1{path}", hub.base)).json(&body);
    if let Some(key) = key {
        r = r.header("idempotency-key", key);
    }
    let sent = r.send().await;
    assert!(
        sent.is_err(),
        "the server answered instead of stopping: {sent:?}"
    );
    let exit = tokio::time::timeout(Duration::from_secs(10), server.child.wait())
        .await
        .expect("the server stops at the failpoint")
        .expect("wait");
    assert!(!exit.success(), "the server aborted: {exit}");
}

async fn an_arrival_cut_between_its_steps_is_finished_by_its_retry(backend: Backend) {
    let db = TestDb::new(backend).await;
    let token = create_token(&db.url, "officer-two-steps", Role::Officer).await;
    let (mut hub, failing) =
        Hub::failing(&db.url, &token, SHORT.as_slice(), "arrive.after_space").await;
    let (id, studio) = hub.contracted().await;
    let arrive = format!("/residencies/{id}/arrive");
    let body = json!({"arrived_on": "2027-04-01"});
    crash_on(failing, &hub, &arrive, body.clone(), Some("arrive-1")).await;

    let server = ServerProcess::start_with(BINARY, &db.url, &SHORT, &[]).await;
    hub.base = server.base.clone();
    // The first step is in the log, the second is not.
    assert_eq!(
        types(&hub.studio_events(&studio).await).last(),
        Some(&"SpaceAllocated")
    );
    assert_eq!(
        hub.get(&format!("/residencies/{id}")).await["stage"],
        "contracted"
    );

    // The retry finds the first attempt's allocation and records the arrival with it (once
    // the crashed attempt's key is past a request's lifetime; until then the key is in use,
    // and the client retries as it would after any 503 or 409).
    let (mut status, mut answer) = (StatusCode::SERVICE_UNAVAILABLE, Value::Null);
    for _ in 0..60 {
        (status, answer) = hub.post(&arrive, body.clone(), Some("arrive-1")).await;
        if status != StatusCode::SERVICE_UNAVAILABLE && status != StatusCode::CONFLICT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(status, StatusCode::OK, "{answer}");
    let studio_events = hub.studio_events(&studio).await;
    let allocated: Vec<&Value> = studio_events
        .iter()
        .filter(|e| e["event_type"] == "SpaceAllocated")
        .collect();
    assert_eq!(
        allocated.len(),
        1,
        "one allocation, not two: {studio_events:?}"
    );
    assert_eq!(
        answer["allocation_id"], allocated[0]["payload"]["SpaceAllocated"]["allocation_id"],
        "{answer} / {:?}",
        allocated[0]
    );
    assert!(
        !types(&studio_events).contains(&"AllocationCancelled"),
        "nothing undone: {studio_events:?}"
    );
    let listed: Vec<(&str, &str)> = answer["events"]
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
        [("Space", "SpaceAllocated"), ("Residency", "ArtistArrived")],
        "{answer}"
    );
    let residency = hub.get(&format!("/residencies/{id}")).await;
    assert_eq!(residency["stage"], "in_residence");
    assert_eq!(residency["allocations"], json!([answer["allocation_id"]]));

    // Settled: the next retry replays the answer and appends nothing.
    let (status, again) = hub.post(&arrive, body, Some("arrive-1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, answer);
    assert_eq!(hub.studio_events(&studio).await.len(), studio_events.len());
    server.kill().await;
}

async fn an_arrival_cut_between_its_steps_and_never_retried_is_undone(backend: Backend) {
    let db = TestDb::new(backend).await;
    let token = create_token(&db.url, "officer-two-steps", Role::Officer).await;
    let (mut hub, failing) =
        Hub::failing(&db.url, &token, SHORT.as_slice(), "arrive.after_space").await;
    let (id, studio) = hub.contracted().await;
    let arrive = format!("/residencies/{id}/arrive");
    crash_on(
        failing,
        &hub,
        &arrive,
        json!({"arrived_on": "2027-04-01"}),
        None,
    )
    .await;

    let server = ServerProcess::start_with(BINARY, &db.url, &SHORT, &[]).await;
    hub.base = server.base.clone();
    // Past twice a request's lifetime the service cancels the allocation nobody recorded.
    let events = hub.studio_events_once_cancelled(&studio).await;
    assert_eq!(
        types(&events)[1..],
        ["SpaceAllocated", "AllocationCancelled"],
        "{events:?}"
    );
    let cancelled = events.last().unwrap();
    assert!(
        cancelled["payload"]["AllocationCancelled"]["reason"]
            .as_str()
            .unwrap()
            .contains("never recorded"),
        "the log says why: {cancelled}"
    );
    assert_eq!(cancelled["metadata"]["actor"], "officer-two-steps");
    assert_eq!(
        hub.get(&format!("/residencies/{id}")).await["stage"],
        "contracted"
    );
    // The studio is free again: the arrival can be made afresh.
    let (status, body) = hub
        .post(&arrive, json!({"arrived_on": "2027-04-01"}), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    server.kill().await;
}

async fn a_cancellation_cut_before_the_studio_is_given_back_gives_it_back(backend: Backend) {
    let db = TestDb::new(backend).await;
    let token = create_token(&db.url, "officer-two-steps", Role::Officer).await;
    let (mut hub, failing) =
        Hub::failing(&db.url, &token, SHORT.as_slice(), "release.after_residency").await;
    let (id, studio) = hub.contracted().await;
    let (status, body) = hub
        .post(
            &format!("/residencies/{id}/arrive"),
            json!({"arrived_on": "2027-04-01"}),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    crash_on(
        failing,
        &hub,
        &format!("/residencies/{id}/cancel"),
        json!({"reason": "the artist withdrew"}),
        None,
    )
    .await;

    let server = ServerProcess::start_with(BINARY, &db.url, &SHORT, &[]).await;
    hub.base = server.base.clone();
    assert_eq!(
        hub.get(&format!("/residencies/{id}")).await["stage"],
        "cancelled"
    );
    let events = hub.studio_events_once_cancelled(&studio).await;
    assert_eq!(
        types(&events)[1..],
        ["SpaceAllocated", "AllocationCancelled"],
        "{events:?}"
    );
    assert_eq!(
        events.last().unwrap()["payload"]["AllocationCancelled"]["reason"],
        "the artist withdrew"
    );
    server.kill().await;
}
