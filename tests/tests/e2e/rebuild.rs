//! `incubator projections rebuild|check`: a rebuild from position 0 equals the live model, a
//! tampered model is caught row by row and repaired by a rebuild, and readers never see a
//! half-built model while it runs.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use incubator_tests::{both_stores, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(rebuild_and_check_the_read_models);

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
