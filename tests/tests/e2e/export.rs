//! Export then import into an empty store of the other kind: the same log, the same seal, the
//! same read models.

use std::path::Path;

use incubator_projections::models::Model;
use incubator_projections::{audit, rebuild, ReadDb};
use incubator_tests::{both_stores, Backend, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(an_exported_log_imports_into_the_other_store_unchanged);

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BINARY)
        .args(args)
        .output()
        .unwrap()
}

fn export(url: &str, dir: &Path) {
    let out = cli(&[
        "audit",
        "export",
        "--out",
        dir.to_str().unwrap(),
        "--database-url",
        url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The export's events, as JSON.
fn lines(dir: &Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("events.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn an_exported_log_imports_into_the_other_store_unchanged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = app.apply("Tempo", Some("2026-spring")).await;
    app.command(&s, "advance", json!({"on": "2026-02-01"}), StatusCode::OK)
        .await;
    app.command(
        &s,
        "funding",
        json!({"programme": "Fit 4 Start", "kind": "grant",
               "amount": {"cents": 5_000_000, "currency": "EUR"}, "awarded_on": "2026-03-01"}),
        StatusCode::CREATED,
    )
    .await;
    let m = app.register_mentor().await;
    app.command(&s, "mentors", json!({"mentor_id": m}), StatusCode::OK)
        .await;
    let r = app
        .post(
            "/api/v1/spaces",
            json!({"building": "zilleschapp", "kind": "studio", "name": "B-1.04",
                   "area_m2": 69, "rent_per_m2": {"cents": 600, "currency": "EUR"},
                   "registered_on": "2026-01-05"}),
        )
        .await;
    let space = r.json::<Value>().await.unwrap()["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = app
        .post(
            &format!("/api/v1/spaces/{space}/allocations"),
            json!({"occupant": {"kind": "startup", "id": s}, "from": "2026-02-01"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = app
        .post(
            "/api/v1/collaborations",
            json!({"title": "Slag Light", "challenge": "c", "disciplines": ["light art", "robotics"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    app.settle().await;
    let dir = std::env::temp_dir().join(format!("incubator-export-{}", uuid::Uuid::now_v7()));
    let (first, second) = (dir.join("first"), dir.join("second"));
    export(&app.db.url, &first);
    let source = lines(&first);
    assert_eq!(source.len(), 8);
    assert!(source.iter().all(|e| e["hash"].is_string()), "all sealed");

    // Into an empty store of the other kind.
    let other = match backend {
        Backend::Sqlite => Backend::Postgres,
        Backend::Postgres => Backend::Sqlite,
    };
    let target = TestDb::new(other).await;
    let file = first.join("events.jsonl");
    let out = cli(&[
        "audit",
        "import",
        file.to_str().unwrap(),
        "--database-url",
        &target.url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = TestApp::spawn_on(target).await;
    copy.settle().await;
    export(&copy.db.url, &second);
    // The same events, positions and hashes: the seal (and any digest published) carries over.
    assert_eq!(lines(&second), source);
    // The same read models, table by table.
    let mut tables = 0;
    for entry in std::fs::read_dir(&first).unwrap() {
        let name = entry.unwrap().file_name();
        if name.to_string_lossy().ends_with(".csv") {
            let a = std::fs::read_to_string(first.join(&name)).unwrap();
            let b = std::fs::read_to_string(second.join(&name)).unwrap();
            assert_eq!(a, b, "{name:?}");
            tables += 1;
        }
    }
    assert!(tables >= 10, "{tables} tables");
    assert!(
        std::fs::read_to_string(first.join("rm_funding_startups.csv"))
            .unwrap()
            .contains("Tempo")
    );
    // Check and verify are clean on the copy.
    let read = ReadDb::connect(&copy.db.url, 2).await.unwrap();
    for model in Model::ALL {
        let checked = rebuild::check(&read, &model, &|_| {}).await.unwrap();
        assert_eq!(checked.differences(), 0, "{checked:?}");
    }
    let verified = audit::verify(&read, audit::Range::ALL, &|_| {})
        .await
        .unwrap();
    assert!(verified.intact && verified.sealed == 8, "{verified:?}");
    read.pool.close().await;
    // The copy takes new commands after the imported events.
    let next = copy.apply("After", None).await;
    let history = copy
        .get_json(&format!("/api/v1/startups/{next}/events"))
        .await;
    assert!(history["events"][0]["position"].as_i64().unwrap() > 8);
    // A store that holds events refuses an import.
    let out = cli(&[
        "audit",
        "import",
        file.to_str().unwrap(),
        "--database-url",
        &copy.db.url,
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty store"));
    let _ = std::fs::remove_dir_all(&dir);
}
