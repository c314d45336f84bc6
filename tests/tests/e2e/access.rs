//! Who may do what: no token and bad tokens get 401, each role gets exactly the routes of the
//! access table in `docs/api.md`.

use std::process::Stdio;

use incubator_api::auth::Role;
use incubator_tests::{both_stores, client, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

both_stores!(
    each_role_reaches_exactly_its_routes,
    a_revoked_token_is_refused,
);

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

/// Every route, and the weakest role that may use it (as in `docs/api.md`).
fn routes(id: &str) -> Vec<(Method, String, Role)> {
    let s = format!("/api/v1/startups/{id}");
    let u = uuid::Uuid::now_v7();
    vec![
        (Method::POST, "/api/v1/startups".into(), Role::Officer),
        (Method::GET, s.clone(), Role::Auditor),
        (Method::GET, format!("{s}/events"), Role::Auditor),
        (Method::POST, format!("{s}/advance"), Role::Officer),
        (Method::POST, format!("{s}/reject"), Role::Officer),
        (Method::POST, format!("{s}/withdraw"), Role::Officer),
        (Method::POST, format!("{s}/exit"), Role::Officer),
        (Method::POST, format!("{s}/cohort"), Role::Officer),
        (Method::POST, format!("{s}/equity-rounds"), Role::Officer),
        (Method::POST, format!("{s}/funding"), Role::Officer),
        (
            Method::POST,
            format!("{s}/funding/{u}/tranches"),
            Role::Officer,
        ),
        (Method::POST, format!("{s}/mentors"), Role::Officer),
        (
            Method::POST,
            format!("{s}/mentors/{u}/release"),
            Role::Officer,
        ),
        (Method::POST, format!("{s}/sessions"), Role::Officer),
        (Method::POST, format!("{s}/milestones"), Role::Officer),
        (
            Method::POST,
            format!("{s}/milestones/{u}/achieve"),
            Role::Officer,
        ),
        (Method::POST, format!("{s}/kpis"), Role::Officer),
        (Method::GET, "/api/v1/funding/pipeline".into(), Role::Viewer),
        (Method::GET, "/api/v1/funding/startups".into(), Role::Viewer),
    ]
}

async fn each_role_reaches_exactly_its_routes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let id = app.apply("Access Co", None).await;
    let bare = client(None);
    let bad = client(Some(
        "inc_0000000000000000000000000000000000000000000000000000000000000000",
    ));
    let mut clients = vec![];
    for role in [Role::Viewer, Role::Auditor, Role::Officer] {
        clients.push((role, client(Some(&app.token(role).await))));
    }
    for (method, path, needed) in routes(&id) {
        let url = format!("{}{path}", app.base);
        for (who, c) in [("no token", &bare), ("a bad token", &bad)] {
            let r = c.request(method.clone(), &url).send().await.unwrap();
            assert_eq!(
                r.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {who}"
            );
            assert_eq!(
                r.headers()["www-authenticate"],
                "Bearer realm=\"incubator\""
            );
            assert_eq!(r.headers()["content-type"], "application/problem+json");
        }
        for (role, c) in &clients {
            let r = c
                .request(method.clone(), &url)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            if *role >= needed {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{role} may {method} {path}, got {status}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} may not {method} {path}"
                );
            }
        }
    }
    // Health needs no token.
    assert_eq!(
        bare.get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    app.stop().await;
}

async fn a_revoked_token_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Through the command line, as an administrator would.
    let out = tokio::process::Command::new(BINARY)
        .args([
            "tokens",
            "create",
            "--role",
            "viewer",
            "--name",
            "wall screen",
        ])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim_end();
    assert_eq!(
        stdout.lines().count(),
        1,
        "the token alone on standard output"
    );
    assert!(token.starts_with("inc_") && token.len() == 68);
    let stored: String =
        sqlx::query("SELECT token_hash FROM api_tokens WHERE name = 'wall screen'")
            .fetch_one(&app.db.pool().await)
            .await
            .map(|r| sqlx::Row::get(&r, "token_hash"))
            .unwrap();
    assert!(!stored.contains(&token[4..]), "only a hash is stored");
    let c = client(Some(token));
    let url = format!("{}/api/v1/funding/pipeline", app.base);
    assert_eq!(c.get(&url).send().await.unwrap().status(), StatusCode::OK);
    let out = tokio::process::Command::new(BINARY)
        .args(["tokens", "revoke", "wall screen"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "off")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        c.get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let out = tokio::process::Command::new(BINARY)
        .args(["tokens", "list"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "off")
        .output()
        .await
        .unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("wall screen") && listing.contains("viewer"));
    assert!(!listing.contains(token), "secrets are never listed");
    let _ = app.request(Method::GET, "/healthz");
    app.stop().await;
}
