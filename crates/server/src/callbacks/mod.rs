//! The new-mail callbacks (新邮件提醒 callback, EXMAIL_API.md §4.7): bizmail calls a tenant's
//! receiver with each new-mail and unread-count notice, encrypted and signed as WeCom does.
//!
//! Setting a receiver checks its URL first ([`Callbacks::set`]: an encrypted `echostr` the
//! receiver must answer decrypted), and only a URL that passes is kept. From then on the worker
//! ([`worker`]) copies the tenant's `newmail` and `unread` events from the event log into a
//! durable outbox (the notice's plaintext fixed once, so a retry sends the same `MailID`) and
//! POSTs them, one at a time per tenant and in order, retrying after each configured delay and
//! then dropping (and counting) a notice no attempt got through.
//!
//! Delivery is at least once: a node that stops between the receiver's 2xx and recording it sends
//! that notice again once its lease runs out. Receivers see the same `MailID` then.

mod waiting;
mod worker;

use crate::auth::vault::{Vault, VaultError};
use crate::store::{self, Store, StoreError};
use base64::Engine as _;
use bizmail_protocol::cgi::crypto::{self, CallbackKey};
use std::sync::Arc;
use std::time::Duration;

pub use waiting::WaitingNotice;
pub(crate) use worker::spawn;

/// The most of a receiver's answer to the URL check that is read: the echo is 18 digits.
const MAX_ECHO_BYTES: usize = 4096;
/// The longest receiver URL kept.
const MAX_URL_CHARS: usize = 2048;

/// How the callbacks are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackSettings {
    /// How often the event log is copied to the outbox and due notices are looked for.
    pub poll: Duration,
    /// The wait before each retry of a notice that failed; after the last, it is dropped.
    pub retry_delays: Vec<Duration>,
    /// How long one request (the URL check, a notice) may take.
    pub timeout: Duration,
    /// How long a node holds a notice it is sending; another node takes it over after that, so
    /// it must be well over `timeout`.
    pub lease: Duration,
}

impl Default for CallbackSettings {
    /// Every second; retries after 1, 5 and 30 minutes (§4.7); 5 s per request; 60 s leases.
    fn default() -> Self {
        CallbackSettings {
            poll: Duration::from_secs(1),
            retry_delays: [60, 300, 1800].map(Duration::from_secs).to_vec(),
            timeout: Duration::from_secs(5),
            lease: Duration::from_secs(60),
        }
    }
}

impl CallbackSettings {
    /// The settings of a server configuration: `callback_poll_ms`, `callback_retry_ms` (one
    /// delay per retry), `callback_timeout_secs`. The lease is three requests' time, at least a
    /// minute.
    pub fn from_config(config: &crate::Config) -> CallbackSettings {
        let timeout = Duration::from_secs(config.callback_timeout_secs.max(1));
        CallbackSettings {
            // A floor, so a zero in a configuration file cannot make a busy loop.
            poll: Duration::from_millis(config.callback_poll_ms.max(10)),
            retry_delays: config
                .callback_retry_ms
                .iter()
                .map(|&ms| Duration::from_millis(ms))
                .collect(),
            timeout,
            lease: timeout.saturating_mul(3).max(Duration::from_secs(60)),
        }
    }
}

/// Why a callback could not be set, tested or read.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    /// The URL is not an absolute `http` or `https` URL with a host (and no fragment).
    #[error("the callback URL must be an http or https URL")]
    InvalidUrl,
    /// The Token is not 3 to 32 ASCII letters and digits (as WeCom asks).
    #[error("the Token must be 3 to 32 letters and digits")]
    InvalidToken,
    /// The EncodingAESKey is not 43 base64 characters decoding to 32 bytes.
    #[error("the EncodingAESKey must be 43 base64 characters")]
    InvalidKey,
    /// The tenant has no corp id, which every notice carries.
    #[error("the tenant has no corp id")]
    NoCorpId,
    /// The tenant has no callback.
    #[error("no callback is set")]
    NotSet,
    /// No member of the tenant has this primary address.
    #[error("no member {0} in this tenant")]
    UnknownUser(String),
    /// The URL check failed (the newer API's 40057); the text says how.
    #[error("the callback URL failed its check: {0}")]
    Unverified(String),
    /// A test notice was not taken; the text says how.
    #[error("the receiver did not take the notice: {0}")]
    NotDelivered(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored EncodingAESKey does not open with this key file.
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// A tenant's callback as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackStatus {
    /// The receiver's URL.
    pub url: String,
    /// Notices the receiver took.
    pub delivered: u64,
    /// Notices dropped after their last retry.
    pub dropped: u64,
    /// Notices waiting in the outbox (being sent or waiting for a retry).
    pub pending: u64,
}

/// The new-mail callbacks: their settings, checks and test notices, and (through
/// [`spawn`]) their delivery. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Callbacks {
    store: Store,
    vault: Vault,
    /// `None` only when the HTTP client could not be built (logged once); every request then
    /// fails rather than going out with a client that follows redirects or never times out.
    http: Option<reqwest::Client>,
    settings: Arc<CallbackSettings>,
}

/// Where and how one tenant's notices go.
struct Target {
    url: reqwest::Url,
    token: String,
    key: CallbackKey,
    corp_id: String,
}

impl Callbacks {
    /// The callbacks kept in `store`, their keys sealed by `vault`.
    pub fn new(store: Store, vault: Vault, settings: CallbackSettings) -> Callbacks {
        // No redirects: the receiver the admin checked is the one that gets the notices, and a
        // redirect could send them (and the signature) anywhere.
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .inspect_err(|e| tracing::error!(error = %e, "no HTTP client for callbacks"))
            .ok();
        Callbacks {
            store,
            vault,
            http,
            settings: Arc::new(settings),
        }
    }

    /// Sets (or replaces) a tenant's receiver after checking its URL as the real service did:
    /// `GET url?msg_signature&timestamp&nonce&echostr` must answer 2xx with the decrypted
    /// `echostr`. Nothing is stored unless it does. A new receiver gets the notices of what
    /// happens from now on; a replaced one keeps its waiting notices and counts.
    ///
    /// # Errors
    /// A malformed URL, Token or EncodingAESKey; a tenant without a corp id; a failed check
    /// ([`CallbackError::Unverified`]); the database.
    pub async fn set(
        &self,
        tenant_id: i64,
        url: &str,
        token: &str,
        encoding_aes_key: &str,
    ) -> Result<(), CallbackError> {
        let url = check_url(url)?;
        check_token(token)?;
        let key = CallbackKey::from_encoding_aes_key(encoding_aes_key)
            .map_err(|_| CallbackError::InvalidKey)?;
        let corp_id = store::corp::corp_id(&self.store, tenant_id)
            .await?
            .ok_or(CallbackError::NoCorpId)?;
        let target = Target {
            url,
            token: token.to_owned(),
            key,
            corp_id,
        };
        self.verify(&target).await?;
        let head = store::events::head_event(&self.store, tenant_id).await?;
        let sealed = self.vault.seal(tenant_id, encoding_aes_key);
        // The Token signs every notice: sealed like the key, kept as base64 text.
        let token_sealed =
            base64::engine::general_purpose::STANDARD.encode(self.vault.seal(tenant_id, token));
        store::callbacks::put(
            &self.store,
            tenant_id,
            target.url.as_str(),
            &token_sealed,
            &sealed,
            head,
        )
        .await?;
        // Not the URL: its query may hold the receiver's own secret.
        tracing::info!(tenant_id, "callback set");
        Ok(())
    }

    /// Removes a tenant's receiver and the notices waiting for it; false when it had none.
    ///
    /// # Errors
    /// The database.
    pub async fn remove(&self, tenant_id: i64) -> Result<bool, CallbackError> {
        Ok(store::callbacks::delete(&self.store, tenant_id).await?)
    }

    /// A tenant's receiver and its counts; `None` when it has none.
    ///
    /// # Errors
    /// The database.
    pub async fn status(&self, tenant_id: i64) -> Result<Option<CallbackStatus>, CallbackError> {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(store::callbacks::status(&self.store, tenant_id)
            .await?
            .map(|s| CallbackStatus {
                url: s.url,
                delivered: count(s.delivered),
                dropped: count(s.dropped),
                pending: count(s.pending),
            }))
    }

    /// Sends one `UnRead` notice for a member (`user`, an address of theirs) with its real unread
    /// count, now and once, outside the outbox; `Ok` when the receiver answered 2xx.
    ///
    /// # Errors
    /// No callback, no such member, a receiver that did not take it
    /// ([`CallbackError::NotDelivered`]), the database, the vault.
    pub async fn test(&self, tenant_id: i64, user: &str) -> Result<(), CallbackError> {
        let settings = store::callbacks::settings(&self.store, tenant_id)
            .await?
            .ok_or(CallbackError::NotSet)?;
        let (user, unread) = {
            // A primary address or an alias (as the newer API accepts), of this tenant only.
            let mut pooled = self.store.acquire().await?;
            let conn = &mut pooled.conn();
            let member = store::directory::member_by_address(conn, user.trim())
                .await?
                .filter(|m| m.tenant_id == tenant_id)
                .ok_or_else(|| CallbackError::UnknownUser(user.to_owned()))?;
            let unread = store::mail::unread(conn, member.id).await?;
            (member.address, unread)
        };
        let target = self
            .target(
                tenant_id,
                &settings.url,
                &settings.token,
                &settings.key_sealed,
            )
            .await?;
        let plaintext = crypto::UnreadNotice {
            corp_id: &target.corp_id,
            user: &user,
            time: store::now_ms() / 1000,
            unread_count: unread,
        }
        .to_xml();
        self.post(&target, &plaintext)
            .await
            .map_err(CallbackError::NotDelivered)
    }

    /// The receiver of a stored setting, its Token and key unsealed.
    async fn target(
        &self,
        tenant_id: i64,
        url: &str,
        token: &str,
        key_sealed: &[u8],
    ) -> Result<Target, CallbackError> {
        let url = reqwest::Url::parse(url).map_err(|_| CallbackError::InvalidUrl)?;
        let token_sealed = base64::engine::general_purpose::STANDARD
            .decode(token)
            .map_err(|_| CallbackError::InvalidToken)?;
        let token = self.vault.open(tenant_id, &token_sealed)?;
        let key = self.vault.open(tenant_id, key_sealed)?;
        let key =
            CallbackKey::from_encoding_aes_key(&key).map_err(|_| CallbackError::InvalidKey)?;
        let corp_id = store::corp::corp_id(&self.store, tenant_id)
            .await?
            .ok_or(CallbackError::NoCorpId)?;
        Ok(Target {
            url,
            token,
            key,
            corp_id,
        })
    }

    /// The URL check: an encrypted random text as `echostr`; passes on a 2xx whose trimmed body
    /// is that text.
    async fn verify(&self, target: &Target) -> Result<(), CallbackError> {
        let fail = CallbackError::Unverified;
        let http = self
            .http
            .as_ref()
            .ok_or_else(|| fail("no HTTP client".into()))?;
        let echo = random_echo();
        let echostr = target
            .key
            .encrypt(crate::auth::random_bytes(), &echo, &target.corp_id);
        let (timestamp, nonce) = (timestamp(), random_nonce());
        let signature = crypto::signature(&target.token, &timestamp, &nonce, &echostr);
        let url = with_query(
            &target.url,
            &[
                ("msg_signature", &signature),
                ("timestamp", &timestamp),
                ("nonce", &nonce),
                ("echostr", &echostr),
            ],
        );
        let mut resp = http
            .get(url)
            .send()
            .await
            .map_err(|e| fail(request_error(e)))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(fail(format!(
                "the receiver answered HTTP {}",
                status.as_u16()
            )));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(request_error(e)))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_ECHO_BYTES {
                return Err(fail("the receiver's answer is not the echo".into()));
            }
        }
        if String::from_utf8_lossy(&body).trim() != echo {
            return Err(fail("the receiver's answer is not the echo".into()));
        }
        Ok(())
    }

    /// POSTs one notice, freshly encrypted and signed; `Err` says why it was not taken.
    async fn post(&self, target: &Target, plaintext: &str) -> Result<(), String> {
        let http = self.http.as_ref().ok_or("no HTTP client")?;
        let encrypted = target
            .key
            .encrypt(crate::auth::random_bytes(), plaintext, &target.corp_id);
        let (timestamp, nonce) = (timestamp(), random_nonce());
        let signature = crypto::signature(&target.token, &timestamp, &nonce, &encrypted);
        let url = with_query(
            &target.url,
            &[
                ("msg_signature", &signature),
                ("timestamp", &timestamp),
                ("nonce", &nonce),
            ],
        );
        let resp = http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "text/xml")
            .body(crypto::envelope(&target.corp_id, &encrypted))
            .send()
            .await
            .map_err(request_error)?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered HTTP {}", status.as_u16()))
        }
    }
}

/// An absolute `http`/`https` URL with a host and no fragment (a fragment would never reach the
/// receiver, so a URL with one is not what the admin thinks it is).
fn check_url(url: &str) -> Result<reqwest::Url, CallbackError> {
    let url = url.trim();
    if url.is_empty() || url.chars().count() > MAX_URL_CHARS {
        return Err(CallbackError::InvalidUrl);
    }
    let parsed = reqwest::Url::parse(url).map_err(|_| CallbackError::InvalidUrl)?;
    let web = matches!(parsed.scheme(), "http" | "https");
    let host = parsed.host_str().is_some_and(|h| !h.is_empty());
    if !web || !host || parsed.fragment().is_some() {
        return Err(CallbackError::InvalidUrl);
    }
    Ok(parsed)
}

/// WeCom's rule for the Token: letters and digits, at most 32; at least 3 so that it is a secret
/// at all.
fn check_token(token: &str) -> Result<(), CallbackError> {
    let ok = (3..=32).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(CallbackError::InvalidToken)
    }
}

/// `url` with the pairs appended to its query, each percent-encoded as a form value: `+` (common
/// in base64) becomes `%2B`, since receivers running Python's `parse_qs` read a raw `+` as a
/// space.
fn with_query(url: &reqwest::Url, pairs: &[(&str, &str)]) -> reqwest::Url {
    let mut url = url.clone();
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
    }
    url
}

/// The `timestamp` of a request: Unix seconds now.
fn timestamp() -> String {
    (store::now_ms() / 1000).to_string()
}

/// The `nonce` of a request: 10 random digits.
fn random_nonce() -> String {
    random_digits(10)
}

/// The plaintext of an `echostr`: 18 random digits, never starting with 0, as WeCom's look (a
/// receiver that parses it as a number still echoes it unchanged).
fn random_echo() -> String {
    use rand::Rng as _;
    let first = rand::rng().random_range(1..=9u8);
    format!("{first}{}", random_digits(17))
}

/// `n` random decimal digits.
fn random_digits(n: usize) -> String {
    use rand::Rng as _;
    let mut rng = rand::rng();
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

/// A request's failure in words, without the URL (it holds the signature, and the admin knows
/// the URL).
fn request_error(e: reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_redirect() {
        "was redirected"
    } else {
        "failed"
    };
    format!("the request {what}: {}", e.without_url())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_tokens_and_queries() {
        for bad in [
            "",
            "ftp://x/cb",
            "http://",
            "/cb",
            "http://x/cb#top",
            "mailto:a@x",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        let url = check_url(" https://recv.example:8443/cb?app=1 ").unwrap();
        let signed = with_query(&url, &[("msg_signature", "ab"), ("echostr", "a+b/c=")]);
        assert_eq!(
            signed.as_str(),
            "https://recv.example:8443/cb?app=1&msg_signature=ab&echostr=a%2Bb%2Fc%3D"
        );
        let plain = with_query(
            &check_url("http://127.0.0.1:9/").unwrap(),
            &[("nonce", "1")],
        );
        assert_eq!(plain.as_str(), "http://127.0.0.1:9/?nonce=1");
        for ok in ["abc", "QDG6eK", &"a".repeat(32)] {
            assert!(check_token(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "a b c", "tok-en", &"a".repeat(33), "令牌令牌"] {
            assert!(check_token(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nonces_and_echoes_are_digits() {
        let nonce = random_nonce();
        assert_eq!(nonce.len(), 10);
        assert!(nonce.bytes().all(|b| b.is_ascii_digit()));
        let echo = random_echo();
        assert_eq!(echo.len(), 18);
        assert!(echo.parse::<u64>().is_ok() && !echo.starts_with('0'));
        assert_ne!(random_echo(), echo);
    }
}
