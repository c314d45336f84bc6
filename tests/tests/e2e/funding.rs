//! The funding-stage read model, against figures computed by hand.

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    the_pipeline_counts_stages_and_sums_funding_per_currency,
    a_client_reads_its_own_writes_by_position,
    conversion_and_time_in_stage_follow_the_dated_stage_changes,
);

/// A command answers with the position of its last event; a read given that position waits
/// until the model has applied it.
async fn a_client_reads_its_own_writes_by_position(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let founder = app.person().await;
    for i in 1..=15 {
        let r = app
            .post(
                "/api/v1/startups",
                json!({"name": format!("Fresh {i}"), "founders": [founder]}),
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
    let startups = four_startups(&app).await;
    the_pipelines_figures(&app).await;
    a_cohort_and_a_stage(&app, &startups[0]).await;
    the_autumn_cohort_and_pages_of_two(&app, &startups).await;
    app.stop().await;
}

/// Four startups in two cohorts, at four stages, with grants and rounds in two currencies.
async fn four_startups(app: &TestApp) -> [String; 4] {
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
    [a, b, c, d]
}

/// The whole pipeline: startups per stage, funding per currency and kind, rounds per stage.
async fn the_pipelines_figures(app: &TestApp) {
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
}

/// The spring cohort's pipeline, and the startups in incubation with their funding.
async fn a_cohort_and_a_stage(app: &TestApp, a: &str) {
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
    assert_eq!(items[0]["startup_id"], a);
    assert_eq!(items[0]["funding_stage"], "seed");
    assert_eq!(
        items[0]["funding_received"],
        json!([{"currency": "EUR", "cents": 5_000_000}])
    );
}

/// The autumn cohort's list, and every startup in pages of two.
async fn the_autumn_cohort_and_pages_of_two(app: &TestApp, startups: &[String; 4]) {
    let [a, b, c, d] = startups.clone();
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
}

/// Applies with an application day and returns the id.
async fn apply_on(app: &TestApp, name: &str, cohort: &str, applied_on: &str) -> String {
    let founder = app.person().await;
    let r = app
        .post(
            "/api/v1/startups",
            json!({"name": name, "founders": [founder], "cohort": cohort,
                   "applied_on": applied_on}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["startup_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn conversion_and_time_in_stage_follow_the_dated_stage_changes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let late = dated_stage_changes(&app).await;
    days_the_rules_refuse(&app, &late).await;
    conversion_and_time_in_stage(&app).await;
    app.stop().await;
}

/// Six startups moved through the stages on given days (E skipping one with an override); F,
/// in the autumn cohort, is returned.
async fn dated_stage_changes(app: &TestApp) -> String {
    let spring = "2026-spring";
    let ok = StatusCode::OK;
    let a = apply_on(app, "A", spring, "2026-01-05").await;
    app.command(&a, "advance", json!({"on": "2026-01-15"}), ok)
        .await;
    app.command(&a, "advance", json!({"on": "2026-02-14"}), ok)
        .await;
    app.command(&a, "advance", json!({"on": "2026-04-15"}), ok)
        .await;
    let b = apply_on(app, "B", spring, "2026-01-10").await;
    app.command(&b, "advance", json!({"on": "2026-01-20"}), ok)
        .await;
    app.command(
        &b,
        "reject",
        json!({"reason": "scope", "on": "2026-02-09"}),
        ok,
    )
    .await;
    let c = apply_on(app, "C", spring, "2026-01-12").await;
    app.command(&c, "advance", json!({"on": "2026-01-22"}), ok)
        .await;
    app.command(&c, "advance", json!({"on": "2026-02-21"}), ok)
        .await;
    app.command(
        &c,
        "withdraw",
        json!({"reason": "moved", "on": "2026-03-03"}),
        ok,
    )
    .await;
    apply_on(app, "D", spring, "2026-01-20").await;
    let e = apply_on(app, "E", spring, "2026-01-08").await;
    app.command(&e, "advance", json!({"on": "2026-01-18"}), ok)
        .await;
    app.command(
        &e,
        "advance",
        json!({"to": "incubation", "override_reason": "jury waived pre-incubation", "on": "2026-03-19"}),
        ok,
    )
    .await;
    app.command(&e, "advance", json!({"on": "2026-06-17"}), ok)
        .await;
    let f = apply_on(app, "F", "2026-autumn", "2026-07-01").await;
    app.command(&f, "advance", json!({"on": "2026-07-11"}), ok)
        .await;
    f
}

/// Refused: a date before the current stage was entered, and a date in the future.
async fn days_the_rules_refuse(app: &TestApp, f: &str) {
    let early = app
        .command(
            f,
            "advance",
            json!({"on": "2026-07-10"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(
        early["type"],
        "urn:incubator:problem:stage_date_before_entry"
    );
    let later = app
        .command(
            f,
            "advance",
            json!({"on": "2100-01-01"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    // A rule of time, not of shape: its own code.
    assert_eq!(later["type"], "urn:incubator:problem:dated_in_the_future");
    app.settle().await;
}

/// Conversion between stages and time in each stage, from the days the changes carry, per
/// cohort too; many dashboards at once.
async fn conversion_and_time_in_stage(app: &TestApp) {
    let spring = "2026-spring";
    let today = incubator_domain::values::hub_local(chrono::Utc::now()).date();
    let since = |d: &str| (today - d.parse::<chrono::NaiveDate>().unwrap()).num_days() as f64;
    let p = app
        .get_json(&format!("/api/v1/funding/pipeline?cohort={spring}"))
        .await;
    // Reached: application A B C D E; screening A B C E; pre-incubation A C E (E skipped it
    // with an override: passed through); incubation A E; acceleration E.
    let conversion: Vec<(String, i64, i64, Value)> = p["conversion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap().to_owned(),
                c["reached_from"].as_i64().unwrap(),
                c["reached_to"].as_i64().unwrap(),
                c["rate"].clone(),
            )
        })
        .collect();
    assert_eq!(
        conversion,
        [
            ("application".to_owned(), 5, 4, json!(0.8)),
            ("screening".to_owned(), 4, 3, json!(0.75)),
            ("pre_incubation".to_owned(), 3, 2, json!(0.6667)),
            ("incubation".to_owned(), 2, 1, json!(0.5)),
            ("acceleration".to_owned(), 1, 0, json!(0.0)),
        ]
    );
    let t = &p["time_in_stage"];
    // Application: A, B, C, E each 10 days; D still there since 20 January.
    assert_eq!(t[0]["stage"], "application");
    assert_eq!(t[0]["completed"], 4);
    assert_eq!(t[0]["average_days"], 10.0);
    assert_eq!(t[0]["median_days"], 10.0);
    assert_eq!(t[0]["current"], 1);
    assert_eq!(t[0]["current_average_days"], since("2026-01-20"));
    // Screening: A 30, B 20, C 30, E 60 days: average 35, median 30.
    assert_eq!(t[1]["completed"], 4);
    assert_eq!(t[1]["average_days"], 35.0);
    assert_eq!(t[1]["median_days"], 30.0);
    assert_eq!(t[1]["current"], 0);
    assert_eq!(t[1]["current_average_days"], Value::Null);
    // Pre-incubation: A 60 days (14 February to 15 April), C 10: average and median 35.
    assert_eq!(t[2]["completed"], 2);
    assert_eq!(t[2]["average_days"], 35.0);
    assert_eq!(t[2]["median_days"], 35.0);
    // Incubation: E 90 days (19 March to 17 June); A there since 15 April.
    assert_eq!(t[3]["completed"], 1);
    assert_eq!(t[3]["average_days"], 90.0);
    assert_eq!(t[3]["current"], 1);
    assert_eq!(t[3]["current_average_days"], since("2026-04-15"));
    // Acceleration: E since 17 June, none left.
    assert_eq!(t[4]["completed"], 0);
    assert_eq!(t[4]["average_days"], Value::Null);
    assert_eq!(t[4]["current_average_days"], since("2026-06-17"));

    // Per cohort: the autumn cohort is apart.
    let cohorts = app.get_json("/api/v1/funding/cohorts").await;
    let list = cohorts["cohorts"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["cohort"], "2026-autumn");
    assert_eq!(list[0]["startups"], 1);
    assert_eq!(list[0]["conversion"][0]["rate"], 1.0);
    assert_eq!(
        list[0]["time_in_stage"][1]["current_average_days"],
        since("2026-07-11")
    );
    assert_eq!(list[1]["cohort"], spring);
    assert_eq!(list[1]["conversion"], p["conversion"]);
    // Many dashboards at once: no request holds two connections, so none starves the pool.
    let cohorts_url = format!("{}/api/v1/funding/cohorts", app.base);
    let many = (0..24).map(|_| {
        let (c, url) = (app.client.clone(), cohorts_url.clone());
        tokio::spawn(async move { c.get(url).send().await.unwrap().status() })
    });
    for r in futures::future::join_all(many).await {
        assert_eq!(r.unwrap(), StatusCode::OK);
    }
    // The startup list shows the day each entered its stage.
    let e_row = app
        .get_json("/api/v1/funding/startups?stage=acceleration")
        .await;
    assert_eq!(e_row["items"][0]["stage_entered_on"], "2026-06-17");
}
