//! The web console at `/admin/`: a tenant admin's pages (the open protocol, the operation log,
//! …) and an operator's (the tenants), server-rendered like the web mailbox: no script, the
//! same strict Content-Security-Policy, an anti-CSRF token in every form that changes anything,
//! both languages. Sign-in always takes a password and a TOTP code (`login`).
//!
//! Handlers here only read forms, call one `tenants::Admin` verb and render; every change an
//! admin makes is written to the operation log (`record`) under a `console/…` endpoint, so that
//! the log the seed documents promise (操作记录) shows the console's actions beside the API's.

pub mod apps;
pub mod directory;
pub mod log;
pub mod login;
pub mod mail;
pub mod openapi;
pub mod operator;
pub mod sandbox;
mod sandbox_texts;
pub mod texts;

use super::AppState;
use super::i18n::{Lang, Texts};
use super::redirect;
use super::webmail::harden;
use crate::auth::console::{ConsoleSession, Kind};
use crate::auth::secrets_equal;
use crate::tenants::{AdminError, OplogEntry};
use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use bizmail_protocol::ErrorCode;
use std::net::IpAddr;
use texts::Ct;

/// The cookie holding a console session.
pub const SESSION_COOKIE: &str = "bizmail_console";
/// The cookie holding a console sign-in whose code is still owed.
pub const CHALLENGE_COOKIE: &str = "bizmail_console_login";

/// The console's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin",
            get(|| async { redirect::see_other("/admin/", "/admin/") }),
        )
        .route("/admin/", get(home))
        .route(
            "/admin/login",
            get(login::admin_form).post(login::admin_submit),
        )
        .route(
            "/admin/operator/login",
            get(login::operator_form).post(login::operator_submit),
        )
        .route(
            "/admin/login/code",
            get(login::code_form).post(login::code_submit),
        )
        .route("/admin/logout", post(login::logout))
        .route("/admin/openapi", get(openapi::page))
        .route("/admin/openapi/{action}", post(openapi::act))
        .route("/admin/log", get(log::page))
        .route("/admin/log.csv", get(log::csv))
        .route("/admin/operator/", get(operator::page))
        .route("/admin/operator/{action}", post(operator::act))
        .merge(directory::routes())
        .merge(mail::routes())
        .merge(apps::routes())
        .merge(sandbox::routes())
}

/// `GET /admin/`: the signed-in account's first page, or the sign-in.
async fn home(
    axum::extract::State(state): axum::extract::State<AppState>,
    lang: Lang,
    jar: CookieJar,
) -> Response {
    match session(&state, &jar, lang).await {
        Ok(Some(s)) if s.account.kind == Kind::Operator => {
            redirect::see_other("/admin/operator/", "/admin/")
        }
        Ok(Some(_)) => redirect::see_other("/admin/openapi", "/admin/"),
        Ok(None) => redirect::see_other("/admin/login", "/admin/"),
        Err(page) => page,
    }
}

/// The console session this browser carries, if any; the error is the "unavailable" page.
async fn session(
    state: &AppState,
    jar: &CookieJar,
    lang: Lang,
) -> Result<Option<ConsoleSession>, Response> {
    let Some(c) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let (idle, max) = (
        state.config.session_idle_secs,
        state.config.session_lifetime_secs,
    );
    state
        .auth
        .console_session(c.value(), idle, max)
        .await
        .map_err(|e| unavailable(lang, "a console session", &e))
}

/// A signed-in console request: who, in which language, from where.
pub struct Signed {
    /// The session.
    pub session: ConsoleSession,
    /// The language.
    pub lang: Lang,
    /// The client's address (for the operation log).
    pub ip: IpAddr,
    /// Whether the admin's tenant is a sandbox (its page joins the navigation).
    pub sandbox: bool,
}

impl Signed {
    /// The session of `kind` this browser carries, or the response to answer instead: the
    /// sign-in page of that kind (or the other kind's home when signed in as the other kind).
    pub async fn require(
        state: &AppState,
        jar: &CookieJar,
        (lang, ip): (Lang, IpAddr),
        kind: Kind,
    ) -> Result<Signed, Response> {
        match session(state, jar, lang).await? {
            Some(session) if session.account.kind == kind => {
                let sandbox = match session.account.tenant_id {
                    Some(t) => state.sandbox.of(t).await.is_some(),
                    None => false,
                };
                Ok(Signed {
                    session,
                    lang,
                    ip,
                    sandbox,
                })
            }
            Some(_) => Err(redirect::see_other("/admin/", "/admin/")),
            None => Err(match kind {
                Kind::Admin => redirect::see_other("/admin/login", "/admin/"),
                Kind::Operator => redirect::see_other("/admin/operator/login", "/admin/"),
            }),
        }
    }

    /// The admin's (or operator's) name.
    pub fn name(&self) -> &str {
        &self.session.account.name
    }

    /// Whether a form repeated this session's anti-CSRF token.
    pub fn csrf_ok(&self, sent: &str) -> bool {
        secrets_equal(self.session.csrf.as_bytes(), sent.as_bytes())
    }

    /// The console's texts.
    pub fn ct(&self) -> &'static Ct {
        texts::ct(self.lang)
    }

    /// Writes a console action to the operation log: `endpoint` under `console/`, its masked
    /// parameters, and 0 or the code of its refusal. A failure to write is logged, not shown: the
    /// action itself is done.
    pub async fn record(&self, state: &AppState, endpoint: &str, params: &str, errcode: i64) {
        let row = OplogEntry {
            tenant_id: self.session.account.tenant_id,
            at_ms: crate::store::now_ms(),
            client_ip: self.ip.to_string(),
            admin: self.name().to_owned(),
            endpoint: format!("console/{endpoint}"),
            params: params.to_owned(),
            errcode,
        };
        if let Err(e) = state.admin.record(&row).await {
            super::error::log_failure("writing a console action to the operation log", &e);
        }
    }

    /// A whole signed-in page.
    pub fn page(&self, title: &str, here: &str, body: &str) -> Response {
        let mut nav = nav(self.session.account.kind, self.ct(), here);
        if self.sandbox {
            let label = sandbox_texts::st(self.lang).nav;
            nav.push(("/admin/sandbox", label, here.starts_with("/admin/sandbox")));
        }
        render(
            self.lang,
            Chrome {
                title,
                here,
                who: Some((self.name(), &self.session.csrf)),
                nav: &nav,
            },
            body,
        )
    }
}

/// The code the operation log records for a refused console action (the old API's codes, as
/// the rest of the log uses them).
pub fn errcode_of(e: &AdminError) -> i64 {
    let code = match e {
        AdminError::WrongPassword | AdminError::UnknownAdmin(_) => ErrorCode::InvalidClient,
        AdminError::NotApplied => ErrorCode::OpenapiDisabled,
        AdminError::Invalid(_) | AdminError::Exists(_) | AdminError::AlreadyApplied => {
            ErrorCode::InvalidRequest
        }
        AdminError::Vault(_) | AdminError::Store(_) => ErrorCode::TemporarilyUnavailable,
    };
    i64::from(code.code())
}

/// The navigation of a kind of account, with the current page marked.
fn nav(kind: Kind, ct: &Ct, here: &str) -> Vec<(&'static str, &'static str, bool)> {
    let items: &[(&'static str, &'static str)] = match kind {
        Kind::Admin => &[
            ("/admin/openapi", ct.nav_openapi),
            ("/admin/log", ct.nav_log),
            ("/admin/directory", ct.nav_directory),
            ("/admin/mail", ct.nav_mail),
            ("/admin/apps", ct.nav_apps),
        ],
        Kind::Operator => &[("/admin/operator/", ct.nav_tenants)],
    };
    items
        .iter()
        .map(|&(href, label)| (href, label, here.starts_with(href)))
        .collect()
}

/// What frames a console page.
pub struct Chrome<'a> {
    /// The page's title.
    pub title: &'a str,
    /// Its path, for the language switch and the navigation.
    pub here: &'a str,
    /// The signed-in account's name and anti-CSRF token (for the sign-out button).
    pub who: Option<(&'a str, &'a str)>,
    /// The navigation.
    pub nav: &'a [(&'static str, &'static str, bool)],
}

#[derive(Template)]
#[template(path = "console/page.html")]
struct PageTemplate<'a> {
    t: &'a Texts,
    ct: &'a Ct,
    title: &'a str,
    heading: &'a str,
    who: Option<&'a str>,
    csrf: &'a str,
    switch_href: &'a str,
    nav: &'a [(&'static str, &'static str, bool)],
    body: &'a str,
}

/// A console page with the web mailbox's security headers.
pub fn render(lang: Lang, chrome: Chrome<'_>, body: &str) -> Response {
    let (t, ct) = (lang.texts(), texts::ct(lang));
    let switch_href = format!(
        "/lang/{}?back={}",
        t.other_code,
        percent_encoding::utf8_percent_encode(chrome.here, percent_encoding::NON_ALPHANUMERIC)
    );
    let heading = if chrome.here.starts_with("/admin/operator") {
        ct.operator_console
    } else {
        ct.console
    };
    let html = PageTemplate {
        t,
        ct,
        title: chrome.title,
        heading,
        who: chrome.who.map(|w| w.0),
        csrf: chrome.who.map(|w| w.1).unwrap_or_default(),
        switch_href: &switch_href,
        nav: chrome.nav,
        body,
    }
    .render()
    .unwrap_or_default();
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    harden(
        r.headers_mut(),
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
        "DENY",
    );
    r
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessageTemplate<'a> {
    heading: &'a str,
    detail: &'a str,
}

/// A page that only says something, with its status.
pub fn message(lang: Lang, status: StatusCode, heading: &str, detail: &str) -> Response {
    let body = MessageTemplate { heading, detail }
        .render()
        .unwrap_or_default();
    let chrome = Chrome {
        title: heading,
        here: "/admin/",
        who: None,
        nav: &[],
    };
    let mut r = render(lang, chrome, &body);
    *r.status_mut() = status;
    r
}

/// The 503 page for a failure, whose cause is logged here.
pub fn unavailable(lang: Lang, during: &str, cause: &dyn std::fmt::Display) -> Response {
    super::error::log_failure(during, cause);
    let ct = texts::ct(lang);
    message(lang, StatusCode::SERVICE_UNAVAILABLE, ct.unavailable, "")
}
