//! A small W3C WebDriver client over reqwest, driving Debian's headless Chromium through
//! chromedriver, for the console's browser tests.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Whether the browser tests can run here; under `CI=true` they must.
pub fn browser_available() -> bool {
    let present = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
    if !present {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but {CHROMIUM} or {CHROMEDRIVER} is missing (apt-get install chromium chromium-driver)");
        }
        eprintln!("SKIPPED: browser tests need Debian's chromium and chromium-driver");
    }
    present
}

pub struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
    pub screenshots: PathBuf,
}

pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Starts chromedriver on a free port (waiting for its "started" line) and a headless
    /// Chromium session.
    pub async fn start(width: u32, height: u32) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // Its own process group: Chromium's processes go with it, even when a test fails.
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let stdout = driver.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await
                .expect("chromedriver announces itself")
                .unwrap()
                .expect("chromedriver is running");
            if line.contains("started successfully") {
                break;
            }
        }
        // Keep draining its output so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let profile = tempfile::tempdir().unwrap();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_string();
        let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("console-screenshots");
        std::fs::create_dir_all(&screenshots).unwrap();
        Browser {
            http,
            base,
            session,
            driver,
            _profile: profile,
            screenshots,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{}", self.base, self.session, path);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        if let Some(error) = answer["value"]["error"].as_str() {
            panic!(
                "WebDriver {path}: {error}: {}",
                answer["value"]["message"].as_str().unwrap_or("")
            );
        }
        answer["value"].clone()
    }

    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let answer: Value = self
            .http
            .post(url)
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["value"][ELEMENT_KEY].as_str().map(str::to_string)
    }

    /// Finds an element, waiting up to 10 s for it to appear (pages load after clicks).
    pub async fn find(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(id) = self.try_find(css).await {
                return Element { browser: self, id };
            }
            if Instant::now() > deadline {
                panic!(
                    "no element matches {css} on {}\n{}",
                    self.url().await,
                    self.source().await
                );
            }
            tokio::task::yield_now().await;
        }
    }

    /// Clicks what `css` matches and waits until a new page has replaced this one.
    pub async fn click_and_wait(&self, css: &str) {
        self.script("window.__einvoiceOldPage = true; return true;")
            .await;
        self.find(css).await.click().await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}/session/{}/execute/sync", self.base, self.session);
            let answer: Value = self
                .http
                .post(url)
                .json(&json!({"script": "return window.__einvoiceOldPage === undefined && document.readyState === 'complete';", "args": []}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if answer["value"] == json!(true) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "clicking {css} did not load a new page"
            );
            tokio::task::yield_now().await;
        }
    }

    /// Waits up to 10 s until the first element matching `css` reads `expected` (a click that
    /// posts a form replaces the page, so an element found too early goes stale).
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Some(id) = self.try_find(css).await {
                let url = format!("{}/session/{}/element/{id}/text", self.base, self.session);
                let answer: Value = self
                    .http
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if let Some(text) = answer["value"].as_str() {
                    if text == expected {
                        return;
                    }
                    last = text.to_string();
                }
            }
            tokio::task::yield_now().await;
        }
        panic!(
            "{css} reads {last:?}, not {expected:?}, on {}",
            self.url().await
        );
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.try_find(css).await.is_some()
    }

    pub async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    pub async fn screenshot(&self, name: &str) {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::write(self.screenshots.join(format!("{name}.png")), png).unwrap();
    }

    /// Fails unless every visible input, select and textarea has a label.
    pub async fn assert_labelled(&self) {
        let unlabelled = self
            .script(
                "return Array.from(document.querySelectorAll('input, select, textarea'))\
                 .filter(e => e.type !== 'hidden')\
                 .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))\
                 .map(e => e.outerHTML);",
            )
            .await;
        assert_eq!(
            unlabelled,
            json!([]),
            "inputs without a label on {}",
            self.url().await
        );
    }

    pub async fn quit(self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            kill_own_process_group(pid);
        }
    }
}

/// Ends the process group that chromedriver leads (it was started with `process_group(0)`, so
/// the group id is its pid), taking Chromium with it. Through `killpg(2)`, never a shell
/// `kill` whose argument parsing could turn a negative id into "every process"; and only a
/// group that is not ours and not pid 0 or 1.
pub fn kill_own_process_group(pid: u32) {
    use nix::sys::signal::{killpg, Signal};
    use nix::unistd::{getpgrp, Pid};
    let Ok(raw) = i32::try_from(pid) else {
        return;
    };
    let group = Pid::from_raw(raw);
    if raw <= 1 || group == getpgrp() {
        return;
    }
    let _ = killpg(group, Signal::SIGKILL);
}

impl Element<'_> {
    async fn call(&self, method: reqwest::Method, action: &str, body: Option<Value>) -> Value {
        self.browser
            .call(method, &format!("/element/{}{}", self.id, action), body)
            .await
    }

    pub async fn click(&self) {
        self.call(reqwest::Method::POST, "/click", Some(json!({})))
            .await;
    }

    pub async fn clear(&self) {
        self.call(reqwest::Method::POST, "/clear", Some(json!({})))
            .await;
    }

    pub async fn type_text(&self, text: &str) {
        self.call(reqwest::Method::POST, "/value", Some(json!({"text": text})))
            .await;
    }

    pub async fn text(&self) -> String {
        self.call(reqwest::Method::GET, "/text", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    pub async fn property(&self, name: &str) -> Value {
        self.call(reqwest::Method::GET, &format!("/property/{name}"), None)
            .await
    }

    pub async fn attribute(&self, name: &str) -> Option<String> {
        self.call(reqwest::Method::GET, &format!("/attribute/{name}"), None)
            .await
            .as_str()
            .map(str::to_string)
    }
}

#[test]
fn a_process_group_is_ended_without_touching_anything_else() {
    use std::os::unix::process::CommandExt;
    let mut group = std::process::Command::new("sleep")
        .arg("60")
        .process_group(0)
        .spawn()
        .unwrap();
    let mut bystander = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    // Refused: our own group, init, and "every process".
    kill_own_process_group(0);
    kill_own_process_group(1);
    kill_own_process_group(nix::unistd::getpgrp().as_raw() as u32);
    kill_own_process_group(group.id());
    let status = group.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "the group's leader was killed"
    );
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "a process outside the group was signalled"
    );
    bystander.kill().unwrap();
    bystander.wait().unwrap();
}
