//! `/openapi/<area>/<verb>`: the guard every call passes (rate, parameters, token, sync switch,
//! IP allow list), the dispatch to the endpoint, and the operation-log row of every call.

use super::AppState;
use super::reply::Reply;
use super::request::ApiRequest;
use crate::auth::access::{self, Grant};
use crate::store::{self, oplog::OplogEntry};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use bizmail_protocol::credentials::access_token;
use bizmail_protocol::{ErrorCode, Params};

/// Handles one OpenApi call, accepted or refused, and logs it.
pub async fn call(
    State(state): State<AppState>,
    Path(endpoint): Path<String>,
    req: ApiRequest,
) -> Reply {
    let endpoint = endpoint.trim_matches('/').to_ascii_lowercase();
    let mut row = OplogEntry {
        tenant_id: None,
        at_ms: 0,
        client_ip: req.client_ip.to_string(),
        admin: String::new(),
        endpoint: format!("openapi/{endpoint}"),
        params: String::new(),
        errcode: 0,
    };
    let reply = guarded(&state, &endpoint, req, &mut row).await;
    row.at_ms = store::now_ms();
    row.errcode = reply.errcode().map_or(0, |c| i64::from(c.code()));
    state.oplog.record(row).await;
    reply
}

async fn guarded(state: &AppState, endpoint: &str, req: ApiRequest, row: &mut OplogEntry) -> Reply {
    if let Some(limiter) = &state.limits.api
        && limiter.check_key(&req.client_ip).is_err()
    {
        return Reply::Error(ErrorCode::IpFreqBlock);
    }
    let params = match req.params {
        Ok(p) => p,
        Err(code) => return Reply::Error(code),
    };
    row.params = params.to_log_line();
    let token = access_token(req.authorization.as_deref(), &params);
    let grant = match access::authorize(&state.store, token, req.client_ip).await {
        Ok(g) => g,
        Err(refusal) => {
            row.tenant_id = refusal.tenant_id;
            row.admin = refusal.admin;
            return Reply::Error(refusal.code);
        }
    };
    row.tenant_id = Some(grant.tenant_id);
    row.admin.clone_from(&grant.admin_name);
    dispatch(state, endpoint, &grant, &params).await
}

/// The endpoints. Each arm parses what it needs from `params` and calls one domain function.
async fn dispatch(_state: &AppState, endpoint: &str, _grant: &Grant, _params: &Params) -> Reply {
    match endpoint {
        // bizmail's own addition: an authenticated call that does nothing, for integrators' health
        // checks (is my token still good?) and for measuring the cost of the guard itself.
        "bizmail/ping" => Reply::Empty,
        _ => Reply::ErrorWithStatus(ErrorCode::InvalidRequest, StatusCode::NOT_FOUND),
    }
}
