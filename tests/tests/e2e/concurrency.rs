//! Two writers racing end with the right events, once.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(
    two_writers_racing_on_one_startup_both_land_once,
    two_writers_racing_with_the_same_if_match_exactly_one_wins,
);

async fn two_writers_racing_on_one_startup_both_land_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Race Track", None).await;
    app.command(&id, "advance", json!({}), StatusCode::OK).await;
    let mentor = app.register_mentor().await;
    app.command(&id, "mentors", json!({"mentor_id": mentor}), StatusCode::OK)
        .await;
    let rounds = 20;
    for round in 0..rounds {
        let send = |n: u32| {
            app.request(Method::POST, &format!("/api/v1/startups/{id}/sessions"))
                .header("x-request-id", format!("race-{round}-{n}"))
                .json(&json!({"mentor_id": mentor, "held_on": "2026-03-01", "minutes": 30 + n}))
                .send()
        };
        let (a, b) = tokio::join!(send(0), send(1));
        assert_eq!(a.unwrap().status(), StatusCode::CREATED);
        assert_eq!(b.unwrap().status(), StatusCode::CREATED);
    }
    let history = app.get_json(&format!("/api/v1/startups/{id}/events")).await;
    let events = history["items"].as_array().unwrap();
    assert_eq!(events.len(), 3 + 2 * rounds as usize);
    let mut ids: Vec<&str> = events
        .iter()
        .filter(|e| e["event_type"] == "SessionLogged")
        .map(|e| e["metadata"]["client_request_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected: Vec<String> = (0..rounds)
        .flat_map(|r| [format!("race-{r}-0"), format!("race-{r}-1")])
        .collect();
    expected.sort_unstable();
    assert_eq!(ids, expected, "every command's event exactly once");
    let sequences: Vec<i64> = events
        .iter()
        .map(|e| e["sequence"].as_i64().unwrap())
        .collect();
    assert_eq!(sequences, (1..=events.len() as i64).collect::<Vec<_>>());
    app.stop().await;
}

async fn two_writers_racing_with_the_same_if_match_exactly_one_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for _ in 0..10 {
        let id = app.apply("Either Or", None).await;
        let send = |to: &'static str| {
            app.request(Method::POST, &format!("/api/v1/startups/{id}/{to}"))
                .header("if-match", "\"1\"")
                .json(&if to == "advance" {
                    json!({})
                } else {
                    json!({"reason": "duplicate"})
                })
                .send()
        };
        let (a, b) = tokio::join!(send("advance"), send("reject"));
        let mut statuses = vec![a.unwrap().status(), b.unwrap().status()];
        statuses.sort();
        assert_eq!(
            statuses,
            vec![StatusCode::OK, StatusCode::PRECONDITION_FAILED]
        );
        let state: Value = app.get_json(&format!("/api/v1/startups/{id}")).await;
        assert_eq!(
            state["version"], 2,
            "exactly one of the two commands landed"
        );
    }
    app.stop().await;
}
