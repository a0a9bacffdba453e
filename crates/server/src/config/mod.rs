//! One [`Config`] for the whole server: defaults that run out of the box, then a TOML file, then
//! `BIZMAIL_*` environment variables, then command-line flags, each overriding the one before.
//!
//! Every key is documented here and in `bizmail.example.toml` at the repository root. An unknown
//! key, in the file or as a `BIZMAIL_*` variable, is an error that names it: a typo must not
//! silently fall back to a default.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Environment variables with the `BIZMAIL_` prefix that are not configuration keys.
const NON_CONFIG_ENV: [&str; 2] = ["LOG", "CONFIG"];

/// The server's configuration. See `bizmail.example.toml` for every key with its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Folder for the SQLite file and the key-encryption key file. Created if missing.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`. Empty: the SQLite file `bizmail.sqlite` in `data_dir`.
    pub database_url: String,
    /// Where the HTTP listener binds (the OpenApi, `/cgi-bin/*`, the web mailbox).
    pub http_addr: SocketAddr,
    /// Most HTTP connections at once; more get 503 and are closed.
    pub http_max_connections: usize,
    /// Most HTTP connections at once from one client address (behind a reverse proxy, the
    /// proxy's: raise it there, or let the proxy limit clients).
    pub http_max_connections_per_ip: usize,
    /// Seconds a request's headers may take to arrive; also how long an idle keep-alive
    /// connection stays open.
    pub http_header_timeout_secs: u64,
    /// Seconds a request body may pause between two chunks.
    pub http_body_timeout_secs: u64,
    /// Largest request head (request line and headers) in bytes, at least 8192.
    pub http_max_header_bytes: usize,
    /// Where the SMTP receiver binds (port 25 in production).
    pub smtp_addr: SocketAddr,
    /// Lifetime of an access token in seconds (`expires_in`).
    pub token_lifetime_secs: u64,
    /// How long `openapi/listen` holds a poll before answering `{"Ret":0}`, in seconds.
    pub poll_timeout_secs: u64,
    /// Answer errors with a fitting 4xx/5xx status instead of the real service's 200 (§6).
    pub http_error_status: bool,
    /// Largest request body accepted, in bytes; larger bodies get HTTP 413.
    pub max_body_bytes: usize,
    /// Most parameters (query and body together) one request may carry.
    pub max_params: usize,
    /// Token requests allowed per client IP per minute (burst of the same size); over it: 10002.
    pub token_requests_per_minute: u32,
    /// OpenApi calls allowed per client IP per second (burst of the same size); over it: 10002.
    /// 0 switches this limit off.
    pub api_requests_per_second: u32,
    /// File holding the 32-byte key that encrypts interface keys at rest. Empty: `secret.key` in
    /// `data_dir`, created with mode 0600 on first start. Nodes sharing one PostgreSQL database must
    /// share this file.
    pub secret_key_file: PathBuf,
    /// Most connections in the database pool.
    pub db_max_connections: u32,
    /// Days the change log of `user/list` is kept; a client with an older `Ver` gets the full list.
    pub changelog_retention_days: u32,
    /// The name this server gives itself in SMTP greetings and `Received:` headers.
    pub smtp_hostname: String,
    /// Most SMTP connections at once; more are answered 421 and closed.
    pub smtp_max_connections: usize,
    /// Most SMTP connections at once from one address.
    pub smtp_max_connections_per_ip: usize,
    /// Largest message accepted, in bytes (advertised as SIZE; larger: 552).
    pub smtp_max_message_bytes: usize,
    /// Most recipients of one message (more: 452).
    pub smtp_max_recipients: usize,
    /// Longest command line, in bytes (longer: 500).
    pub smtp_max_line_bytes: usize,
    /// Seconds to wait for a command before closing the connection (421).
    pub smtp_command_timeout_secs: u64,
    /// Seconds a whole DATA transfer may take.
    pub smtp_data_timeout_secs: u64,
    /// Bad commands tolerated in one session before it is closed (421).
    pub smtp_max_bad_commands: u32,
    /// Refused recipients (unknown, not hosted, not permitted) tolerated in one session before it
    /// is closed (421): a cap on harvesting the directory by guessing addresses.
    pub smtp_max_rejected_recipients: u32,
    /// Milliseconds each refused recipient after the second waits before its answer, growing by
    /// this much each time up to eight times it (a tarpit for guessers; honest mistakes are few).
    pub smtp_rejected_recipient_delay_ms: u64,
    /// Seconds an SSO ticket from `mail/authkey` stays valid.
    pub ticket_lifetime_secs: u64,
    /// The newer API: `expires_in` of a `gettoken` token, at least 7200 (clients cache tokens
    /// for a fixed 7200 s).
    pub corp_token_lifetime_secs: u64,
    /// The newer API: seconds a token is still accepted after its `expires_in` (clients' clocks
    /// and caches differ).
    pub corp_token_grace_secs: u64,
    /// The newer API: `gettoken` calls per second per corp (45009 beyond).
    pub corp_token_requests_per_second: u32,
    /// The newer API: calls of one corp in flight at once (40093 beyond).
    pub corp_max_in_flight: u32,
    /// The newer API's `log/*`: longest range of days one query may cover; 0: no limit.
    pub log_max_days: u32,
    /// Days the mail and login logs (`log/mail`, `log/login`) are kept.
    pub log_retention_days: u32,
    /// Seconds a web-mailbox session survives without a request.
    pub session_idle_secs: u64,
    /// Seconds a web-mailbox session lives at most.
    pub session_lifetime_secs: u64,
    /// Password-login attempts (passwords and codes) one client address may make per minute.
    pub login_attempts_per_ip_per_minute: u32,
    /// Password-login attempts one mailbox may receive per hour, from anywhere.
    pub login_attempts_per_account_per_hour: u32,
    /// Seconds between a right password and the second-factor code it still needs.
    pub login_challenge_secs: u64,
    /// Proxies (addresses or networks) whose `X-Forwarded-For` names the real client. Empty: the
    /// connection's peer is the client, and `X-Forwarded-For` is ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Addresses or networks allowed to read `/metrics`; others get 404. Empty: nobody.
    pub metrics_allow: Vec<ipnet::IpNet>,
    /// The address people and integrations reach this server by (`https://mail.example.com`),
    /// for the links it hands out (the newer API's SSO login URLs). Empty: the `Host` the caller
    /// used.
    pub public_url: String,
    /// The HTTP listener's certificate chain (PEM): with it and `http_tls_key_file` the listener
    /// speaks HTTPS only; `bizmail serve` loads both again on SIGHUP. Empty: plain HTTP.
    pub http_tls_cert_file: PathBuf,
    /// The HTTP listener's private key (PEM).
    pub http_tls_key_file: PathBuf,
    /// Marks the mailbox's cookies `Secure`. Set it when bizmail is reached over HTTPS through a
    /// TLS-terminating proxy; a request with `X-Forwarded-Proto: https` gets them `Secure` anyway.
    pub cookie_secure: bool,
    /// Seconds a listen client may stay away between polls and still get every notice (§5).
    pub listen_grace_secs: u64,
    /// Makes every tenant a sandbox (docs/SANDBOX.md): faults may be injected, clocks moved and
    /// API exchanges recorded. For integrators' test servers only; said in the log, `/healthz`
    /// and every page's footer.
    pub sandbox: bool,
    /// How many API exchanges a sandbox's record keeps per client.
    pub sandbox_record_per_client: u32,
    /// Days notices are kept in the event log.
    pub event_retention_days: u32,
    /// Days operation-log rows are kept; older rows are deleted by housekeeping.
    pub oplog_retention_days: u32,
    /// PEM certificate chain for SMTP STARTTLS. Empty: STARTTLS is not offered.
    pub smtp_tls_cert_file: PathBuf,
    /// PEM private key for SMTP STARTTLS.
    pub smtp_tls_key_file: PathBuf,
    /// Where the IMAP server listens (STARTTLS offered when a certificate is set); none: off.
    pub imap_addr: Option<SocketAddr>,
    /// Where IMAP over implicit TLS listens (needs the certificate); none: off.
    pub imaps_addr: Option<SocketAddr>,
    /// Longest IMAP command line in bytes, literals aside.
    pub imap_max_line_bytes: usize,
    /// Seconds an IMAP client may stay silent (IDLE included) before it is logged out.
    pub imap_idle_timeout_secs: u64,
    /// Bad IMAP commands tolerated per connection.
    pub imap_max_bad_commands: u32,
    /// IMAP connections at once.
    pub imap_max_connections: usize,
    /// IMAP connections at once per client address.
    pub imap_max_connections_per_ip: usize,
    /// Allow IMAP and POP3 logins without TLS. Only for tests on loopback: passwords cross in
    /// clear.
    pub imap_allow_plaintext: bool,
    /// Where the POP3 server listens (STLS offered when a certificate is set); none: off.
    pub pop3_addr: Option<SocketAddr>,
    /// Where POP3 over implicit TLS listens (port 995; needs the certificate); none: off.
    pub pop3s_addr: Option<SocketAddr>,
    /// The mailbox quota of members without one of their own, in MB; 0: no limit.
    pub mailbox_quota_mb: u64,
    /// Where authenticated submission listens (port 587, STARTTLS; needs the certificate unless
    /// `submission_allow_plaintext`); none: off.
    pub submission_addr: Option<SocketAddr>,
    /// Where submission over implicit TLS listens (port 465; needs the certificate); none: off.
    pub submissions_addr: Option<SocketAddr>,
    /// Allow AUTH on submission without TLS. Only for tests on loopback: passwords cross in clear.
    pub submission_allow_plaintext: bool,
    /// Messages one member may submit per hour; more get `450 4.7.1` until the hour has passed.
    pub submission_messages_per_hour: u32,
    /// Most recipients of one submitted message.
    pub submission_max_recipients: usize,
    /// A smarthost (`host:port`) every outbound message goes through; empty: deliver to each
    /// domain's MX directly.
    pub outbound_relay: String,
    /// The smarthost's user name; empty: no AUTH.
    pub outbound_relay_username: String,
    /// The smarthost's password.
    pub outbound_relay_password: String,
    /// TLS to the smarthost: `auto` (implicit on port 465, STARTTLS otherwise), `starttls`,
    /// `implicit`, or `none` (a relay on a private network only).
    pub outbound_relay_tls: String,
    /// A PEM file of certificates to trust for the smarthost besides the system's (a private CA);
    /// empty: the system's only.
    pub outbound_relay_ca_file: PathBuf,
    /// Mail exchangers to use instead of DNS, as `domain=host:port` entries: for tests and
    /// private networks. A domain not listed is looked up.
    pub outbound_mx_override: Vec<String>,
    /// Hours a remote recipient is retried before the sender is told it failed.
    pub outbound_max_age_hours: u64,
    /// Seconds before the first retry; each later retry waits twice as long.
    pub outbound_retry_base_secs: u64,
    /// The longest wait between two attempts, in seconds.
    pub outbound_retry_max_secs: u64,
    /// Outbound deliveries at once.
    pub outbound_connections: usize,
    /// Outbound deliveries at once to one domain.
    pub outbound_connections_per_domain: usize,
    /// Seconds one delivery attempt may take.
    pub outbound_timeout_secs: u64,
    /// Days delivered and failed queue rows stay visible in `bizmail queue list`.
    pub outbound_retention_days: u32,
    /// DNS servers (`ip:port`) for MX lookups and the inbound checks; empty: the system's
    /// (`/etc/resolv.conf`).
    pub dns_servers: Vec<SocketAddr>,
    /// Check SPF, DKIM and DMARC on mail received from outside and stamp the result as an
    /// `Authentication-Results` header.
    pub inbound_auth: bool,
    /// Refuse (550 5.7.1) mail that fails DMARC when the sender's domain publishes `p=reject`;
    /// `p=quarantine` puts it in Junk. Off: such mail is only marked.
    pub dmarc_enforce: bool,
    /// rspamd's scanner (`http://127.0.0.1:11333`) for mail received from outside; empty: no
    /// spam scoring.
    pub rspamd_url: String,
    /// rspamd's controller (`http://127.0.0.1:11334`), taught by members' spam / not-spam
    /// verdicts; empty: no learning.
    pub rspamd_controller_url: String,
    /// The controller's password (sent as `Password:`), if it asks for one.
    pub rspamd_password: String,
    /// At this rspamd score and above, mail goes to Junk (a tenant may set its own).
    pub spam_junk_score: f64,
    /// At this rspamd score and above, mail is refused (a tenant may set its own).
    pub spam_reject_score: f64,
    /// Milliseconds between two looks at the event log and the callback outbox (§4.7 callbacks).
    pub callback_poll_ms: u64,
    /// Milliseconds before each retry of a callback notice that failed; after the last retry the
    /// notice is dropped and counted.
    pub callback_retry_ms: Vec<u64>,
    /// Seconds one callback request (the URL check, a notice) may take.
    pub callback_timeout_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./bizmail-data"),
            database_url: String::new(),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 12211)),
            http_max_connections: 1024,
            http_max_connections_per_ip: 256,
            http_header_timeout_secs: 30,
            http_body_timeout_secs: 30,
            http_max_header_bytes: 64 * 1024,
            smtp_addr: SocketAddr::from(([127, 0, 0, 1], 2525)),
            token_lifetime_secs: 86_400,
            poll_timeout_secs: 60,
            http_error_status: false,
            max_body_bytes: 1024 * 1024,
            max_params: 1000,
            token_requests_per_minute: 300,
            api_requests_per_second: 2000,
            secret_key_file: PathBuf::new(),
            db_max_connections: 16,
            changelog_retention_days: 30,
            smtp_hostname: "localhost".into(),
            smtp_max_connections: 256,
            // Postfix's default per client: a relay or load tool opening 16 sessions at once,
            // each reconnecting at once after QUIT, must not be refused.
            smtp_max_connections_per_ip: 50,
            smtp_max_message_bytes: 25 * 1024 * 1024,
            smtp_max_recipients: 100,
            smtp_max_line_bytes: 2048,
            smtp_command_timeout_secs: 300,
            smtp_data_timeout_secs: 600,
            smtp_max_bad_commands: 10,
            smtp_max_rejected_recipients: 20,
            smtp_rejected_recipient_delay_ms: 250,
            ticket_lifetime_secs: 300,
            corp_token_lifetime_secs: 7200,
            corp_token_grace_secs: 300,
            corp_token_requests_per_second: 500,
            corp_max_in_flight: 64,
            log_max_days: 0,
            log_retention_days: 180,
            session_idle_secs: 1800,
            session_lifetime_secs: 43_200,
            login_attempts_per_ip_per_minute: 20,
            login_attempts_per_account_per_hour: 30,
            login_challenge_secs: 300,
            trusted_proxies: Vec::new(),
            metrics_allow: vec![
                ipnet::IpNet::from(std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST)),
                ipnet::IpNet::from(std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
            ],
            public_url: String::new(),
            http_tls_cert_file: PathBuf::new(),
            http_tls_key_file: PathBuf::new(),
            cookie_secure: false,
            listen_grace_secs: 120,
            sandbox: false,
            sandbox_record_per_client: 200,
            event_retention_days: 7,
            oplog_retention_days: 180,
            smtp_tls_cert_file: PathBuf::new(),
            smtp_tls_key_file: PathBuf::new(),
            imap_addr: None,
            imaps_addr: None,
            imap_max_line_bytes: 64 * 1024,
            // RFC 3501 §5.4: an autologout timer of at least 30 minutes.
            imap_idle_timeout_secs: 1800,
            imap_max_bad_commands: 20,
            imap_max_connections: 1024,
            // Clients open one connection per folder they watch (Thunderbird up to 5, mbsync a
            // few): a whole office behind one NAT address needs room.
            imap_max_connections_per_ip: 100,
            imap_allow_plaintext: false,
            pop3_addr: None,
            pop3s_addr: None,
            mailbox_quota_mb: 0,
            submission_addr: None,
            submissions_addr: None,
            submission_allow_plaintext: false,
            submission_messages_per_hour: 200,
            submission_max_recipients: 100,
            outbound_relay: String::new(),
            outbound_relay_username: String::new(),
            outbound_relay_password: String::new(),
            outbound_relay_tls: "auto".into(),
            outbound_relay_ca_file: PathBuf::new(),
            outbound_mx_override: Vec::new(),
            // Five days, as Postfix's maximal_queue_lifetime.
            outbound_max_age_hours: 120,
            outbound_retry_base_secs: 300,
            outbound_retry_max_secs: 4000,
            outbound_connections: 32,
            outbound_connections_per_domain: 4,
            outbound_timeout_secs: 300,
            outbound_retention_days: 7,
            dns_servers: Vec::new(),
            inbound_auth: true,
            dmarc_enforce: true,
            rspamd_url: String::new(),
            rspamd_controller_url: String::new(),
            rspamd_password: String::new(),
            // rspamd's own defaults for "add header" and "reject".
            spam_junk_score: 6.0,
            spam_reject_score: 15.0,
            callback_poll_ms: 1000,
            callback_retry_ms: vec![60_000, 300_000, 1_800_000],
            callback_timeout_secs: 5,
        }
    }
}

/// What went wrong reading the configuration; the message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Reads defaults, then `file` (if given; it must exist), then `BIZMAIL_*` variables from the
    /// environment, then `overrides` (flags: only the keys they contain). Values are checked.
    pub fn load(file: Option<&Path>, overrides: &toml::Table) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError(format!(
                    "the config file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment
            .merge(Env::prefixed("BIZMAIL_").ignore(&NON_CONFIG_ENV))
            .merge(Serialized::defaults(overrides));
        let config: Config = figment.extract().map_err(|e| {
            ConfigError(
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the values that serde cannot: ranges and URL schemes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError(format!("{key}: {why}")));
        if !self.database_url.is_empty() && self.backend().is_none() {
            return bad(
                "database_url",
                "must start with sqlite: or postgres:// (or postgresql://)",
            );
        }
        if self.token_lifetime_secs == 0 {
            return bad("token_lifetime_secs", "must be at least 1");
        }
        if self.poll_timeout_secs == 0 {
            return bad("poll_timeout_secs", "must be at least 1");
        }
        if self.max_body_bytes < 1024 {
            return bad("max_body_bytes", "must be at least 1024");
        }
        if self.max_params == 0 {
            return bad("max_params", "must be at least 1");
        }
        if self.token_requests_per_minute == 0 {
            return bad("token_requests_per_minute", "must be at least 1");
        }
        let public = self.public_url.trim();
        if !(public.is_empty() || public.starts_with("http://") || public.starts_with("https://")) {
            return bad("public_url", "must start with http:// or https://");
        }
        if self.log_retention_days == 0 {
            return bad("log_retention_days", "must be at least 1");
        }
        if self.corp_token_lifetime_secs < 7200 {
            return bad("corp_token_lifetime_secs", "must be at least 7200");
        }
        if self.corp_token_requests_per_second == 0 || self.corp_max_in_flight == 0 {
            return bad(
                "corp_token_requests_per_second",
                "and corp_max_in_flight: at least 1",
            );
        }
        if self.ticket_lifetime_secs == 0
            || self.session_idle_secs == 0
            || self.session_lifetime_secs == 0
        {
            return bad(
                "ticket_lifetime_secs",
                "ticket and session lifetimes must be at least 1 second",
            );
        }
        if self.login_attempts_per_ip_per_minute == 0
            || self.login_attempts_per_account_per_hour == 0
        {
            return bad(
                "login_attempts_per_ip_per_minute",
                "login limits must be at least 1",
            );
        }
        if self.imap_idle_timeout_secs < 60 || self.imap_max_line_bytes < 1024 {
            return bad(
                "imap_idle_timeout_secs",
                "must be at least 60 (and imap_max_line_bytes at least 1024)",
            );
        }
        if self.imap_max_connections == 0 || self.imap_max_connections_per_ip == 0 {
            return bad(
                "imap_max_connections",
                "must be at least 1 (and per address)",
            );
        }
        if self.imaps_addr.is_some() && self.smtp_tls_cert_file.as_os_str().is_empty() {
            return bad(
                "imaps_addr",
                "needs smtp_tls_cert_file and smtp_tls_key_file",
            );
        }
        if self.login_challenge_secs == 0 {
            return bad("login_challenge_secs", "must be at least 1");
        }
        if self.http_max_connections == 0 || self.http_max_connections_per_ip == 0 {
            return bad(
                "http_max_connections",
                "must be at least 1 (and so must the per-address limit)",
            );
        }
        if self.http_header_timeout_secs == 0 || self.http_body_timeout_secs == 0 {
            return bad(
                "http_header_timeout_secs",
                "must be at least 1 (and so must the body timeout)",
            );
        }
        if self.oplog_retention_days == 0 {
            return bad("oplog_retention_days", "must be at least 1");
        }
        if self.event_retention_days == 0 {
            return bad("event_retention_days", "must be at least 1");
        }
        if self.changelog_retention_days == 0 {
            return bad("changelog_retention_days", "must be at least 1");
        }
        if self.smtp_max_connections == 0 || self.smtp_max_connections_per_ip == 0 {
            return bad("smtp_max_connections", "limits must be at least 1");
        }
        if self.smtp_max_recipients == 0 {
            return bad("smtp_max_recipients", "must be at least 1");
        }
        if self.smtp_max_line_bytes < 512 {
            return bad("smtp_max_line_bytes", "must be at least 512 (RFC 5321)");
        }
        if self.smtp_max_message_bytes < 1024 {
            return bad("smtp_max_message_bytes", "must be at least 1024");
        }
        if self.smtp_command_timeout_secs == 0 || self.smtp_data_timeout_secs == 0 {
            return bad(
                "smtp_command_timeout_secs",
                "timeouts must be at least 1 second",
            );
        }
        if self.smtp_hostname.trim().is_empty() || self.smtp_hostname.contains(char::is_whitespace)
        {
            return bad("smtp_hostname", "must be a host name");
        }
        if self.http_tls_cert_file.as_os_str().is_empty()
            != self.http_tls_key_file.as_os_str().is_empty()
        {
            return bad(
                "http_tls_cert_file",
                "set both http_tls_cert_file and http_tls_key_file, or neither",
            );
        }
        if self.smtp_tls_cert_file.as_os_str().is_empty()
            != self.smtp_tls_key_file.as_os_str().is_empty()
        {
            return bad(
                "smtp_tls_cert_file",
                "set both smtp_tls_cert_file and smtp_tls_key_file, or neither",
            );
        }
        if self.db_max_connections == 0 {
            return bad("db_max_connections", "must be at least 1");
        }
        Ok(())
    }

    /// Whether the HTTP listener speaks HTTPS itself (`http_tls_cert_file` is set).
    pub fn http_tls(&self) -> bool {
        !self.http_tls_cert_file.as_os_str().is_empty()
    }

    /// Which store backend the configuration selects.
    pub fn backend(&self) -> Option<Backend> {
        let url = self.database_url.trim();
        if url.is_empty() || url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    /// The database URL in effect: the configured one, or the SQLite file in `data_dir`.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.trim().is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join(crate::store::SQLITE_FILE).display()
            )
        } else {
            self.database_url.trim().to_owned()
        }
    }

    /// The key-encryption key file in effect.
    pub fn effective_secret_key_file(&self) -> PathBuf {
        if self.secret_key_file.as_os_str().is_empty() {
            self.data_dir.join("secret.key")
        } else {
            self.secret_key_file.clone()
        }
    }
}

/// The two store backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server, possibly shared by several nodes.
    Postgres,
}

#[cfg(test)]
mod tests;
