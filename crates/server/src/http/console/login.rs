//! Console sign-in: `/admin/login` (an admin) and `/admin/operator/login` (an operator) take the
//! name and password, `/admin/login/code` the TOTP code (with the enrolment QR code the first
//! time), `/admin/logout` ends the session. The checks are `auth::console`'s; this module adds
//! the rate limits (the mailbox's: per client address, and per account) and the forms'
//! anti-forgery tokens (the login forms' double-submit cookie, then the session's token).

use super::texts::Ct;
use super::{CHALLENGE_COOKIE, Chrome, SESSION_COOKIE, render, texts, unavailable};
use crate::auth::console::Kind;
use crate::auth::member_login::{CodePage, Enrolment, Failed};
use crate::http::AppState;
use crate::http::i18n::Lang;
use crate::http::login::{form_ok, form_token};
use crate::http::redirect;
use crate::http::request::ClientIp;
use crate::http::webmail::over_https;
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginTemplate<'a> {
    ct: &'a Ct,
    heading: &'a str,
    action: &'a str,
    name_label: &'a str,
    other_href: &'a str,
    other_label: &'a str,
    csrf: &'a str,
    name: &'a str,
    error: &'a str,
    notice: &'a str,
}

#[derive(Template)]
#[template(path = "console/code.html")]
struct CodeTemplate<'a> {
    ct: &'a Ct,
    csrf: &'a str,
    name: &'a str,
    enrolment: Option<&'a Enrolment>,
    error: &'a str,
}

/// A console cookie: only for `/admin`, never sent by another site's request.
fn console_cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_path("/admin");
    c.set_secure(secure);
    c
}

fn gone(name: &'static str) -> Cookie<'static> {
    Cookie::build(name).path("/admin").build()
}

/// The sign-in page of `kind`, with a name filled in, an error and a notice.
fn login_page(
    lang: Lang,
    kind: Kind,
    status: StatusCode,
    csrf: &str,
    (name, error, notice): (&str, &str, &str),
) -> Response {
    let ct = texts::ct(lang);
    let (heading, action, name_label, other_href, other_label) = match kind {
        Kind::Admin => (
            ct.sign_in,
            "/admin/login",
            ct.admin_name,
            "/admin/operator/login",
            ct.to_operator,
        ),
        Kind::Operator => (
            ct.operator_sign_in,
            "/admin/operator/login",
            ct.operator_name,
            "/admin/login",
            ct.to_admin,
        ),
    };
    let body = LoginTemplate {
        ct,
        heading,
        action,
        name_label,
        other_href,
        other_label,
        csrf,
        name,
        error,
        notice,
    }
    .render()
    .unwrap_or_default();
    let chrome = Chrome {
        title: heading,
        here: action,
        who: None,
        nav: &[],
    };
    let mut r = render(lang, chrome, &body);
    *r.status_mut() = status;
    r
}

fn code_page(lang: Lang, status: StatusCode, csrf: &str, p: &CodePage, error: &str) -> Response {
    let ct = texts::ct(lang);
    let body = CodeTemplate {
        ct,
        csrf,
        name: &p.address,
        enrolment: p.enrolment.as_ref(),
        error,
    }
    .render()
    .unwrap_or_default();
    let chrome = Chrome {
        title: ct.second_factor,
        here: "/admin/login/code",
        who: None,
        nav: &[],
    };
    let mut r = render(lang, chrome, &body);
    *r.status_mut() = status;
    r
}

async fn form(
    state: AppState,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    kind: Kind,
) -> Response {
    if let Ok(Some(_)) = super::session(&state, &jar, lang).await {
        return redirect::see_other("/admin/", "/admin/");
    }
    let (jar, csrf) = form_token(jar, over_https(&state, &headers));
    let page = login_page(lang, kind, StatusCode::OK, &csrf, ("", "", ""));
    (jar, page).into_response()
}

/// `GET /admin/login`: the admin's sign-in form.
pub async fn admin_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    form(state, lang, headers, jar, Kind::Admin).await
}

/// `GET /admin/operator/login`: the operator's sign-in form.
pub async fn operator_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    form(state, lang, headers, jar, Kind::Operator).await
}

/// The sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    csrf: String,
    name: String,
    password: String,
}

async fn submit(
    state: AppState,
    (lang, ip): (Lang, std::net::IpAddr),
    (headers, jar): (HeaderMap, CookieJar),
    kind: Kind,
    f: SignInForm,
) -> Response {
    let ct = texts::ct(lang);
    let secure = over_https(&state, &headers);
    let again =
        |status, csrf: &str, error| login_page(lang, kind, status, csrf, (&f.name, error, ""));
    if !form_ok(&jar, &f.csrf) {
        let (jar, csrf) = form_token(jar, secure);
        return (jar, again(StatusCode::FORBIDDEN, &csrf, ct.form_expired)).into_response();
    }
    if state.limits.login_ip.check_key(&ip).is_err() {
        return again(StatusCode::TOO_MANY_REQUESTS, &f.csrf, ct.too_many_attempts);
    }
    let allow = |account: &str| {
        state
            .limits
            .login_account
            .check_key(&account.to_owned())
            .is_ok()
    };
    let challenge_secs = state.config.login_challenge_secs;
    let outcome = state
        .auth
        .console_password(kind, f.name.trim(), &f.password, challenge_secs, allow)
        .await;
    crate::telemetry::web_login(
        "console_password",
        if outcome.is_ok() {
            "code_needed"
        } else {
            "refused"
        },
    );
    match outcome {
        Ok(challenge) => (
            jar.add(console_cookie(CHALLENGE_COOKIE, challenge, secure)),
            redirect::see_other("/admin/login/code", "/admin/"),
        )
            .into_response(),
        Err(Failed::Limited) => again(StatusCode::TOO_MANY_REQUESTS, &f.csrf, ct.too_many_attempts),
        Err(Failed::Unavailable(cause)) => unavailable(lang, "a console sign-in", &cause),
        Err(_) => again(StatusCode::UNAUTHORIZED, &f.csrf, ct.wrong_credentials),
    }
}

/// `POST /admin/login`: checks an admin's password; on to the code page.
pub async fn admin_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<SignInForm>,
) -> Response {
    submit(state, (lang, ip), (headers, jar), Kind::Admin, f).await
}

/// `POST /admin/operator/login`: checks an operator's password; on to the code page.
pub async fn operator_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<SignInForm>,
) -> Response {
    submit(state, (lang, ip), (headers, jar), Kind::Operator, f).await
}

/// The sign-in page again, for a challenge that is gone.
fn start_again(lang: Lang, jar: CookieJar, secure: bool) -> Response {
    let (jar, csrf) = form_token(jar, secure);
    let ct = texts::ct(lang);
    let page = login_page(
        lang,
        Kind::Admin,
        StatusCode::UNAUTHORIZED,
        &csrf,
        ("", "", ct.challenge_expired),
    );
    (jar.remove(gone(CHALLENGE_COOKIE)), page).into_response()
}

/// `GET /admin/login/code`: asks for the code, with the QR code when the account has none yet.
pub async fn code_form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let secure = over_https(&state, &headers);
    let Some(challenge) = jar.get(CHALLENGE_COOKIE).map(|c| c.value().to_owned()) else {
        return start_again(lang, jar, secure);
    };
    match state.auth.console_code_page(&challenge).await {
        Ok(p) => {
            let (jar, csrf) = form_token(jar, secure);
            (jar, code_page(lang, StatusCode::OK, &csrf, &p, "")).into_response()
        }
        Err(Failed::Unavailable(cause)) => unavailable(lang, "a console sign-in", &cause),
        Err(_) => start_again(lang, jar, secure),
    }
}

/// The code form.
#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// `POST /admin/login/code`: checks the code and opens the session.
pub async fn code_submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<CodeForm>,
) -> Response {
    let ct = texts::ct(lang);
    let secure = over_https(&state, &headers);
    let Some(challenge) = jar.get(CHALLENGE_COOKIE).map(|c| c.value().to_owned()) else {
        return start_again(lang, jar, secure);
    };
    let account = match state.auth.console_challenge_account(&challenge).await {
        Ok(a) => a,
        Err(Failed::Unavailable(cause)) => return unavailable(lang, "a console sign-in", &cause),
        Err(_) => return start_again(lang, jar, secure),
    };
    let refused = async |status, error| match state.auth.console_code_page(&challenge).await {
        Ok(p) => code_page(lang, status, &f.csrf, &p, error),
        Err(_) => start_again(lang, jar.clone(), secure),
    };
    if !form_ok(&jar, &f.csrf) {
        return refused(StatusCode::FORBIDDEN, ct.form_expired).await;
    }
    let key = format!("{}:{}", account.kind.as_str(), account.name);
    if state.limits.login_ip.check_key(&ip).is_err()
        || state.limits.login_account.check_key(&key).is_err()
    {
        return refused(StatusCode::TOO_MANY_REQUESTS, ct.too_many_attempts).await;
    }
    match state.auth.console_code_login(&challenge, &f.code).await {
        Ok(session) => {
            crate::telemetry::web_login("console_code", "ok");
            let jar = jar.remove(gone(CHALLENGE_COOKIE)).add(console_cookie(
                SESSION_COOKIE,
                session,
                secure,
            ));
            (jar, redirect::see_other("/admin/", "/admin/")).into_response()
        }
        Err(Failed::Expired) => start_again(lang, jar, secure),
        Err(Failed::Unavailable(cause)) => unavailable(lang, "a console sign-in", &cause),
        Err(_) => {
            crate::telemetry::web_login("console_code", "refused");
            refused(StatusCode::UNAUTHORIZED, ct.wrong_code).await
        }
    }
}

/// The sign-out form.
#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// `POST /admin/logout`: ends the session (only with the session's own token, so that another
/// site cannot sign the admin out).
pub async fn logout(
    State(state): State<AppState>,
    lang: Lang,
    jar: CookieJar,
    Form(f): Form<LogoutForm>,
) -> Response {
    let ct = texts::ct(lang);
    match super::session(&state, &jar, lang).await {
        Ok(Some(s)) if crate::auth::secrets_equal(s.csrf.as_bytes(), f.csrf.as_bytes()) => {
            if let Some(c) = jar.get(SESSION_COOKIE)
                && let Err(e) = state.auth.console_logout(c.value()).await
            {
                return unavailable(lang, "a console sign-out", &e);
            }
            let page = super::message(lang, StatusCode::OK, ct.signed_out, "");
            (jar.remove(gone(SESSION_COOKIE)), page).into_response()
        }
        Ok(Some(_)) => super::message(lang, StatusCode::FORBIDDEN, ct.form_expired, ""),
        Ok(None) => redirect::see_other("/admin/login", "/admin/"),
        Err(page) => page,
    }
}
