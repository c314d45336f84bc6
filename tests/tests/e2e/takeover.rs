//! One projector at a time: two `serve` processes on one PostgreSQL database; exactly one holds
//! the lease and projects; kill it, and the other takes over within seconds, resumes from the
//! checkpoint, and `projections check` finds the model equal to a rebuild.

use std::time::{Duration, Instant};

use incubator_server::auth::Role;
use incubator_tests::{client, create_token, settle, Backend, ServerProcess, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Row;

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

async fn holder(pool: &sqlx::AnyPool) -> Option<String> {
    sqlx::query("SELECT holder FROM projector_leases WHERE name = 'projector'")
        .fetch_optional(pool)
        .await
        .unwrap()
        .map(|r| r.get("holder"))
}

async fn apply(c: &reqwest::Client, base: &str, name: &str) {
    let founder = incubator_tests::register_person(c, base).await;
    let r = c
        .post(format!("{base}/api/v1/startups"))
        .json(&json!({"name": name, "founders": [founder]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_when_the_projector_dies() {
    let db = TestDb::new(Backend::Postgres).await;
    let token = create_token(&db.url, "officer", Role::Officer).await;
    let c = client(Some(&token));
    let a = ServerProcess::start(BINARY, &db.url).await;
    let b = ServerProcess::start(BINARY, &db.url).await;
    let pool = db.pool().await;

    // Exactly one holds the lease; the other stands by (both ready).
    let mut leader = None;
    for _ in 0..100 {
        leader = holder(&pool).await;
        if leader.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let leader = leader.expect("a projector holds the lease");
    let (dead, survivor) = if leader.starts_with(&format!("pid-{}-", a.pid())) {
        (a, b)
    } else {
        assert!(leader.starts_with(&format!("pid-{}-", b.pid())), "{leader}");
        (b, a)
    };
    let ready = |base: String| {
        let c = client(None);
        async move {
            let r: Value = c
                .get(format!("{base}/readyz"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r["checks"]["projector"].as_str().unwrap_or("").to_owned()
        }
    };
    assert_eq!(ready(dead.base.clone()).await, "running");
    assert_eq!(ready(survivor.base.clone()).await, "standby");

    for i in 0..10 {
        apply(&c, &survivor.base, &format!("Before {i}")).await;
    }
    settle(&pool, Backend::Postgres).await;

    // The projector dies; commands keep coming through the survivor.
    let killed_at = Instant::now();
    dead.kill().await;
    for i in 0..10 {
        apply(&c, &survivor.base, &format!("After {i}")).await;
    }
    settle(&pool, Backend::Postgres).await;
    let took_over = killed_at.elapsed();
    assert!(took_over < Duration::from_secs(15), "took {took_over:?}");
    let now = holder(&pool).await.expect("a new holder");
    assert!(
        now.starts_with(&format!("pid-{}-", survivor.pid())),
        "{now}"
    );
    assert_eq!(ready(survivor.base.clone()).await, "running");
    let p: Value = c
        .get(format!("{}/api/v1/funding/pipeline", survivor.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(p["startups"], 20);

    let out = tokio::process::Command::new(BINARY)
        .args(["projections", "check", "--json"])
        .env("DATABASE_URL", &db.url)
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
    assert_eq!(report["checked"][0]["events"], 20);
    pool.close().await;
    survivor.kill().await;
}
