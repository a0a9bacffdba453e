//! `/cgi-bin/login` (§4): a ticket from `mail/authkey` opens a web-mailbox session and lands the
//! person in the inbox, or in the mail named by `mailid`. A bad, used or expired ticket gets an
//! HTML page with status 403 and no session. The redirect is relative, so whatever host name the
//! integrator uses for bizmail works.

use super::AppState;
use super::error::unavailable_page;
use super::i18n::{Lang, Texts};
use super::redirect;
use super::request::ApiRequest;
use super::webmail::{cookie, message, over_https, session_cookie};
use crate::auth::tickets::{Refused, SsoOutcome};
use axum::extract::State;
use axum::http::StatusCode;
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
pub async fn login(
    State(state): State<AppState>,
    lang: Lang,
    headers: axum::http::HeaderMap,
    jar: CookieJar,
    req: ApiRequest,
) -> Response {
    let t = lang.texts();
    let Ok(params) = &req.params else {
        return refused(t, StatusCode::FORBIDDEN);
    };
    let field = |n: &str| params.get_nonempty(n).unwrap_or_default().to_owned();
    // The newer API's login URL (`service/get_login_url`): `method=openapi&userid&authkey`, no
    // admin; the old one: `agent&user&ticket`. One ticket store serves both.
    let (agent, user, ticket) = if field("method").eq_ignore_ascii_case("openapi") {
        (None, field("userid"), field("authkey"))
    } else {
        (Some(field("agent")), field("user"), field("ticket"))
    };
    if agent.as_ref().is_some_and(String::is_empty) || user.is_empty() || ticket.is_empty() {
        return refused(t, StatusCode::FORBIDDEN);
    }
    match state.auth.sso_login(agent.as_deref(), &user, &ticket).await {
        Ok(SsoOutcome::ConfirmPassword { pending, .. }) => {
            // The member's first SSO login of the newer API: the login form, their address filled
            // in, asks for the password once (`login::submit` then authorizes their SSO).
            crate::telemetry::web_login("sso", "confirm_password");
            let secure = over_https(&state, &headers);
            let jar = jar.add(cookie(super::login::SSO_PENDING_COOKIE, pending, secure));
            (jar, redirect::see_other("/login", "/login")).into_response()
        }
        Ok(SsoOutcome::Opened(opened)) => {
            crate::telemetry::web_login("sso", "ok");
            super::login::web_login_recorded(&state, &opened, req.client_ip).await;
            let target = match params.get_nonempty("mailid") {
                Some(id) => format!(
                    "/mail/read/{}",
                    percent_encoding::utf8_percent_encode(id, PATH_SEGMENT)
                ),
                None => "/mail/".to_owned(),
            };
            let jar = jar.add(session_cookie(
                opened.session_id,
                over_https(&state, &headers),
            ));
            (jar, redirect::found(&target, "/mail/")).into_response()
        }
        Err(Refused::BadTicket) => {
            crate::telemetry::web_login("sso", "refused");
            refused(t, StatusCode::FORBIDDEN)
        }
        Err(Refused::Unavailable(e)) => unavailable_page(t, "an SSO login", &e),
    }
}

fn refused(t: &Texts, status: StatusCode) -> Response {
    message(t, status, t.link_invalid, t.link_invalid_detail, None)
}
