//! The sandbox page (沙箱, docs/SANDBOX.md), shown only to admins of a sandbox tenant: the
//! clock and a form to move it, the fault plan as JSON to edit or clear, and the record of the
//! tenant's API exchanges (by client, each with its bodies) with a HAR download. Every change is
//! written to the operation log, as the CLI's and the control endpoint's are.

use super::sandbox_texts::{SandboxTexts, st};
use super::{Signed, unavailable};
use crate::auth::console::Kind;
use crate::http::AppState;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::sandbox::{SandboxError, har, humanize_ms};
use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use bizmail_protocol::sandbox::{Plan, parse_shift};
use serde::Deserialize;

/// Exchanges the page reads (the newest; the HAR download takes as many).
const SHOWN: u32 = 500;

/// The page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/sandbox", get(page))
        .route("/admin/sandbox/record.har", get(download))
        .route("/admin/sandbox/{action}", post(act))
}

/// One exchange as the table shows it.
struct Row {
    at: String,
    client: String,
    method: String,
    url: String,
    status: i64,
    duration: String,
    fault: String,
    request_body: String,
    response_body: String,
}

#[derive(Template)]
#[template(path = "console/sandbox.html")]
struct SandboxTemplate<'a> {
    st: &'a SandboxTexts,
    csrf: &'a str,
    clock: String,
    plan: String,
    plan_empty: bool,
    clients: Vec<String>,
    client: &'a str,
    client_query: String,
    exchanges: Vec<Row>,
    notice: &'a str,
    error: &'a str,
}

/// `?client=`: one client's exchanges only.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    client: String,
}

/// The admin's sandbox tenant, or the response that says it is none.
async fn signed_sandbox(
    state: &AppState,
    jar: &CookieJar,
    (lang, ip): (Lang, std::net::IpAddr),
) -> Result<(Signed, i64), Response> {
    let signed = Signed::require(state, jar, (lang, ip), Kind::Admin).await?;
    match signed.session.account.tenant_id {
        Some(t) if signed.sandbox => Ok((signed, t)),
        _ => Err(super::message(
            lang,
            StatusCode::NOT_FOUND,
            st(lang).nav,
            st(lang).not_sandbox,
        )),
    }
}

async fn show(
    state: &AppState,
    (signed, tenant): (&Signed, i64),
    client: &str,
    (notice, error): (&str, &str),
) -> Response {
    let sandbox = match state.sandbox.require(tenant).await {
        Ok(s) => s,
        Err(e) => return unavailable(signed.lang, "reading a sandbox", &e),
    };
    let all = match state.sandbox.exchanges(tenant, None, SHOWN).await {
        Ok(list) => list,
        Err(e) => return unavailable(signed.lang, "reading a sandbox's record", &e),
    };
    let mut clients: Vec<String> = all.iter().map(|e| e.client.clone()).collect();
    clients.sort();
    clients.dedup();
    let exchanges = all
        .into_iter()
        .rev()
        .filter(|e| client.is_empty() || e.client == client)
        .map(|e| Row {
            at: chrono::DateTime::from_timestamp_millis(e.at_ms)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
                .unwrap_or_default(),
            #[allow(clippy::cast_precision_loss)] // microseconds of one call
            duration: format!("{:.1} ms", e.duration_us as f64 / 1000.0),
            client: e.client,
            method: e.method,
            url: e.url,
            status: e.status,
            fault: e.fault,
            request_body: e.request_body,
            response_body: e.response_body,
        })
        .collect();
    let plan = if sandbox.plan.is_empty() {
        String::new()
    } else {
        serde_json::to_string_pretty(&*sandbox.plan).unwrap_or_default()
    };
    let body = SandboxTemplate {
        st: st(signed.lang),
        csrf: &signed.session.csrf,
        clock: humanize_ms(sandbox.clock_offset_ms),
        plan_empty: plan.is_empty(),
        plan,
        clients,
        client,
        client_query: percent_encoding::utf8_percent_encode(
            client,
            percent_encoding::NON_ALPHANUMERIC,
        )
        .to_string(),
        exchanges,
        notice,
        error,
    }
    .render()
    .unwrap_or_default();
    signed.page(st(signed.lang).nav, "/admin/sandbox", &body)
}

/// `GET /admin/sandbox[?client=…]`.
async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Query(q): Query<PageQuery>,
) -> Response {
    match signed_sandbox(&state, &jar, (lang, ip)).await {
        Ok((signed, t)) => show(&state, (&signed, t), q.client.trim(), ("", "")).await,
        Err(r) => r,
    }
}

/// `GET /admin/sandbox/record.har[?client=…]`: the record as a HAR file.
async fn download(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (signed, tenant) = match signed_sandbox(&state, &jar, (lang, ip)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let client = Some(q.client.trim()).filter(|c| !c.is_empty());
    let list = match state.sandbox.exchanges(tenant, client, SHOWN).await {
        Ok(list) => list,
        Err(e) => return unavailable(signed.lang, "reading a sandbox's record", &e),
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let doc = har::document(&list, &format!("http://{host}"));
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"bizmail-sandbox.har\"",
            ),
        ],
        doc.to_string(),
    )
        .into_response()
}

/// Every form of the page.
#[derive(Deserialize)]
pub struct ActionForm {
    csrf: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    shift: String,
}

/// `POST /admin/sandbox/{faults|clear|clock|clear-record}`.
async fn act(
    State(state): State<AppState>,
    Path(action): Path<String>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Form(f): Form<ActionForm>,
) -> Response {
    let (signed, tenant) = match signed_sandbox(&state, &jar, (lang, ip)).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let texts = st(lang);
    if !signed.csrf_ok(&f.csrf) {
        let mut r = show(
            &state,
            (&signed, tenant),
            "",
            ("", signed.ct().form_expired),
        )
        .await;
        *r.status_mut() = StatusCode::FORBIDDEN;
        return r;
    }
    let sandbox = &state.sandbox;
    let (outcome, params) = match action.as_str() {
        "faults" => {
            let text = f.plan.trim();
            let parsed = if text.is_empty() {
                Ok(Plan::default())
            } else {
                serde_json::from_str::<Plan>(text).map_err(|e| SandboxError::Invalid(e.to_string()))
            };
            let done = match parsed {
                Ok(plan) => sandbox.set_plan(tenant, &plan).await.map(|()| texts.saved),
                Err(e) => Err(e),
            };
            (done, text.chars().take(1000).collect::<String>())
        }
        "clear" => (
            sandbox
                .set_plan(tenant, &Plan::default())
                .await
                .map(|()| texts.cleared),
            "cleared".to_owned(),
        ),
        "clock" => {
            let shift = f.shift.trim();
            let done = match parse_shift(shift) {
                Ok(ms) => sandbox
                    .move_clock(tenant, ms, shift == "0")
                    .await
                    .map(|_| texts.moved),
                Err(e) => Err(SandboxError::Invalid(e)),
            };
            (done, format!("shift={shift}"))
        }
        "clear-record" => (
            sandbox
                .clear_record(tenant)
                .await
                .map(|_| texts.record_cleared),
            String::new(),
        ),
        _ => return super::message(lang, StatusCode::NOT_FOUND, signed.ct().refused, &action),
    };
    let endpoint = format!("sandbox/{action}");
    match outcome {
        Ok(notice) => {
            signed.record(&state, &endpoint, &params, 0).await;
            show(&state, (&signed, tenant), "", (notice, "")).await
        }
        Err(SandboxError::Store(e)) => unavailable(lang, "a sandbox action", &e),
        Err(e) => {
            let errcode = i64::from(bizmail_protocol::ErrorCode::InvalidRequest.code());
            signed.record(&state, &endpoint, &params, errcode).await;
            let mut r = show(&state, (&signed, tenant), "", ("", &e.to_string())).await;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            r
        }
    }
}
