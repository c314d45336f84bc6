//! Operations: `/healthz`, `/readyz`, Prometheus `/metrics`, and the request id on every
//! response and log line.

use std::process::Stdio;
use std::time::Duration;

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, create_token, Backend, TestApp, TestDb};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};

both_stores!(
    health_and_readiness_need_no_token,
    metrics_count_requests_commands_and_projector_lag,
    made_up_methods_add_no_series_to_the_metrics,
);

/// Anyone can send a request with a made-up method (HTTP allows extension methods); each was a
/// new series in `/metrics` (security review, finding 4). Now they are all `other`: the
/// document does not grow with them.
async fn made_up_methods_add_no_series_to_the_metrics(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = client(None);
    let series = |text: &str| text.lines().filter(|l| !l.starts_with('#')).count();
    let send = |i: usize| {
        let method = Method::from_bytes(format!("M{i:0>40}").as_bytes()).unwrap();
        anonymous
            .request(method, format!("{}/x/{i}", app.base))
            .send()
    };
    send(0).await.unwrap();
    let metrics = |c: &reqwest::Client| c.get(format!("{}/metrics", app.base)).send();
    // Its own series first: the scrape counts itself.
    metrics(&anonymous).await.unwrap();
    let before = metrics(&anonymous).await.unwrap().text().await.unwrap();
    for i in 1..60 {
        send(i).await.unwrap();
    }
    let after = metrics(&anonymous).await.unwrap().text().await.unwrap();
    assert!(!after.contains("M000"), "a made-up method is a label value");
    assert!(after.contains(r#"method="other""#), "{after}");
    assert_eq!(series(&after), series(&before), "{after}");
}

async fn health_and_readiness_need_no_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let anonymous = client(None);
    let r = anonymous
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // The only process takes the projector lease within moments of starting.
    let mut body = Value::Null;
    for _ in 0..40 {
        let r = anonymous
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        body = r.json().await.unwrap();
        if body["checks"]["projector"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["store"], "ok");
    assert_eq!(body["checks"]["projector"], "running");
    app.stop().await;
}

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

async fn metrics_count_requests_commands_and_projector_lag(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Metered", None).await;
    app.apply("Metered Too", None).await;
    app.command(
        &id,
        "advance",
        json!({"to": "incubation"}),
        StatusCode::CONFLICT,
    )
    .await;
    app.command(&id, "advance", json!({}), StatusCode::OK).await;
    app.get_json(&format!("/api/v1/startups/{id}")).await;
    let r = app
        .request(Method::GET, "/api/v1/no/such/thing")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let k = uuid::Uuid::now_v7().to_string();
    for _ in 0..2 {
        let r = app
            .request(Method::POST, &format!("/api/v1/startups/{id}/cohort"))
            .header("idempotency-key", &k)
            .json(&json!({"cohort": "2026-spring"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    app.settle().await;

    let r = client(None)
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = r.text().await.unwrap();
    let count = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("{series}\n{text}"));

    assert_eq!(
        count(
            r#"incubator_http_requests_total{method="POST",route="/api/v1/startups",status="201"}"#
        ),
        2.0
    );
    assert_eq!(
        count(
            r#"incubator_http_requests_total{method="POST",route="/api/v1/startups/{id}/advance",status="409"}"#
        ),
        1.0
    );
    assert_eq!(
        count(
            r#"incubator_http_requests_total{method="GET",route="/api/v1/startups/{id}",status="200"}"#
        ),
        1.0
    );
    assert_eq!(
        count(r#"incubator_http_requests_total{method="GET",route="unmatched",status="404"}"#),
        1.0
    );
    assert_eq!(
        count(
            r#"incubator_http_request_duration_seconds_count{method="POST",route="/api/v1/startups"}"#
        ),
        2.0
    );
    assert!(text.contains(
        r#"incubator_http_request_duration_seconds_bucket{le="+Inf",method="POST",route="/api/v1/startups"} 2"#
    ) || text.contains(
        r#"incubator_http_request_duration_seconds_bucket{method="POST",route="/api/v1/startups",le="+Inf"} 2"#
    ), "{text}");
    assert_eq!(
        count(r#"incubator_commands_total{command="Apply",outcome="accepted"}"#),
        2.0
    );
    assert_eq!(
        count(r#"incubator_commands_total{command="Advance",outcome="refused"}"#),
        1.0
    );
    assert_eq!(
        count(r#"incubator_commands_total{command="AssignCohort",outcome="accepted"}"#),
        1.0,
        "the retry was replayed, not run"
    );
    assert_eq!(count("incubator_idempotent_replays_total"), 1.0);
    // Five events: two applications, one advance, one cohort; all projected.
    let head = count("incubator_log_head_position");
    assert_eq!(head, 4.0);
    assert_eq!(
        count(r#"incubator_projector_position{projection="funding"}"#),
        head
    );
    assert_eq!(
        count(r#"incubator_projector_lag_events{projection="funding"}"#),
        0.0
    );
    app.stop().await;
}

/// Every response carries a request id (the caller's, or a fresh one), and so does every log
/// line written while handling it.
#[tokio::test]
async fn the_request_id_is_on_every_response_and_log_line() {
    let db = TestDb::new(Backend::Sqlite).await;
    let token = create_token(&db.url, "logged", Role::Officer).await;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_incubator-e2e"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--log-format", "json"])
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let c = client(Some(&token));
    let mut up = false;
    for _ in 0..200 {
        if c.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(up, "the server started");
    let founder = incubator_tests::register_person(&c, &base).await;

    let r = c
        .post(format!("{base}/api/v1/startups"))
        .header("x-request-id", "trace-me-0042")
        .json(&json!({"name": "Logged", "founders": [founder]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["x-request-id"], "trace-me-0042");
    // The service's own id, which its log lines carry beside the caller's.
    let correlation = r.headers()["x-correlation-id"].to_str().unwrap().to_owned();
    assert_ne!(correlation, "trace-me-0042");
    let r = c
        .get(format!("{base}/api/v1/nowhere"))
        .send()
        .await
        .unwrap();
    let generated = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&generated).is_ok(), "{generated}");

    // The command's log lines and the response line all carry the service's id and the
    // caller's.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let v: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
            let message = v["message"].as_str().unwrap_or("").to_owned();
            let field = |name: &str| {
                v["span"][name]
                    .as_str()
                    .or_else(|| v["spans"][0][name].as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            let (id, client) = (field("request_id"), field("client_request_id"));
            if message == "command" || message == "response" {
                seen.push((message.clone(), id, client));
            }
            if seen
                .iter()
                .any(|(m, id, _)| m == "response" && id == &generated)
            {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "{seen:?}");
    let ours: Vec<_> = seen
        .iter()
        .filter(|(_, id, client)| client == "trace-me-0042" && *id == correlation)
        .collect();
    assert!(
        ours.iter().any(|(m, _, _)| m == "command") && ours.iter().any(|(m, _, _)| m == "response"),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|(_, id, _)| !id.is_empty()),
        "a line without a request id: {seen:?}"
    );
    child.kill().await.unwrap();
}
