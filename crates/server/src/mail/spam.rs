//! Spam scoring with rspamd over its HTTP protocol: received mail is scanned (`/checkv2`) and
//! its score and symbols stamped as `X-Spam-*` headers; above the tenant's Junk threshold it is
//! filed in Junk, above the reject threshold refused. A member's verdict teaches rspamd
//! (`/learnspam`, `/learnham` on the controller): marking a mail as spam or not spam in the web
//! mailbox, or moving it into or out of Junk over IMAP.
//!
//! Decided: rspamd being down or slow never holds mail back (the scan is skipped, logged, and the
//! mail flows as without rspamd); learning happens in the background and its failures are only
//! logged.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// How long a scan may take before the mail goes on unscanned.
const SCAN_TIMEOUT: Duration = Duration::from_secs(15);

/// The server-wide defaults; a tenant may set its own (`bizmail spam`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// At or above: Junk.
    pub junk: f64,
    /// At or above: refused.
    pub reject: f64,
}

/// What rspamd said of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// The score.
    pub score: f64,
    /// rspamd's own action (`no action`, `add header`, `reject`, …).
    pub action: String,
    /// The symbols that matched, by name.
    pub symbols: Vec<String>,
}

impl Scan {
    /// The headers put in front of the message.
    pub fn headers(&self, t: &Thresholds) -> String {
        let spam = self.score >= t.junk || self.action == "reject";
        format!(
            "X-Spam-Status: {}, score={:.1} junk={:.1} reject={:.1}\r\nX-Spam-Score: {:.1}\r\nX-Spam-Symbols: {}\r\n",
            if spam { "Yes" } else { "No" },
            self.score,
            t.junk,
            t.reject,
            self.score,
            self.symbols.join(", ")
        )
    }

    /// Where the message goes under `t`. rspamd's own `reject` (GTUBE, a virus) is a refusal
    /// whatever the score.
    pub fn verdict(&self, t: &Thresholds) -> Verdict {
        if self.action == "reject" || self.score >= t.reject {
            Verdict::Reject
        } else if self.score >= t.junk {
            Verdict::Junk
        } else {
            Verdict::Inbox
        }
    }
}

/// A scan's consequence for one tenant's recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Deliver normally.
    Inbox,
    /// File in Junk.
    Junk,
    /// Refuse the message.
    Reject,
}

/// The rspamd client: scanning, and teaching when a controller is configured.
#[derive(Debug)]
pub struct Rspamd {
    http: reqwest::Client,
    scan_url: String,
    controller: Option<String>,
    password: String,
    /// The server-wide thresholds.
    pub defaults: Thresholds,
}

impl Rspamd {
    /// The client the configuration asks for; `None` when `rspamd_url` is empty.
    pub fn from_config(c: &crate::Config) -> Option<Arc<Rspamd>> {
        if c.rspamd_url.trim().is_empty() {
            return None;
        }
        let controller = c.rspamd_controller_url.trim();
        Some(Arc::new(Rspamd {
            http: reqwest::Client::builder()
                .timeout(SCAN_TIMEOUT)
                .build()
                .unwrap_or_default(),
            scan_url: format!("{}/checkv2", c.rspamd_url.trim().trim_end_matches('/')),
            controller: (!controller.is_empty())
                .then(|| controller.trim_end_matches('/').to_owned()),
            password: c.rspamd_password.clone(),
            defaults: Thresholds {
                junk: c.spam_junk_score,
                reject: c.spam_reject_score,
            },
        }))
    }

    /// Scans a received message; `None` (logged) when rspamd cannot be asked.
    pub async fn scan(
        &self,
        ip: IpAddr,
        helo: &str,
        sender: &str,
        recipients: &[String],
        data: &[u8],
    ) -> Option<Scan> {
        let mut req = self
            .http
            .post(&self.scan_url)
            .header("IP", ip.to_string())
            .header(
                "Helo",
                helo.chars().filter(|c| !c.is_control()).collect::<String>(),
            )
            .header("From", sender);
        for r in recipients {
            req = req.header("Rcpt", r.as_str());
        }
        let answer = match req.body(data.to_vec()).send().await {
            Ok(r) if r.status().is_success() => r.json::<serde_json::Value>().await,
            Ok(r) => {
                tracing::warn!(status = %r.status(), "rspamd refused a scan; delivering unscanned");
                return None;
            }
            Err(e) => {
                tracing::warn!(error = %e, "rspamd unreachable; delivering unscanned");
                return None;
            }
        };
        let v = match answer {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "rspamd's answer is not JSON; delivering unscanned");
                return None;
            }
        };
        let mut symbols: Vec<String> = v["symbols"]
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        symbols.sort();
        Some(Scan {
            score: v["score"].as_f64().unwrap_or(0.0),
            action: v["action"].as_str().unwrap_or("no action").to_owned(),
            symbols,
        })
    }

    /// Teaches rspamd that `raw` is spam (or not), in the background.
    pub fn learn(self: &Arc<Self>, raw: Vec<u8>, spam: bool) {
        let Some(controller) = &self.controller else {
            return;
        };
        let url = format!(
            "{controller}/{}",
            if spam { "learnspam" } else { "learnham" }
        );
        let this = self.clone();
        tokio::spawn(async move {
            let mut req = this.http.post(&url).body(raw);
            if !this.password.is_empty() {
                req = req.header("Password", this.password.as_str());
            }
            match req.send().await {
                Ok(r) if r.status().is_success() => crate::telemetry::spam_learned(spam),
                // 204 and 208 (too short, already learned) are rspamd declining, not failing.
                Ok(r) => tracing::debug!(status = %r.status(), spam, "rspamd did not learn"),
                Err(e) => tracing::warn!(error = %e, spam, "could not teach rspamd"),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_follow_the_thresholds_and_rspamd_rejects() {
        let t = Thresholds {
            junk: 6.0,
            reject: 15.0,
        };
        let scan = |score, action: &str| Scan {
            score,
            action: action.into(),
            symbols: vec!["A".into(), "B".into()],
        };
        assert_eq!(scan(1.0, "no action").verdict(&t), Verdict::Inbox);
        assert_eq!(scan(7.0, "add header").verdict(&t), Verdict::Junk);
        assert_eq!(scan(15.0, "add header").verdict(&t), Verdict::Reject);
        assert_eq!(scan(0.0, "reject").verdict(&t), Verdict::Reject);
        let h = scan(7.25, "add header").headers(&t);
        assert!(h.starts_with("X-Spam-Status: Yes, score=7.2"), "{h}");
        assert!(h.contains("X-Spam-Symbols: A, B\r\n"));
    }
}
