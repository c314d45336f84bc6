//! `incubator demo`: a year at the hub through the command path, on both stores; the figures
//! it leaves are the hub's; a second load into the same store is refused.

use incubator_tests::{both_stores, event_count, run_demo, Backend, TestApp, TestDb};
use serde_json::Value;
use sqlx::Row;

both_stores!(the_demo_loads_a_believable_year);

async fn count(pool: &sqlx::AnyPool, event_type: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(pool)
        .await
        .unwrap()
        .get("n")
}

async fn demo(url: &str) -> (bool, String, String) {
    run_demo(env!("CARGO_BIN_EXE_incubator-e2e"), url, 1).await
}

/// The run's one load of the demo year (every test that starts from the demo starts from a copy
/// of it), checked here on a copy.
async fn the_demo_loads_a_believable_year(backend: Backend) {
    let (db, stdout) = TestDb::with_demo_output(backend, env!("CARGO_BIN_EXE_incubator-e2e")).await;
    assert!(stdout.starts_with("demo loaded: "), "{stdout}");
    let pool = db.pool().await;
    // Every event the demo wrote is sealed: verify checks each against its seal.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_incubator-e2e"))
        .args(["audit", "verify", "--json", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["unsealed"], 0, "{report}");
    assert_eq!(report["sealed"], report["events"], "{report}");
    assert_eq!(report["sealed"], event_count(&pool).await, "{report}");
    assert_eq!(report["verdict"], "intact", "{report}");
    // The hub's figures: three buildings, ~100 spaces (80 workspaces), 15 mentors, two cohorts
    // of 14 startups, six residencies, four collaborations, thousands of room bookings.
    assert_eq!(count(&pool, "SpaceRegistered").await, 107);
    assert_eq!(count(&pool, "MentorRegistered").await, 15);
    assert_eq!(count(&pool, "Applied").await, 28);
    assert_eq!(count(&pool, "ResidencyApplied").await, 6);
    assert_eq!(count(&pool, "CollaborationProposed").await, 4);
    let bookings = count(&pool, "RoomBooked").await;
    assert!(bookings > 4_000, "{bookings} bookings");
    let allocations = count(&pool, "SpaceAllocated").await;
    assert!(
        (75..=95).contains(&allocations),
        "{allocations} allocations"
    );
    let events = event_count(&pool).await;
    assert!(events > 5_000, "{events} events");
    let people: i64 = sqlx::query("SELECT COUNT(*) AS n FROM people")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get("n");
    assert!(people > 50, "{people} people");
    // Every event carries the demo's metadata.
    let anonymous: i64 = match backend {
        Backend::Sqlite => sqlx::query(
            "SELECT COUNT(*) AS n FROM events WHERE json_extract(metadata, '$.actor') IS NOT 'demo'",
        ),
        Backend::Postgres => sqlx::query(
            "SELECT COUNT(*) AS n FROM events WHERE metadata->>'actor' IS DISTINCT FROM 'demo'",
        ),
    }
    .fetch_one(&pool)
    .await
    .unwrap()
    .get("n");
    assert_eq!(anonymous, 0);

    // A second load into the same store is refused, in one line, and adds nothing.
    let (ok, _, stderr) = demo(&db.url).await;
    assert!(!ok);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("already holds events"), "{stderr}");
    assert_eq!(event_count(&pool).await, events);
    pool.close().await;

    // The API reads it; the projectors catch up, and equal a rebuild row for row.
    let app = TestApp::spawn_on(db).await;
    app.settle().await;
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_incubator-e2e"))
        .args(["projections", "check", "--json"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["differences"], 0);
    assert_eq!(
        report["checked"].as_array().unwrap().len(),
        incubator_projections::models::Model::ALL.len()
    );
    let pipeline: Value = app.get_json("/api/v1/funding/pipeline").await;
    assert_eq!(pipeline["startups"], 28);
    let spring: Value = app
        .get_json("/api/v1/funding/pipeline?cohort=2026-spring")
        .await;
    assert_eq!(spring["startups"], 14);
    app.stop().await;
}
