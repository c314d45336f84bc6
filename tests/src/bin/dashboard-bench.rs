//! `dashboard-bench`: how fast the dashboard shows the demo data, and how soon a command shows on
//! it, in headless Chromium, each beside its floor measured in the same run:
//! - page load: navigation start to every panel drawn (the page's own `readyMs`), against the
//!   same API calls made by a plain HTTP client with no browser;
//! - live: a command sent to its figure changed on the open page, against the command sent to
//!   its read model reaching the command's position (`min_position`).
//!
//! `cargo run --release -p incubator-tests --bin dashboard-bench -- --scale 10`

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use incubator_server::auth::Role;
use incubator_tests::browser::Browser;
use incubator_tests::{client, Backend, TestApp, TestDb};
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(
    about = "Dashboard load and live-update latency in headless Chromium, against their floors"
)]
struct Args {
    /// `sqlite` (a temporary file) or `postgres` (a temporary database on the server named by
    /// INCUBATOR_TEST_POSTGRES, default postgres://postgres@127.0.0.1:5432/postgres).
    #[arg(long, default_value = "sqlite")]
    store: String,
    /// Hubs' worth of demo data.
    #[arg(long, default_value_t = 10)]
    scale: u32,
    /// Page loads measured (after one to warm up).
    #[arg(long, default_value_t = 20)]
    loads: usize,
    /// Commands measured.
    #[arg(long, default_value_t = 20)]
    commands: usize,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dashboard-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// p50, p95 and max of `ms`.
fn summary(ms: &mut [f64]) -> (f64, f64, f64) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    (at(0.5), at(0.95), ms[ms.len() - 1])
}

/// Every page of a list, as the page fetches it.
async fn all(http: &reqwest::Client, url: String) -> Result<(), String> {
    let mut after: Option<String> = None;
    loop {
        let sep = if url.contains('?') { '&' } else { '?' };
        let page_url = match &after {
            Some(a) => format!("{url}{sep}limit=500&after={a}"),
            None => format!("{url}{sep}limit=500"),
        };
        let page: Value = get(http, page_url).await?;
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return Ok(()),
        }
    }
}

async fn get(http: &reqwest::Client, url: String) -> Result<Value, String> {
    let r = http.get(&url).send().await.map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("GET {url}: {}", r.status()));
    }
    r.json().await.map_err(|e| e.to_string())
}

/// The API calls the page makes when it loads, four panels at once, as a plain client would.
async fn page_calls(http: &reqwest::Client, api: &str, from: &str, to: &str) -> Result<(), String> {
    let funding = async {
        let (a, b) = tokio::join!(
            get(http, format!("{api}/funding/pipeline")),
            get(http, format!("{api}/funding/cohorts"))
        );
        a.and(b).map(|_| ())
    };
    let mentorship = async {
        let (a, b) = tokio::join!(
            all(http, format!("{api}/mentorship/mentors")),
            all(
                http,
                format!("{api}/mentorship/mentees?without_mentor=true")
            )
        );
        a.and(b)
    };
    let space = async {
        let (a, b, c) = tokio::join!(
            get(
                http,
                format!("{api}/space-usage/utilisation?from={from}&to={to}")
            ),
            get(http, format!("{api}/space-usage/vacancies?limit=1")),
            get(http, format!("{api}/space-usage/week"))
        );
        a.and(b).and(c).map(|_| ())
    };
    let collaborations = async {
        let (a, b) = tokio::join!(
            get(http, format!("{api}/portfolio/summary")),
            all(http, format!("{api}/portfolio/collaborations?when=active"))
        );
        a.map(|_| ()).and(b)
    };
    get(http, format!("{api}/session")).await?;
    let (a, b, c, d) = tokio::join!(funding, mentorship, space, collaborations);
    a.and(b).and(c).and(d)
}

async fn run(args: Args) -> Result<(), String> {
    let backend = match args.store.as_str() {
        "sqlite" => Backend::Sqlite,
        "postgres" => Backend::Postgres,
        other => return Err(format!("--store is sqlite or postgres, not {other:?}")),
    };
    let db = TestDb::new(backend).await;
    eprintln!("loading the demo at --scale {} …", args.scale);
    incubator_api::demo::run(incubator_api::demo::DemoArgs {
        database_url: db.url.clone(),
        seed: 1535,
        scale: args.scale,
    })
    .await?;
    let app = TestApp::spawn_on(db).await;
    app.settle().await;
    let events = get(&app.client, format!("{}/readyz", app.base)).await?["checks"]["position"]
        .as_i64()
        .unwrap_or(0);
    let viewer_token = app.token(Role::Viewer).await;
    let viewer = client(Some(&viewer_token));
    let api = format!("{}/api/v1", app.base);

    let browser = Browser::launch(1920, 1080).await;
    browser
        .client
        .goto(&format!("{}/", app.base))
        .await
        .map_err(|e| e.to_string())?;
    browser
        .wait_until(
            "the sign-in form",
            "return document.body.dataset.state === 'signed-out'",
            Duration::from_secs(10),
        )
        .await;
    browser.sign_in(&viewer_token).await;
    browser
        .wait_until(
            "the first load",
            "return document.body.dataset.state === 'ready'",
            Duration::from_secs(60),
        )
        .await;
    let period = browser
        .js(
            "return [document.getElementById('period-from').value, document.getElementById('period-to').value]",
            vec![],
        )
        .await;
    let (from, to) = (
        period[0].as_str().unwrap_or_default().to_owned(),
        period[1].as_str().unwrap_or_default().to_owned(),
    );

    // Page loads (the token stays in the tab's session storage) against the bare API calls.
    let mut floor = Vec::new();
    let mut page = Vec::new();
    page_calls(&viewer, &api, &from, &to).await?;
    for _ in 0..args.loads {
        let started = Instant::now();
        page_calls(&viewer, &api, &from, &to).await?;
        floor.push(started.elapsed().as_secs_f64() * 1000.0);
        browser.client.refresh().await.map_err(|e| e.to_string())?;
        let ready = browser
            .wait_until(
                "a reload",
                "return document.body.dataset.state === 'ready' && Number(document.body.dataset.readyMs)",
                Duration::from_secs(60),
            )
            .await;
        page.push(ready.as_f64().unwrap_or(f64::NAN));
    }

    // Commands: to the read model, and to the figure on the open page.
    let mut to_model = Vec::new();
    let mut to_page = Vec::new();
    let founder = incubator_tests::register_person(&app.client, &app.base).await;
    for i in 0..args.commands {
        let body = json!({
            "name": format!("Bench Studio {i}"),
            "founders": [founder],
            "sector": "creative tech",
            "applied_on": "2026-11-02",
        });
        // The read model alone.
        let sent = Instant::now();
        let r: Value = app
            .post("/api/v1/startups", body.clone())
            .await
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let position = r["position"].as_i64().ok_or("no position")?;
        get(
            &viewer,
            format!("{api}/funding/pipeline?min_position={position}"),
        )
        .await?;
        to_model.push(sent.elapsed().as_secs_f64() * 1000.0);
        // The page takes that command in before the next is timed.
        browser
            .wait_until(
                "the page to take the first command in",
                &format!(
                    "const f = document.getElementById('funding'); \
                     return Number(f.dataset.position) >= {position} && f.getAttribute('aria-busy') === 'false';"
                ),
                Duration::from_secs(10),
            )
            .await;

        // The page: an observer notes when the figure changes.
        browser
            .js(
                "window.__changedAt = null; \
                 const el = document.querySelector('[data-figure=\"funding.stage.application\"]'); \
                 window.__before = el.textContent; \
                 const watch = () => { \
                   const now = document.querySelector('[data-figure=\"funding.stage.application\"]'); \
                   if (now && now.textContent !== window.__before) { \
                     window.__changedAt = performance.timeOrigin + performance.now(); return true; } \
                   return false; }; \
                 const observer = new MutationObserver(() => { if (watch()) observer.disconnect(); }); \
                 observer.observe(document.getElementById('funding'), {subtree: true, childList: true, characterData: true});",
                vec![],
            )
            .await;
        let mut body = body;
        body["name"] = json!(format!("Bench Studio {i} live"));
        let sent_at = epoch_ms();
        let r = app.post("/api/v1/startups", body).await;
        if !r.status().is_success() {
            return Err(format!("a command failed: {}", r.status()));
        }
        let changed = browser
            .wait_until(
                "the figure to change",
                "return window.__changedAt",
                Duration::from_secs(10),
            )
            .await;
        to_page.push(changed.as_f64().unwrap_or(f64::NAN) - sent_at);
    }
    browser.close().await;
    app.stop().await;

    println!(
        "bench dashboard  store={}  scale={}  events={events}  loads={}  commands={}",
        args.store, args.scale, args.loads, args.commands
    );
    println!(
        "{:<52} {:>8} {:>8} {:>8} {:>9}",
        "measure", "p50 ms", "p95 ms", "max ms", "vs floor"
    );
    let mut rows = Vec::new();
    for (label, floor_ms, ms) in [
        (
            (
                "floor: the page's API calls, plain HTTP client",
                "page: navigation to every panel drawn (Chromium)",
            ),
            &mut floor,
            &mut page,
        ),
        (
            (
                "floor: command to its read model (min_position)",
                "page: command to its figure changed on the page",
            ),
            &mut to_model,
            &mut to_page,
        ),
    ] {
        let (f50, f95, fmax) = summary(floor_ms);
        let (p50, p95, pmax) = summary(ms);
        println!(
            "{:<52} {f50:>8.1} {f95:>8.1} {fmax:>8.1} {:>8.2}x",
            label.0, 1.0
        );
        println!(
            "{:<52} {p50:>8.1} {p95:>8.1} {pmax:>8.1} {:>8.2}x",
            label.1,
            p50 / f50
        );
        let finite = |x: f64| if x.is_finite() { json!(x) } else { Value::Null };
        rows.push(json!({
            "measure": label.1,
            "floor": label.0,
            "p50_ms": finite(p50),
            "p95_ms": finite(p95),
            "floor_p50_ms": finite(f50),
            "ratio": finite(p50 / f50),
        }));
    }
    // The last line: one JSON object, as every bench ends.
    println!(
        "{}",
        json!({"bench": "dashboard", "store": args.store, "scale": args.scale, "events": events,
               "rows": rows})
    );
    Ok(())
}
