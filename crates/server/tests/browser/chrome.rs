//! A real headless Chromium for the browser tests: Debian's `chromium`, driven through Debian's
//! `chromedriver` with fantoccini (WebDriver). Each [`Chrome`] has its own chromedriver, profile
//! and *canary*: a loopback HTTP server that every host name resolves to inside this browser
//! (`--host-resolver-rules`), so any request a mail manages to send to "a remote host" lands there
//! and is counted. The browser's console log and its network log (the `performance` log of
//! Chrome's DevTools events) are read back, so a test can also see dialogs, script errors and
//! every URL the page asked for.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The host name hostile mails point at. Inside the test browser every host name leads to the
/// canary, Chromium's own background traffic included (update checks, TLS to Google's hosts,
/// which `--disable-background-networking` does not stop entirely), so the canary counts only the
/// requests addressed to this name: those can only come from a mail.
pub const HOSTILE_HOST: &str = "evil.example";

/// A loopback HTTP server that records every request it gets (`METHOD path (Host: …)`).
#[derive(Clone)]
pub struct Canary {
    /// Where it listens.
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
}

impl Canary {
    async fn start() -> Canary {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("canary binds");
        let addr = listener.local_addr().expect("canary address");
        let hits = Arc::new(Mutex::new(Vec::new()));
        let seen = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf))
                        .await
                        .ok()
                        .and_then(Result::ok)
                        .unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]);
                    let line = head
                        .lines()
                        .next()
                        .unwrap_or("(no request line)")
                        .to_owned();
                    let host = head
                        .lines()
                        .find_map(|l| {
                            l.strip_prefix("Host: ")
                                .or_else(|| l.strip_prefix("host: "))
                        })
                        .unwrap_or("?")
                        .to_owned();
                    seen.lock()
                        .expect("canary lock")
                        .push(format!("{line} (Host: {host})"));
                    let _ = s
                        .write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
                        .await;
                });
            }
        });
        Canary { addr, hits }
    }

    /// A URL on the canary under the hostile host name.
    pub fn url(&self, path: &str) -> String {
        format!("http://{HOSTILE_HOST}:{}/{path}", self.addr.port())
    }

    /// Every request a mail made (those addressed to [`HOSTILE_HOST`]) so far.
    pub fn hits(&self) -> Vec<String> {
        let host = format!("(Host: {HOSTILE_HOST}");
        self.hits
            .lock()
            .expect("canary lock")
            .iter()
            .filter(|h| h.contains(&host))
            .cloned()
            .collect()
    }
}

/// One log entry of the browser's.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// The message (for the performance log: a DevTools event as JSON).
    pub message: String,
}

/// chromedriver's log endpoint (`POST /session/{id}/se/log`), which WebDriver itself lacks.
#[derive(Debug)]
struct GetLog(&'static str);

impl WebDriverCompatibleCommand for GetLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({ "type": self.0 }).to_string()),
        )
    }
}

/// chromedriver and a Chromium it drives; killed (the whole process group) when dropped.
pub struct Chrome {
    /// The WebDriver session.
    pub client: Client,
    /// Where "remote hosts" really are.
    pub canary: Canary,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Chrome {
    /// Starts chromedriver and a headless Chromium with a fresh profile. Panics with what to install
    /// when Debian's packages are missing.
    pub async fn start() -> Chrome {
        for bin in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(bin).exists(),
                "{bin} is missing: the browser tests need Debian's chromium and chromium-driver \
                 (apt-get install chromium chromium-driver; .ci/run installs them)"
            );
        }
        let canary = Canary::start().await;
        let port = bizmail_testkit::free_port();
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("a profile folder");
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--window-size=1280,860".to_owned(),
            "--lang=zh-CN".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
            // Every host name is the canary; bizmail itself is reached by IP address.
            format!(
                "--host-resolver-rules=MAP * 127.0.0.1:{}, EXCLUDE 127.0.0.1",
                canary.addr.port()
            ),
        ];
        let caps = json!({
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:loggingPrefs": { "browser": "ALL", "performance": "ALL" },
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                // What a person in China sends; headless Chromium ignores --lang.
                "prefs": { "intl.accept_languages": "zh-CN,zh" },
            },
        });
        let caps = caps.as_object().cloned().unwrap_or_default();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let attempt =
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps.clone())
                    .connect(&url)
                    .await;
            match attempt {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver did not start Chromium: {e}"),
            }
        };
        Chrome {
            client,
            canary,
            driver,
            _profile: profile,
        }
    }

    /// Navigates and waits for the page (and its frames) to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    /// The path of the current page.
    pub async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("current URL")
            .path()
            .to_owned()
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .expect("a body")
            .text()
            .await
            .expect("its text")
    }

    /// Types into the input (or text area) named `name`.
    pub async fn fill(&self, name: &str, value: &str) {
        let input = self
            .client
            .find(Locator::Css(&format!(
                "[name=\"{name}\"]:not([type=hidden])"
            )))
            .await
            .unwrap_or_else(|e| panic!("no input {name}: {e}"));
        input.clear().await.expect("clear");
        input.send_keys(value).await.expect("type");
    }

    /// Clicks the button with this text (and waits for the navigation it starts).
    pub async fn click_button(&self, label: &str) {
        let buttons = self
            .client
            .find_all(Locator::Css("button"))
            .await
            .expect("buttons");
        for b in buttons {
            if b.text().await.unwrap_or_default().trim() == label {
                b.click().await.expect("click");
                tokio::time::sleep(Duration::from_millis(150)).await;
                self.client
                    .wait()
                    .for_element(Locator::Css("body"))
                    .await
                    .expect("the next page");
                return;
            }
        }
        panic!("no button {label:?} on {}", self.text().await);
    }

    /// The browser's log of one kind (`browser`: the console; `performance`: DevTools events),
    /// since the last read.
    pub async fn log(&self, kind: &'static str) -> Vec<LogEntry> {
        let v = self
            .client
            .issue_cmd(GetLog(kind))
            .await
            .expect("chromedriver log");
        v.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| LogEntry {
                        message: e["message"].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The URL of every request in the network log since the last read, and whether a JavaScript
    /// dialog opened.
    pub async fn network(&self) -> (Vec<String>, bool) {
        let mut urls = Vec::new();
        let mut dialog = false;
        for e in self.log("performance").await {
            let Ok(v) = serde_json::from_str::<Value>(&e.message) else {
                continue;
            };
            let method = v["message"]["method"].as_str().unwrap_or_default();
            if method == "Network.requestWillBeSent" {
                urls.push(
                    v["message"]["params"]["request"]["url"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            }
            if method == "Page.javascriptDialogOpening" {
                dialog = true;
            }
        }
        (urls, dialog)
    }

    /// Whether a dialog (`alert`, `confirm`, `prompt`) is open now.
    pub async fn dialog_open(&self) -> bool {
        self.client.get_alert_text().await.is_ok()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let png = self.client.screenshot().await.expect("a screenshot");
        assert!(
            png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 1000,
            "a PNG"
        );
        png
    }

    /// Ends the WebDriver session (Chromium exits); the driver goes when dropped.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        // chromedriver leads its own process group; Chromium's processes are in it too. (procps'
        // `kill` signals the group; should it be missing, the driver itself still goes.)
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
