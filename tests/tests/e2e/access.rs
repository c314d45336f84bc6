//! Who may do what: every route of the OpenAPI document, called with no token, a bad token
//! and each role, answers as the access table in `docs/api.md` says.

use std::collections::BTreeMap;
use std::process::Stdio;

use incubator_server::auth::Role;
use incubator_tests::{both_stores, client, Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

both_stores!(
    each_role_reaches_exactly_its_routes,
    a_revoked_token_is_refused,
);

const BINARY: &str = env!("CARGO_BIN_EXE_incubator-e2e");

/// What a caller should get: the route (✓: neither 401 nor 403, nor a 5xx), or a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    Status(u16),
}

/// The access table of `docs/api.md`: (method, path) → [no token, viewer, auditor, officer].
fn access_table() -> BTreeMap<(String, String), [Expect; 4]> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/api.md");
    let text = std::fs::read_to_string(path).expect("docs/api.md");
    let mut table = BTreeMap::new();
    for line in text.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let Some(route) = cells
            .first()
            .and_then(|c| c.strip_prefix('`')?.strip_suffix('`'))
        else {
            continue;
        };
        let Some((method, path)) = route.split_once(' ') else {
            continue;
        };
        assert_eq!(cells.len(), 5, "a row of the access table: {line}");
        let expect = |c: &str| match c {
            "✓" => Expect::Allowed,
            n => Expect::Status(n.parse().unwrap_or_else(|_| panic!("cell {n:?} in {line}"))),
        };
        let row = [
            expect(cells[1]),
            expect(cells[2]),
            expect(cells[3]),
            expect(cells[4]),
        ];
        let previous = table.insert((method.to_owned(), path.to_owned()), row);
        assert!(previous.is_none(), "{route} twice in docs/api.md");
    }
    table
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

    // The routes, from the OpenAPI document (which needs no token) and from the table.
    let r = bare
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let doc: Value = r.json().await.unwrap();
    let mut documented = BTreeMap::new();
    for (path, operations) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in operations.as_object().expect("operations") {
            documented.insert(
                (method.to_uppercase(), path.clone()),
                operation["x-role"].as_str().map(str::to_owned),
            );
        }
    }
    let table = access_table();
    let only_openapi: Vec<_> = documented
        .keys()
        .filter(|k| !table.contains_key(*k))
        .collect();
    let only_table: Vec<_> = table
        .keys()
        .filter(|k| !documented.contains_key(*k))
        .collect();
    assert!(
        only_openapi.is_empty() && only_table.is_empty(),
        "routes in the OpenAPI document but not in docs/api.md: {only_openapi:?}; \
         in docs/api.md but not in the OpenAPI document: {only_table:?}"
    );
    assert!(table.len() >= 38, "{} routes", table.len());

    for ((method, path), row) in &table {
        // The document's x-role is the weakest role the table allows.
        let weakest = [Role::Viewer, Role::Auditor, Role::Officer]
            .into_iter()
            .zip(&row[1..])
            .find(|(_, e)| **e == Expect::Allowed)
            .map(|(r, _)| r.to_string());
        let x_role = documented[&(method.clone(), path.clone())].clone();
        if row[0] == Expect::Allowed {
            assert_eq!(x_role, None, "{method} {path} needs no token");
        } else {
            assert_eq!(x_role, weakest, "{method} {path}: x-role against the table");
        }

        let concrete = path
            .replace("{id}", &id)
            .replace("{grant_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{mentor_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{milestone_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{allocation_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{booking_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{participant_id}", &uuid::Uuid::now_v7().to_string());
        assert!(!concrete.contains('{'), "an unknown parameter in {path}");
        let method: Method = method.parse().unwrap();
        let url = format!("{}{concrete}", app.base);
        let callers = [("no token", &bare, row[0]), ("a bad token", &bad, row[0])]
            .into_iter()
            .chain(
                clients
                    .iter()
                    .zip(&row[1..])
                    .map(|((role, c), e)| (role.as_str(), c, *e)),
            );
        for (who, c, expect) in callers {
            let r = c
                .request(method.clone(), &url)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            match expect {
                Expect::Allowed => assert!(
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !status.is_server_error(),
                    "{who} may {method} {path}, got {status}"
                ),
                Expect::Status(n) => {
                    assert_eq!(status.as_u16(), n, "{method} {path} with {who}");
                    assert_eq!(r.headers()["content-type"], "application/problem+json");
                    if n == 401 {
                        assert_eq!(
                            r.headers()["www-authenticate"],
                            "Bearer realm=\"incubator\""
                        );
                    }
                }
            }
        }
    }
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
        incubator_tests::once_refused(|| async { c.get(&url).send().await.unwrap().status() })
            .await,
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
