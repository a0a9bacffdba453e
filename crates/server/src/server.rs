//! Starting and stopping the whole server: [`Server::start`] opens the store, binds the listeners
//! and spawns the background tasks; [`Running`] holds them until [`Running::shutdown`].

use crate::auth::vault::VaultError;
use crate::config::Config;
use crate::http::{AppState, Limiters, build_router};
use crate::store::{self, Store, StoreError};
use crate::tenants::{Admin, AdminError, oplog::OplogWriter};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often expired tokens are deleted and idle rate-limit entries forgotten.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(300);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store or the vault could not be opened.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The key-encryption key file could not be read or created.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// A TLS certificate (SMTP or HTTP) could not be loaded.
    #[error(transparent)]
    Tls(#[from] crate::smtp::TlsError),
    /// The outbound settings are unusable (a malformed override or relay).
    #[error(transparent)]
    Outbound(#[from] crate::outbound::SettingsError),
    /// A mail-client listener could not bind (the message names the address).
    #[error("{0}")]
    Listen(std::io::Error),
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Binds the IMAP listeners the configuration asks for (one set of connection limits for both)
/// and starts serving them.
async fn start_imap(
    config: &Config,
    ctx: &crate::imap::session::Ctx,
    stopped: &watch::Receiver<bool>,
) -> Result<(Vec<JoinHandle<()>>, Option<SocketAddr>, Option<SocketAddr>), StartError> {
    use crate::accept::Mode;
    let limits = Arc::new(crate::conn_limits::ConnLimits::new(
        config.imap_max_connections,
        config.imap_max_connections_per_ip,
    ));
    let addrs = [
        (config.imap_addr, Mode::Plain),
        (config.imaps_addr, Mode::Implicit),
    ];
    let service = crate::imap::listener::Imap(ctx.clone());
    let (tasks, [plain, implicit]) = crate::accept::start(addrs, limits, &service, stopped)
        .await
        .map_err(StartError::Listen)?;
    Ok((tasks, plain, implicit))
}

/// The server as a library.
pub struct Server;

/// Whether the database answers a trivial query (`/healthz`). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Health(Store);

impl Health {
    /// One round trip to the database.
    pub async fn check(&self) -> Result<(), StoreError> {
        self.0.ping().await
    }
}

/// A started server. Dropping it without [`Running::shutdown`] leaves the tasks running until the
/// runtime ends.
pub struct Running {
    /// Where HTTP is served (the real port when the config asked for port 0).
    pub http_addr: SocketAddr,
    /// Where the SMTP receiver listens.
    pub smtp_addr: SocketAddr,
    /// Where IMAP listens (STARTTLS), when configured.
    pub imap_addr: Option<SocketAddr>,
    /// Where IMAP over implicit TLS listens, when configured.
    pub imaps_addr: Option<SocketAddr>,
    /// Where POP3 listens (STLS), when configured.
    pub pop3_addr: Option<SocketAddr>,
    /// Where POP3 over implicit TLS listens, when configured.
    pub pop3s_addr: Option<SocketAddr>,
    /// Where submission (STARTTLS) listens, when configured.
    pub submission_addr: Option<SocketAddr>,
    /// Where submission over implicit TLS listens, when configured.
    pub submissions_addr: Option<SocketAddr>,
    outbound: JoinHandle<()>,
    kick: crate::outbound::Kick,
    submit: crate::smtp::session::SubmitCtx,
    admin: Admin,
    default_quota: Option<i64>,
    imap_ctx: crate::imap::session::Ctx,
    imap: Vec<JoinHandle<()>>,
    store: Store,
    oplog: OplogWriter,
    hub: crate::push::hub::Hub,
    limits: Arc<Limiters>,
    retention: Retention,
    stop: watch::Sender<bool>,
    http: JoinHandle<()>,
    smtp: JoinHandle<()>,
    pg_listener: Option<JoinHandle<()>>,
    oplog_task: JoinHandle<()>,
    housekeeping: JoinHandle<()>,
    http_tls: Option<crate::tls::Reloadable>,
    callbacks: crate::callbacks::Callbacks,
    sandbox: crate::sandbox::Sandbox,
    callback_worker: JoinHandle<()>,
}

impl Server {
    /// Opens the store (applying migrations), opens the vault, binds HTTP and starts serving.
    pub async fn start(config: Config) -> Result<Running, StartError> {
        let admin = Admin::open(&config).await?;
        Server::start_with(config, admin).await
    }

    /// Starts serving over a store and vault already opened as an [`Admin`] (the CLI opens them
    /// first to bootstrap the first tenant).
    pub async fn start_with(config: Config, admin: Admin) -> Result<Running, StartError> {
        let (store, vault, hub) = admin.parts();
        let (store, vault, hub) = (store.clone(), vault.clone(), hub.clone());
        let config = Arc::new(config);
        // The metrics recorder, before anything is counted.
        crate::telemetry::handle();
        let (oplog, oplog_task) = OplogWriter::spawn(store.clone());
        let limits = Arc::new(Limiters::from_config(&config));
        let kick = crate::outbound::Kick::default();
        let quota = crate::mail::quota::default_bytes(config.mailbox_quota_mb);
        let mut smtp_settings = crate::smtp::SmtpSettings::from_config(&config)?;
        // Certificates are loaded before anything starts, so a bad file stops the start cleanly.
        let http_tls = if config.http_tls() {
            let (cert, key) = (&config.http_tls_cert_file, &config.http_tls_key_file);
            Some(crate::tls::Reloadable::load(cert, key).map_err(|e| e.of("HTTP"))?)
        } else {
            None
        };
        // One rspamd client: the receiver scans with it, the mailboxes teach it.
        let spam = smtp_settings.spam.clone();
        // One set of callbacks (one HTTP client) for the worker and the console's page.
        let callbacks = crate::callbacks::Callbacks::new(
            store.clone(),
            vault.clone(),
            crate::callbacks::CallbackSettings::from_config(&config),
        );
        let sandbox = crate::sandbox::Sandbox::new(
            store.clone(),
            config.sandbox,
            config.sandbox_record_per_client,
        );
        smtp_settings.sandbox = Some(sandbox.clone());
        if config.sandbox {
            tracing::warn!(
                "SANDBOX: every tenant is a sandbox (faults may be injected, clocks moved, API \
                 exchanges recorded); never use this server for real mail"
            );
        }
        let state = AppState::new(crate::http::Services {
            config: config.clone(),
            oplog: oplog.clone(),
            limits: limits.clone(),
            auth: crate::auth::Auth::new(store.clone(), vault.clone()),
            directory: crate::directory::Directory::new(store.clone(), hub.clone()),
            mailboxes: crate::mail::Mailboxes::new(store.clone(), hub.clone())
                .with_default_quota(quota)
                .with_spam(spam.clone()),
            push: crate::push::Push::new(store.clone(), hub.clone()),
            health: Health(store.clone()),
            activity: crate::activity::Activity::new(store.clone()),
            cgi_in_flight: crate::http::cgi::InFlight::default(),
            sandbox: sandbox.clone(),
            admin: admin.clone(),
            callbacks: callbacks.clone(),
            sender: crate::mail::submit::Sender::new(
                store.clone(),
                hub.clone(),
                crate::outbound::dkim::Signer::new(store.clone(), vault.clone()),
                kick.clone(),
                &config,
            ),
        });
        let listener = tokio::net::TcpListener::bind(config.http_addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.http_addr,
                source,
            })?;
        let http_addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.http_addr,
            source,
        })?;
        let smtp_listener = tokio::net::TcpListener::bind(config.smtp_addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.smtp_addr,
                source,
            })?;
        let smtp_addr = smtp_listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                addr: config.smtp_addr,
                source,
            })?;
        let (stop, stopped) = watch::channel(false);
        let imap_ctx = crate::imap::session::Ctx::new(
            crate::imap::ImapSettings::from_config(&config, smtp_settings.tls.clone()),
            crate::mail::Mailboxes::new(store.clone(), hub.clone())
                .with_default_quota(quota)
                .with_spam(spam.clone()),
            crate::auth::Auth::new(store.clone(), vault.clone()),
            limits.clone(),
            hub.clone(),
        );
        let (mut imap, imap_addr, imaps_addr) = start_imap(&config, &imap_ctx, &stopped).await?;
        let pop3 = crate::pop3::Pop3::new(
            &config,
            smtp_settings.tls.clone(),
            crate::mail::Mailboxes::new(store.clone(), hub.clone())
                .with_default_quota(quota)
                .with_spam(spam.clone()),
            crate::auth::Auth::new(store.clone(), vault.clone()),
            limits.clone(),
        );
        let (pop3_tasks, [pop3_addr, pop3s_addr]) = crate::accept::start(
            [
                (config.pop3_addr, crate::accept::Mode::Plain),
                (config.pop3s_addr, crate::accept::Mode::Implicit),
            ],
            Arc::new(crate::conn_limits::ConnLimits::new(
                config.imap_max_connections,
                config.imap_max_connections_per_ip,
            )),
            &pop3,
            &stopped,
        )
        .await
        .map_err(StartError::Listen)?;
        imap.extend(pop3_tasks);
        let outbound_settings = crate::outbound::OutboundSettings::from_config(&config)?;
        let submit = crate::smtp::session::SubmitCtx {
            auth: crate::auth::Auth::new(store.clone(), vault.clone()),
            limits: limits.clone(),
            signer: crate::outbound::dkim::Signer::new(store.clone(), vault.clone()),
            kick: kick.clone(),
            allow_plaintext: config.submission_allow_plaintext,
            per_hour: config.submission_messages_per_hour,
            max_recipients: config.submission_max_recipients,
        };
        let (submission_tasks, submission_addr, submissions_addr) =
            crate::smtp::listener::start_submission(
                &config,
                &smtp_settings,
                &store,
                &hub,
                submit.clone(),
                &stopped,
            )
            .await
            .map_err(StartError::Listen)?;
        imap.extend(submission_tasks);
        let outbound = crate::outbound::spawn(
            store.clone(),
            hub.clone(),
            outbound_settings.clone(),
            kick.clone(),
            stopped.clone(),
        );
        let smtp = tokio::spawn(crate::smtp::listener::serve(
            smtp_listener,
            smtp_settings,
            store.clone(),
            hub.clone(),
            crate::smtp::listener::Kind::Receiver,
            stopped.clone(),
        ));
        let callback_worker = crate::callbacks::spawn(callbacks.clone(), stopped.clone());
        let pg_listener = hub.spawn_listener(&store, stopped.clone());
        let http = tokio::spawn(crate::http::listener::serve(
            listener,
            build_router(state),
            crate::http::listener::HttpLimits::from_config(&config),
            http_tls.clone(),
            stopped.clone(),
        ));
        let retention = Retention {
            changelog_ms: i64::from(config.changelog_retention_days) * 86_400_000,
            events_ms: i64::from(config.event_retention_days) * 86_400_000,
            oplog_ms: i64::from(config.oplog_retention_days) * 86_400_000,
            session_idle_ms: store::secs_to_ms(config.session_idle_secs),
            session_max_ms: store::secs_to_ms(config.session_lifetime_secs),
            outbound_ms: i64::try_from(outbound_settings.retention.as_millis()).unwrap_or(i64::MAX),
            activity_ms: i64::from(config.log_retention_days) * 86_400_000,
            corp_grace_ms: store::secs_to_ms(config.corp_token_grace_secs),
        };
        let housekeeping = tokio::spawn(housekeeping(
            store.clone(),
            limits.clone(),
            retention,
            stopped,
        ));
        tracing::info!(%http_addr, %smtp_addr, ?imap_addr, ?imaps_addr, backend = ?store.backend(), "bizmail is serving");
        Ok(Running {
            http_addr,
            smtp_addr,
            imap_addr,
            imaps_addr,
            pop3_addr,
            pop3s_addr,
            submission_addr,
            submissions_addr,
            outbound,
            kick,
            submit,
            imap_ctx,
            imap,
            default_quota: quota,
            admin,
            store,
            oplog,
            limits,
            retention,
            hub,
            pg_listener,
            stop,
            http,
            smtp,
            oplog_task,
            housekeeping,
            http_tls,
            callbacks,
            sandbox,
            callback_worker,
        })
    }
}

impl Running {
    /// The base URL of the HTTP listener, e.g. `http://127.0.0.1:12211`.
    pub fn base_url(&self) -> String {
        let scheme = if self.http_tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.http_addr)
    }

    /// Loads the HTTP listener's certificate and key again from their files (`bizmail serve`
    /// does it on SIGHUP); new connections use them, open ones keep theirs. On failure the old
    /// certificate stays. Without HTTPS there is nothing to load.
    pub fn reload_tls(&self) -> Result<bool, crate::tls::TlsError> {
        match &self.http_tls {
            Some(tls) => tls.reload().map_err(|e| e.of("HTTP")).map(|()| true),
            None => Ok(false),
        }
    }

    /// The admin side of the store this server serves (tenants, keys, the operation log).
    pub fn admin(&self) -> &Admin {
        &self.admin
    }

    /// The mailboxes this server serves, as a mail client (and a test) sees them.
    pub fn mailboxes(&self) -> crate::mail::Mailboxes {
        crate::mail::Mailboxes::new(self.store.clone(), self.hub.clone())
            .with_default_quota(self.default_quota)
    }

    /// Writes the operation-log rows still queued (they are written in batches, off the call's
    /// path), so that what was called is in the log.
    pub async fn flush_oplog(&self) {
        self.oplog.flush().await;
    }

    /// An SMTP receiver session over any stream (an in-memory pipe, say), as if `client_ip` had
    /// connected to this server's SMTP listener with `settings`.
    pub fn smtp_session<S>(
        &self,
        stream: S,
        client_ip: std::net::IpAddr,
        settings: crate::smtp::SmtpSettings,
    ) -> crate::smtp::session::Session<S>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    {
        crate::smtp::session::Session::new(
            stream,
            client_ip,
            settings,
            self.store.clone(),
            self.hub.clone(),
        )
    }

    /// A submission session over any stream, as if `client_ip` had connected to this server's
    /// submission listener: STARTTLS-style (`tls` false, AUTH only if plaintext is allowed) or
    /// already encrypted (`tls` true, as on the implicit-TLS port).
    pub fn submission_session<S>(
        &self,
        stream: S,
        client_ip: std::net::IpAddr,
        settings: crate::smtp::SmtpSettings,
        tls: bool,
    ) -> crate::smtp::session::Session<S>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    {
        let session = self
            .smtp_session(stream, client_ip, settings)
            .submitting(self.submit.clone());
        if tls { session.encrypted() } else { session }
    }

    /// An IMAP session over any stream (an in-memory pipe, say), as if `client_ip` had connected
    /// to this server's IMAP listener; `tls` says whether to treat the stream as encrypted.
    pub fn imap_session<S>(
        &self,
        stream: S,
        client_ip: std::net::IpAddr,
        tls: bool,
    ) -> crate::imap::session::Session<S>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send,
    {
        crate::imap::session::Session::new(stream, self.imap_ctx.clone().from(client_ip), tls)
    }

    /// The outbound queue this server delivers (`bizmail queue` works on the same store).
    pub fn queue(&self) -> crate::outbound::Queue {
        crate::outbound::Queue::new(self.store.clone())
    }

    /// Wakes the outbound worker now (after `Queue::retry`, say), instead of at its next poll.
    pub fn kick_queue(&self) {
        self.kick.kick();
    }

    /// The new-mail callbacks of this server's tenants (§4.7): set, check, test, status.
    pub fn callbacks(&self) -> crate::callbacks::Callbacks {
        self.callbacks.clone()
    }

    /// The sandboxes as this server applies them (docs/SANDBOX.md).
    pub fn sandbox(&self) -> crate::sandbox::Sandbox {
        self.sandbox.clone()
    }

    /// How many `openapi/listen` polls this node holds right now.
    pub fn held_polls(&self) -> usize {
        self.hub.held()
    }

    /// Runs one housekeeping pass now, as if the clock said `now_ms` (Unix milliseconds): what is
    /// past its retention or expiry then is deleted. The server runs one every five minutes on
    /// the real clock; this is for `bizmail housekeep` and for tests of retention.
    pub async fn housekeep_at(&self, now_ms: i64) {
        housekeep(&self.store, &self.limits, &self.retention, now_ms).await;
    }

    /// Stops accepting, lets in-flight requests finish, writes the queued operation-log rows and
    /// closes the store.
    pub async fn shutdown(self) {
        // Held polls answer {"Ret":0} first, so the HTTP server's graceful drain is quick.
        self.hub.close();
        let _ = self.stop.send(true);
        if let Some(l) = self.pg_listener {
            let _ = l.await;
        }
        let _ = self.http.await;
        let _ = self.smtp.await;
        for l in self.imap {
            let _ = l.await;
        }
        let _ = self.outbound.await;
        let _ = self.callback_worker.await;
        let _ = self.housekeeping.await;
        drop(self.oplog);
        let _ = self.oplog_task.await;
        self.store.close().await;
    }
}

/// How long logs are kept, in milliseconds.
#[derive(Debug, Clone, Copy)]
struct Retention {
    changelog_ms: i64,
    events_ms: i64,
    oplog_ms: i64,
    session_idle_ms: i64,
    session_max_ms: i64,
    outbound_ms: i64,
    activity_ms: i64,
    corp_grace_ms: i64,
}

async fn housekeeping(
    store: Store,
    limits: Arc<Limiters>,
    retention: Retention,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = stopped.wait_for(|s| *s) => return,
            () = tokio::time::sleep(HOUSEKEEPING_EVERY) => {}
        }
        housekeep(&store, &limits, &retention, store::now_ms()).await;
    }
}

/// One pass: each step is independent, so one failing (logged) does not stop the others.
async fn housekeep(store: &Store, limits: &Limiters, retention: &Retention, now: i64) {
    // Expired tokens, used or expired tickets, sessions past either expiry, abandoned login
    // challenges.
    let sessions = store::secrets::SessionLimits {
        idle_ms: retention.session_idle_ms,
        max_ms: retention.session_max_ms,
    };
    match store::secrets::purge(store, now, sessions).await {
        Ok(n) if n > 0 => tracing::debug!(purged = n, "dead secrets deleted"),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not purge dead secrets"),
    }
    let console = (retention.session_idle_ms, retention.session_max_ms);
    if let Err(e) = store::console::purge(store, now, console).await {
        tracing::warn!(error = %e, "could not purge the console's dead sign-ins");
    }
    // Versions look like Unix milliseconds (§1), so "older than N days" is a version cutoff.
    if let Err(e) = store::changes::prune_changes(store, now - retention.changelog_ms).await {
        tracing::warn!(error = %e, "could not prune the change log");
    }
    if let Err(e) = store::events::prune(store, now - retention.events_ms).await {
        tracing::warn!(error = %e, "could not prune the event log");
    }
    if let Err(e) = store::oplog::prune(store, now - retention.oplog_ms).await {
        tracing::warn!(error = %e, "could not prune the operation log");
    }
    if let Err(e) = store::activity::prune(store, now - retention.activity_ms).await {
        tracing::warn!(error = %e, "could not prune the mail and login logs");
    }
    if let Err(e) = store::callbacks::prune_attempts(store, now - retention.activity_ms).await {
        tracing::warn!(error = %e, "could not prune the callback delivery log");
    }
    // The newer API's tokens past their expiry and its grace period.
    if let Err(e) = store::corp::purge_tokens(store, now - retention.corp_grace_ms).await {
        tracing::warn!(error = %e, "could not purge the newer API's tokens");
    }
    // Sent and failed queue rows past their retention; submissions older than the hour the
    // sending limit looks at.
    if let Err(e) =
        store::outbound::prune(store, now - retention.outbound_ms, now - 3_600_000).await
    {
        tracing::warn!(error = %e, "could not prune the outbound queue");
    }
    limits.forget_idle();
}
