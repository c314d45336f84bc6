//! The dashboard in a real browser (headless Chromium over WebDriver), on both stores: signed in
//! with a viewer token on the demo year, it shows the API's figures; a command sent through the
//! API changes the page within seconds without a reload; every figure's link opens its list;
//! it fits a phone's width; screenshots at a phone's and a wall screen's width.

use std::time::{Duration, Instant};

use incubator_server::auth::Role;
use incubator_tests::browser::{screenshot_dir, Browser};
use incubator_tests::{both_stores, create_token, Backend, TestApp, TestDb};
use serde_json::{json, Value};

both_stores!(the_dashboard_shows_the_hub_and_follows_commands);

/// Every figure on the page, by name (`data-figure`), as shown.
const FIGURES: &str = "const out = {}; \
    for (const el of document.querySelectorAll('[data-figure]')) out[el.dataset.figure] = el.textContent; \
    return out;";

/// The texts whose contrast with their background is below WCAG AA, as `text: ratio`.
const CONTRAST: &str = r#"
const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
const lum = ([r, g, b]) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const background = (el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
  }
  return [255, 255, 255];
};
const low = [];
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  const el = n.parentElement;
  if (!n.textContent.trim() || !el || !el.offsetParent) continue;
  const style = getComputedStyle(el);
  const [a, b] = [lum(rgb(style.color).slice(0, 3)), lum(background(el))];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const size = parseFloat(style.fontSize);
  const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
  if (ratio < (large ? 3 : 4.5)) low.push(`${n.textContent.trim().slice(0, 40)}: ${ratio.toFixed(2)}`);
}
return low;
"#;

/// A count as the page shows it (`1,234`).
fn count(page: &Value, name: &str) -> i64 {
    let shown = page[name]
        .as_str()
        .unwrap_or_else(|| panic!("the page shows no figure {name}"));
    shown
        .replace(',', "")
        .parse()
        .unwrap_or_else(|_| panic!("{name} shows {shown:?}, not a count"))
}

/// A share as the page shows it (`67.9 %`), checked against the API's ratio.
fn assert_share(page: &Value, name: &str, ratio: Option<f64>) {
    let shown = page[name]
        .as_str()
        .unwrap_or_else(|| panic!("the page shows no figure {name}"));
    match ratio {
        None => assert_eq!(shown, "–", "{name}"),
        Some(r) => {
            let percent: f64 = shown
                .trim_end_matches('%')
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("{name} shows {shown:?}"));
            assert!(
                (percent - r * 100.0).abs() <= 0.051,
                "{name} shows {shown}, the API says {r}"
            );
        }
    }
}

/// Every item of a paged list.
async fn all(app: &TestApp, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &after {
            Some(a) => format!("{path}{sep}limit=500&after={a}"),
            None => format!("{path}{sep}limit=500"),
        };
        let page = app.get_json(&url).await;
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_owned()),
            None => return items,
        }
    }
}

/// Whether each element is rendered at all (a box on the page, not `display: none`).
async fn shown(browser: &Browser, ids: &[&str]) -> Value {
    browser
        .js(
            "return arguments[0].map(id => { const e = document.getElementById(id); \
               return !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'; });",
            vec![json!(ids)],
        )
        .await
}

async fn the_dashboard_shows_the_hub_and_follows_commands(backend: Backend) {
    let db = TestDb::with_demo(backend, env!("CARGO_BIN_EXE_incubator-e2e")).await;
    let app = TestApp::spawn_on(db).await;
    app.settle().await;
    let viewer = create_token(&app.db.url, "lobby screen", Role::Viewer).await;
    let store = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };

    let browser = sign_in(&app, &viewer, store).await;
    the_figures_are_the_apis(&app, &browser).await;
    a_command_shows_without_a_reload(&app, &browser, store).await;
    a_revoked_token_signs_the_page_out(&app, &browser).await;
    every_figure_opens_its_list(&app, &browser).await;
    bookings_read_in_hub_time(&app, &browser).await;
    keyboard_labels_and_contrast(&browser).await;
    a_wall_screen_and_a_phone(&browser, store).await;
    browser.close().await;
    app.stop().await;
}

/// Signed out, the page asks for a token by a labelled field and refuses a wrong one; signed in,
/// every panel is drawn.
async fn sign_in(app: &TestApp, viewer: &str, store: &str) -> Browser {
    let browser = Browser::launch(1920, 1080).await;
    browser
        .client
        .goto(&format!("{}/", app.base))
        .await
        .expect("open the page");
    browser
        .wait_until(
            "the sign-in form",
            "return document.body.dataset.state === 'signed-out' && \
             document.activeElement === document.getElementById('token')",
            Duration::from_secs(10),
        )
        .await;
    // The field is found by its label, as a screen reader would name it.
    let field = browser
        .js(
            "const l = [...document.querySelectorAll('label')].find(l => l.textContent.trim() === 'Access token'); \
             return l && l.control ? l.control.id : null;",
            vec![],
        )
        .await;
    assert_eq!(field, json!("token"), "the token field has no label");
    // What a person sees, not only what the document holds: signed out, the sign-in form
    // shows and the (empty) board does not.
    assert_eq!(
        shown(&browser, &["signin", "board", "list", "signout"]).await,
        json!([true, false, false, false]),
        "signed out: only the sign-in form is visible"
    );
    // A wrong token is refused on the page.
    browser.sign_in("inc_not-a-token").await;
    browser
        .wait_until(
            "the refusal",
            "return document.getElementById('signin-error').textContent",
            Duration::from_secs(10),
        )
        .await;
    let signed_in = Instant::now();
    browser.sign_in(viewer).await;
    browser
        .wait_until(
            "every panel rendered",
            "return document.body.dataset.state === 'ready'",
            Duration::from_secs(30),
        )
        .await;
    eprintln!(
        "dashboard on {store}: signed in and rendered in {} ms",
        signed_in.elapsed().as_millis()
    );
    browser
}

/// The figures shown are the API's.
async fn the_figures_are_the_apis(app: &TestApp, browser: &Browser) {
    let page = browser.js(FIGURES, vec![]).await;
    let pipeline = app.get_json("/api/v1/funding/pipeline").await;
    assert_eq!(
        count(&page, "funding.startups"),
        pipeline["startups"].as_i64().unwrap()
    );
    for stage in pipeline["stages"].as_array().unwrap() {
        let name = stage["stage"].as_str().unwrap();
        assert_eq!(
            count(&page, &format!("funding.stage.{name}")),
            stage["startups"].as_i64().unwrap(),
            "startups in {name}"
        );
    }
    for c in pipeline["conversion"].as_array().unwrap() {
        let from = c["from"].as_str().unwrap();
        assert_share(
            &page,
            &format!("funding.conversion.{from}"),
            c["rate"].as_f64(),
        );
    }
    let cohorts = app.get_json("/api/v1/funding/cohorts").await;
    for c in cohorts["cohorts"].as_array().unwrap() {
        let name = c["cohort"].as_str().unwrap();
        assert_eq!(
            count(&page, &format!("funding.cohort.{name}.startups")),
            c["startups"].as_i64().unwrap()
        );
    }
    let mentors = all(app, "/api/v1/mentorship/mentors").await;
    let active = mentors.iter().filter(|m| m["status"] == "active").count() as i64;
    assert_eq!(count(&page, "mentorship.active"), active);
    let orphans = all(app, "/api/v1/mentorship/mentees?without_mentor=true").await;
    assert_eq!(
        count(&page, "mentorship.without_mentor"),
        orphans.len() as i64
    );
    let vacancies = app.get_json("/api/v1/space-usage/vacancies?limit=1").await;
    assert_eq!(
        count(&page, "space.vacant_now"),
        vacancies["vacant_now"].as_i64().unwrap()
    );
    let from_to = browser
        .js(
            "return [document.getElementById('period-from').value, document.getElementById('period-to').value]",
            vec![],
        )
        .await;
    let use_ = app
        .get_json(&format!(
            "/api/v1/space-usage/utilisation?from={}&to={}",
            from_to[0].as_str().unwrap(),
            from_to[1].as_str().unwrap()
        ))
        .await;
    assert_share(
        &page,
        "space.occupancy",
        use_["total"]["occupancy"].as_f64(),
    );
    for (building, usage) in use_["buildings"].as_object().unwrap() {
        assert_share(
            &page,
            &format!("space.occupancy.{building}"),
            usage["occupancy"].as_f64(),
        );
    }
    let summary = app.get_json("/api/v1/portfolio/summary").await;
    let stage = |s: &str| summary["stages"][s].as_i64().unwrap_or(0);
    assert_eq!(
        count(&page, "collaborations.active"),
        stage("active") + stage("proposed")
    );
    for (discipline, n) in summary["disciplines"].as_object().unwrap() {
        assert_eq!(
            count(&page, &format!("collaborations.discipline.{discipline}")),
            n.as_i64().unwrap()
        );
    }
    let week = app.get_json("/api/v1/space-usage/week").await;
    let room = &week["rooms"][0];
    for day in room["days"].as_array().unwrap() {
        if day["open_minutes"] == 0 || day["bookings"] == 0 {
            continue;
        }
        let name = format!(
            "space.week.{}.{}",
            room["space_id"].as_str().unwrap(),
            day["on"].as_str().unwrap()
        );
        let hours = day["booked_minutes"].as_f64().unwrap() / 60.0;
        let shown = page[&name].as_str().unwrap_or_default();
        let shown: f64 = shown.trim_end_matches('h').parse().unwrap_or(-1.0);
        assert!(
            (shown - hours).abs() < 0.051,
            "{name}: {shown} h, the API says {hours}"
        );
    }
}

/// Live: a command through the API changes the page, with no reload.
async fn a_command_shows_without_a_reload(app: &TestApp, browser: &Browser, store: &str) {
    browser.js("window.__sameDocument = 42;", vec![]).await;
    let before = count(
        &browser.js(FIGURES, vec![]).await,
        "funding.stage.application",
    );
    let sent = Instant::now();
    app.apply("Live Wire Studio", Some("2026-autumn")).await;
    browser
        .wait_until(
            "the new application on the page",
            &format!(
                "const el = document.querySelector('[data-figure=\"funding.stage.application\"]'); \
                 return el && el.textContent === '{}';",
                before + 1
            ),
            Duration::from_secs(10),
        )
        .await;
    eprintln!(
        "dashboard on {store}: a command showed on the page {} ms after it was sent",
        sent.elapsed().as_millis()
    );
    assert_eq!(
        browser.js("return window.__sameDocument;", vec![]).await,
        json!(42),
        "the page reloaded"
    );
}

/// A token revoked while the page is open: the next refresh is refused and the page asks
/// for a token again; signed in with another, it is live again, still without a reload.
async fn a_revoked_token_signs_the_page_out(app: &TestApp, browser: &Browser) {
    {
        let tokens = incubator_server::store::Store::open(&app.db.url)
            .await
            .expect("open the store");
        incubator_server::auth::revoke(&tokens.read, "lobby screen")
            .await
            .expect("revoke");
        tokens.close().await;
    }
    app.apply("Revoked Echo", None).await;
    browser
        .wait_until(
            "the sign-in form after the revocation",
            "return document.body.dataset.state === 'signed-out' && \
               document.getElementById('signin-error').textContent",
            Duration::from_secs(10),
        )
        .await;
    let second = app.token(Role::Viewer).await;
    browser.sign_in(&second).await;
    browser
        .wait_until(
            "the board again",
            "return document.body.dataset.state === 'ready'",
            Duration::from_secs(30),
        )
        .await;
    // What the page shows once signed in again may not have caught up with the application
    // sent to be refused (it arrives live, or with the next); whichever comes, the figure grows
    // past what was shown, without a reload.
    let shown = count(
        &browser.js(FIGURES, vec![]).await,
        "funding.stage.application",
    );
    app.apply("Second Wind", None).await;
    browser
        .wait_until(
            "the page live again",
            &format!(
                "const el = document.querySelector('[data-figure=\"funding.stage.application\"]'); \
                 return el && Number(el.textContent.replace(/\\D/g, '')) > {shown};"
            ),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        browser.js("return window.__sameDocument;", vec![]).await,
        json!(42),
        "the page reloaded"
    );
}

/// Every figure, bar and column is a link to its list.
async fn every_figure_opens_its_list(app: &TestApp, browser: &Browser) {
    let unlinked = browser
        .js(
            "return [...document.querySelectorAll('.figures li, .bars li, .columns li')] \
               .filter(li => !li.querySelector('a[href^=\"#/list/\"]')).map(li => li.textContent.trim());",
            vec![],
        )
        .await;
    assert_eq!(unlinked, json!([]), "figures without a list behind them");
    // The startups in screening, as the API lists them.
    let screening = all(app, "/api/v1/funding/startups?stage=screening").await;
    browser
        .js(
            "document.querySelector('[data-figure=\"funding.stage.screening\"]').closest('a').click();",
            vec![],
        )
        .await;
    let rows = browser
        .wait_until(
            "the list of startups in screening",
            "const t = document.getElementById('list-table'); \
             return !document.getElementById('list').hidden && t.tBodies[0] && t.tBodies[0].rows.length \
               ? [...t.tBodies[0].rows].map(r => r.cells[0].textContent) : null;",
            Duration::from_secs(10),
        )
        .await;
    let mut shown: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut listed: Vec<&str> = screening
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    shown.sort_unstable();
    listed.sort_unstable();
    assert_eq!(shown, listed);
    // The list takes the board's place: the board is out of sight, the list at the top.
    assert_eq!(
        self::shown(browser, &["board", "list", "signin"]).await,
        json!([false, true, false]),
        "a list replaces the board"
    );
    browser.js("history.back();", vec![]).await;
    browser
        .wait_until(
            "back on the dashboard",
            "return !document.getElementById('board').hidden",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(
        self::shown(browser, &["board", "list", "signin"]).await,
        json!([true, false, false]),
        "back on the board"
    );
}

/// Room bookings read in hub time (Europe/Luxembourg), not UTC: a summer week.
async fn bookings_read_in_hub_time(app: &TestApp, browser: &Browser) {
    let week = "from=2026-06-01&to=2026-06-07";
    let bookings = app
        .get_json(&format!("/api/v1/space-usage/bookings?{week}&limit=50"))
        .await;
    let first = &bookings["items"][0];
    let starts: chrono::DateTime<chrono::Utc> =
        first["starts_at"].as_str().unwrap().parse().unwrap();
    let expected = incubator_domain::values::hub_local(starts)
        .format("%H:%M")
        .to_string();
    browser
        .js(
            &format!("location.hash = '#/list/bookings?{week}';"),
            vec![],
        )
        .await;
    let shown_from = browser
        .wait_until(
            "the week's bookings",
            "const t = document.getElementById('list-table'); \
             return !document.getElementById('list').hidden && t.tBodies[0] && t.tBodies[0].rows.length \
               && t.tHead.rows[0].cells[4].textContent.includes('hub time') \
               ? t.tBodies[0].rows[0].cells[4].textContent : null;",
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(shown_from, json!(expected), "{first}");
    browser.js("history.back();", vec![]).await;
    browser
        .wait_until(
            "back on the dashboard",
            "return !document.getElementById('board').hidden",
            Duration::from_secs(10),
        )
        .await;
}

/// Keyboard and labels: the first Tab stop is the skip link; every control has a name.
async fn keyboard_labels_and_contrast(browser: &Browser) {
    let unlabelled = browser
        .js(
            "return [...document.querySelectorAll('input, select')] \
               .filter(e => !e.labels.length && !e.getAttribute('aria-label')).map(e => e.id || e.name);",
            vec![],
        )
        .await;
    assert_eq!(unlabelled, json!([]), "controls without a label");
    // Keyboard: from the top of the page, Tab reaches the skip link, Enter follows it.
    browser
        .js(
            "window.scrollTo(0, 0); document.activeElement.blur();",
            vec![],
        )
        .await;
    let body = browser
        .client
        .find(fantoccini::Locator::Css("body"))
        .await
        .expect("body");
    body.send_keys("\u{E004}").await.expect("Tab");
    let first_stop = browser
        .js("return document.activeElement.className;", vec![])
        .await;
    assert_eq!(first_stop, json!("skip"), "the first Tab stop");
    browser
        .client
        .active_element()
        .await
        .expect("the focused element")
        .send_keys("\u{E007}")
        .await
        .expect("Enter");
    browser
        .wait_until(
            "the skip link to move focus to the figures",
            "return document.activeElement.id === 'main'",
            Duration::from_secs(5),
        )
        .await;
    // Contrast: every visible text against the background it is drawn on, WCAG AA (4.5:1, or
    // 3:1 for large text).
    let low = browser.js(CONTRAST, vec![]).await;
    assert_eq!(low, json!([]), "text below WCAG AA contrast");
}

/// A wall screen and a phone: screenshots, and nothing wider than the phone's screen.
async fn a_wall_screen_and_a_phone(browser: &Browser, store: &str) {
    let dir = screenshot_dir();
    browser
        .screenshot(&dir.join(format!("{store}-wall-1920.png")))
        .await;
    // And the whole page at that width, for a person to look over.
    let height = browser
        .js("return document.documentElement.scrollHeight;", vec![])
        .await
        .as_u64()
        .unwrap_or(1080);
    browser
        .client
        .set_window_size(
            1920,
            u32::try_from(height).unwrap_or(1080).clamp(1080, 8000) + 140,
        )
        .await
        .expect("resize to the whole page");
    browser
        .screenshot(&dir.join(format!("{store}-wall-1920-whole.png")))
        .await;
    browser
        .client
        .set_window_size(390, 844)
        .await
        .expect("resize to a phone");
    let overflow = browser
        .wait_until(
            "the phone layout",
            "return window.innerWidth <= 420 ? \
               [document.documentElement.scrollWidth, window.innerWidth] : null;",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        overflow[0].as_i64() <= overflow[1].as_i64(),
        "the page is wider than a phone: {overflow}"
    );
    browser
        .screenshot(&dir.join(format!("{store}-phone-390.png")))
        .await;
}
