//! The axum router and nothing else: handlers parse with `bizmail_protocol`, call one domain
//! function, and answer through [`reply::Reply`]. No SQL and no protocol quirk lives here.

pub mod cgi;
pub mod compose;
pub mod console;
pub mod error;
pub mod health;
pub mod i18n;
pub mod listener;
pub mod login;
pub mod mailbox;
pub mod metrics;
pub mod oauth;
pub mod openapi;
pub mod password;
pub mod redirect;
pub mod reply;
pub mod request;
pub mod sandbox;
pub mod sandbox_api;
pub mod sso;
pub mod webmail;

use crate::config::Config;
use crate::tenants::oplog::OplogWriter;
use axum::Router;
use axum::response::Response;
use axum::routing::get;
use bizmail_protocol::ErrorCode;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

/// Everything a handler may use, behind one `Arc`: axum clones the state for every request, and
/// one reference count is cheaper than one per handle (each handle holds several).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// The state over `services`.
    pub fn new(services: Services) -> AppState {
        AppState(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The configuration, the limits, and one handle per domain room (never the store).
pub struct Services {
    /// The configuration in effect.
    pub config: Arc<Config>,
    /// Where operation-log rows go.
    pub oplog: OplogWriter,
    /// Per-IP limits, checked before any work is done for a request.
    pub limits: Arc<Limiters>,
    /// Tokens, tickets, sessions and member logins.
    pub auth: crate::auth::Auth,
    /// Members, departments and groups.
    pub directory: crate::directory::Directory,
    /// Members' mailboxes (the web mailbox reads and changes mail only through them).
    pub mailboxes: crate::mail::Mailboxes,
    /// Sends what members compose in the web mailbox.
    pub sender: crate::mail::submit::Sender,
    /// Held `listen` polls.
    pub push: crate::push::Push,
    /// Whether the database answers, for `/healthz`.
    pub health: crate::server::Health,
    /// The mail, login and operation logs the newer API's `log/*` reads.
    pub activity: crate::activity::Activity,
    /// The admin side, for the web console (`/admin/`).
    pub admin: crate::tenants::Admin,
    /// The new-mail callbacks (the console's newer-API page sets, tests and reads them).
    pub callbacks: crate::callbacks::Callbacks,
    /// The newer API's calls in flight per corp.
    pub cgi_in_flight: cgi::InFlight,
    /// The sandboxes: faults, moved clocks, the record of exchanges.
    pub sandbox: crate::sandbox::Sandbox,
}

/// The per-client-address rate limiters.
pub struct Limiters {
    /// `/cgi-bin/token`, per minute.
    pub token: DefaultKeyedRateLimiter<IpAddr>,
    /// The newer API's `gettoken`, per corp (tenant) per second.
    pub corp_token: DefaultKeyedRateLimiter<i64>,
    /// `/openapi/*`, per second; `None` when switched off.
    pub api: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Password-login attempts (passwords and codes), per client address per minute.
    pub login_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Password-login attempts, per mailbox (lower-case address) per hour, from anywhere.
    pub login_account: DefaultKeyedRateLimiter<String>,
}

impl Limiters {
    /// Builds the limiters the configuration asks for.
    pub fn from_config(config: &Config) -> Limiters {
        let per_minute =
            NonZeroU32::new(config.token_requests_per_minute).unwrap_or(NonZeroU32::MIN);
        Limiters {
            token: RateLimiter::keyed(Quota::per_minute(per_minute)),
            corp_token: RateLimiter::keyed(Quota::per_second(
                NonZeroU32::new(config.corp_token_requests_per_second).unwrap_or(NonZeroU32::MIN),
            )),
            api: NonZeroU32::new(config.api_requests_per_second)
                .map(|n| RateLimiter::keyed(Quota::per_second(n))),
            login_ip: RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(config.login_attempts_per_ip_per_minute).unwrap_or(NonZeroU32::MIN),
            )),
            login_account: RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(config.login_attempts_per_account_per_hour)
                    .unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    /// Forgets addresses that have been quiet long enough to be back at a full allowance.
    pub fn forget_idle(&self) {
        self.token.retain_recent();
        self.corp_token.retain_recent();
        self.login_ip.retain_recent();
        self.login_account.retain_recent();
        if let Some(api) = &self.api {
            api.retain_recent();
        }
    }
}

/// The whole HTTP surface as one router (tests drive it in-process or on port 0).
pub fn build_router(state: AppState) -> Router {
    // A composed mail may carry attachments up to the message size limit (base64 adds a third).
    let compose_limit = state
        .config
        .smtp_max_message_bytes
        .saturating_add(64 * 1024);
    let router = Router::new()
        .route("/cgi-bin/token", get(oauth::token).post(oauth::token))
        .route("/cgi-bin/gettoken", get(cgi::gettoken).post(cgi::gettoken))
        .route("/cgi-bin/{area}/{verb}", get(cgi::call).post(cgi::call))
        .route(
            "/openapi/{*endpoint}",
            get(openapi::call).post(openapi::call),
        )
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/cgi-bin/login", get(sso::login).post(sso::login))
        .route("/login", get(login::form).post(login::submit))
        .route(
            "/login/code",
            get(login::code_form).post(login::code_submit),
        )
        .route(
            "/login/password",
            get(password::form).post(password::submit),
        )
        .route("/lang/{code}", get(i18n::switch))
        .route("/mail/", get(mailbox::folder))
        .route(
            "/mail/empty-trash",
            axum::routing::post(mailbox::empty_trash),
        )
        .route(
            "/mail/compose",
            get(compose::form)
                .post(compose::submit)
                .layer(axum::extract::DefaultBodyLimit::max(compose_limit)),
        )
        .route("/mail/read/{mail_id}", get(webmail::read))
        .route("/mail/body/{mail_id}", get(webmail::body))
        .route(
            "/mail/attachment/{mail_id}/{index}",
            get(webmail::attachment),
        )
        .route(
            "/mail/{action}/{mail_id}",
            axum::routing::post(mailbox::act),
        )
        .route("/mail/logout", axum::routing::post(webmail::logout))
        .merge(console::routes())
        .merge(sandbox_api::routes())
        .route_layer(metrics::Track)
        .with_state(state.clone());
    // Only a server that asks for HTTP error statuses pays for a look at every answer, and only
    // a server-wide sandbox for a look at every page.
    let router = if state.config.http_error_status {
        router.layer(axum::middleware::map_response(error_status))
    } else {
        router
    };
    if state.config.sandbox {
        router.layer(axum::middleware::map_response(sandbox::footer))
    } else {
        router
    }
}

/// Gives protocol errors a fitting HTTP status instead of the real service's 200 (§6). The body
/// stays the same. Layered only on a server with `http_error_status = true`.
async fn error_status(mut response: Response) -> Response {
    if response.status() == axum::http::StatusCode::OK
        && let Some(code) = response.extensions().get::<ErrorCode>().copied()
        && let Ok(status) = axum::http::StatusCode::from_u16(code.http_status())
    {
        *response.status_mut() = status;
    }
    response
}
