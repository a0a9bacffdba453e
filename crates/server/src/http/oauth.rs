//! `/cgi-bin/token` (§3): an access token for an admin name and the tenant's interface key.

use super::AppState;
use super::reply::Reply;
use super::request::ApiRequest;
use super::sandbox::{inject, keep};
use crate::sandbox::record::Caller;
use crate::tenants::OplogEntry;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bizmail_protocol::ErrorCode;
use bizmail_protocol::credentials::client_credentials;
use bizmail_protocol::response::TokenResponse;
use bizmail_protocol::sandbox::Fault;

/// The endpoint name written to the operation log.
const ENDPOINT: &str = "cgi-bin/token";

/// Issues a token. Checks, in order: the per-IP rate (10002); readable parameters and a client
/// (1001); `grant_type` present (1001) and `client_credentials` (1101); then the credentials
/// (1100/1102, see [`access::issue_token`]). A sandbox's faults apply once the admin is known.
pub async fn token(State(state): State<AppState>, mut req: ApiRequest) -> Response {
    if state.limits.token.check_key(&req.client_ip).is_err() {
        return Reply::Error(ErrorCode::IpFreqBlock).into_response();
    }
    let params = match req.params {
        Ok(p) => p,
        Err(code) => return Reply::Error(code).into_response(),
    };
    let Some((client_id, client_secret)) =
        client_credentials(req.authorization.as_deref(), &params).filter(|(id, _)| !id.is_empty())
    else {
        return Reply::Error(ErrorCode::InvalidRequest).into_response();
    };
    match params.get_nonempty("grant_type") {
        None => return Reply::Error(ErrorCode::InvalidRequest).into_response(),
        Some(g) if g != "client_credentials" => {
            return Reply::Error(ErrorCode::UnsupportedGrantType).into_response();
        }
        Some(_) => {}
    }
    let lifetime = state.config.token_lifetime_secs;
    let mut log_params = params.to_log_line();
    let raw = req.raw.take();
    let (mut sandboxed, mut fault, mut stored_lifetime) = (None, None, lifetime);
    if let Some(sandbox) = state.sandbox.of_admin(&client_id).await {
        let caller = Caller::asking(format!("openapi:{}", client_id.trim()));
        let (s, f) = inject(&state, &sandbox, ENDPOINT, (caller, &mut log_params)).await;
        (sandboxed, fault) = (Some(s), f);
        // A token that "expires early": it says `lifetime` and stops working sooner.
        stored_lifetime = sandbox.plan.token_ttl_secs.unwrap_or(lifetime);
    }
    let outcome = match fault {
        Some(Fault::Error(code)) => Err(crate::auth::access::Refusal {
            code: u32::try_from(code)
                .ok()
                .and_then(ErrorCode::from_code)
                .unwrap_or(ErrorCode::TemporarilyUnavailable),
            tenant_id: sandboxed.as_ref().map(|s| s.tenant_id),
            admin: client_id.clone(),
            cause: None,
        }),
        _ => {
            state
                .auth
                .issue_token(&client_id, &client_secret, stored_lifetime, req.client_ip)
                .await
        }
    };
    let (reply, tenant_id, errcode) = match outcome {
        Ok(issued) => (
            Reply::json(&TokenResponse {
                access_token: issued.token,
                token_type: "Bearer".into(),
                expires_in: lifetime,
                refresh_token: String::new(),
            }),
            Some(issued.tenant_id),
            0,
        ),
        Err(refusal) => {
            let (tenant_id, errcode) = (refusal.tenant_id, i64::from(refusal.code.code()));
            (Reply::from(refusal), tenant_id, errcode)
        }
    };
    // Token requests are logged for the tenant they name, so an admin sees who asked for tokens
    // (and who tried the wrong key). Requests for unknown admins belong to no tenant.
    if tenant_id.is_some() {
        state
            .oplog
            .record(OplogEntry {
                tenant_id,
                at_ms: crate::clock::now_ms(),
                client_ip: crate::http::request::ip_text(req.client_ip),
                admin: client_id,
                endpoint: ENDPOINT.into(),
                params: log_params,
                errcode,
            })
            .await;
    }
    keep(&state, sandboxed, raw, reply.into_response(), false).await
}
