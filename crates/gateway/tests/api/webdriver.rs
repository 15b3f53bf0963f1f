//! The console's browser tests drive Debian's headless Chromium through chromedriver with
//! fantoccini; this module starts chromedriver in its own process group (and ends that group,
//! never anything else) and gives the tests a few page-level waits.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

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
    client: fantoccini::Client,
    driver: Child,
    _profile: tempfile::TempDir,
    pub screenshots: PathBuf,
}

/// An element of the current page.
pub struct Element {
    inner: fantoccini::elements::Element,
}

/// How long a test waits for a page to show what it expects.
const PAGE_WAIT: Duration = Duration::from_secs(10);
/// How often a wait looks again (fantoccini's waits sleep this long between looks).
const POLL_PERIOD: Duration = Duration::from_millis(25);

impl Browser {
    /// Starts chromedriver on a free port (waiting for its "started" line) and a headless
    /// Chromium session through fantoccini.
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
        let capabilities = json!({
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
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = fantoccini::ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a WebDriver session");
        let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("console-screenshots");
        std::fs::create_dir_all(&screenshots).unwrap();
        Browser {
            client,
            driver,
            _profile: profile,
            screenshots,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.expect("page source")
    }

    /// Finds an element, waiting up to 10 s for it to appear (pages load after clicks).
    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PAGE_WAIT)
            .every(POLL_PERIOD)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(inner) => Element { inner },
            Err(e) => panic!(
                "no element matches {css} ({e}) on {}\n{}",
                self.url().await,
                self.source().await
            ),
        }
    }

    /// Clicks what `css` matches and waits until a new page has replaced this one: the old
    /// page's root is marked, and the wait ends when a root without the mark is found.
    pub async fn click_and_wait(&self, css: &str) {
        self.script(
            "document.documentElement.setAttribute('data-einvoice-old-page', ''); return true;",
        )
        .await;
        self.find(css).await.click().await;
        self.client
            .wait()
            .at_most(PAGE_WAIT)
            .every(POLL_PERIOD)
            .for_element(Locator::Css("html:not([data-einvoice-old-page])"))
            .await
            .unwrap_or_else(|e| panic!("clicking {css} did not load a new page: {e}"));
    }

    /// Waits up to 10 s until the first element matching `css` reads `expected` (a click that
    /// posts a form replaces the page, so an element found too early goes stale).
    pub async fn wait_for_text(&self, css: &str, expected: &str) {
        let deadline = Instant::now() + PAGE_WAIT;
        let mut last = String::new();
        while Instant::now() < deadline {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text == expected {
                        return;
                    }
                    last = text;
                }
            }
            tokio::time::sleep(POLL_PERIOD).await;
        }
        panic!(
            "{css} reads {last:?}, not {expected:?}, on {}",
            self.url().await
        );
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    pub async fn script(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .expect("script")
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize");
    }

    pub async fn screenshot(&self, name: &str) {
        std::fs::write(
            self.screenshots.join(format!("{name}.png")),
            self.screenshot_png().await,
        )
        .unwrap();
    }

    /// The visible page as PNG.
    pub async fn screenshot_png(&self) -> Vec<u8> {
        self.client.screenshot().await.expect("screenshot")
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
        let _ = self.client.clone().close().await;
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

impl Element {
    pub async fn click(&self) {
        self.inner.click().await.expect("click");
    }

    pub async fn clear(&self) {
        self.inner.clear().await.expect("clear");
    }

    pub async fn type_text(&self, text: &str) {
        self.inner.send_keys(text).await.expect("type");
    }

    pub async fn text(&self) -> String {
        self.inner.text().await.expect("text")
    }

    pub async fn property(&self, name: &str) -> Value {
        json!(self.inner.prop(name).await.expect("property"))
    }

    pub async fn attribute(&self, name: &str) -> Option<String> {
        self.inner.attr(name).await.expect("attribute")
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
