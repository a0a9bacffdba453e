//! What a scenario loads: the server's HTTP base, an admin's interface key, a mail domain of that
//! tenant and the SMTP listener. Either the bench's own server (started per backend) or, with
//! `--external`, one that is already running, bizmail or any other product speaking the same API,
//! so that the same load can be aimed at both.

use bizmail_testkit::TestServer;
use std::net::SocketAddr;

/// The server under load and the credentials the scenarios use.
#[derive(Debug, Clone)]
pub struct Target {
    /// The HTTP base URL, without a trailing slash.
    pub base: String,
    /// The admin account (`client_id`).
    pub admin: String,
    /// Its interface key (`client_secret`).
    pub key: String,
    /// A mail domain of the admin's tenant, for the members the scenarios create.
    pub domain: String,
    /// The SMTP listener that receives mail for that domain.
    pub smtp: SocketAddr,
    http: reqwest::Client,
}

impl Target {
    /// The bench's own server and its seeded tenant.
    pub fn of(srv: &TestServer) -> Target {
        let t = srv.tenant();
        Target::new(
            srv.url(""),
            (t.admin.clone(), t.key.clone()),
            t.domain.clone(),
            srv.smtp_addr(),
        )
    }

    /// A server at `base` that someone else runs.
    pub fn new(
        base: String,
        (admin, key): (String, String),
        domain: String,
        smtp: SocketAddr,
    ) -> Target {
        Target {
            base: base.trim_end_matches('/').to_owned(),
            admin,
            key,
            domain,
            smtp,
            http: reqwest::Client::new(),
        }
    }

    /// The URL of `path` (no leading slash).
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// A fresh access token (`/cgi-bin/token`, client credentials).
    pub async fn token(&self) -> anyhow::Result<String> {
        let body = self
            .http
            .post(self.url("cgi-bin/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", self.admin.as_str()),
                ("client_secret", self.key.as_str()),
            ])
            .send()
            .await?
            .text()
            .await?;
        let v: serde_json::Value = serde_json::from_str(&body)
            .map_err(|_| anyhow::anyhow!("the token answer is not JSON: {body}"))?;
        v["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no token for {}: {body}", self.admin))
    }

    /// An OpenApi call with form fields; the status and the body.
    pub async fn call(
        &self,
        token: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<(u16, String)> {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .form(fields)
            .send()
            .await?;
        let status = r.status().as_u16();
        Ok((status, r.text().await?))
    }

    /// Adds a member `<local>.<random>@domain` with a password and returns its address.
    pub async fn member(&self, token: &str, local: &str) -> anyhow::Result<String> {
        let to = format!("{local}.{}@{}", bizmail_testkit::random_tag(), self.domain);
        let (_, body) = self
            .call(
                token,
                "openapi/user/sync",
                &[
                    ("Action", "2"),
                    ("Alias", &to),
                    ("Name", "Bench"),
                    ("Password", "secret123"),
                ],
            )
            .await?;
        anyhow::ensure!(body.is_empty(), "adding the member {to} failed: {body}");
        Ok(to)
    }
}
