//! A typed Rust client for the BizMail OpenApi, as served by bizmail (or by Tencent Exmail).
//!
//! [`Client`] holds an admin name and interface key, fetches an access token when it needs one,
//! and fetches a new one once when a call answers `1200 invalid_token` (what every recorded client
//! does). Answers are classified the protocol's way: an empty body is success without data, an
//! `{"errcode",…}` body is an [`ApiError`], anything else is the endpoint's JSON.
//!
//! Every endpoint has a typed method: the directory (`user_*`, `party_*`, `group_*`, in
//! [`directory`]), mail (`mail_new_count`, `mail_auth_key`, [`Client::sso_url`], in [`mail`]) and
//! the push ([`Client::listen`] for one poll, [`Listener`] for the protocol's loop). Answers are
//! the protocol crate's types, so they decode exactly what the wire carries.

pub mod directory;
pub mod listen;
pub mod mail;

pub use bizmail_protocol::response::{
    AuthKey, CheckItem, CheckList, Idle, ListenAnswer, NewCount, NewMailNotice, TokenResponse,
    UnreadNotice, UserChange, UserInfo, UserList, ValueItem, ValueList, VerNotice,
};
pub use bizmail_protocol::{ApiError, ErrorCode, Ver};
pub use directory::{GroupStatus, MemberUpdate, NewGroup, NewMember, OpenType};
pub use listen::{Listener, Notice};
use tokio::sync::Mutex;

/// What can go wrong with a call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request did not complete (connection refused, timeout, …).
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    /// The server answered with a protocol error.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The server answered something that is neither success nor a protocol error.
    #[error("unexpected answer ({status}): {body}")]
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// The body, as text.
        body: String,
    },
}

impl Error {
    /// The protocol error code, when the server answered one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Error::Api(e) => e.code(),
            _ => None,
        }
    }
}

/// A client of one tenant's OpenApi.
pub struct Client {
    http: reqwest::Client,
    base: String,
    client_id: String,
    client_secret: String,
    token: Mutex<Option<String>>,
}

impl Client {
    /// A client for the server at `base_url` (e.g. `http://127.0.0.1:12211`), authenticating as
    /// admin `client_id` with interface key `client_secret`.
    pub fn new(base_url: &str, client_id: &str, client_secret: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: base_url.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            token: Mutex::new(None),
        }
    }

    /// Requests a new access token (§3) and keeps it for later calls.
    pub async fn fetch_token(&self) -> Result<TokenResponse, Error> {
        let resp = self
            .http
            .post(format!("{}/cgi-bin/token", self.base))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.client_id.as_str()),
                ("client_secret", self.client_secret.as_str()),
            ])
            .send()
            .await?;
        let body = classify(resp).await?;
        let token: TokenResponse = serde_json::from_str(&body).map_err(|_| Error::Unexpected {
            status: 200,
            body: body.clone(),
        })?;
        *self.token.lock().await = Some(token.access_token.clone());
        Ok(token)
    }

    async fn current_token(&self) -> Result<String, Error> {
        if let Some(t) = self.token.lock().await.clone() {
            return Ok(t);
        }
        Ok(self.fetch_token().await?.access_token)
    }

    /// The server's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The admin this client authenticates as (`client_id`, and the `agent` of SSO links).
    pub fn admin(&self) -> &str {
        &self.client_id
    }

    /// Calls `openapi/<endpoint>` with form parameters; returns the body of a successful answer
    /// (empty for success without data). Refreshes the token once on `1200`.
    pub async fn call(&self, endpoint: &str, params: &[(&str, &str)]) -> Result<String, Error> {
        let mut refreshed = false;
        loop {
            let token = self.current_token().await?;
            let resp = self
                .http
                .post(format!(
                    "{}/openapi/{}",
                    self.base,
                    endpoint.trim_start_matches('/')
                ))
                .bearer_auth(&token)
                .form(params)
                .send()
                .await?;
            match classify(resp).await {
                Err(e) if e.code() == Some(ErrorCode::InvalidToken) && !refreshed => {
                    refreshed = true;
                    *self.token.lock().await = None;
                }
                other => return other,
            }
        }
    }

    /// Calls an endpoint that answers success without data: anything but an empty body is
    /// unexpected.
    pub async fn call_empty(&self, endpoint: &str, params: &[(&str, &str)]) -> Result<(), Error> {
        let body = self.call(endpoint, params).await?;
        if body.is_empty() {
            Ok(())
        } else {
            Err(Error::Unexpected { status: 200, body })
        }
    }

    /// Calls an endpoint and decodes its JSON answer.
    pub async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &str,
        params: &[(&str, &str)],
    ) -> Result<T, Error> {
        let body = self.call(endpoint, params).await?;
        serde_json::from_str(&body).map_err(|_| Error::Unexpected { status: 200, body })
    }

    /// bizmail's authenticated no-op (`openapi/bizmail/ping`): `Ok` while the credentials work.
    pub async fn ping(&self) -> Result<(), Error> {
        self.call("bizmail/ping", &[]).await.map(|_| ())
    }
}

/// Splits an answer into success (the body) and failure (a protocol error or something else).
async fn classify(resp: reqwest::Response) -> Result<String, Error> {
    let status = resp.status().as_u16();
    let body = resp.text().await?;
    if body.trim_start().starts_with('{')
        && let Ok(err) = serde_json::from_str::<ApiError>(&body)
    {
        return Err(Error::Api(err));
    }
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(Error::Unexpected { status, body })
    }
}
