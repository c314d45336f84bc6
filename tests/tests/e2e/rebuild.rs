//! `incubator projections rebuild|check`: a rebuild from position 0 equals the live model, a
//! tampered model is caught row by row and repaired by a rebuild, and readers never see a
//! half-built model while it runs.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    rebuild_and_check_the_read_models,
    commands_and_projectors_go_on_while_every_model_is_rebuilt,
);

/// A rebuild of every model over the demo year, while officers keep working: every command
/// succeeds and is projected while the rebuild still runs (before, on SQLite the rebuild held
/// the write lock for its whole replay, and on PostgreSQL the horizon the projectors read up
/// to); after the swap the models equal a replay, the commands' events included.
async fn commands_and_projectors_go_on_while_every_model_is_rebuilt(backend: Backend) {
    let db = incubator_tests::TestDb::with_demo(backend, env!("CARGO_BIN_EXE_incubator-e2e")).await;
    let app = TestApp::spawn_on(db).await;
    let mut rebuild = tokio::process::Command::new(env!("CARGO_BIN_EXE_incubator-e2e"))
        .args(["projections", "rebuild", "--database-url", &app.db.url])
        .env("RUST_LOG", "warn")
        // Two seconds after each batch of the replay, so that it surely runs while the
        // commands do (the demo year alone replays in well under a second).
        .env("INCUBATOR_FAILPOINTS", "rebuild-batch:slow")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Commands while the rebuild runs (five at most; on a loaded machine fewer fit in it).
    let mut ids = Vec::new();
    let mut during = 0;
    for i in 0..5 {
        let id = app.apply(&format!("During The Rebuild {i}"), None).await;
        let history = app.get_json(&format!("/api/v1/startups/{id}/events")).await;
        let at = history["items"][0]["position"].as_i64().unwrap();
        let r = app
            .get(&format!("/api/v1/funding/startups?min_position={at}"))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "projected during the rebuild");
        ids.push(id);
        if rebuild.try_wait().unwrap().is_some() {
            break;
        }
        during += 1;
    }
    assert!(
        during >= 1,
        "the rebuild ended before a command was projected: this test proved nothing"
    );
    let done = rebuild.wait_with_output().await.unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    app.settle().await;
    let (ok, out, err) = projections(&app.db.url, &["check"]).await;
    assert!(ok, "{out}{err}");
    let funded = app.get_json("/api/v1/funding/startups?limit=500").await;
    let names = funded.to_string();
    for i in 0..ids.len() {
        assert!(names.contains(&format!("During The Rebuild {i}")), "{i}");
    }
    app.stop().await;
}

async fn projections(url: &str, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_incubator-e2e"))
        .arg("projections")
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run the binary");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn rebuild_and_check_the_read_models(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let id = app
            .apply(&format!("Rebuilt {i}"), Some("2026-spring"))
            .await;
        app.command(&id, "advance", json!({}), StatusCode::OK).await;
        app.command(
            &id,
            "funding",
            json!({"programme": "Fit 4 Start", "kind": "grant",
                   "amount": {"cents": 5_000_000, "currency": "EUR"}, "awarded_on": "2026-03-01"}),
            StatusCode::CREATED,
        )
        .await;
        ids.push(id);
    }
    app.settle().await;
    let url = app.db.url.clone();

    let (ok, stdout, stderr) = projections(&url, &["check", "--json"]).await;
    assert!(ok, "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["differences"], 0);
    assert_eq!(report["checked"][0]["model"], "funding");
    assert_eq!(report["checked"][0]["events"], 36);

    // Someone edits the read model behind the projector's back.
    let pool = app.db.pool().await;
    sqlx::query("UPDATE rm_funding_startups SET stage = 'graduated' WHERE startup_id = $1")
        .bind(&ids[3])
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM rm_funding_amounts WHERE startup_id = $1")
        .bind(&ids[5])
        .execute(&pool)
        .await
        .unwrap();
    let (ok, stdout, stderr) = projections(&url, &["check", "funding"]).await;
    assert!(!ok, "a tampered model fails the check");
    assert!(
        stdout.contains("2 differences") || stdout.contains("3 differences"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("only live:    startup_id=\"{}\"", ids[3])),
        "{stdout}"
    );
    assert!(stdout.contains("stage=\"graduated\""), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "only rebuilt: startup_id=\"{}\" kind=\"awarded\"",
            ids[5]
        )),
        "{stdout}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    // A rebuild repairs it, while readers keep seeing a whole model.
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (stop, client, base) = (stop.clone(), app.client.clone(), app.base.clone());
        tokio::spawn(async move {
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                let p: Value = client
                    .get(format!("{base}/api/v1/funding/pipeline"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(p["startups"], 12, "a half-built model was served: {p}");
                reads += 1;
            }
            reads
        })
    };
    for _ in 0..3 {
        let (ok, stdout, stderr) = projections(&url, &["rebuild"]).await;
        assert!(ok, "{stderr}");
        assert!(
            stdout.starts_with("funding: rebuilt from 36 events"),
            "{stdout}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let reads = watcher.await.unwrap();
    assert!(reads > 0);
    let (ok, stdout, _) = projections(&url, &["check"]).await;
    assert!(ok, "{stdout}");
    let s = app
        .get_json("/api/v1/funding/startups?stage=screening&limit=500")
        .await;
    assert_eq!(s["items"].as_array().unwrap().len(), 12);

    // The projector carries on after a rebuild.
    let id = app.apply("After the rebuild", None).await;
    app.settle().await;
    let p = app.get_json("/api/v1/funding/pipeline").await;
    assert_eq!(p["startups"], 13, "{id}");

    let (ok, _, stderr) = projections(&url, &["check", "nonsense"]).await;
    assert!(!ok);
    assert!(
        stderr.contains("no read model named \"nonsense\""),
        "{stderr}"
    );
    pool.close().await;
    app.stop().await;
}
