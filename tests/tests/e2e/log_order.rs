//! PostgreSQL transactions that commit their global positions out of order: the projector
//! still applies every event exactly once.

use incubator_projections::funding::{self, Funding, StartupFilter};
use incubator_projections::projector;
use incubator_server::store::Store;
use incubator_tests::{Backend, TestDb};
use sqlx::{Any, AnyConnection, Connection, Row, Transaction};

fn applied(name: &str) -> String {
    serde_json::json!({"Applied": {"name": name, "sector": null,
        "founders": ["0192f0e0-0000-7000-8000-000000000001"], "cohort": null,
        "applied_on": "2026-01-01"}})
    .to_string()
}

/// Appends an `Applied` event inside an open transaction, as postgres-es would; returns its
/// position.
async fn append(tx: &mut Transaction<'_, Any>, id: &str, name: &str) -> i64 {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
         payload, metadata) VALUES ('Startup', $1, 1, 'Applied', '1.0', $2::jsonb, '{}'::jsonb) \
         RETURNING position",
    )
    .bind(id)
    .bind(applied(name))
    .fetch_one(&mut **tx)
    .await
    .expect("append")
    .get("position")
}

async fn project_all(store: &Store) -> usize {
    let mut batches = 0;
    while projector::step(&store.read, &Funding, 100)
        .await
        .expect("step")
        .is_some()
    {
        batches += 1;
    }
    batches
}

/// Projects until the read model shows `expected` (transaction ids are cluster-wide, so other
/// tests' open transactions can hold the horizon back for a moment).
async fn project_until(store: &Store, expected: &[&str]) {
    for _ in 0..200 {
        project_all(store).await;
        if projected(store).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(projected(store).await, expected);
}

async fn projected(store: &Store) -> Vec<String> {
    let rows = funding::startups(
        &store.read,
        &StartupFilter {
            limit: 100,
            ..Default::default()
        },
    )
    .await
    .expect("read model");
    rows.into_iter().map(|r| r.name).collect()
}

#[tokio::test]
async fn positions_committed_out_of_order_are_each_projected_exactly_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let store = Store::open(&db.url).await.expect("open");
    let mut c1 = AnyConnection::connect(&db.url).await.unwrap();
    let mut c2 = AnyConnection::connect(&db.url).await.unwrap();

    // Scenario 1: T1 takes position p, T2 takes p+1, and T2 commits first.
    let mut t1 = c1.begin().await.unwrap();
    let mut t2 = c2.begin().await.unwrap();
    let p1 = append(&mut t1, "00000000-0000-7000-8000-000000000001", "First").await;
    let p2 = append(&mut t2, "00000000-0000-7000-8000-000000000002", "Second").await;
    assert!(p1 < p2);
    t2.commit().await.unwrap();
    // The race is real: a reader by position alone now sees p+1 without p.
    let mut reader = AnyConnection::connect(&db.url).await.unwrap();
    let visible: Vec<i64> = sqlx::query("SELECT position FROM events ORDER BY position")
        .fetch_all(&mut reader)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("position"))
        .collect();
    assert_eq!(visible, vec![p2], "p+1 is committed while p is not");
    project_all(&store).await;
    assert!(
        projected(&store).await.is_empty(),
        "nothing past the open transaction"
    );
    t1.commit().await.unwrap();
    project_until(&store, &["First", "Second"]).await;

    // Scenario 2: T4 has the older transaction id but the later position, and commits last.
    let mut t4 = c2.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()::text AS x")
        .fetch_one(&mut *t4)
        .await
        .unwrap();
    let mut t3 = c1.begin().await.unwrap();
    let p3 = append(&mut t3, "00000000-0000-7000-8000-000000000003", "Third").await;
    let p4 = append(&mut t4, "00000000-0000-7000-8000-000000000004", "Fourth").await;
    assert!(p3 < p4);
    t3.commit().await.unwrap();
    project_all(&store).await;
    assert_eq!(
        projected(&store).await,
        vec!["First", "Second"],
        "T3 waits behind the older, still open T4"
    );
    t4.commit().await.unwrap();
    // The horizon is cluster-wide: another test's open transaction may hold it back a moment.
    project_until(&store, &["First", "Second", "Third", "Fourth"]).await;

    // Nothing is left, and nothing is applied twice (an Applied applied twice would fail on
    // the read model's primary key).
    assert_eq!(project_all(&store).await, 0);
    // Commit-safe order is (transaction id, position): Fourth's older transaction sorts before
    // Third, so the checkpoint ends on Third.
    let cp = projector::checkpoint(&store.read, "funding").await.unwrap();
    assert_eq!(cp.position, p3);
    drop(reader);
    store.close().await;
}
