//! The newer Exmail API's routes (EXMAIL_API.md): `/cgi-bin/gettoken` and
//! `/cgi-bin/<area>/<verb>`. Every call passes the same guard (fields, token, application
//! scope, the corp's limits), is dispatched to one domain call (`endpoints.rs`), and leaves an
//! operation-log row. Every answer is HTTP 200 with `errcode` a JSON number and `errmsg`.

mod endpoints;
mod logs;

use super::AppState;
use super::sandbox::{Sandboxed, inject, keep};
use crate::auth::corp::{CorpGrant, CorpRefusal};
use crate::directory::DirError;
use crate::sandbox::record::Caller;
use crate::tenants::OplogEntry;
use axum::body::Body;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bizmail_protocol::cgi::{App, Code, ErrorAnswer, Fields};
use bizmail_protocol::sandbox::Fault;
use serde::Serialize;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

const JSON: &str = "application/json; charset=utf-8";

/// One request of the newer API, read whole.
#[derive(Debug)]
pub struct CgiRequest {
    /// Query and body merged; `None` when the body is neither JSON nor a form (40092).
    pub fields: Option<Fields>,
    /// When `fields` is `None`: `access_token` from the query alone, so that a call with a broken
    /// body is still told 40092 rather than 40014 (clients refresh their token on 40014 and would
    /// retry forever).
    pub query_token: Option<String>,
    /// The client's address.
    pub client_ip: IpAddr,
    /// The `Host` the client used, for URLs that must lead back here.
    pub host: Option<String>,
    /// Whether the client came over HTTPS (directly or through a proxy that says so).
    pub https: bool,
    /// The request as it came, for a sandbox's record (moved out of the request, not copied).
    pub raw: Option<Box<crate::sandbox::record::Raw>>,
}

impl FromRequest<AppState> for CgiRequest {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let client_ip = super::request::client_ip(&parts, &state.config.trusted_proxies);
        let body = super::request::whole_body(body, state.config.max_body_bytes)
            .await
            .map_err(|_| answer_error(Code::InvalidParameter))?;
        let host = parts
            .headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .filter(|h| {
                h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
            })
            .map(str::to_owned);
        let fields = Fields::from_request(parts.uri.query(), &body);
        // Only a request whose fields did not parse needs the query read again, alone.
        let query_token = match &fields {
            Some(_) => None,
            None => Fields::from_request(parts.uri.query(), b"")
                .and_then(|f| f.text("access_token").ok().flatten()),
        };
        let https = super::webmail::over_https(state, &parts.headers);
        let raw = crate::sandbox::record::Raw::new(
            parts.method,
            parts.uri,
            std::mem::take(&mut parts.headers),
            body,
        );
        Ok(CgiRequest {
            fields,
            query_token,
            client_ip,
            host,
            https,
            raw: Some(Box::new(raw)),
        })
    }
}

/// A JSON answer with HTTP 200.
fn json_response(body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    r
}

/// Serializes a successful answer.
pub(crate) fn answer<T: Serialize>(value: &T) -> Result<Vec<u8>, Code> {
    serde_json::to_vec(value).map_err(|e| {
        super::error::log_failure("serializing an answer", &e);
        Code::SystemBusy
    })
}

fn answer_error(code: Code) -> Response {
    json_response(serde_json::to_vec(&ErrorAnswer::from(code)).unwrap_or_default())
}

/// The newer API's code for a directory failure: its own refusals as they are; the old
/// catalogue's (from shared checks) by meaning; failures as -1, their cause logged here.
pub(crate) fn dir_code(e: DirError) -> Code {
    use bizmail_protocol::ErrorCode as Old;
    match e {
        DirError::RefusedCgi(c) => c,
        DirError::Refused(Old::UserNotFound | Old::MailboxNotFound) => Code::UseridNotFound,
        DirError::Refused(Old::InvalidAlias) => Code::InvalidUserid,
        DirError::Refused(_) => Code::InvalidParameter,
        DirError::Store(e) => {
            super::error::log_failure("a store operation", &e);
            Code::SystemBusy
        }
        DirError::Internal(cause) => {
            super::error::log_failure("a directory operation", &cause);
            Code::SystemBusy
        }
    }
}

fn refusal_code(r: CorpRefusal) -> (Code, Option<i64>) {
    match r {
        CorpRefusal::Refused(code, tenant) => (code, tenant),
        CorpRefusal::Failed(cause) => {
            super::error::log_failure("authentication", &cause);
            (Code::SystemBusy, None)
        }
    }
}

/// Calls of each corp in flight, for `corp_max_in_flight` (40093).
#[derive(Debug, Default)]
pub struct InFlight(Mutex<HashMap<i64, u32>>);

/// One call counted in flight until dropped.
struct Slot<'a>(&'a InFlight, i64);

impl InFlight {
    fn enter(&self, tenant_id: i64, max: u32) -> Option<Slot<'_>> {
        let mut map = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(tenant_id).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot(self, tenant_id))
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut map = (self.0)
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.1) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.1);
            }
        }
    }
}

fn oplog_row(req: &CgiRequest, endpoint: &str) -> OplogEntry {
    OplogEntry {
        tenant_id: None,
        at_ms: 0,
        client_ip: crate::http::request::ip_text(req.client_ip),
        admin: String::new(),
        endpoint: format!("cgi-bin/{endpoint}"),
        params: req
            .fields
            .as_ref()
            .map(Fields::to_log_line)
            .unwrap_or_default(),
        errcode: 0,
    }
}

async fn finish(
    state: &AppState,
    mut row: OplogEntry,
    outcome: Result<Vec<u8>, Code>,
    logged: bool,
) -> Response {
    let errcode = outcome.as_ref().err().map_or(0, |c| c.number());
    crate::telemetry::api_call(
        if row.tenant_id.is_some() {
            &row.endpoint
        } else {
            "other"
        },
        errcode,
    );
    if !logged && row.tenant_id.is_some() {
        row.at_ms = crate::clock::now_ms();
        row.errcode = errcode;
        state.oplog.record(row).await;
    }
    match outcome {
        Ok(body) => json_response(body),
        Err(code) => answer_error(code),
    }
}

/// `GET|POST /cgi-bin/gettoken?corpid&corpsecret`.
pub async fn gettoken(State(state): State<AppState>, mut req: CgiRequest) -> Response {
    let mut row = oplog_row(&req, "gettoken");
    let raw = req.raw.take();
    let mut sandboxed = None;
    let outcome = issue(&state, &req, &mut row, &mut sandboxed).await;
    let response = finish(&state, row, outcome, false).await;
    keep(&state, sandboxed, raw, response, false).await
}

async fn issue(
    state: &AppState,
    req: &CgiRequest,
    row: &mut OplogEntry,
    sandboxed: &mut Option<Sandboxed>,
) -> Result<Vec<u8>, Code> {
    let f = req.fields.as_ref().ok_or(Code::InvalidParameter)?;
    let corp_id = f.text("corpid").ok().flatten().ok_or(Code::InvalidCorpid)?;
    let secret = f.text("corpsecret").ok().flatten().unwrap_or_default();
    let mut lifetime = state.config.corp_token_lifetime_secs;
    if let Some(sandbox) = state.sandbox.of_corp(&corp_id).await {
        let caller = Caller::asking(format!("corp:{}", corp_id.trim()));
        let (s, fault) = inject(
            state,
            &sandbox,
            "cgi-bin/gettoken",
            (caller, &mut row.params),
        )
        .await;
        row.tenant_id = Some(s.tenant_id);
        *sandboxed = Some(s);
        if let Some(Fault::Error(code)) = fault {
            return Err(Code::from_number(code).unwrap_or(Code::SystemBusy));
        }
        // A token that "expires early": it says the configured lifetime and stops sooner.
        lifetime = sandbox.plan.token_ttl_secs.unwrap_or(lifetime);
    }
    let issued = state
        .auth
        .issue_corp_token(&corp_id, &secret, (lifetime, req.client_ip), |tenant| {
            state.limits.corp_token.check_key(&tenant).is_ok()
        })
        .await;
    let issued = match issued {
        Ok(t) => t,
        Err(r) => {
            let (code, tenant) = refusal_code(r);
            row.tenant_id = tenant;
            return Err(code);
        }
    };
    row.tenant_id = Some(issued.tenant_id);
    row.admin = "gettoken".into();
    answer(&bizmail_protocol::cgi::answers::Answer::ok(
        bizmail_protocol::cgi::answers::Token {
            access_token: issued.token,
            expires_in: state.config.corp_token_lifetime_secs,
        },
    ))
}

/// `GET|POST /cgi-bin/<area>/<verb>?access_token=…`.
pub async fn call(
    State(state): State<AppState>,
    Path((area, verb)): Path<(String, String)>,
    mut req: CgiRequest,
) -> Response {
    let named = format!(
        "{}/{}",
        area.to_ascii_lowercase(),
        verb.to_ascii_lowercase()
    );
    // Only the endpoints that exist name metrics labels and log rows: a caller cannot fill either
    // with made-up names (or control characters).
    let endpoint = if endpoints::KNOWN.contains(&named.as_str()) {
        named
    } else {
        "other".to_owned()
    };
    let mut row = oplog_row(&req, &endpoint);
    let raw = req.raw.take();
    let mut sandboxed = None;
    let (outcome, logged) = guarded(&state, &endpoint, &req, &mut row, &mut sandboxed).await;
    let response = finish(&state, row, outcome, logged).await;
    keep(&state, sandboxed, raw, response, false).await
}

async fn guarded(
    state: &AppState,
    endpoint: &str,
    req: &CgiRequest,
    row: &mut OplogEntry,
    sandboxed: &mut Option<Sandboxed>,
) -> (Result<Vec<u8>, Code>, bool) {
    let Some(app) = App::of_endpoint(endpoint) else {
        return (Err(Code::InvalidParameter), false);
    };
    let token = req
        .fields
        .as_ref()
        .and_then(|f| f.text("access_token").ok().flatten())
        .or_else(|| req.query_token.clone());
    let grant = state
        .auth
        .authorize_corp(
            token.as_deref(),
            app,
            state.config.corp_token_grace_secs,
            req.client_ip,
        )
        .await;
    let grant: CorpGrant = match grant {
        Ok(g) => g,
        Err(r) => {
            let (code, tenant) = refusal_code(r);
            row.tenant_id = tenant;
            // A sandbox records what its clients were refused too (an expired token's 40014).
            if let (Some(t), Some(token)) = (tenant, token.as_deref())
                && state.sandbox.of(t).await.is_some()
            {
                let hash = crate::auth::tokens::token_hash(token.trim());
                *sandboxed = Some(Sandboxed {
                    tenant_id: t,
                    caller: Caller::with_token(format!("app:{}", app.name()), &hash),
                    mark: None,
                });
            }
            return (Err(code), false);
        }
    };
    row.tenant_id = Some(grant.tenant_id);
    row.admin = format!("app:{}", app.name());
    if let Some(sandbox) = state
        .sandbox
        .resolve(grant.sandbox.as_ref(), grant.tenant_id)
    {
        let hash = crate::auth::tokens::token_hash(token.as_deref().unwrap_or_default().trim());
        let caller = Caller::with_token(row.admin.clone(), &hash);
        let named = format!("cgi-bin/{endpoint}");
        let (s, fault) = inject(state, &sandbox, &named, (caller, &mut row.params)).await;
        *sandboxed = Some(s);
        if let Some(Fault::Error(code)) = fault {
            return (
                Err(Code::from_number(code).unwrap_or(Code::SystemBusy)),
                false,
            );
        }
    }
    let Some(fields) = req.fields.as_ref() else {
        return (Err(Code::InvalidParameter), false);
    };
    let Some(_slot) = state
        .cgi_in_flight
        .enter(grant.tenant_id, state.config.corp_max_in_flight)
    else {
        return (Err(Code::TooManyConcurrent), false);
    };
    let ctx = endpoints::Ctx {
        state,
        grant: &grant,
        fields,
        req,
        row,
    };
    match endpoints::dispatch(ctx, endpoint).await {
        Ok((body, logged)) => (Ok(body), logged),
        Err(code) => (Err(code), false),
    }
}
