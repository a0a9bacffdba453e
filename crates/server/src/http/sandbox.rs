//! How the API routes apply a sandbox (`crate::sandbox`): a call of a sandbox tenant is first
//! asked what the fault plan does to it (latency, then maybe a fault instead of the call), its
//! operation-log row is marked, and its exchange is kept in the record once it is answered.
//! Calls of other tenants pass through untouched: the request's parts were moved, not copied.

use super::AppState;
use crate::sandbox::Decision;
use crate::sandbox::record::{Caller, Raw, exchange};
use crate::store::sandbox::TenantSandbox;
use axum::body::Body;
use axum::response::Response;
use bizmail_protocol::sandbox::Fault;

/// A call of a sandbox tenant: whose it was and what was injected into it.
#[derive(Debug)]
pub struct Sandboxed {
    /// The tenant.
    pub tenant_id: i64,
    /// The client and token, as the record names them.
    pub caller: Caller,
    /// What was injected, for the record (`None`: nothing).
    pub mark: Option<String>,
}

/// Applies the plan to one call of `endpoint` (`openapi/user/get`, `cgi-bin/gettoken`): waits
/// the latency, marks the operation-log parameters, and returns the fault to answer with.
pub async fn inject(
    state: &AppState,
    sandbox: &TenantSandbox,
    endpoint: &str,
    (caller, oplog_params): (Caller, &mut String),
) -> (Sandboxed, Option<Fault>) {
    let decision: Decision = state.sandbox.decide(sandbox, endpoint);
    let mark = decision.mark();
    if let Some(mark) = &mark {
        // The operation log says which calls were injected, so a failure seen there is never
        // mistaken for a real one.
        *oplog_params = format!("[sandbox: {mark}] {oplog_params}");
    }
    if !decision.latency.is_zero() {
        tokio::time::sleep(decision.latency).await;
    }
    if let Some(Fault::Cut(after)) = decision.fault {
        tokio::time::sleep(after).await;
    }
    let sandboxed = Sandboxed {
        tenant_id: sandbox.tenant_id,
        caller,
        mark,
    };
    (sandboxed, decision.fault)
}

/// A response that ends the connection without an answer: the body fails at once, so the
/// client reads a broken response, as when a network cuts a held poll.
pub fn cut() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other("sandbox: poll cut"))
    });
    Response::new(Body::from_stream(failing))
}

/// Keeps the exchange of a sandbox call in its record, and passes the response on. A `cut`
/// response is recorded with status 0 and no body. A call of any other tenant passes straight
/// through; the recording (a future of some 2 KB) is boxed, so it does not size the future of
/// every call (a held `listen` poll's above all).
pub async fn keep(
    state: &AppState,
    sandboxed: Option<Sandboxed>,
    raw: Option<Box<Raw>>,
    response: Response,
    was_cut: bool,
) -> Response {
    match (sandboxed, raw) {
        (Some(s), Some(raw)) => Box::pin(record(state, s, raw, response, was_cut)).await,
        _ => response,
    }
}

/// Records one exchange of a sandbox call (see [`keep`]).
async fn record(
    state: &AppState,
    s: Sandboxed,
    raw: Box<Raw>,
    response: Response,
    was_cut: bool,
) -> Response {
    if was_cut {
        let none = axum::http::HeaderMap::new();
        let e = exchange(&raw, s.caller, (0, &none, b""), s.mark);
        state.sandbox.record(s.tenant_id, e).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    // Every API answer is a whole JSON document already in memory: collecting it costs a copy.
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let e = exchange(
        &raw,
        s.caller,
        (parts.status.as_u16(), &parts.headers, &bytes),
        s.mark,
    );
    state.sandbox.record(s.tenant_id, e).await;
    Response::from_parts(parts, Body::from(bytes))
}

/// The footer every page of a server-wide sandbox carries.
const FOOTER: &str = "<footer style=\"position:sticky;bottom:0;background:#9a6700;color:#fff;\
padding:.4rem 1rem;text-align:center;font:600 .9rem system-ui,sans-serif\" \
data-bizmail-sandbox>SANDBOX · 沙箱环境: faults may be injected and exchanges recorded; \
not for real mail · 仅供测试，请勿用于真实邮件</footer>";

/// On a server with `sandbox = true`, says so at the foot of every HTML page (the mailbox, the
/// console, the login pages). Other servers do not have this layer.
pub async fn footer(response: Response) -> Response {
    let html = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Pages are rendered whole in memory; none is near this bound.
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let page = String::from_utf8_lossy(&bytes);
    let with_footer = match page.rfind("</body>") {
        Some(at) => format!("{}{FOOTER}{}", &page[..at], &page[at..]),
        None => format!("{page}{FOOTER}"),
    };
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(with_footer))
}
