//! Backups an operator can trust: `incubator backup` taken while commands run, `incubator
//! restore` into an empty place, and the restored store verified (every event against its
//! seal, every snapshot against its events) and checked (every read model against a replay),
//! then serving again. On both stores.

use incubator_tests::{both_stores, event_count, Backend, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::json;

both_stores!(a_backup_taken_while_commands_run_restores_verified_and_checked);

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(BINARY)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn a_backup_taken_while_commands_run_restores_verified_and_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let a = app.apply("Kept Safe", Some("2026-spring")).await;
    app.command(&a, "advance", json!({}), StatusCode::OK).await;
    for i in 0..5 {
        app.apply(&format!("Before {i}"), None).await;
    }
    // Commands go on while the backup is taken.
    let writing = {
        let (client, base) = (app.client.clone(), app.base.clone());
        tokio::spawn(async move {
            for i in 0..20 {
                let founder = incubator_tests::register_person(&client, &base).await;
                let r = client
                    .post(format!("{base}/api/v1/startups"))
                    .json(&json!({"name": format!("During {i}"), "founders": [founder]}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        })
    };
    let dir = std::env::temp_dir().join(format!("incubator-backup-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("hub.backup");
    let file = file.to_str().unwrap();
    let (ok, out, err) = cli(&["backup", "--out", file, "--database-url", &app.db.url]);
    assert!(ok, "{err}");
    assert!(out.contains("backed up"), "{out}");
    writing.await.unwrap();
    // A backup never overwrites.
    let (ok, _, err) = cli(&["backup", "--out", file, "--database-url", &app.db.url]);
    assert!(!ok && err.contains("exists"), "{err}");

    // Restored into an empty place: verified and checked by the restore itself.
    let target = TestDb::blank(backend).await;
    let (ok, out, err) = cli(&["restore", "--from", file, "--database-url", &target.url]);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("verify intact") && out.contains("0 differences"),
        "{out}"
    );
    // Not over a store.
    let (ok, _, err) = cli(&["restore", "--from", file, "--database-url", &app.db.url]);
    assert!(!ok, "restored over a store: {err}");
    // The same check and verification from their own commands.
    for args in [["audit", "verify"], ["projections", "check"]] {
        let (ok, out, err) = cli(&[args[0], args[1], "--database-url", &target.url]);
        assert!(ok, "{args:?}: {out}{err}");
    }
    let pool = target.pool().await;
    let restored = event_count(&pool).await;
    pool.close().await;
    assert!(restored >= 8, "{restored} events");
    // And it serves: the startup, the registry, a new command after the restored events.
    let copy = TestApp::spawn_on(target).await;
    let s = copy.get_json(&format!("/api/v1/startups/{a}")).await;
    assert_eq!(s["stage"], "screening");
    let next = copy.apply("After The Restore", None).await;
    copy.settle().await;
    let history = copy
        .get_json(&format!("/api/v1/startups/{next}/events"))
        .await;
    assert!(history["items"][0]["position"].as_i64().unwrap() > restored);
    copy.stop().await;
    app.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
