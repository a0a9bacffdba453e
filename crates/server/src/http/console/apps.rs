//! The newer API's page (新版接口, `/admin/apps`): the corp id; the five applications (directory,
//! sso, mail, log, option), each switched on or off, its secret masked until the admin password
//! is typed again, and replaced on demand (its tokens stop at once); the first-SSO password
//! switch; the new-mail callback with its test notice and delivery log (`apps_callback`). Each
//! action is written to the operation log, never a password, secret, Token or key.

#[path = "apps_callback.rs"]
mod apps_callback;
#[path = "apps_texts.rs"]
mod apps_texts;

use super::texts::Ct;
use super::{Signed, errcode_of, unavailable};
use crate::auth::console::Kind;
use crate::http::AppState;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::tenants::AdminError;
use apps_callback::CallbackView;
use apps_texts::AppsTexts;
use askama::Template;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use bizmail_protocol::ErrorCode;
use bizmail_protocol::cgi::App;
use serde::Deserialize;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/apps", get(page))
        .route("/admin/apps/{action}", post(act))
}

/// An application's row.
struct AppRow {
    name: &'static str,
    label: &'static str,
    on: bool,
    secret: Option<String>,
}

#[derive(Template)]
#[template(path = "console/apps.html")]
struct AppsTemplate<'a> {
    ct: &'a Ct,
    at: &'a AppsTexts,
    csrf: &'a str,
    corp_id: &'a str,
    sync_on: bool,
    apps: Vec<AppRow>,
    sso_confirm: bool,
    cb: &'a CallbackView,
    form: &'a AppsForm,
    notice: &'a str,
    error: &'a str,
}

/// An application's name in the page's language.
fn app_label(at: &AppsTexts, app: App) -> &'static str {
    match app {
        App::Directory => at.app_directory,
        App::Sso => at.app_sso,
        App::Mail => at.app_mail,
        App::Log => at.app_log,
        App::Option => at.app_option,
    }
}

/// What a page shows besides the settings.
struct Shown<'a> {
    form: &'a AppsForm,
    secret: Option<(App, &'a str)>,
    notice: &'a str,
    error: &'a str,
    status: StatusCode,
}

/// The page as it is now.
async fn show(state: &AppState, signed: &Signed, shown: Shown<'_>) -> Response {
    let (lang, admin) = (signed.lang, signed.name());
    let at = apps_texts::at(lang);
    let read = tokio::try_join!(
        state.admin.corp_show(admin),
        state.admin.openapi_state(admin),
        state.admin.corp_sso_confirm_state(admin),
        state.admin.tenant_of(admin),
    );
    let (info, openapi, sso_confirm, tenant_id) = match read {
        Ok(all) => all,
        Err(e) => return unavailable(lang, "reading the newer API's settings", &e),
    };
    let cb = match apps_callback::view(state, signed, tenant_id).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    // In the order of the real service's console, not the store's.
    let mut listed = info.apps.clone();
    listed.sort_by_key(|(app, _)| App::ALL.iter().position(|a| a == app));
    let apps = listed
        .iter()
        .map(|&(app, on)| AppRow {
            name: app.name(),
            label: app_label(at, app),
            on,
            secret: shown
                .secret
                .filter(|(a, _)| *a == app)
                .map(|(_, s)| s.to_owned()),
        })
        .collect();
    let body = AppsTemplate {
        ct: signed.ct(),
        at,
        csrf: &signed.session.csrf,
        corp_id: &info.corp_id,
        sync_on: openapi.applied && openapi.enabled,
        apps,
        sso_confirm,
        cb: &cb,
        form: shown.form,
        notice: shown.notice,
        error: shown.error,
    }
    .render()
    .unwrap_or_default();
    let mut r = signed.page(signed.ct().nav_apps, "/admin/apps", &body);
    *r.status_mut() = shown.status;
    r
}

/// `GET /admin/apps`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> Response {
    let signed = match Signed::require(&state, &jar, (lang, ip), Kind::Admin).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let form = AppsForm::default();
    let shown = Shown {
        form: &form,
        secret: None,
        notice: "",
        error: "",
        status: StatusCode::OK,
    };
    show(&state, &signed, shown).await
}

/// Every form of the page; each uses some of the fields.
#[derive(Deserialize, Default)]
pub struct AppsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    app: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    aes_key: String,
    #[serde(default)]
    user: String,
}

/// What a done action shows.
enum Done {
    /// An application's secret, revealed.
    Secret(App, String),
    /// A line saying what changed.
    Notice(String),
}

/// Why an action was not done, in words, with the code for the operation log and the status of
/// the page; or a failure of the store (the "unavailable" page).
enum Refusal {
    Said(String, i64, StatusCode),
    Failed(Box<dyn std::fmt::Display + Send + Sync>),
}

/// An admin-side refusal in words.
fn admin_refusal(ct: &Ct, at: &AppsTexts, e: AdminError) -> Refusal {
    let code = errcode_of(&e);
    match e {
        AdminError::Store(_) | AdminError::Vault(_) => Refusal::Failed(Box::new(e)),
        AdminError::WrongPassword => {
            Refusal::Said(ct.wrong_password.to_owned(), code, StatusCode::UNAUTHORIZED)
        }
        AdminError::Invalid(_) => {
            Refusal::Said(at.no_app.to_owned(), code, StatusCode::BAD_REQUEST)
        }
        other => Refusal::Said(
            format!("{}{other}", ct.refused),
            code,
            StatusCode::BAD_REQUEST,
        ),
    }
}

/// `POST /admin/apps/{reveal|rotate|enable|disable|sso-confirm-on|sso-confirm-off|callback-…}`.
pub async fn act(
    State(state): State<AppState>,
    Path(action): Path<String>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    form: Result<Form<AppsForm>, FormRejection>,
) -> Response {
    let signed = match Signed::require(&state, &jar, (lang, ip), Kind::Admin).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (ct, at) = (signed.ct(), apps_texts::at(lang));
    let f = form.map(|Form(f)| f).unwrap_or_default();
    if !signed.csrf_ok(&f.csrf) {
        return refused(
            &state,
            &signed,
            &f,
            (ct.form_expired, StatusCode::FORBIDDEN),
        )
        .await;
    }
    let admin = signed.name().to_owned();
    // Typing the password again is a password check like a sign-in: the same allowance per
    // account, so a stolen session cannot be used to guess the password.
    let limits = &state.limits.login_account;
    if action == "reveal" && limits.check_key(&format!("admin:{admin}")).is_err() {
        let limited = (ct.too_many_attempts, StatusCode::TOO_MANY_REQUESTS);
        return refused(&state, &signed, &f, limited).await;
    }
    let app = App::from_name(f.app.trim());
    let label = app.map_or("", |a| app_label(at, a));
    let app_param = format!("app={}", f.app.trim());
    let (outcome, params): (Result<Done, Refusal>, String) = match action.as_str() {
        "reveal" => (
            state
                .admin
                .corp_reveal(&admin, &f.password, f.app.trim())
                .await
                .map_err(|e| admin_refusal(ct, at, e))
                .and_then(|secret| {
                    app.map(|a| Done::Secret(a, secret)).ok_or_else(|| {
                        let code = i64::from(ErrorCode::InvalidRequest.code());
                        Refusal::Said(at.no_app.to_owned(), code, StatusCode::BAD_REQUEST)
                    })
                }),
            format!("{app_param}; password=***"),
        ),
        "rotate" => (
            state
                .admin
                .corp_rotate(&admin, f.app.trim())
                .await
                .map(|_| Done::Notice(format!("{}{label}", at.rotated)))
                .map_err(|e| admin_refusal(ct, at, e)),
            app_param,
        ),
        "enable" | "disable" => {
            let on = action == "enable";
            let said = if on { at.switched_on } else { at.switched_off };
            (
                state
                    .admin
                    .corp_enable_app(&admin, f.app.trim(), on)
                    .await
                    .map(|()| Done::Notice(format!("{said}{label}")))
                    .map_err(|e| admin_refusal(ct, at, e)),
                app_param,
            )
        }
        "sso-confirm-on" | "sso-confirm-off" => {
            let on = action == "sso-confirm-on";
            let said = if on {
                at.sso_on_notice
            } else {
                at.sso_off_notice
            };
            (
                state
                    .admin
                    .corp_sso_confirm(&admin, on)
                    .await
                    .map(|()| Done::Notice(said.to_owned()))
                    .map_err(|e| admin_refusal(ct, at, e)),
                String::new(),
            )
        }
        a if a.starts_with("callback-") => match apps_callback::act(&state, &signed, &f, a).await {
            Some(done) => done,
            None => return super::message(lang, StatusCode::NOT_FOUND, ct.refused, &action),
        },
        _ => return super::message(lang, StatusCode::NOT_FOUND, ct.refused, &action),
    };
    let endpoint = format!("apps/{action}");
    match outcome {
        Ok(done) => {
            signed.record(&state, &endpoint, &params, 0).await;
            let empty = AppsForm::default();
            let (secret, notice) = match &done {
                Done::Secret(app, s) => (Some((*app, s.as_str())), ""),
                Done::Notice(n) => (None, n.as_str()),
            };
            let shown = Shown {
                form: &empty,
                secret,
                notice,
                error: "",
                status: StatusCode::OK,
            };
            show(&state, &signed, shown).await
        }
        Err(Refusal::Failed(e)) => unavailable(lang, "a newer-API action", &e),
        Err(Refusal::Said(error, code, status)) => {
            signed.record(&state, &endpoint, &params, code).await;
            refused(&state, &signed, &f, (&error, status)).await
        }
    }
}

/// The page with an error, the form's fields typed back (but never a secret).
async fn refused(
    state: &AppState,
    signed: &Signed,
    f: &AppsForm,
    (error, status): (&str, StatusCode),
) -> Response {
    let typed = AppsForm {
        app: f.app.clone(),
        url: f.url.clone(),
        user: f.user.clone(),
        ..AppsForm::default()
    };
    let shown = Shown {
        form: &typed,
        secret: None,
        notice: "",
        error,
        status,
    };
    show(state, signed, shown).await
}
