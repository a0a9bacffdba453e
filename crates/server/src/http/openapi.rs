//! `/openapi/<area>/<verb>`: the guard every call passes (rate, parameters, token, sync switch,
//! IP allow list), the dispatch to the endpoint, and the operation-log row of every call.

use super::AppState;
use super::reply::Reply;
use super::request::ApiRequest;
use super::sandbox::{Sandboxed, inject, keep};
use crate::auth::access::Grant;
use crate::directory::reads::{Answer as ReadAnswer, Query};
use crate::directory::{Change, DirError, members};
use crate::sandbox::record::{Caller, Raw};
use crate::tenants::OplogEntry;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bizmail_protocol::credentials::access_token;
use bizmail_protocol::directory as req;
use bizmail_protocol::sandbox::Fault;
use bizmail_protocol::{ErrorCode, Params};

/// Handles one OpenApi call, accepted or refused, and logs it.
///
/// A plain function that returns the call's future, not an `async fn`: the future is what a held
/// `listen` poll keeps for its whole wait, and an `async fn` would store its arguments twice (as
/// passed, then as bound). The request is taken apart here, before the future exists, and the
/// rarely taken paths (a sandbox, the ticket, the reads) are boxed where they run, so that a
/// held poll's future stays small (see `PERFORMANCE.md`).
pub fn call(
    State(state): State<AppState>,
    endpoint: Result<Path<String>, PathRejection>,
    req: ApiRequest,
) -> impl Future<Output = Response> + Send {
    // A path that does not decode (`/openapi/%ff%fe`) names no endpoint: it is answered as an
    // unknown endpoint is, in the protocol's error shape, never axum's plain-text rejection.
    let endpoint = match endpoint {
        Ok(Path(e)) => e.trim_matches('/').to_ascii_lowercase(),
        Err(_) => String::from("\u{fffd}"),
    };
    let ApiRequest {
        params,
        authorization,
        client_ip,
        raw,
    } = req;
    let mut row = OplogEntry {
        tenant_id: None,
        at_ms: 0,
        client_ip: crate::http::request::ip_text(client_ip),
        admin: String::new(),
        endpoint: format!("openapi/{endpoint}"),
        params: String::new(),
        errcode: 0,
    };
    async move {
        let mut raw = raw;
        let mut sandboxed = None;
        let asked = Asked {
            params,
            authorization: authorization.as_deref(),
            client_ip,
        };
        let (reply, logged) = guarded(
            &state,
            &endpoint,
            asked,
            &mut row,
            (&mut sandboxed, &mut raw),
        )
        .await;
        let errcode = reply.errcode().map_or(0, |c| i64::from(c.code()));
        // Only callers with credentials name the endpoint label (an unknown endpoint is a 404 then).
        let known = !row.admin.is_empty()
            && !matches!(reply, Reply::ErrorWithStatus(_, StatusCode::NOT_FOUND));
        crate::telemetry::api_call(if known { &endpoint } else { "other" }, errcode);
        // A call that named no tenant (no token, a forged one) is counted above, not stored: the
        // operation log is each tenant's audit trail, not a place strangers can fill.
        if !logged && row.tenant_id.is_some() {
            row.at_ms = crate::clock::now_ms();
            row.errcode = errcode;
            state.oplog.record(row).await;
        }
        let was_cut = matches!(reply, Reply::Cut);
        keep(&state, sandboxed, raw, reply.into_response(), was_cut).await
    }
}

/// What the guard needs of the request.
struct Asked<'a> {
    params: Result<Params, ErrorCode>,
    authorization: Option<&'a str>,
    client_ip: std::net::IpAddr,
}

/// Runs the guard and the endpoint. The flag says whether the operation-log row was already
/// written (a successful change writes it inside its own transaction).
async fn guarded(
    state: &AppState,
    endpoint: &str,
    asked: Asked<'_>,
    row: &mut OplogEntry,
    (sandboxed, raw): (&mut Option<Sandboxed>, &mut Option<Box<Raw>>),
) -> (Reply, bool) {
    if let Some(limiter) = &state.limits.api
        && limiter.check_key(&asked.client_ip).is_err()
    {
        return (Reply::Error(ErrorCode::IpFreqBlock), false);
    }
    let params = match asked.params {
        Ok(p) => p,
        Err(code) => return (Reply::Error(code), false),
    };
    row.params = params.to_log_line();
    let token = access_token(asked.authorization, &params);
    let grant = match state.auth.authorize(token, asked.client_ip).await {
        Ok(g) => g,
        Err(mut refusal) => {
            row.tenant_id = refusal.tenant_id;
            row.admin = std::mem::take(&mut refusal.admin);
            // A sandbox records what its clients were refused too (an expired token's 1200):
            // that is what an integrator most needs to see.
            if let (Some(t), Some(token)) = (refusal.tenant_id, token)
                && Box::pin(state.sandbox.of(t)).await.is_some()
            {
                let hash = crate::auth::tokens::token_hash(token);
                *sandboxed = Some(Sandboxed {
                    tenant_id: t,
                    caller: Caller::with_token(format!("openapi:{}", row.admin), &hash),
                    mark: None,
                });
            }
            return (Reply::from(refusal), false);
        }
    };
    row.tenant_id = Some(grant.tenant_id);
    row.admin.clone_from(&grant.admin_name);
    if let Some(sandbox) = state
        .sandbox
        .resolve(grant.sandbox.as_ref(), grant.tenant_id)
    {
        let caller = Caller::with_token(format!("openapi:{}", grant.admin_name), &grant.token_hash);
        let named = format!("openapi/{endpoint}");
        let (s, fault) = Box::pin(inject(state, &sandbox, &named, (caller, &mut row.params))).await;
        *sandboxed = Some(s);
        match fault {
            Some(Fault::Error(code)) => {
                let code = u32::try_from(code).ok().and_then(ErrorCode::from_code);
                return (
                    Reply::Error(code.unwrap_or(ErrorCode::TemporarilyUnavailable)),
                    false,
                );
            }
            Some(Fault::Cut(_)) => return (Reply::Cut, false),
            Some(Fault::Idle) => return (Reply::Json(br#"{"Ret":0}"#.to_vec()), false),
            Some(Fault::Smtp(_)) | None => {}
        }
    } else {
        // Not recorded: let the request go now. Its header values are slices of the
        // connection's read buffer, and a held `listen` poll that kept them would keep that
        // buffer (8 KB) alive beside the one hyper reads into next.
        *raw = None;
    }
    match dispatch(state, endpoint, &grant, &params, row).await {
        Ok(Answer::Read(reply)) => (reply, false),
        Ok(Answer::Written) => (Reply::Empty, true),
        Err(e) => (Reply::from(e), false),
    }
}

/// What an endpoint answered.
enum Answer {
    /// A reply; the operation-log row is still to be written.
    Read(Reply),
    /// A change was committed with its operation-log row; the reply is the empty success body.
    Written,
}

/// The endpoints. Each arm parses what it needs from `params` and calls one domain function.
async fn dispatch(
    state: &AppState,
    endpoint: &str,
    grant: &Grant,
    params: &Params,
    row: &OplogEntry,
) -> Result<Answer, DirError> {
    // bizmail's own addition: an authenticated call that does nothing, for integrators' health
    // checks (is my token still good?) and for measuring the cost of the guard itself.
    if endpoint == "bizmail/ping" {
        return Ok(Answer::Read(Reply::Empty));
    }
    if endpoint == "mail/authkey" {
        return Box::pin(authkey(state, grant, params)).await;
    }
    if endpoint == "listen" {
        let settings = crate::push::listen::PollSettings {
            timeout: std::time::Duration::from_secs(state.config.poll_timeout_secs),
            grace: std::time::Duration::from_secs(state.config.listen_grace_secs),
        };
        let ver = req::list_ver(params);
        let answer = state
            .push
            .poll(settings, grant.tenant_id, &grant.token_hash, ver)
            .await?;
        return Ok(Answer::Read(Reply::Json(answer.body().into_bytes())));
    }
    let change = match endpoint {
        "user/sync" => {
            Change::UserSync(Box::pin(members::prepare(req::UserSync::from_params(params)?)).await?)
        }
        "party/sync" => Change::PartySync(req::PartySync::from_params(params)?),
        "group/add" => Change::GroupAdd(req::GroupAdd::from_params(params)?),
        "group/delete" => Change::GroupDelete(req::group_alias_param(params)?),
        "group/addmember" => Change::GroupAddMember(
            req::group_alias_param(params)?,
            req::group_members_param(params)?,
        ),
        "group/deletemember" => Change::GroupDeleteMember(
            req::group_alias_param(params)?,
            req::group_members_param(params)?,
        ),
        "group/addallowlist" => Change::GroupAddAllow(
            req::group_alias_param(params)?,
            req::allow_list_param(params)?,
        ),
        "group/delallowlist" => Change::GroupDeleteAllow(
            req::group_alias_param(params)?,
            req::allow_list_param(params)?,
        ),
        "user/openwxtoken" => Change::SecondFactor(req::alias_param(params)?, true),
        "user/closewxtoken" => Change::SecondFactor(req::alias_param(params)?, false),
        "user/swapalias" => {
            let (alias, slave) = req::swap_alias_params(params)?;
            Change::SwapAlias(alias, slave)
        }
        // Boxed, as every arm that awaits more than the guard: see `call`.
        _ => {
            return Box::pin(read(state, endpoint, grant, params))
                .await
                .map(Answer::Read);
        }
    };
    // Boxed: a change's future is some 4 KB, and unboxed every call's future (a held `listen`
    // poll's for its whole wait) would be that large.
    Box::pin(state.directory.change(grant.tenant_id, change, Some(row))).await?;
    Ok(Answer::Written)
}

/// `mail/authkey`: a single-use ticket into the member's web mailbox.
async fn authkey(state: &AppState, grant: &Grant, params: &Params) -> Result<Answer, DirError> {
    let alias = req::alias_param(params)?;
    let scope = state.directory.scope(grant.tenant_id).await?;
    let ticket = state
        .auth
        .issue_ticket(
            &scope,
            &alias,
            (
                state.config.ticket_lifetime_secs,
                crate::auth::tickets::BIZAUTH,
            ),
        )
        .await?;
    Ok(Answer::Read(Reply::json(
        &bizmail_protocol::response::AuthKey {
            auth_key: ticket.clone(),
            auth_key_doc: ticket,
        },
    )))
}

/// The endpoints that only read.
async fn read(
    state: &AppState,
    endpoint: &str,
    grant: &Grant,
    params: &Params,
) -> Result<Reply, DirError> {
    // Parse before touching the store, so a malformed request costs nothing.
    let query = match endpoint {
        "user/get" => Query::UserGet(req::alias_param(params)?),
        "user/list" => Query::UserList(req::list_ver(params)),
        "user/check" => Query::UserCheck(req::check_emails(params)?),
        "party/list" => Query::PartyList(req::party_path_param(params)?),
        "partyuser/list" => Query::PartyUsers(req::party_path_param(params)?),
        "mail/newcount" => Query::NewCount(req::alias_param(params)?),
        _ => {
            return Ok(Reply::ErrorWithStatus(
                ErrorCode::InvalidRequest,
                StatusCode::NOT_FOUND,
            ));
        }
    };
    Ok(match state.directory.read(grant.tenant_id, query).await? {
        ReadAnswer::User(a) => Reply::json(&a),
        ReadAnswer::Users(a) => Reply::json(&a),
        ReadAnswer::Checked(a) => Reply::json(&a),
        ReadAnswer::Values(a) => Reply::json(&a),
        ReadAnswer::NewCount(a) => Reply::json(&a),
    })
}
