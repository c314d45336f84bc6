//! Work whose cost grows with the history (read models as of an instant, verification, the
//! consistency check) is bounded whoever asks, and nothing else waits behind it: on the demo
//! year, a flood of it (and of open live streams) leaves an officer's command and a viewer's
//! read answering at once; reads holding every read connection delay neither.

use std::time::{Duration, Instant};

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, Backend, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::Value;

both_stores!(
    heavy_work_is_bounded_and_nothing_else_waits_behind_it,
    the_projectors_wait_for_no_connection_the_reads_hold,
    a_consistency_check_holds_nothing_that_commands_or_projectors_wait_on,
);

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

/// Reads holding every connection of the read pool (a flood of them) delay neither a command
/// nor the read models' progress: the projectors have connections of their own.
async fn the_projectors_wait_for_no_connection_the_reads_hold(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = incubator_server::store::Store::open(&db.url).await.unwrap();
    let token = incubator_server::auth::create(&store.read, "officer-beside-reads", Role::Officer)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(incubator_server::server::serve(
        listener,
        store.clone(),
        incubator_server::http::Settings::default(),
        async {
            let _ = stopped.await;
        },
    ));
    let officer = client(Some(&token));
    let founder = incubator_tests::register_person(&officer, &base).await;
    // Every connection of the read side, held as a flood of reads would hold them.
    let mut held = Vec::new();
    while held.len() < 8 {
        held.push(store.read.pool.acquire().await.unwrap());
    }
    let r = officer
        .post(format!("{base}/api/v1/startups"))
        .json(&serde_json::json!({"name": "Beside The Reads", "founders": [founder]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let at = r.json::<Value>().await.unwrap()["position"]
        .as_i64()
        .unwrap();
    // The funding model reaches the command while the reads still hold their connections
    // (a pool's acquire gives up after 5 s: a projector on the read pool would not).
    let pool = db.pool().await;
    let mut reached = false;
    for _ in 0..30 {
        let position: i64 =
            sqlx::query("SELECT position FROM projector_checkpoints WHERE projection = 'funding'")
                .fetch_optional(&pool)
                .await
                .unwrap()
                .map_or(0, |r| sqlx::Row::get(&r, "position"));
        if position >= at {
            reached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reached, "the projector waited for the reads' connections");
    drop(held);
    pool.close().await;
    let _ = stop.send(());
    let _ = server.await;
    store.close().await;
}

/// Replays past the queue, and every verification but one, are refused at once.
const FLOOD: usize = 40;
const VERIFICATIONS: usize = 4;
/// Tokens holding eight live streams each open meanwhile (`bench flood` holds 500).
const STREAM_TOKENS: usize = 3;
/// What "at once" means for a command or a read beside the flood. Measured on the 2-core
/// machines with three other tests running: 0.1 to 1.6 s for the command (two requests:
/// the founder's registration and the application), 16 to 92 ms for the read; before the
/// bounds, 40 replays each on a connection of its own shared the processors with it.
/// Latency is a benchmark's to measure: this bound only says it did not wait in line.
const AT_ONCE: Duration = Duration::from_secs(5);

async fn heavy_work_is_bounded_and_nothing_else_waits_behind_it(backend: Backend) {
    let db = TestDb::with_demo(backend, BINARY).await;
    let app = TestApp::spawn_on(db).await;
    let viewer = client(Some(&app.token(Role::Viewer).await));
    let auditor = client(Some(&app.token(Role::Auditor).await));
    let base = app.direct.clone();

    // A model's past is for auditors and officers: a wall screen's token may not replay it.
    let r = viewer
        .get(format!(
            "{base}/api/v1/funding/pipeline?as_of=2199-01-01T00:00:00Z"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // The flood: live streams (three wall screens' tokens, eight each), replays as of a far
    // future (the present, the whole log) and verifications.
    let mut streams = Vec::new();
    for _ in 0..STREAM_TOKENS {
        let wall = client(Some(&app.token(Role::Viewer).await));
        for _ in 0..8 {
            let r = wall
                .get(format!("{base}/api/v1/live"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            streams.push(r);
        }
    }
    let mut flood = Vec::new();
    for i in 0..FLOOD {
        // Each asks another instant, so that none is sent another's kept answer: every one
        // is a replay for the bounded queue to run or refuse.
        let path = if i % 2 == 0 {
            format!("/api/v1/funding/pipeline?as_of=2199-01-01T00:00:00.{i:03}Z")
        } else {
            format!(
                "/api/v1/space-usage/utilisation?from=2026-01-01&to=2026-12-31&as_of=2199-01-01T00:00:00.{i:03}Z"
            )
        };
        let (c, url) = (auditor.clone(), format!("{base}{path}"));
        flood.push(tokio::spawn(async move { answer(c.get(url)).await }));
    }
    let mut verifications = Vec::new();
    for _ in 0..VERIFICATIONS {
        let (c, url) = (auditor.clone(), format!("{base}/api/v1/audit/verify"));
        verifications.push(tokio::spawn(async move { answer(c.get(url)).await }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Meanwhile: an officer's command and a viewer's read, each at once.
    let started = Instant::now();
    app.apply("Beside The Flood", None).await;
    let command = started.elapsed();
    let started = Instant::now();
    let r = viewer
        .get(format!("{base}/api/v1/funding/pipeline"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let read = started.elapsed();
    assert!(
        command < AT_ONCE && read < AT_ONCE,
        "beside the flood: command {command:?}, read {read:?}"
    );

    let mut statuses = Vec::new();
    for f in flood {
        statuses.push(f.await.unwrap());
    }
    let ran = statuses.iter().filter(|(s, _)| *s == 200).count();
    let refused = statuses.iter().filter(|(s, _)| *s == 503).count();
    assert_eq!(
        ran + refused,
        FLOOD,
        "only answers or refusals: {statuses:?}"
    );
    assert!(ran >= 1 && refused >= 1, "{ran} ran, {refused} refused");
    assert!(
        statuses
            .iter()
            .filter(|(s, _)| *s == 503)
            .all(|(_, retry)| retry.is_some()),
        "a refusal says when to retry"
    );
    let mut checks = Vec::new();
    for v in verifications {
        checks.push(v.await.unwrap().0);
    }
    assert!(
        checks.iter().all(|s| *s == 200 || *s == 503) && checks.contains(&200),
        "{checks:?}"
    );

    drop(streams);
    // An instant later than now is now: the answer says which instant it shows.
    let r = auditor
        .get(format!(
            "{base}/api/v1/funding/pipeline?as_of=2199-01-01T00:00:00Z"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let shown: Value = r.json().await.unwrap();
    let as_of = shown["as_of"].as_str().unwrap();
    assert!(as_of < "2199", "{as_of}");
    app.stop().await;
}

/// The status of the answer to `request`, and its `Retry-After`.
async fn answer(request: reqwest::RequestBuilder) -> (u16, Option<String>) {
    let r = request.send().await.unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (r.status().as_u16(), retry)
}

/// While a consistency check of every model replays the demo year (slowed at each batch by a
/// failpoint, so that it surely still runs), commands commit and the projectors apply them:
/// before, on SQLite the check took the write lock for its whole run, and on PostgreSQL it held
/// back the horizon the projectors read up to. The HTTP check (`/audit/consistency`) runs the
/// same `rebuild::check`; this one runs in a process of its own, where the failpoint is set.
async fn a_consistency_check_holds_nothing_that_commands_or_projectors_wait_on(backend: Backend) {
    let db = TestDb::with_demo(backend, BINARY).await;
    let app = TestApp::spawn_on(db).await;
    let mut check = tokio::process::Command::new(BINARY)
        .args(["projections", "check", "--database-url", &app.db.url])
        .env("RUST_LOG", "warn")
        .env("INCUBATOR_FAILPOINTS", "check-batch:slow=400")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..3 {
        let id = app.apply(&format!("During The Check {i}"), None).await;
        let history = app.get_json(&format!("/api/v1/startups/{id}/events")).await;
        let at = history["items"][0]["position"].as_i64().unwrap();
        let r = app
            .get(&format!("/api/v1/funding/startups?min_position={at}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    assert!(
        check.try_wait().unwrap().is_none(),
        "the commands and their projection were done only after the check"
    );
    let done = check.wait_with_output().await.unwrap();
    assert!(
        done.status.success(),
        "{}{}",
        String::from_utf8_lossy(&done.stdout),
        String::from_utf8_lossy(&done.stderr)
    );
    // Over HTTP, for an auditor, the same check says the same.
    let auditor = client(Some(&app.token(Role::Auditor).await));
    let r = auditor
        .get(format!("{}/api/v1/audit/consistency", app.direct))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["consistent"], true, "{body}");
    app.stop().await;
}
