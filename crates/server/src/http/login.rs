//! The password login pages: `/login` (address and password) and `/login/code` (the second factor
//! a member's `user/openwxtoken` forces, with the enrolment QR code on first use). The checks
//! themselves are `crate::login`'s; this module adds the rate limits, per client address and per
//! mailbox, and the forms' anti-forgery token.
//!
//! Before a session exists there is no session token to put in a form, so the login forms use a
//! double-submit token: a random value in a `SameSite` cookie that the form must repeat. A page
//! on another site can neither read the cookie nor make the browser send it on a cross-site POST.

use super::AppState;
use super::error::unavailable_page;
use super::i18n::{Lang, Texts};
use super::redirect;
use super::request::ClientIp;
use super::webmail::{cookie, current_session, over_https, page, session_cookie};
use crate::auth::member_login::{Accepted, CodePage, Enrolment, Failed};
use crate::auth::tickets::Opened;
use crate::auth::{random_bytes, secrets_equal};
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;

/// The cookie holding the login forms' anti-forgery token.
pub const FORM_COOKIE: &str = "bizmail_form";
/// The cookie holding a half-finished login (password right, code owed).
pub const CHALLENGE_COOKIE: &str = "bizmail_challenge";
/// The cookie holding a first SSO login of the newer API that owes the member's password.
pub const SSO_PENDING_COOKIE: &str = "bizmail_sso";

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate<'a> {
    t: &'a Texts,
    csrf: &'a str,
    address: &'a str,
    error: &'a str,
    notice: &'a str,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodeTemplate<'a> {
    t: &'a Texts,
    csrf: &'a str,
    address: &'a str,
    enrolment: Option<&'a Enrolment>,
    error: &'a str,
}

/// The form token of this browser, made (and set as a cookie) when it has none.
pub(super) fn form_token(jar: CookieJar, secure: bool) -> (CookieJar, String) {
    match jar.get(FORM_COOKIE) {
        Some(c) if c.value().len() == 32 => {
            let token = c.value().to_owned();
            (jar, token)
        }
        _ => {
            let token = hex::encode(random_bytes::<16>());
            let jar = jar.add(cookie(FORM_COOKIE, token.clone(), secure));
            (jar, token)
        }
    }
}

/// Whether a form repeated this browser's form token.
pub(super) fn form_ok(jar: &CookieJar, sent: &str) -> bool {
    jar.get(FORM_COOKIE)
        .is_some_and(|c| secrets_equal(c.value().as_bytes(), sent.as_bytes()))
}

fn login_page(t: &Texts, status: StatusCode, csrf: &str, address: &str, error: &str) -> Response {
    login_view(t, status, csrf, (address, error, ""))
}

/// The login page with a filled-in address, an error and a notice (each may be empty).
fn login_view(t: &Texts, status: StatusCode, csrf: &str, texts: (&str, &str, &str)) -> Response {
    let (address, error, notice) = texts;
    let body = LoginTemplate {
        t,
        csrf,
        address,
        error,
        notice,
    }
    .render()
    .unwrap_or_default();
    let mut r = page(t, t.sign_in, None, "/login", &body);
    *r.status_mut() = status;
    r
}

fn code_page(t: &Texts, status: StatusCode, csrf: &str, p: &CodePage, error: &str) -> Response {
    let body = CodeTemplate {
        t,
        csrf,
        address: &p.address,
        enrolment: p.enrolment.as_ref(),
        error,
    }
    .render()
    .unwrap_or_default();
    let mut r = page(t, t.second_factor, None, "/login/code", &body);
    *r.status_mut() = status;
    r
}

/// `GET /login`: the address and password form; straight to the inbox when already signed in.
pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    if let Ok(Some(_)) = current_session(&state, &jar).await {
        return redirect::see_other("/mail/", "/mail/").into_response();
    }
    let (jar, csrf) = form_token(jar, over_https(&state, &headers));
    let t = lang.texts();
    // After a first SSO login of the newer API: the member's address, and why the password.
    let pending = match jar.get(SSO_PENDING_COOKIE) {
        Some(c) => match state.auth.sso_pending_address(c.value()).await {
            Ok(a) => a,
            Err(e) => return unavailable_page(t, "a pending SSO login", &e),
        },
        None => None,
    };
    let (address, notice) = match &pending {
        Some(a) => (a.as_str(), t.sso_confirm_password),
        None => ("", ""),
    };
    let page = login_view(t, StatusCode::OK, &csrf, (address, "", notice));
    (jar, page).into_response()
}

/// Authorizes the member's SSO when this browser carries a pending first SSO login of theirs;
/// the cookie is spent either way.
pub(super) async fn confirm_pending_sso(
    state: &AppState,
    jar: CookieJar,
    opened: &Opened,
) -> CookieJar {
    let Some(pending) = jar.get(SSO_PENDING_COOKIE).map(|c| c.value().to_owned()) else {
        return jar;
    };
    if let Err(e) = state.auth.confirm_sso(&pending, opened.member_id).await {
        super::error::log_failure("authorizing a member's SSO", &e);
    }
    jar.remove(Cookie::build(SSO_PENDING_COOKIE).path("/"))
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    address: String,
    password: String,
}

/// Takes one attempt from the client address's allowance; false when it is spent.
fn ip_allowed(state: &AppState, ip: std::net::IpAddr) -> bool {
    state.limits.login_ip.check_key(&ip).is_ok()
}

/// Takes one attempt from a mailbox's allowance (keyed by its primary address, so its aliases
/// share it); false when it is spent.
fn account_allowed(state: &AppState, account: &str) -> bool {
    state
        .limits
        .login_account
        .check_key(&account.to_lowercase())
        .is_ok()
}

/// `POST /login`: checks the password; opens the session, or goes on to the code page.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<PasswordForm>,
) -> Response {
    let t = lang.texts();
    let secure = over_https(&state, &headers);
    if !form_ok(&jar, &f.csrf) {
        let (jar, csrf) = form_token(jar, secure);
        return (
            jar,
            login_page(t, StatusCode::FORBIDDEN, &csrf, &f.address, t.form_expired),
        )
            .into_response();
    }
    let limited = || {
        crate::telemetry::web_login("password", "limited");
        login_page(
            t,
            StatusCode::TOO_MANY_REQUESTS,
            &f.csrf,
            &f.address,
            t.too_many_attempts,
        )
    };
    if !ip_allowed(&state, ip) {
        return limited();
    }
    let outcome = state
        .auth
        .password_login(
            f.address.trim(),
            &f.password,
            state.config.login_challenge_secs,
            |account| account_allowed(&state, account),
        )
        .await;
    match outcome {
        Ok(Accepted::SignedIn(opened)) => {
            crate::telemetry::web_login("password", "ok");
            web_login_recorded(&state, &opened, ip).await;
            let jar = confirm_pending_sso(&state, jar, &opened).await;
            (
                jar.add(session_cookie(opened.session_id, secure)),
                redirect::see_other("/mail/", "/mail/"),
            )
                .into_response()
        }
        Ok(Accepted::NewPasswordNeeded(pending)) => {
            crate::telemetry::web_login("password", "new_password_needed");
            (
                jar.add(cookie(super::password::PASSWORD_COOKIE, pending, secure)),
                redirect::see_other("/login/password", "/login/"),
            )
                .into_response()
        }
        Ok(Accepted::CodeNeeded(challenge)) => {
            crate::telemetry::web_login("password", "code_needed");
            (
                jar.add(cookie(CHALLENGE_COOKIE, challenge, secure)),
                redirect::see_other("/login/code", "/login/"),
            )
                .into_response()
        }
        Err(Failed::Unavailable(cause)) => unavailable_page(t, "a mailbox login", &cause),
        Err(Failed::Limited) => limited(),
        Err(_) => {
            crate::telemetry::web_login("password", "refused");
            login_page(
                t,
                StatusCode::UNAUTHORIZED,
                &f.csrf,
                &f.address,
                t.wrong_credentials,
            )
        }
    }
}

/// The login page again, for a challenge that is gone: the password is needed anew.
fn start_again(t: &Texts, jar: CookieJar, secure: bool) -> Response {
    let (jar, csrf) = form_token(jar, secure);
    let jar = jar.remove(Cookie::build(CHALLENGE_COOKIE).path("/"));
    (
        jar,
        login_page(t, StatusCode::UNAUTHORIZED, &csrf, "", t.challenge_expired),
    )
        .into_response()
}

/// `GET /login/code`: asks for the code, with the QR code to enrol when the member has none.
pub async fn code_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let t = lang.texts();
    let secure = over_https(&state, &headers);
    let Some(challenge) = jar.get(CHALLENGE_COOKIE).map(|c| c.value().to_owned()) else {
        return start_again(t, jar, secure);
    };
    match state.auth.code_page(&challenge).await {
        Ok(p) => {
            let (jar, csrf) = form_token(jar, secure);
            (jar, code_page(t, StatusCode::OK, &csrf, &p, "")).into_response()
        }
        Err(Failed::Unavailable(cause)) => unavailable_page(t, "a mailbox login", &cause),
        Err(_) => start_again(t, jar, secure),
    }
}

/// The code form.
#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// `POST /login/code`: checks the code and opens the session.
pub async fn code_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<CodeForm>,
) -> Response {
    let t = lang.texts();
    let secure = over_https(&state, &headers);
    let Some(challenge) = jar.get(CHALLENGE_COOKIE).map(|c| c.value().to_owned()) else {
        return start_again(t, jar, secure);
    };
    let address = match state.auth.challenge_address(&challenge).await {
        Ok(a) => a,
        Err(Failed::Unavailable(cause)) => {
            return unavailable_page(t, "a mailbox login", &cause);
        }
        Err(_) => return start_again(t, jar, secure),
    };
    let again = Again {
        state: &state,
        t,
        challenge: &challenge,
        csrf: &f.csrf,
        secure,
    };
    if !form_ok(&jar, &f.csrf) {
        return again
            .refused(StatusCode::FORBIDDEN, t.form_expired, jar)
            .await;
    }
    if !ip_allowed(&state, ip) || !account_allowed(&state, &address) {
        crate::telemetry::web_login("code", "limited");
        return again
            .refused(StatusCode::TOO_MANY_REQUESTS, t.too_many_attempts, jar)
            .await;
    }
    match state.auth.code_login(&challenge, &f.code).await {
        Ok(opened) => {
            crate::telemetry::web_login("code", "ok");
            web_login_recorded(&state, &opened, ip).await;
            let jar = confirm_pending_sso(&state, jar, &opened).await;
            let jar = jar
                .remove(Cookie::build(CHALLENGE_COOKIE).path("/"))
                .add(session_cookie(opened.session_id, secure));
            (jar, redirect::see_other("/mail/", "/mail/")).into_response()
        }
        Err(Failed::Code | Failed::Credentials | Failed::Limited | Failed::SecondFactor) => {
            crate::telemetry::web_login("code", "refused");
            again
                .refused(StatusCode::UNAUTHORIZED, t.wrong_code, jar)
                .await
        }
        Err(Failed::Expired) => start_again(t, jar, secure),
        Err(Failed::Unavailable(cause)) => unavailable_page(t, "a mailbox login", &cause),
    }
}

/// The code page shown again after a refused code, with the reason.
struct Again<'a> {
    state: &'a AppState,
    t: &'static Texts,
    challenge: &'a str,
    csrf: &'a str,
    secure: bool,
}

impl Again<'_> {
    async fn refused(&self, status: StatusCode, error: &str, jar: CookieJar) -> Response {
        match self.state.auth.code_page(self.challenge).await {
            Ok(p) => (jar, code_page(self.t, status, self.csrf, &p, error)).into_response(),
            Err(_) => start_again(self.t, jar, self.secure),
        }
    }
}

/// Records a web-mailbox login for the newer API's `log/login`.
pub async fn web_login_recorded(state: &AppState, opened: &Opened, ip: std::net::IpAddr) {
    let kind = crate::activity::login_kind::WEB;
    state
        .activity
        .record_login(opened.tenant_id, opened.member_id, &ip.to_string(), kind)
        .await;
}
