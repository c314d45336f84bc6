//! The audit feed: the whole log in commit order with who, when and why, filtered and paged.

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, create_token, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(the_feed_shows_who_did_what_when_and_why);

async fn all(app: &TestApp, query: &str, limit: u32) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = app
            .get_json(&format!("/api/v1/audit/events?limit={limit}{query}{after}"))
            .await;
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = format!("&after={next}"),
            None => return out,
        }
    }
}

async fn the_feed_shows_who_did_what_when_and_why(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.apply("Alpha", None).await;
    app.command(
        &a,
        "advance",
        json!({"to": "pre_incubation", "override_reason": "jury waived screening"}),
        StatusCode::OK,
    )
    .await;
    // A second officer, with a token of her own.
    let bob = create_token(&app.db.url, "bob", Role::Officer).await;
    let bob = client(Some(&bob));
    let founder = app.person().await;
    let r = bob
        .post(format!("{}/api/v1/startups", app.base))
        .json(&json!({"name": "Beta", "founders": [founder]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let b = r.json::<Value>().await.unwrap()["startup_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = bob
        .post(format!("{}/api/v1/startups/{b}/reject", app.base))
        .json(&json!({"reason": "out of scope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    app.command(&a, "advance", json!({}), StatusCode::OK).await;
    // On PostgreSQL the feed shows an event once every transaction older than it has ended
    // (commit order); other tests' transactions on the same server may hold that back a moment.
    app.settle().await;

    // Everything, in commit order, one event a page: five events.
    let everything = all(&app, "", 1).await;
    let shape: Vec<(String, String)> = everything
        .iter()
        .map(|e| {
            (
                e["aggregate_id"].as_str().unwrap().to_owned(),
                e["event_type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expect = |id: &str, t: &str| (id.to_owned(), t.to_owned());
    assert_eq!(
        shape,
        [
            expect(&a, "Applied"),
            expect(&a, "StageAdvanced"),
            expect(&b, "Applied"),
            expect(&b, "Rejected"),
            expect(&a, "StageAdvanced"),
        ]
    );
    assert_eq!(everything, all(&app, "", 500).await);
    // Who and why.
    assert_eq!(everything[1]["metadata"]["reason"], "jury waived screening");
    assert_eq!(everything[1]["metadata"]["role"], "officer");
    assert_eq!(everything[3]["metadata"]["actor"], "bob");
    assert_eq!(everything[3]["metadata"]["reason"], "out of scope");
    assert!(everything[0]["metadata"]["correlation_id"].is_string());

    // Filters.
    let by_bob = all(&app, "&actor=bob", 50).await;
    assert_eq!(by_bob.len(), 2);
    assert!(by_bob.iter().all(|e| e["aggregate_id"] == b.as_str()));
    let alpha = all(
        &app,
        &format!("&aggregate_type=Startup&aggregate_id={a}"),
        2,
    )
    .await;
    assert_eq!(alpha.len(), 3);
    let stages = all(&app, "&event_type=StageAdvanced", 50).await;
    assert_eq!(stages.len(), 2);
    assert!(all(&app, "&aggregate_type=Space", 50).await.is_empty());
    // A time range: from the third event's instant on (RFC 3339 with an offset).
    let third =
        chrono::DateTime::parse_from_rfc3339(everything[2]["recorded_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap());
    let since = all(
        &app,
        &format!("&from={}", third.to_rfc3339().replace('+', "%2B")),
        50,
    )
    .await;
    assert_eq!(since.len(), 3, "{since:?}");
    assert_eq!(since[0]["event_type"], "Applied");
    let until = all(
        &app,
        &format!("&to={}", everything[1]["recorded_at"].as_str().unwrap()),
        50,
    )
    .await;
    assert_eq!(until.len(), 2);

    // Auditors read it; viewers may not; bad cursors and periods are refused.
    let auditor = client(Some(&app.token(Role::Auditor).await));
    let r = auditor
        .get(format!("{}/api/v1/audit/events", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let viewer = client(Some(&app.token(Role::Viewer).await));
    let r = viewer
        .get(format!("{}/api/v1/audit/events", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    for bad in [
        "after=12",
        "after=x.y",
        "from=yesterday",
        "from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ] {
        let r = app.get(&format!("/api/v1/audit/events?{bad}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    // Replay equals live, for auditors; a model changed behind the projector's back shows.
    app.settle().await;
    let c = app.get_json("/api/v1/audit/consistency").await;
    assert_eq!(c["consistent"], true, "{c}");
    assert_eq!(
        c["models"].as_array().unwrap().len(),
        incubator_projections::models::Model::ALL.len()
    );
    let pool = app.db.pool().await;
    sqlx::query("UPDATE rm_funding_startups SET name = 'Forged' WHERE startup_id = $1")
        .bind(&a)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let c = app
        .get_json("/api/v1/audit/consistency?model=funding")
        .await;
    assert_eq!(c["consistent"], false);
    assert_eq!(c["models"][0]["model"], "funding");
    let r = app.get("/api/v1/audit/consistency?model=nope").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
