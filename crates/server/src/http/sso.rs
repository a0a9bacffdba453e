//! `/cgi-bin/login` (§4): a ticket from `mail/authkey` opens a web-mailbox session and lands the
//! person in the inbox, or in the mail named by `mailid`. A bad, used or expired ticket gets an
//! HTML page with status 403 and no session. The redirect is relative, so whatever host name the
//! integrator uses for bizmail works.

use super::AppState;
use super::request::ApiRequest;
use super::webmail::{page, session_cookie};
use crate::sso::{self, Refused};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

/// What a `mailid` keeps unencoded in the redirect: RFC 3986's unreserved characters, which is
/// every character of a bizmail MailId (base64url); anything else a client sends is encoded.
const PATH_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Burns the ticket and opens a session, or answers 403.
pub async fn login(State(state): State<AppState>, jar: CookieJar, req: ApiRequest) -> Response {
    let Ok(params) = req.params else {
        return refused(StatusCode::FORBIDDEN);
    };
    let field = |n: &str| params.get_nonempty(n).unwrap_or_default().to_owned();
    let (agent, user, ticket) = (field("agent"), field("user"), field("ticket"));
    if agent.is_empty() || user.is_empty() || ticket.is_empty() {
        return refused(StatusCode::FORBIDDEN);
    }
    match sso::login(&state.store, &agent, &user, &ticket).await {
        Ok(opened) => {
            let target = match params.get_nonempty("mailid") {
                Some(id) => format!(
                    "/mail/read/{}",
                    percent_encoding::utf8_percent_encode(id, PATH_SEGMENT)
                ),
                None => "/mail/".to_owned(),
            };
            let jar = jar.add(session_cookie(opened.session_id));
            (jar, [(header::LOCATION, target)], StatusCode::FOUND).into_response()
        }
        Err(Refused::BadTicket) => refused(StatusCode::FORBIDDEN),
        Err(Refused::Unavailable) => refused(StatusCode::SERVICE_UNAVAILABLE),
    }
}

fn refused(status: StatusCode) -> Response {
    let body = "<h1>此登录链接无效 · This sign-in link is not valid</h1>\
<p>链接可能已使用或已过期，请从贵公司的系统重新进入。</p>\
<p>It may have been used already or have expired: open your mailbox again from your company's portal.</p>";
    (status, page("bizmail", None, "", body)).into_response()
}
