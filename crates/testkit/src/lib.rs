//! The test harness: starts the real bizmail server (port 0, a temporary data folder) over a fresh
//! SQLite file or a fresh PostgreSQL database, seeds a tenant, and hands out its credentials and an
//! HTTP client. Nothing is mocked.
//!
//! PostgreSQL comes from Debian's `postgresql` package: the first test of a process that asks for it
//! runs `initdb` into a temporary folder and starts a private server on a Unix socket there (as the
//! `postgres` user when running as root, since PostgreSQL refuses root). Each test gets its own
//! database in that cluster. A small shell watchdog holds the server's lifetime to the test
//! process's: when the process exits, however it exits, the server stops and its folder is removed.

pub mod dovecot;
mod host;
mod pg;
pub mod postfix;

/// A URL of a new, empty database in this process's throwaway PostgreSQL cluster (started on first use).
pub use pg::fresh_database as fresh_postgres_database;

pub use bizmail_server::config::Backend;
use bizmail_server::tenants::NewTenant;
use bizmail_server::{Config, Running, Server};
use std::net::SocketAddr;
use tempfile::TempDir;

/// Runs an async test body once per backend: `backend_test! { async fn name(srv) { … } }` makes a
/// module `name` with tests `sqlite` and `postgres`. An optional `config = |c| { … };` before the
/// function adjusts the server's [`Config`].
#[macro_export]
macro_rules! backend_test {
    ($(config = $cfg:expr;)? async fn $name:ident($srv:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            async fn run($srv: $crate::TestServer) $body
            fn builder(backend: $crate::Backend) -> $crate::TestServerBuilder {
                #[allow(unused_mut)]
                let mut b = $crate::TestServer::builder(backend);
                $( b = b.with_config($cfg); )?
                b
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let srv = builder($crate::Backend::Sqlite).start().await;
                run(srv).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let srv = builder($crate::Backend::Postgres).start().await;
                run(srv).await
            }
        }
    };
}

/// A loopback port free right now, for a helper program that must be told its port (a window
/// remains in which another process could take it; tests live with that).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A tenant created for a test, with its secrets in clear.
#[derive(Debug, Clone)]
pub struct SeededTenant {
    /// The tenant's id.
    pub tenant_id: i64,
    /// Its (first) mail domain.
    pub domain: String,
    /// Its admin's name (`client_id`).
    pub admin: String,
    /// The admin's password.
    pub admin_password: String,
    /// The interface key (`client_secret`).
    pub key: String,
    /// The newer API's corp id.
    pub corp_id: String,
    /// The newer API's secret of each application, by name (`directory`, `sso`, `mail`, `log`,
    /// `option`).
    pub corp_secrets: std::collections::BTreeMap<String, String>,
}

impl SeededTenant {
    /// The secret of one application of the newer API.
    pub fn corp_secret(&self, app: &str) -> &str {
        self.corp_secrets
            .get(app)
            .map_or_else(|| panic!("no application {app}"), String::as_str)
    }
}

/// A change to the configuration, applied before the server starts.
type ConfigChange = Box<dyn FnOnce(&mut Config) + Send>;

/// Options for a [`TestServer`].
pub struct TestServerBuilder {
    backend: Backend,
    adjust: Vec<ConfigChange>,
    database_url: Option<String>,
    seed: bool,
}

impl TestServerBuilder {
    /// Changes the configuration before the server starts.
    pub fn with_config(mut self, f: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.adjust.push(Box::new(f));
        self
    }

    /// Serves an existing PostgreSQL database (a second node of another test server), sharing
    /// its key file, and seeds no tenant.
    pub fn second_node_of(mut self, first: &TestServer) -> Self {
        self.database_url = Some(first.config.database_url.clone());
        let key_file = first.config.effective_secret_key_file();
        self.seed = false;
        self.with_config(move |c| c.secret_key_file = key_file)
    }

    /// Starts the server and seeds a tenant (`<random>.test`, admin `admin-<random>`).
    pub async fn start(self) -> TestServer {
        let dir = tempfile::Builder::new()
            .prefix("bizmail-test-")
            .tempdir()
            .expect("temporary data folder");
        let mut config = Config {
            data_dir: dir.path().join("data"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            smtp_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_max_connections: 5,
            // No DNS leaves a test machine: the inbound checks are on only in the tests that
            // bring their own DNS server (`dns_servers`).
            inbound_auth: false,
            ..Config::default()
        };
        if self.backend == Backend::Postgres {
            config.database_url = match self.database_url {
                Some(url) => url,
                None => pg::fresh_database().await,
            };
        }
        for f in self.adjust {
            f(&mut config);
        }
        let running = Server::start(config.clone()).await.expect("server starts");
        let base_url = running.base_url();
        let mut server = TestServer {
            running: Some(running),
            backend: self.backend,
            base_url,
            config,
            http: reqwest::Client::new(),
            tenant: None,
            _dir: dir,
        };
        if self.seed {
            server.tenant = Some(server.seed_tenant().await);
        }
        server
    }
}

/// A real running server for one test.
pub struct TestServer {
    running: Option<Running>,
    /// The backend under test.
    pub backend: Backend,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The configuration the server runs with.
    pub config: Config,
    /// A plain HTTP client.
    pub http: reqwest::Client,
    tenant: Option<SeededTenant>,
    _dir: TempDir,
}

impl TestServer {
    /// Options for a server on `backend`.
    pub fn builder(backend: Backend) -> TestServerBuilder {
        TestServerBuilder {
            backend,
            adjust: Vec::new(),
            database_url: None,
            seed: true,
        }
    }

    /// A server on `backend` with default test options.
    pub async fn start(backend: Backend) -> TestServer {
        TestServer::builder(backend).start().await
    }

    /// The running server (its admin side, mailboxes and housekeeping).
    pub fn running(&self) -> &Running {
        self.running.as_ref().expect("server is running")
    }

    /// The tenant seeded at start.
    pub fn tenant(&self) -> &SeededTenant {
        self.tenant.as_ref().expect("a seeded tenant")
    }

    /// Creates another tenant with the OpenApi applied and switched on.
    pub async fn seed_tenant(&self) -> SeededTenant {
        let tag = random_tag();
        let domain = format!("{tag}.test");
        let admin = format!("admin-{tag}");
        let password = format!("pw-{tag}-secret");
        let running = self.running();
        let created = running
            .admin()
            .create_tenant(NewTenant {
                domains: vec![domain.clone()],
                admin: admin.clone(),
                admin_password: Some(password.clone()),
                openapi_key: None,
                apply_openapi: true,
            })
            .await
            .expect("tenant created");
        SeededTenant {
            tenant_id: created.tenant_id,
            domain,
            admin,
            admin_password: password,
            key: created.openapi_key.expect("key generated"),
            corp_id: created.corp_id,
            corp_secrets: created
                .corp_secrets
                .into_iter()
                .map(|(app, secret)| (app.name().to_owned(), secret))
                .collect(),
        }
    }

    /// The SMTP receiver's address.
    pub fn smtp_addr(&self) -> std::net::SocketAddr {
        self.running().smtp_addr
    }

    /// `base_url` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base_url, path.trim_start_matches('/'))
    }

    /// A typed OpenApi client (the SDK integrators use) for the seeded tenant: it fetches its
    /// token on first use.
    pub fn client(&self) -> bizmail_client::Client {
        self.client_for(self.tenant())
    }

    /// A typed OpenApi client for `tenant`.
    pub fn client_for(&self, tenant: &SeededTenant) -> bizmail_client::Client {
        bizmail_client::Client::new(&self.base_url, &tenant.admin, &tenant.key)
    }

    /// A fresh access token for the seeded tenant.
    pub async fn token(&self) -> String {
        self.token_for(self.tenant()).await
    }

    /// A fresh access token for `tenant`.
    pub async fn token_for(&self, tenant: &SeededTenant) -> String {
        let body = self
            .form(
                "cgi-bin/token",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &tenant.admin),
                    ("client_secret", &tenant.key),
                ],
            )
            .await;
        let v: serde_json::Value = serde_json::from_str(&body).expect("token answer is JSON");
        v["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {body}"))
            .to_owned()
    }

    /// A fresh newer-API token of the seeded tenant for one application (`directory`, `sso`,
    /// `mail`, `log`, `option`).
    pub async fn corp_token(&self, app: &str) -> String {
        let t = self.tenant();
        let url = format!(
            "{}/cgi-bin/gettoken?corpid={}&corpsecret={}",
            self.base_url,
            t.corp_id,
            t.corp_secret(app)
        );
        let body = self
            .http
            .get(url)
            .send()
            .await
            .expect("gettoken answers")
            .text()
            .await
            .expect("gettoken body");
        let v: serde_json::Value = serde_json::from_str(&body).expect("gettoken answer is JSON");
        v["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no token in {body}"))
            .to_owned()
    }

    /// POSTs a urlencoded form and returns the body text (asserting no 5xx).
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let resp = self
            .http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("request sent");
        assert!(
            !resp.status().is_server_error(),
            "server error {}",
            resp.status()
        );
        resp.text().await.expect("body read")
    }

    /// Calls an OpenApi endpoint with a Bearer token and form fields; returns status and body.
    pub async fn call(&self, token: &str, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let resp = self
            .http
            .post(self.url(path))
            .bearer_auth(token)
            .form(fields)
            .send()
            .await
            .expect("request sent");
        let status = resp.status().as_u16();
        (status, resp.text().await.expect("body read"))
    }

    /// Waits until every queued operation-log row is written.
    pub async fn flush_oplog(&self) {
        self.running().flush_oplog().await;
    }

    /// Stops the server gracefully.
    pub async fn shutdown(mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }
}

/// A short random lower-case tag for unique names.
pub fn random_tag() -> String {
    use std::hash::{BuildHasher, RandomState};
    let n = RandomState::new().hash_one(std::time::SystemTime::now());
    format!("t{:012x}", n & 0xffff_ffff_ffff)
}

/// The body of an error answer, for comparisons: `{"errcode":"<code>","error":"<name>"}`.
pub fn error_body(code: bizmail_protocol::ErrorCode) -> String {
    serde_json::to_string(&bizmail_protocol::ApiError::from(code)).expect("serializable")
}
