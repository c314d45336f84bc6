//! Tampering with the log in the database itself, behind the service's back: `audit verify`
//! names each kind of change.

use incubator_projections::audit::{self, Range, Verified};
use incubator_projections::ReadDb;
use incubator_tests::{both_stores, Backend, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::json;
use sqlx::{AnyPool, Row};

both_stores!(
    every_kind_of_tampering_is_named,
    a_snapshot_edited_in_the_database_is_found,
    events_are_sealed_with_their_append_and_nothing_is_sealed_late,
    a_log_an_earlier_version_left_unsealed_is_sealed_when_opened,
);

/// A log written before seals were written with their events: its last events (the sealer
/// had not reached them) have no seal. The migration records how far that goes; opening the
/// store seals them as they stand, and nothing after that point.
async fn a_log_an_earlier_version_left_unsealed_is_sealed_when_opened(backend: Backend) {
    let (db, a, _) = sealed_log(backend).await;
    let pool = db.pool().await;
    // As the earlier version left it: two more events of Alpha, appended as postgres-es and
    // sqlite-es appended them (no seal), and the epoch where the migration put it (the head
    // of the log then).
    let json = if backend == Backend::Postgres {
        "::jsonb"
    } else {
        ""
    };
    for sequence in [4, 5] {
        sqlx::query(&format!(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) VALUES ('Startup', $1, $2, 'KpisReported', '1', \
             $3{json}, $4{json})"
        ))
        .bind(&a)
        .bind(sequence)
        .bind(r#"{"KpisReported":{"month":"2026-01","revenue":{"cents":1,"currency":"EUR"},"headcount":1,"customers":1}}"#)
        .bind(r#"{"actor":"officer"}"#)
        .execute(&pool)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE audit_epoch SET adopt_to = (SELECT MAX(position) FROM events)")
        .execute(&pool)
        .await
        .unwrap();
    let before = verify(&db).await;
    assert_eq!(
        (before.unsealed, before.verdict),
        (2, "incomplete"),
        "{before:?}"
    );
    pool.close().await;
    // Opened (by the service, or any command: here `audit seal`), and numbered by the sealer.
    let after = sealed_by_the_sealer(&db).await;
    assert!(after.intact, "{after:?}");
    assert_eq!((after.sealed, after.unsealed, after.undigested), (7, 0, 0));
}

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_incubator-e2e"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// Seals are written in the events' own transaction. An event appended while no sealer runs
/// has its seal at once (verify checks it before any digest covers it); altered before the
/// sealer numbers it, it is found altered (the sealer used to seal whatever it found); an
/// event written into the table by hand has no seal, is never sealed, and is named.
async fn events_are_sealed_with_their_append_and_nothing_is_sealed_late(backend: Backend) {
    use incubator_domain::startup::StartupCommand;
    let (db, a, b) = sealed_log(backend).await;
    let store = incubator_server::store::Store::open(&db.url).await.unwrap();
    // Any day after the HTTP commands' (which are dated in hub time).
    let today = chrono::NaiveDate::from_ymd_opt(2099, 6, 1).unwrap();
    let advance = StartupCommand::Advance {
        to: None,
        override_reason: None,
        on: today,
        today,
    };
    let metadata = std::collections::HashMap::from([("actor".to_owned(), "officer".to_owned())]);
    let committed = store
        .execute(store.startups(), &a, advance, None, metadata)
        .await
        .unwrap();
    let at = committed.checkpoint.unwrap().position;
    store.close().await;
    let pool = db.pool().await;
    let seal: Option<i64> = sqlx::query("SELECT seal FROM audit_chain WHERE position = $1")
        .bind(at)
        .fetch_one(&pool)
        .await
        .expect("the event's seal was committed with it")
        .try_get("seal")
        .unwrap();
    assert_eq!(seal, None, "numbered only by the sealer, later");
    let fresh = verify_visible(&db).await;
    assert!(fresh.intact, "{fresh:?}");
    assert_eq!((fresh.sealed, fresh.undigested, fresh.unsealed), (6, 1, 0));
    let out = cli(&["audit", "verify", "--database-url", &db.url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Altered before the sealer reaches it, and a forged event appended by hand.
    unguard(&pool, backend).await;
    let (alter, forge) = if backend == Backend::Postgres {
        (
            "UPDATE events SET payload = jsonb_set(payload, '{StageAdvanced,to}', '\"graduated\"') \
             WHERE position = $1",
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) SELECT aggregate_type, aggregate_id, 3, \
             event_type, event_version, payload, metadata FROM events \
             WHERE aggregate_id = $1 AND sequence = 2 RETURNING position",
        )
    } else {
        (
            "UPDATE events SET payload = json_set(payload, '$.StageAdvanced.to', 'graduated') \
             WHERE position = $1",
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, \
             event_version, payload, metadata) SELECT aggregate_type, aggregate_id, 3, \
             event_type, event_version, payload, metadata FROM events \
             WHERE aggregate_id = $1 AND sequence = 2 RETURNING position",
        )
    };
    sqlx::query(alter).bind(at).execute(&pool).await.unwrap();
    let forged: i64 = sqlx::query(forge)
        .bind(&b)
        .fetch_one(&pool)
        .await
        .unwrap()
        .try_get("position")
        .unwrap();
    pool.close().await;
    // The sealer runs (as a server's would), and numbers what was sealed at its append only.
    let after = sealed_by_the_sealer(&db).await;
    let found: Vec<(&str, i64)> = after
        .findings
        .iter()
        .map(|f| (f.kind, f.position))
        .collect();
    assert_eq!(
        found,
        vec![("altered", at), ("inserted", forged)],
        "{after:?}"
    );
    assert_eq!(after.undigested, 0, "{after:?}");
    let out = cli(&["audit", "verify", "--database-url", &db.url]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("first: altered event at position {at}")),
        "{stderr}"
    );
}

/// A startup with a snapshot (one every 25 events): the snapshot, edited in the database to
/// say the startup graduated, is found by verification (it equals no replay of the events).
async fn a_snapshot_edited_in_the_database_is_found(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let s = app.apply("Snapshot Co", None).await;
    app.command(&s, "advance", json!({}), StatusCode::OK).await;
    app.command(&s, "advance", json!({}), StatusCode::OK).await;
    for m in 0..25 {
        let month = format!("{}-{:02}", 2024 + m / 12, m % 12 + 1);
        app.command(
            &s,
            "kpis",
            json!({"month": month, "revenue": {"cents": 100, "currency": "EUR"},
                   "headcount": 3, "customers": m}),
            StatusCode::OK,
        )
        .await;
    }
    app.settle().await;
    let db = app.stop().await;
    let before = verify(&db).await;
    assert!(before.intact, "{before:?}");
    assert!(before.snapshots >= 1, "a snapshot was checked: {before:?}");
    let pool = db.pool().await;
    let sql = if backend == Backend::Postgres {
        "UPDATE snapshots SET payload = jsonb_set(payload, '{stage}', '\"graduated\"') \
         WHERE aggregate_id = $1"
    } else {
        "UPDATE snapshots SET payload = json_set(payload, '$.stage', 'graduated') \
         WHERE aggregate_id = $1"
    };
    run(&pool, sql, &[&s]).await;
    let forged: String =
        sqlx::query("SELECT CAST(payload AS TEXT) AS p FROM snapshots WHERE aggregate_id = $1")
            .bind(&s)
            .fetch_one(&pool)
            .await
            .unwrap()
            .get("p");
    assert!(forged.contains("graduated"), "the edit took: {forged}");
    pool.close().await;
    let after = verify(&db).await;
    assert!(!after.intact, "not detected: {after:?}");
    let first = after.first.clone().unwrap();
    assert_eq!(first.kind, "snapshot_altered", "{:?}", after.findings);
    assert_eq!(first.aggregate_id, s);
    // The command line says the same and exits 1.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_incubator-e2e"))
        .args(["audit", "verify", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("snapshot_altered"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two startups, five events: Alpha #1..#3, Beta #1..#2. Returns the stopped server's database
/// and the two ids.
async fn sealed_log(backend: Backend) -> (TestDb, String, String) {
    let app = TestApp::spawn(backend).await;
    let a = app.apply("Alpha", None).await;
    app.command(&a, "advance", json!({}), StatusCode::OK).await;
    app.command(&a, "advance", json!({}), StatusCode::OK).await;
    let b = app.apply("Beta", None).await;
    app.command(&b, "advance", json!({}), StatusCode::OK).await;
    app.settle().await;
    // Over HTTP too, for an auditor.
    let report = app.get_json("/api/v1/audit/verify").await;
    assert_eq!(report["intact"], true, "{report}");
    assert_eq!(report["sealed"], 5);
    (app.stop().await, a, b)
}

async fn verify(db: &TestDb) -> Verified {
    let read = ReadDb::connect(&db.url, 2).await.unwrap();
    let v = audit::verify(&read, Range::ALL, &|_| {}).await.unwrap();
    read.pool.close().await;
    v
}

/// Runs the sealer over `db` as `incubator audit seal` does, then [`verify_visible`]; again
/// while events it could not read yet remain (on PostgreSQL the sealer reads in commit order,
/// and other tests' open transactions can hold that back for a moment).
async fn sealed_by_the_sealer(db: &TestDb) -> Verified {
    for _ in 0..50 {
        let out = cli(&["audit", "seal", "--database-url", &db.url]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = verify_visible(db).await;
        if v.undigested == 0 {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    verify_visible(db).await
}

/// [`verify`], once every event is read in commit order: on PostgreSQL an event is, once no
/// older transaction of the cluster (other tests') is still open.
async fn verify_visible(db: &TestDb) -> Verified {
    let mut v = verify(db).await;
    for _ in 0..100 {
        if v.unsealed == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        v = verify(db).await;
    }
    v
}

async fn position(pool: &AnyPool, id: &str, sequence: i64) -> i64 {
    sqlx::query("SELECT position FROM events WHERE aggregate_id = $1 AND sequence = $2")
        .bind(id)
        .bind(sequence)
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get("position")
        .unwrap()
}

/// Lifts the append-only guard, as someone with the database's owner rights could.
async fn unguard(pool: &AnyPool, backend: Backend) {
    let statements: &[&str] = match backend {
        Backend::Sqlite => &[
            "DROP TRIGGER events_no_update",
            "DROP TRIGGER events_no_delete",
        ],
        Backend::Postgres => &["ALTER TABLE events DISABLE TRIGGER USER"],
    };
    for s in statements {
        sqlx::query(s).execute(pool).await.unwrap();
    }
}

async fn run(pool: &AnyPool, sql: &str, binds: &[&str]) {
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(*b);
    }
    q.execute(pool).await.unwrap();
}

async fn every_kind_of_tampering_is_named(backend: Backend) {
    let pg = backend == Backend::Postgres;
    let cases = [
        "payload changed",
        "metadata changed",
        "event deleted in the middle",
        "last event of a stream deleted",
        "event inserted",
        "two events swapped",
        "latest digest rewritten",
    ];
    for case in cases {
        let (db, a, b) = sealed_log(backend).await;
        let before = verify(&db).await;
        assert!(before.intact, "{case}: {before:?}");
        assert_eq!(before.sealed, 5);
        let pool = db.pool().await;
        unguard(&pool, backend).await;
        let (a2, a3, b1, b2) = (
            position(&pool, &a, 2).await,
            position(&pool, &a, 3).await,
            position(&pool, &b, 1).await,
            position(&pool, &b, 2).await,
        );
        let (kind, at) = match case {
            "payload changed" => {
                let sql = if pg {
                    "UPDATE events SET payload = jsonb_set(payload, '{StageAdvanced,to}', '\"graduated\"') \
                     WHERE aggregate_id = $1 AND sequence = 2"
                } else {
                    "UPDATE events SET payload = json_set(payload, '$.StageAdvanced.to', 'graduated') \
                     WHERE aggregate_id = $1 AND sequence = 2"
                };
                run(&pool, sql, &[&a]).await;
                ("altered", a2)
            }
            "metadata changed" => {
                let sql = if pg {
                    "UPDATE events SET metadata = jsonb_set(metadata, '{actor}', '\"someone else\"') \
                     WHERE aggregate_id = $1 AND sequence = 1"
                } else {
                    "UPDATE events SET metadata = json_set(metadata, '$.actor', 'someone else') \
                     WHERE aggregate_id = $1 AND sequence = 1"
                };
                run(&pool, sql, &[&b]).await;
                ("altered", b1)
            }
            "event deleted in the middle" => {
                run(
                    &pool,
                    "DELETE FROM events WHERE aggregate_id = $1 AND sequence = 2",
                    &[&a],
                )
                .await;
                ("missing", a2)
            }
            "last event of a stream deleted" => {
                run(
                    &pool,
                    "DELETE FROM events WHERE aggregate_id = $1 AND sequence = 3",
                    &[&a],
                )
                .await;
                ("missing", a3)
            }
            "event inserted" => {
                // Placed before every sealed event, as if it had always been there.
                let sql = if pg {
                    "INSERT INTO events (transaction_id, position, aggregate_type, aggregate_id, \
                     sequence, event_type, event_version, payload, metadata) OVERRIDING SYSTEM VALUE \
                     SELECT '1'::xid8, 0, aggregate_type, 'forged', 1, event_type, event_version, \
                     payload, metadata FROM events WHERE aggregate_id = $1 AND sequence = 1"
                } else {
                    "INSERT INTO events (position, aggregate_type, aggregate_id, sequence, \
                     event_type, event_version, payload, metadata, recorded_at) \
                     SELECT 0, aggregate_type, 'forged', 1, event_type, event_version, payload, \
                     metadata, recorded_at FROM events WHERE aggregate_id = $1 AND sequence = 1"
                };
                run(&pool, sql, &[&b]).await;
                ("inserted", 0)
            }
            "latest digest rewritten" => {
                // The seal's own tables are not guarded: a rewritten digest shows.
                run(
                    &pool,
                    "UPDATE audit_digests SET digest = $1 \
                     WHERE digest_seq = (SELECT MAX(digest_seq) FROM audit_digests)",
                    &[&"0".repeat(64)],
                )
                .await;
                ("digest_mismatch", b2)
            }
            _ => {
                // Alpha's second and third events trade places (their payloads).
                let sql = if pg {
                    "UPDATE events e SET payload = o.payload FROM events o \
                     WHERE e.aggregate_id = $1 AND o.aggregate_id = $1 \
                     AND e.sequence IN (2, 3) AND o.sequence = 5 - e.sequence"
                } else {
                    "UPDATE events SET payload = (SELECT o.payload FROM events o \
                     WHERE o.aggregate_id = events.aggregate_id AND o.sequence = 5 - events.sequence) \
                     WHERE aggregate_id = $1 AND sequence IN (2, 3)"
                };
                run(&pool, sql, &[&a]).await;
                ("altered", a2)
            }
        };
        pool.close().await;
        let after = verify(&db).await;
        assert!(!after.intact, "{case}: not detected: {after:?}");
        let first = after.first.clone().unwrap();
        assert_eq!(
            (first.kind, first.position),
            (kind, at),
            "{case}: {:?}",
            after.findings
        );
        if case == "event inserted" {
            assert_eq!(first.aggregate_id, "forged");
        }
        // The command line says the same and exits 1.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_incubator-e2e"))
            .args(["audit", "verify", "--database-url", &db.url])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{case}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("first: {kind} event at position {at}")),
            "{case}: {stderr}"
        );
    }
}
