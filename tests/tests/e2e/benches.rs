//! Every bench ends with exactly one JSON object on its last line, with the figures its
//! closing note quotes (run here with tiny sizes: the format, not the speed, is tested). The
//! benches that start from the demo year start here from a copy of the run's one load of it
//! (`--from`), as they would from any store.

use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

/// Runs `incubator bench ARGS` and parses its last line.
fn last_line(args: &[&str]) -> Value {
    let out = std::process::Command::new(BINARY)
        .arg("bench")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or("");
    let json: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("bench {args:?}: last line is not JSON ({e}): {last:?}"));
    let objects = stdout
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v.is_object()))
        .count();
    assert_eq!(objects, 1, "bench {args:?}: one JSON line, at the end");
    json
}

fn number(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("`{key}` is not a number in {v}"))
}

/// A copy of the demo year on SQLite, for the benches that start from a store (`--from`).
async fn demo() -> incubator_tests::TestDb {
    incubator_tests::TestDb::with_demo(incubator_tests::Backend::Sqlite, BINARY).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_commands_bench_ends_with_one_json_line() {
    let commands = last_line(&["commands", "--tasks", "1", "--seconds", "0.3"]);
    assert_eq!(commands["bench"], "commands");
    assert_eq!(commands["store"], "sqlite");
    let rows = commands["rows"].as_array().unwrap();
    let modes: Vec<&str> = rows.iter().map(|r| r["mode"].as_str().unwrap()).collect();
    assert!(
        modes.contains(&"cqrs-es execute") && modes.contains(&"HTTP + key"),
        "{modes:?}"
    );
    for r in rows {
        for key in ["tasks", "per_s", "p50_ms", "p99_ms", "ratio"] {
            number(r, key);
        }
    }
    let keyed = rows
        .iter()
        .filter(|r| r["mode"] == "HTTP + key")
        .map(|r| number(r, "ratio"))
        .fold(f64::INFINITY, f64::min);
    assert_eq!(
        number(&commands, "ratio"),
        keyed,
        "the lowest HTTP + key ratio"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rebuild_and_verify_benches_end_with_one_json_line() {
    let demo = demo().await;
    let from = demo.url.as_str();
    let rebuild = last_line(&["rebuild", "--events", "9000", "--from", from]);
    assert_eq!(rebuild["bench"], "rebuild");
    assert!(number(&rebuild, "events") >= 9000.0);
    for key in [
        "floor_per_s",
        "rebuild_per_s",
        "ratio",
        "commands_alone_p99_ms",
    ] {
        assert!(number(&rebuild, key) > 0.0, "{key} in {rebuild}");
    }
    let during = &rebuild["commands_during_rebuild"];
    assert_eq!(during["failures"], 0, "{rebuild}");
    assert!(during["count"].as_u64().is_some(), "{rebuild}");

    let verify = last_line(&["verify", "--events", "3000", "--from", from]);
    assert_eq!(verify["bench"], "verify");
    for key in ["events", "floor_per_s", "verify_per_s", "ratio"] {
        assert!(number(&verify, key) > 0.0, "{key} in {verify}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reads_bench_ends_with_one_json_line() {
    let demo = demo().await;
    let from = demo.url.as_str();
    let reads = last_line(&[
        "reads",
        "--scale",
        "1",
        "--tasks",
        "2",
        "--seconds",
        "0.1",
        "--from",
        from,
    ]);
    assert_eq!(reads["bench"], "reads");
    assert_eq!(reads["scale"], 1);
    assert_eq!(reads["tasks"], 2);
    let rows = reads["rows"].as_array().unwrap();
    assert_eq!(rows[0]["endpoint"], "/healthz");
    assert_eq!(number(&reads, "floor_p99_ms"), number(&rows[0], "p99_ms"));
    let worst = rows[1..]
        .iter()
        .map(|r| number(r, "p99_ms"))
        .fold(0.0, f64::max);
    assert_eq!(number(&reads, "worst_p99_ms"), worst);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flood_bench_ends_with_one_json_line() {
    let demo = demo().await;
    let from = demo.url.as_str();
    let flood = last_line(&[
        "flood",
        "--as-of",
        "12",
        "--streams",
        "20",
        "--verifications",
        "2",
        "--seconds",
        "0.3",
        "--from",
        from,
    ]);
    assert_eq!(flood["bench"], "flood");
    assert_eq!(flood["streams_open"], 20, "{flood}");
    // Viewers may not replay a model's past; past the queue, auditors are refused at once.
    assert!(
        flood["viewer_as_of_statuses"]["403"].as_u64() > Some(0),
        "{flood}"
    );
    assert!(flood["as_of_statuses"]["503"].as_u64() > Some(0), "{flood}");
    let rows = flood["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for r in rows {
        assert!(number(r, "count") > 0.0, "{r}");
        assert_eq!(r["errors"], 0, "{r}");
    }
    for key in ["command_p99_ratio", "read_p99_ratio", "worst_p99_ms"] {
        assert!(number(&flood, key) > 0.0, "{key} in {flood}");
    }
}
