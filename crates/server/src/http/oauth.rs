//! `/cgi-bin/token` (§3): an access token for an admin name and the tenant's interface key.

use super::AppState;
use super::reply::Reply;
use super::request::ApiRequest;
use crate::tenants::OplogEntry;
use axum::extract::State;
use bizmail_protocol::ErrorCode;
use bizmail_protocol::credentials::client_credentials;
use bizmail_protocol::response::TokenResponse;

/// The endpoint name written to the operation log.
const ENDPOINT: &str = "cgi-bin/token";

/// Issues a token. Checks, in order: the per-IP rate (10002); readable parameters and a client
/// (1001); `grant_type` present (1001) and `client_credentials` (1101); then the credentials
/// (1100/1102, see [`access::issue_token`]).
pub async fn token(State(state): State<AppState>, req: ApiRequest) -> Reply {
    if state.limits.token.check_key(&req.client_ip).is_err() {
        return Reply::Error(ErrorCode::IpFreqBlock);
    }
    let params = match req.params {
        Ok(p) => p,
        Err(code) => return Reply::Error(code),
    };
    let Some((client_id, client_secret)) =
        client_credentials(req.authorization.as_deref(), &params).filter(|(id, _)| !id.is_empty())
    else {
        return Reply::Error(ErrorCode::InvalidRequest);
    };
    match params.get_nonempty("grant_type") {
        None => return Reply::Error(ErrorCode::InvalidRequest),
        Some(g) if g != "client_credentials" => {
            return Reply::Error(ErrorCode::UnsupportedGrantType);
        }
        Some(_) => {}
    }
    let lifetime = state.config.token_lifetime_secs;
    let outcome = state
        .auth
        .issue_token(&client_id, &client_secret, lifetime, req.client_ip)
        .await;
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
                client_ip: req.client_ip.to_string(),
                admin: client_id,
                endpoint: ENDPOINT.into(),
                params: params.to_log_line(),
                errcode,
            })
            .await;
    }
    reply
}
