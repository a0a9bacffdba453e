//! The open protocol page (工具箱 → 开放协议, §2.1–2.2): apply (立即申请), the interface key masked
//! until the admin password is typed again (查看明文), replacing the key (every token issued
//! under the old one stops), the sync switch (启用/关闭同步, §1.3) and the IP allow list. Each
//! action is written to the operation log; the password never is.

use super::texts::Ct;
use super::{Signed, errcode_of, unavailable};
use crate::auth::console::Kind;
use crate::http::AppState;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::tenants::AdminError;
use crate::tenants::console::OpenApiState;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "console/openapi.html")]
struct OpenApiTemplate<'a> {
    ct: &'a Ct,
    csrf: &'a str,
    admin: &'a str,
    st: &'a OpenApiState,
    key: Option<&'a str>,
    /// Whether the admin asked to see the key (查看明文): the password prompt is shown.
    asking: bool,
    notice: &'a str,
    error: &'a str,
}

/// The page as it is now, with a revealed key (or the password prompt when `key` is `Err`), a
/// notice or an error.
async fn show(
    state: &AppState,
    signed: &Signed,
    key: Result<Option<&str>, Asking>,
    (notice, error): (&str, &str),
) -> Response {
    let (key, asking) = match key {
        Ok(key) => (key, false),
        Err(Asking) => (None, true),
    };
    let st = match state.admin.openapi_state(signed.name()).await {
        Ok(st) => st,
        Err(e) => return unavailable(signed.lang, "reading the open protocol's state", &e),
    };
    let body = OpenApiTemplate {
        ct: signed.ct(),
        csrf: &signed.session.csrf,
        admin: signed.name(),
        st: &st,
        key,
        asking,
        notice,
        error,
    }
    .render()
    .unwrap_or_default();
    signed.page(signed.ct().nav_openapi, "/admin/openapi", &body)
}

/// The password prompt of 查看明文 is on the page.
pub struct Asking;

/// `GET /admin/openapi[?reveal=1]`: with `reveal`, the admin clicked 查看明文 and is asked for the
/// password (the seed documents' three steps: 查看明文, the password and 确定, the key).
#[derive(Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    reveal: Option<String>,
}

/// `GET /admin/openapi`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Query(q): Query<PageQuery>,
) -> Response {
    let key = if q.reveal.is_some() {
        Err(Asking)
    } else {
        Ok(None)
    };
    match Signed::require(&state, &jar, (lang, ip), Kind::Admin).await {
        Ok(signed) => show(&state, &signed, key, ("", "")).await,
        Err(r) => r,
    }
}

/// Every form of the page: the token, and the password or the allow-list entry some need.
#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    entry: String,
}

/// `POST /admin/openapi/{apply|reveal|rotate|enable|disable|allow|deny}`.
pub async fn act(
    State(state): State<AppState>,
    Path(action): Path<String>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(f): Form<ActionForm>,
) -> Response {
    let signed = match Signed::require(&state, &jar, (lang, ip), Kind::Admin).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ct = signed.ct();
    if !signed.csrf_ok(&f.csrf) {
        let mut r = show(&state, &signed, Ok(None), ("", ct.form_expired)).await;
        *r.status_mut() = StatusCode::FORBIDDEN;
        return r;
    }
    let (admin, entry) = (signed.name().to_owned(), f.entry.trim().to_owned());
    // Typing the password again is a password check like a sign-in: the same allowance per
    // account, so a stolen session cannot be used to guess the password.
    let limits = &state.limits.login_account;
    if action == "reveal" && limits.check_key(&format!("admin:{admin}")).is_err() {
        let mut r = show(&state, &signed, Err(Asking), ("", ct.too_many_attempts)).await;
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return r;
    }
    let (outcome, params): (Result<Done, AdminError>, String) = match action.as_str() {
        "apply" => (
            state
                .admin
                .apply(&admin)
                .await
                .map(|_| Done::Notice(ct.applied)),
            String::new(),
        ),
        "reveal" => (
            state.admin.reveal(&admin, &f.password).await.map(Done::Key),
            "password=***".to_owned(),
        ),
        "rotate" => (
            state
                .admin
                .rotate(&admin)
                .await
                .map(|_| Done::Notice(ct.rotated)),
            String::new(),
        ),
        "enable" | "disable" => {
            let on = action == "enable";
            let done = Done::Notice(if on {
                ct.enabled_notice
            } else {
                ct.disabled_notice
            });
            (
                state.admin.set_enabled(&admin, on).await.map(|()| done),
                String::new(),
            )
        }
        "allow" | "deny" => {
            let list = [entry.clone()];
            let changed = if action == "allow" {
                state.admin.allow_ips(&admin, &list).await
            } else {
                state.admin.deny_ips(&admin, &list).await
            };
            (changed.map(|_| Done::Notice("")), format!("ip={entry}"))
        }
        _ => return super::message(lang, StatusCode::NOT_FOUND, ct.refused, &action),
    };
    let endpoint = format!("openapi/{action}");
    match outcome {
        Ok(done) => {
            signed.record(&state, &endpoint, &params, 0).await;
            match done {
                Done::Key(key) => show(&state, &signed, Ok(Some(&key)), ("", "")).await,
                Done::Notice(n) => show(&state, &signed, Ok(None), (n, "")).await,
            }
        }
        Err(e @ (AdminError::Store(_) | AdminError::Vault(_))) => {
            unavailable(lang, "an open-protocol action", &e)
        }
        Err(e) => {
            signed
                .record(&state, &endpoint, &params, errcode_of(&e))
                .await;
            let error = match &e {
                AdminError::WrongPassword => ct.wrong_password.to_owned(),
                AdminError::Invalid(_) if action == "allow" || action == "deny" => {
                    format!("{}: {entry}", ct.bad_entry)
                }
                other => format!("{}{other}", ct.refused),
            };
            let status = match e {
                AdminError::WrongPassword => StatusCode::UNAUTHORIZED,
                _ => StatusCode::BAD_REQUEST,
            };
            // A wrong password asks again.
            let key = if action == "reveal" {
                Err(Asking)
            } else {
                Ok(None)
            };
            let mut r = show(&state, &signed, key, ("", &error)).await;
            *r.status_mut() = status;
            r.into_response()
        }
    }
}

/// What a successful action shows.
enum Done {
    /// The revealed key.
    Key(String),
    /// A line saying what changed.
    Notice(&'static str),
}
