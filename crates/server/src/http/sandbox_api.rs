//! `/sandbox/v1/…`: the sandbox's control endpoint for integrators' test code (docs/SANDBOX.md).
//! bizmail's own API, not Exmail's: JSON in and out, `{"error": "…"}` with a fitting HTTP
//! status on a refusal. Every call carries `Authorization: Bearer <control key>`, the key
//! `bizmail sandbox mark` (or `key`) printed for one sandbox tenant; every change it makes is
//! written to that tenant's operation log.

use super::AppState;
use super::request::ClientIp;
use crate::sandbox::{SandboxError, har};
use crate::tenants::OplogEntry;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bizmail_protocol::sandbox::{Plan, parse_shift};
use serde::Deserialize;
use serde_json::json;

/// The routes, merged into the main router.
pub fn routes() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/sandbox/v1", get(status))
        .route(
            "/sandbox/v1/faults",
            get(status).put(set_faults).delete(clear_faults),
        )
        .route("/sandbox/v1/clock", get(status).post(move_clock))
        .route("/sandbox/v1/record", get(record).delete(clear_record))
        .route("/sandbox/v1/record.har", get(record_har))
}

fn refuse(status: StatusCode, text: impl Into<String>) -> Response {
    (status, Json(json!({ "error": text.into() }))).into_response()
}

fn failed(e: SandboxError) -> Response {
    match e {
        SandboxError::NotSandbox => refuse(StatusCode::CONFLICT, e.to_string()),
        SandboxError::Invalid(text) => refuse(StatusCode::BAD_REQUEST, text),
        SandboxError::Store(e) => {
            super::error::log_failure("a sandbox call", &e);
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the store is unavailable; retry",
            )
        }
    }
}

/// The sandbox tenant the request's control key opens; the refusal is the answer.
struct Sandboxed(i64);

impl axum::extract::FromRequestParts<AppState> for Sandboxed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Sandboxed, Response> {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        match state.sandbox.tenant_of_key(key).await {
            Ok(Some(t)) => Ok(Sandboxed(t)),
            Ok(None) => Err(refuse(
                StatusCode::UNAUTHORIZED,
                "expected Authorization: Bearer <the control key `bizmail sandbox mark` printed>",
            )),
            Err(e) => Err(failed(e)),
        }
    }
}

async fn log(state: &AppState, tenant_id: i64, ip: &ClientIp, endpoint: &str, params: String) {
    state
        .oplog
        .record(OplogEntry {
            tenant_id: Some(tenant_id),
            at_ms: crate::clock::now_ms(),
            client_ip: ip.0.to_string(),
            admin: "sandbox-key".to_owned(),
            endpoint: endpoint.to_owned(),
            params,
            errcode: 0,
        })
        .await;
}

/// `GET /sandbox/v1`: the plan in force and the clock.
async fn status(State(state): State<AppState>, Sandboxed(tenant_id): Sandboxed) -> Response {
    match state.sandbox.require(tenant_id).await {
        Ok(s) => Json(json!({
            "tenant_id": tenant_id,
            "server_wide": state.sandbox.server_wide(),
            "clock_offset_ms": s.clock_offset_ms,
            "clock": crate::sandbox::humanize_ms(s.clock_offset_ms),
            "faults": &*s.plan,
        }))
        .into_response(),
        Err(e) => failed(e),
    }
}

/// `PUT /sandbox/v1/faults`: replaces the plan with the body (JSON, docs/SANDBOX.md).
async fn set_faults(
    State(state): State<AppState>,
    ip: ClientIp,
    Sandboxed(tenant_id): Sandboxed,
    body: axum::body::Bytes,
) -> Response {
    let plan: Plan = match serde_json::from_slice(&body) {
        Ok(p) => p,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("the fault plan: {e}")),
    };
    if let Err(e) = state.sandbox.set_plan(tenant_id, &plan).await {
        return failed(e);
    }
    let text = serde_json::to_string(&plan).unwrap_or_default();
    log(&state, tenant_id, &ip, "sandbox/faults", text).await;
    status(State(state), Sandboxed(tenant_id)).await
}

/// `DELETE /sandbox/v1/faults`: no more faults.
async fn clear_faults(
    State(state): State<AppState>,
    ip: ClientIp,
    Sandboxed(tenant_id): Sandboxed,
) -> Response {
    if let Err(e) = state.sandbox.set_plan(tenant_id, &Plan::default()).await {
        return failed(e);
    }
    log(
        &state,
        tenant_id,
        &ip,
        "sandbox/faults",
        "cleared".to_owned(),
    )
    .await;
    status(State(state), Sandboxed(tenant_id)).await
}

/// The body of `POST /sandbox/v1/clock`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockMove {
    /// `+2h`: move from where it is.
    shift: Option<String>,
    /// Exactly this far ahead of the real clock (0: the real clock).
    offset_ms: Option<i64>,
}

/// `POST /sandbox/v1/clock`: `{"shift": "+2h"}` or `{"offset_ms": 0}`.
async fn move_clock(
    State(state): State<AppState>,
    ip: ClientIp,
    Sandboxed(tenant_id): Sandboxed,
    body: axum::body::Bytes,
) -> Response {
    let asked = match serde_json::from_slice::<ClockMove>(&body) {
        Ok(ClockMove {
            shift: Some(shift),
            offset_ms: None,
        }) => parse_shift(&shift).map(|ms| (ms, false)),
        Ok(ClockMove {
            shift: None,
            offset_ms: Some(ms),
        }) => Ok((ms, true)),
        Ok(_) => Err("expected {\"shift\": \"+2h\"} or {\"offset_ms\": 0}".to_owned()),
        Err(e) => Err(format!("the clock move: {e}")),
    };
    let (ms, absolute) = match asked {
        Ok(a) => a,
        Err(text) => return refuse(StatusCode::BAD_REQUEST, text),
    };
    match state.sandbox.move_clock(tenant_id, ms, absolute).await {
        Ok(offset) => {
            log(
                &state,
                tenant_id,
                &ip,
                "sandbox/clock",
                format!("offset_ms={offset}"),
            )
            .await;
            status(State(state), Sandboxed(tenant_id)).await
        }
        Err(e) => failed(e),
    }
}

/// The query of the record's endpoints.
#[derive(Deserialize)]
struct RecordQuery {
    /// One client only (`openapi:admin`, `app:directory`, `corp:<corpid>`).
    client: Option<String>,
    /// The last this many exchanges (default 200, at most 10,000).
    limit: Option<u32>,
}

async fn exchanges(
    state: &AppState,
    tenant_id: i64,
    q: &RecordQuery,
) -> Result<Vec<crate::sandbox::Exchange>, Response> {
    let limit = q.limit.unwrap_or(200).min(10_000);
    let client = q.client.as_deref().filter(|c| !c.is_empty());
    state
        .sandbox
        .exchanges(tenant_id, client, limit)
        .await
        .map_err(failed)
}

/// `GET /sandbox/v1/record`: the exchanges as JSON, oldest first.
async fn record(
    State(state): State<AppState>,
    Sandboxed(tenant_id): Sandboxed,
    Query(q): Query<RecordQuery>,
) -> Response {
    match exchanges(&state, tenant_id, &q).await {
        Ok(list) => Json(json!({ "exchanges": list })).into_response(),
        Err(r) => r,
    }
}

/// `GET /sandbox/v1/record.har`: the exchanges as a HAR 1.2 file.
async fn record_har(
    State(state): State<AppState>,
    Sandboxed(tenant_id): Sandboxed,
    headers: HeaderMap,
    Query(q): Query<RecordQuery>,
) -> Response {
    let list = match exchanges(&state, tenant_id, &q).await {
        Ok(list) => list,
        Err(r) => return r,
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let origin = format!("http://{host}");
    let mut r = Json(har::document(&list, &origin)).into_response();
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        header::HeaderValue::from_static("attachment; filename=\"bizmail-sandbox.har\""),
    );
    r
}

/// `DELETE /sandbox/v1/record`: forgets the record.
async fn clear_record(
    State(state): State<AppState>,
    ip: ClientIp,
    Sandboxed(tenant_id): Sandboxed,
) -> Response {
    match state.sandbox.clear_record(tenant_id).await {
        Ok(n) => {
            log(
                &state,
                tenant_id,
                &ip,
                "sandbox/record",
                format!("cleared {n}"),
            )
            .await;
            Json(json!({ "cleared": n })).into_response()
        }
        Err(e) => failed(e),
    }
}
