//! A real browser for the dashboard's tests: Debian's Chromium, headless, driven over WebDriver
//! by its ChromeDriver (`apt-get install chromium chromium-driver`; `.ci/run` installs both).
//! Without them the tests fail with that instruction; they never skip.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

/// The Chromium binary (`INCUBATOR_CHROMIUM` overrides).
fn chromium() -> String {
    std::env::var("INCUBATOR_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned())
}

/// The ChromeDriver binary (`INCUBATOR_CHROMEDRIVER` overrides).
fn chromedriver() -> String {
    std::env::var("INCUBATOR_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".to_owned())
}

const MISSING: &str = "the dashboard tests need Chromium and ChromeDriver: \
     apt-get install chromium chromium-driver (or set INCUBATOR_CHROMIUM and \
     INCUBATOR_CHROMEDRIVER)";

/// A headless Chromium session; the driver and the browser end when it is closed or dropped.
pub struct Browser {
    pub client: Client,
    driver: tokio::process::Child,
    profile: PathBuf,
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with a window of `width` × `height` CSS
    /// pixels and a profile of its own.
    pub async fn launch(width: u32, height: u32) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let driver = tokio::process::Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("{MISSING}: cannot start chromedriver: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let profile =
            std::env::temp_dir().join(format!("incubator-chromium-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&profile).expect("profile dir");
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    "--disable-extensions",
                    "--disable-background-networking",
                    "--force-device-scale-factor=1",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let started = Instant::now();
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if started.elapsed() > Duration::from_secs(20) => {
                    panic!("{MISSING}: no browser session: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        Self {
            client,
            driver,
            profile,
        }
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page and returns its
    /// value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Types `token` into the dashboard's sign-in form and submits it.
    pub async fn sign_in(&self, token: &str) {
        self.js(
            "document.getElementById('token').value = arguments[0]; \
             document.getElementById('signin-form').requestSubmit();",
            vec![Value::String(token.to_owned())],
        )
        .await;
    }

    /// Waits (up to `limit`) until `script` returns something truthy, and returns it.
    pub async fn wait_until(&self, what: &str, script: &str, limit: Duration) -> Value {
        let started = Instant::now();
        loop {
            let v = self.js(script, vec![]).await;
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return v;
            }
            assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves a PNG of the viewport to `path`.
    pub async fn screenshot(&self, path: &std::path::Path) {
        let png = self.client.screenshot().await.expect("screenshot");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, png).expect("write the screenshot");
    }

    /// Ends the session (the browser quits) and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Where screenshots go: `target/dashboard/` of the workspace.
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").map_or_else(
        |_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("dashboard")
}
