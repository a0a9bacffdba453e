//! `/login/password`: a member whose administrator set `cpwd_login` (the newer API) chooses a new
//! password after their right one, before the login goes on. The form carries the same
//! double-submit token as the other login forms.

use super::AppState;
use super::error::unavailable_page;
use super::i18n::{Lang, Texts};
use super::login::{
    CHALLENGE_COOKIE, confirm_pending_sso, form_ok, form_token, web_login_recorded,
};
use super::redirect;
use super::request::ClientIp;
use super::webmail::{cookie, over_https, page, session_cookie};
use crate::auth::member_login::Accepted;
use crate::auth::password_change::ChangeRefused;
use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use serde::Deserialize;

/// The cookie holding a right password whose member owes a new one.
pub const PASSWORD_COOKIE: &str = "bizmail_new_password";

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordTemplate<'a> {
    t: &'a Texts,
    csrf: &'a str,
    address: &'a str,
    error: &'a str,
}

fn password_page(
    t: &Texts,
    status: StatusCode,
    csrf: &str,
    address: &str,
    error: &str,
) -> Response {
    let body = PasswordTemplate {
        t,
        csrf,
        address,
        error,
    }
    .render()
    .unwrap_or_default();
    let mut r = page(t, t.new_password_title, None, "/login/password", &body);
    *r.status_mut() = status;
    r
}

/// The pending login's address, or `None` (back to the login form).
async fn pending(state: &AppState, jar: &CookieJar) -> Result<Option<String>, crate::StoreError> {
    match jar.get(PASSWORD_COOKIE) {
        Some(c) => state.auth.password_change_address(c.value()).await,
        None => Ok(None),
    }
}

/// `GET /login/password`.
pub async fn form(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
) -> Response {
    let t = lang.texts();
    let address = match pending(&state, &jar).await {
        Ok(Some(a)) => a,
        Ok(None) => return redirect::see_other("/login", "/login").into_response(),
        Err(e) => return unavailable_page(t, "a password change", &e),
    };
    let (jar, csrf) = form_token(jar, over_https(&state, &headers));
    (jar, password_page(t, StatusCode::OK, &csrf, &address, "")).into_response()
}

/// The new-password form.
#[derive(Deserialize)]
pub struct NewPasswordForm {
    csrf: String,
    password: String,
    repeat: String,
}

/// `POST /login/password`: sets the new password, then goes on as a right password does.
pub async fn submit(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    jar: CookieJar,
    Form(f): Form<NewPasswordForm>,
) -> Response {
    let t = lang.texts();
    let secure = over_https(&state, &headers);
    let Some(id) = jar.get(PASSWORD_COOKIE).map(|c| c.value().to_owned()) else {
        return redirect::see_other("/login", "/login").into_response();
    };
    let address = match pending(&state, &jar).await {
        Ok(Some(a)) => a,
        Ok(None) => return redirect::see_other("/login", "/login").into_response(),
        Err(e) => return unavailable_page(t, "a password change", &e),
    };
    let again = |status, error| {
        let (jar, csrf) = form_token(jar.clone(), secure);
        (jar, password_page(t, status, &csrf, &address, error)).into_response()
    };
    if !form_ok(&jar, &f.csrf) {
        return again(StatusCode::FORBIDDEN, t.form_expired);
    }
    if f.password != f.repeat {
        return again(StatusCode::UNPROCESSABLE_ENTITY, t.passwords_differ);
    }
    let outcome = state
        .auth
        .change_password(&id, &f.password, state.config.login_challenge_secs)
        .await;
    let jar = jar.clone().remove(Cookie::build(PASSWORD_COOKIE).path("/"));
    match outcome {
        Ok(Accepted::SignedIn(opened)) => {
            crate::telemetry::web_login("new_password", "ok");
            web_login_recorded(&state, &opened, ip).await;
            let jar = confirm_pending_sso(&state, jar, &opened).await;
            let jar = jar.add(session_cookie(opened.session_id, secure));
            (jar, redirect::see_other("/mail/", "/mail/")).into_response()
        }
        Ok(Accepted::CodeNeeded(challenge)) => {
            let jar = jar.add(cookie(CHALLENGE_COOKIE, challenge, secure));
            (jar, redirect::see_other("/login/code", "/login/")).into_response()
        }
        Ok(Accepted::NewPasswordNeeded(_)) | Err(ChangeRefused::Expired) => {
            (jar, redirect::see_other("/login", "/login")).into_response()
        }
        Err(ChangeRefused::Rules) => again(StatusCode::UNPROCESSABLE_ENTITY, t.password_rules),
        Err(ChangeRefused::Unchanged) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, t.password_unchanged)
        }
        Err(ChangeRefused::Unavailable(cause)) => unavailable_page(t, "a password change", &cause),
    }
}
