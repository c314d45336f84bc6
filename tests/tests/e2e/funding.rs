//! The funding-stage read model, against figures computed by hand.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    the_pipeline_counts_stages_and_sums_funding_per_currency,
    a_client_reads_its_own_writes_by_position,
);

/// A command answers with the position of its last event; a read given that position waits
/// until the model has applied it.
async fn a_client_reads_its_own_writes_by_position(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for i in 1..=15 {
        let r = app
            .post(
                "/api/v1/startups",
                json!({"name": format!("Fresh {i}"), "founders": [uuid::Uuid::now_v7()]}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let position = r.json::<Value>().await.unwrap()["position"]
            .as_i64()
            .unwrap();
        let p = app
            .get_json(&format!("/api/v1/funding/pipeline?min_position={position}"))
            .await;
        assert_eq!(p["startups"], i, "read after write {i}");
        assert!(p["position"].as_i64().unwrap() >= position);
        let list = app
            .get_json(&format!(
                "/api/v1/funding/startups?min_position={position}&limit=500"
            ))
            .await;
        assert_eq!(list["items"].as_array().unwrap().len(), i as usize);
    }
    for (query, status) in [
        ("min_position=999999", StatusCode::UNPROCESSABLE_ENTITY),
        ("min_position=soon", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let r = app.get(&format!("/api/v1/funding/pipeline?{query}")).await;
        assert_eq!(r.status(), status, "{query}");
        let problem: Value = r.json().await.unwrap();
        assert_eq!(problem["field"], "min_position");
    }
    app.stop().await;
}

fn stage_counts(p: &Value) -> Vec<(String, i64)> {
    p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap().to_owned(),
                s["startups"].as_i64().unwrap(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn owned(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
}

async fn the_pipeline_counts_stages_and_sums_funding_per_currency(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // A: spring, incubation, EUR 150,000 awarded of which 50,000 paid, a EUR 500,000 seed round.
    let a = app.apply("A Audio", Some("spring")).await;
    app.command(&a, "advance", json!({}), StatusCode::OK).await;
    app.command(&a, "advance", json!({}), StatusCode::OK).await;
    app.command(&a, "advance", json!({}), StatusCode::OK).await;
    let g = app
        .command(
            &a,
            "funding",
            json!({"programme": "Fit 4 Start", "kind": "grant",
                   "amount": {"cents": 15_000_000, "currency": "EUR"}, "awarded_on": "2026-02-01"}),
            StatusCode::CREATED,
        )
        .await;
    let grant = g["grant_id"].as_str().unwrap();
    app.command(
        &a,
        &format!("funding/{grant}/tranches"),
        json!({"amount": {"cents": 5_000_000, "currency": "EUR"}, "paid_on": "2026-02-02"}),
        StatusCode::OK,
    )
    .await;
    app.command(
        &a,
        "equity-rounds",
        json!({"round": "seed", "amount": {"cents": 50_000_000, "currency": "EUR"},
               "investors": ["Expon"], "closed_on": "2026-05-01"}),
        StatusCode::CREATED,
    )
    .await;
    // B: spring, rejected.
    let b = app.apply("B Books", Some("spring")).await;
    app.command(
        &b,
        "reject",
        json!({"reason": "not eligible"}),
        StatusCode::OK,
    )
    .await;
    // C: autumn, still an application, with a USD 100,000 pre-seed round.
    let c = app.apply("C Ceramics", Some("autumn")).await;
    app.command(
        &c,
        "equity-rounds",
        json!({"round": "pre_seed", "amount": {"cents": 10_000_000, "currency": "USD"},
               "investors": ["Angel One", "Angel Two"], "closed_on": "2026-04-01"}),
        StatusCode::CREATED,
    )
    .await;
    // D: autumn, withdrawn during screening.
    let d = app.apply("D Dance", Some("autumn")).await;
    app.command(&d, "advance", json!({}), StatusCode::OK).await;
    app.command(
        &d,
        "withdraw",
        json!({"reason": "moved to Berlin"}),
        StatusCode::OK,
    )
    .await;
    app.settle().await;

    let p = app.get_json("/api/v1/funding/pipeline").await;
    assert_eq!(p["startups"], 4);
    assert_eq!(
        stage_counts(&p),
        owned(&[
            ("application", 1),
            ("incubation", 1),
            ("rejected", 1),
            ("withdrawn", 1)
        ])
    );
    assert_eq!(
        p["stages"].as_array().unwrap().len(),
        9,
        "every stage listed"
    );
    let rounds: Vec<_> = p["funding_stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["stage"].as_str().unwrap(),
                s["startups"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rounds,
        vec![
            ("none", 2),
            ("pre_seed", 1),
            ("seed", 1),
            ("series_a", 0),
            ("series_b_plus", 0)
        ]
    );
    assert_eq!(
        p["equity_raised"],
        json!([{"currency": "EUR", "cents": 50_000_000}, {"currency": "USD", "cents": 10_000_000}])
    );
    assert_eq!(
        p["funding_awarded"],
        json!([{"currency": "EUR", "cents": 15_000_000}])
    );
    assert_eq!(
        p["funding_received"],
        json!([{"currency": "EUR", "cents": 5_000_000}])
    );
    assert!(p["position"].as_i64().unwrap() >= 14);

    let spring = app.get_json("/api/v1/funding/pipeline?cohort=spring").await;
    assert_eq!(spring["startups"], 2);
    assert_eq!(
        stage_counts(&spring),
        owned(&[("incubation", 1), ("rejected", 1)])
    );
    assert_eq!(
        spring["equity_raised"],
        json!([{"currency": "EUR", "cents": 50_000_000}])
    );

    let inc = app
        .get_json("/api/v1/funding/startups?stage=incubation")
        .await;
    let items = inc["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["startup_id"], a.as_str());
    assert_eq!(items[0]["funding_stage"], "seed");
    assert_eq!(
        items[0]["funding_received"],
        json!([{"currency": "EUR", "cents": 5_000_000}])
    );

    let autumn = app.get_json("/api/v1/funding/startups?cohort=autumn").await;
    let names: Vec<_> = autumn["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["C Ceramics", "D Dance"]);

    // Pagination: two pages of two, then nothing more.
    let first = app.get_json("/api/v1/funding/startups?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap().to_owned();
    let second = app
        .get_json(&format!("/api/v1/funding/startups?limit=2&after={next}"))
        .await;
    let ids: Vec<_> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|s| s["startup_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec![a, b, c, d]);
    assert!(second["next"].is_null());
    app.stop().await;
}
