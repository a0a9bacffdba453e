//! The operator's pages (`/admin/operator/`): every tenant of the server with its domains, size
//! and state; creating one (its admin's first password shown once); disabling and enabling one.
//! What `bizmail tenant …` does, for a hosted deployment that hands out no shell.

use super::texts::Ct;
use super::{Signed, unavailable};
use crate::auth::console::Kind;
use crate::http::AppState;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::tenants::operator::TenantInfo;
use crate::tenants::{AdminError, NewTenant};
use askama::Template;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "console/tenants.html")]
struct TenantsTemplate<'a> {
    ct: &'a Ct,
    csrf: &'a str,
    tenants: &'a [TenantInfo],
    notice: &'a str,
    password: Option<&'a str>,
    error: &'a str,
}

async fn show(
    state: &AppState,
    signed: &Signed,
    status: StatusCode,
    (notice, password, error): (&str, Option<&str>, &str),
) -> Response {
    let tenants = match state.admin.tenants().await {
        Ok(t) => t,
        Err(e) => return unavailable(signed.lang, "listing tenants", &e),
    };
    let body = TenantsTemplate {
        ct: signed.ct(),
        csrf: &signed.session.csrf,
        tenants: &tenants,
        notice,
        password,
        error,
    }
    .render()
    .unwrap_or_default();
    let mut r = signed.page(signed.ct().tenants, "/admin/operator/", &body);
    *r.status_mut() = status;
    r
}

/// `GET /admin/operator/`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> Response {
    match Signed::require(&state, &jar, (lang, ip), Kind::Operator).await {
        Ok(signed) => show(&state, &signed, StatusCode::OK, ("", None, "")).await,
        Err(r) => r,
    }
}

/// The forms of the page.
#[derive(Deserialize)]
pub struct TenantForm {
    csrf: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    domains: String,
    #[serde(default)]
    admin: String,
}

/// `POST /admin/operator/{create|disable|enable}`.
pub async fn act(
    State(state): State<AppState>,
    Path(action): Path<String>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(f): Form<TenantForm>,
) -> Response {
    let signed = match Signed::require(&state, &jar, (lang, ip), Kind::Operator).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ct = signed.ct();
    if !signed.csrf_ok(&f.csrf) {
        return show(
            &state,
            &signed,
            StatusCode::FORBIDDEN,
            ("", None, ct.form_expired),
        )
        .await;
    }
    let outcome = match action.as_str() {
        "create" => state
            .admin
            .create_tenant(NewTenant {
                domains: f.domains.split_whitespace().map(str::to_owned).collect(),
                admin: f.admin.trim().to_owned(),
                ..NewTenant::default()
            })
            .await
            .map(|created| Some(created.generated_password.unwrap_or_default())),
        "disable" | "enable" => state
            .admin
            .set_tenant_disabled(&f.domain, action == "disable")
            .await
            .map(|_| None),
        _ => return super::message(lang, StatusCode::NOT_FOUND, ct.refused, &action),
    };
    tracing::info!(operator = signed.name(), action, "operator console action");
    match outcome {
        Ok(Some(password)) => {
            let shown = ("", Some(password.as_str()), "");
            show(
                &state,
                &signed,
                StatusCode::OK,
                (ct.created_tenant, shown.1, shown.2),
            )
            .await
        }
        Ok(None) => show(&state, &signed, StatusCode::OK, ("", None, "")).await,
        Err(e @ (AdminError::Store(_) | AdminError::Vault(_))) => {
            unavailable(lang, "an operator action", &e)
        }
        Err(e) => {
            let error = format!("{}{e}", ct.refused);
            show(&state, &signed, StatusCode::BAD_REQUEST, ("", None, &error)).await
        }
    }
}
