//! The web mailbox where SSO and password logins land: reading a mail (which marks it read), its
//! HTML body and attachments, logging out; the folder views and what changes mail are in
//! `http::mailbox`. Pages are
//! server-rendered in the person's language (`i18n`), with no script at all.
//!
//! Every page is sent with a strict Content-Security-Policy (nothing loads from anywhere, no
//! script runs, no framing), `X-Frame-Options: DENY` and `nosniff`. Every state-changing request
//! is a POST carrying the session's anti-CSRF token. A text mail is shown as escaped text; an HTML
//! mail sanitized (`mail::render`) in a sandboxed frame served from `/mail/body/…` under its own
//! policy, with remote images only after the reader asks for them.

use super::AppState;
use super::error::unavailable_page;
use super::i18n::{Lang, Texts};
use crate::auth::tickets::Session;
use crate::mail::Owner;
use crate::mail::render;
use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use mail_parser::{MessageParser, MimeHeaders as _};
use serde::Deserialize;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bizmail_session";

#[derive(Template)]
#[template(path = "page.html")]
struct PageTemplate<'a> {
    t: &'a Texts,
    title: &'a str,
    who: Option<&'a str>,
    csrf: &'a str,
    switch_href: &'a str,
    body: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageTemplate<'a> {
    t: &'a Texts,
    heading: &'a str,
    detail: &'a str,
    sign_in_link: bool,
}

/// An attachment as the read page lists it.
struct AttachmentLink {
    index: usize,
    name: String,
    size: usize,
}

#[derive(Template)]
#[template(path = "read.html")]
struct ReadTemplate<'a> {
    t: &'a Texts,
    attachments: Vec<AttachmentLink>,
    html_frame: Option<String>,
    blocked_images: bool,
    mail_id: &'a str,
    subject: &'a str,
    from: &'a str,
    to: &'a str,
    date: &'a str,
    verified: &'a str,
    text: &'a str,
    csrf: &'a str,
}

/// The headers every mailbox response carries: its Content-Security-Policy, who may frame it,
/// no MIME sniffing, no referrer, no caching.
pub(super) fn harden(h: &mut axum::http::HeaderMap, csp: &str, frame_options: &'static str) {
    if let Ok(v) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static(frame_options),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A whole page with the mailbox's security headers. `who` is the signed-in member (it adds the
/// address and the log-out button); `here` is the page's own path, for the language switch.
pub fn page(t: &Texts, title: &str, who: Option<&Session>, here: &str, body: &str) -> Response {
    let switch_href = format!(
        "/lang/{}?back={}",
        t.other_code,
        percent_encoding::utf8_percent_encode(here, percent_encoding::NON_ALPHANUMERIC)
    );
    let html = PageTemplate {
        t,
        title,
        who: who.map(|s| s.address.as_str()),
        csrf: who.map(|s| s.csrf.as_str()).unwrap_or_default(),
        switch_href: &switch_href,
        body,
    }
    .render()
    .unwrap_or_default();
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    harden(
        r.headers_mut(),
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-src 'self'; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        "DENY",
    );
    r
}

/// A page that only says something (an error, "signed out"), with its status.
pub fn message(
    t: &Texts,
    status: StatusCode,
    heading: &str,
    detail: &str,
    who: Option<&Session>,
) -> Response {
    let body = MessageTemplate {
        t,
        heading,
        detail,
        sign_in_link: who.is_none() && status != StatusCode::SERVICE_UNAVAILABLE,
    }
    .render()
    .unwrap_or_default();
    let mut r = page(t, heading, who, "/mail/", &body);
    *r.status_mut() = status;
    r
}

/// A cookie of the mailbox's: `HttpOnly`, `SameSite=Lax`, the whole site, gone when the browser
/// closes, and `Secure` when the site is reached over HTTPS.
pub fn cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(SameSite::Lax);
    c.set_path("/");
    c.set_secure(secure);
    c
}

/// Whether this request came over HTTPS, as far as bizmail can tell: `cookie_secure` says the
/// site is only reached that way, or the TLS-terminating proxy says so in `X-Forwarded-Proto`.
/// (Trusting that header is safe here: it can only add `Secure` to a cookie, never remove it.)
pub fn over_https(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    state.config.cookie_secure
        || state.config.http_tls()
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// The session cookie (the session's idle and absolute expiry are enforced on the server,
/// whatever the browser keeps).
pub fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    cookie(SESSION_COOKIE, value, secure)
}

fn signed_out(t: &Texts) -> Response {
    message(
        t,
        StatusCode::UNAUTHORIZED,
        t.please_sign_in,
        t.how_to_sign_in,
        None,
    )
}

/// The signed-in member of a request; a request without a live session is answered "please sign
/// in" (401) before the handler runs.
pub struct SignedIn(pub Session);

impl axum::extract::FromRequestParts<AppState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Response> {
        let Ok(lang) = Lang::from_request_parts(parts, state).await;
        let t = lang.texts();
        let jar = CookieJar::from_headers(&parts.headers);
        match current_session(state, &jar).await {
            Ok(Some(s)) => Ok(SignedIn(s)),
            Ok(None) => Err(signed_out(t)),
            Err(e) => Err(unavailable_page(t, "looking up a session", &e)),
        }
    }
}

/// The live session behind a request's session cookie, if it has one (touching it).
pub async fn current_session(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<Session>, crate::StoreError> {
    let Some(c) = jar.get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let config = &state.config;
    state
        .auth
        .session(
            c.value(),
            config.session_idle_secs,
            config.session_lifetime_secs,
        )
        .await
}

/// When a mail arrived, as the inbox shows it: `23 Nov 2026 22:05 UTC` (the HTTP date without
/// the weekday and seconds).
pub(super) fn received_at(ms: i64) -> String {
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    let http = httpdate::fmt_http_date(at); // "Mon, 23 Nov 2026 22:05:33 GMT"
    match http.get(5..22) {
        Some(short) => format!("{short} UTC"),
        None => http,
    }
}

pub(super) fn owner(s: &Session) -> Owner {
    Owner {
        tenant_id: s.tenant_id,
        member_id: s.member_id,
        address: s.address.clone(),
    }
}

/// The raw bytes of one of the signed-in member's mails and whether it was read, or the answer to
/// send instead: 404 when the member has no such mail (another member's mail included), 503 when
/// the store fails.
async fn own_mail(
    state: &AppState,
    t: &Texts,
    s: &Session,
    mail_id: &str,
) -> Result<(Vec<u8>, bool), Response> {
    match state.mailboxes.read(&owner(s), mail_id).await {
        Ok(Some(copy)) => Ok(copy),
        Ok(None) => Err(message(
            t,
            StatusCode::NOT_FOUND,
            t.no_such_mail,
            "",
            Some(s),
        )),
        Err(e) => Err(unavailable_page(t, "reading a mail", &e)),
    }
}

/// `GET /mail/read/{mail_id}`: one mail, marked read (which sends the unread notice).
pub async fn read(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    Path(mail_id): Path<String>,
    Query(show): Query<ShowImages>,
) -> Response {
    let t = lang.texts();
    let (raw, seen) = match own_mail(&state, t, &s, &mail_id).await {
        Ok(copy) => copy,
        Err(r) => return r,
    };
    // Only an unread mail needs the write (and sends the notice); reading it again is read-only.
    if !seen && let Err(e) = state.mailboxes.mark(&owner(&s), &mail_id, true).await {
        return unavailable_page(t, "marking a mail read", &e);
    }
    let parsed = MessageParser::default().parse(&raw);
    let header = |n: &str| {
        parsed
            .as_ref()
            .and_then(|m| m.header_raw(n))
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    };
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or_default()
        .to_owned();
    let text = parsed
        .as_ref()
        .and_then(|m| m.body_text(0))
        .map(|t| t.into_owned())
        .unwrap_or_default();
    // An HTML mail is shown sanitized in a sandboxed frame (served by `body`); text as text.
    let html = parsed.as_ref().and_then(html_part);
    let blocked_images = html
        .as_deref()
        .is_some_and(|h| render::sanitize_html(h, false).blocked_images);
    let images = show.images.unwrap_or(0) == 1;
    let attachments = parsed
        .as_ref()
        .map(|m| {
            m.attachments()
                .enumerate()
                .map(|(index, a)| AttachmentLink {
                    index,
                    name: a.attachment_name().unwrap_or("attachment").to_owned(),
                    size: a.contents().len(),
                })
                .collect()
        })
        .unwrap_or_default();
    let body = ReadTemplate {
        t,
        attachments,
        html_frame: html.map(|_| {
            format!(
                "/mail/body/{mail_id}{}",
                if images { "?images=1" } else { "" }
            )
        }),
        blocked_images: blocked_images && !images,
        mail_id: &mail_id,
        subject: &subject,
        from: &render::display_from(&header("From")),
        to: &header("To"),
        date: &header("Date"),
        // Only when this server stamps the checks' header on every received mail: otherwise a
        // sender could write one of their own.
        verified: &if state.config.inbound_auth {
            render::auth_summary(&header("Authentication-Results"))
        } else {
            String::new()
        },
        text: &text,
        csrf: &s.csrf,
    }
    .render()
    .unwrap_or_default();
    let title = if subject.is_empty() {
        t.no_subject
    } else {
        &subject
    };
    page(t, title, Some(&s), &format!("/mail/read/{mail_id}"), &body)
}

/// `?images=1`: show the remote images of an HTML mail.
#[derive(Deserialize)]
pub struct ShowImages {
    images: Option<u8>,
}

/// The mail's HTML body, if it has one. Only the body parts count (an HTML *attachment* is not
/// the body), and only real HTML (mail-parser lists a text-only mail's text part as its HTML body
/// too, to be converted; that one is shown as text instead).
fn html_part(m: &mail_parser::Message<'_>) -> Option<String> {
    m.html_bodies().find_map(|p| match &p.body {
        mail_parser::PartType::Html(h) => Some(h.to_string()),
        _ => None,
    })
}

/// `GET /mail/body/{mail_id}`: the sanitized HTML of a mail, for the read page's sandboxed frame.
/// Its own policy lets nothing run and nothing load but (when asked for) images; it may only be
/// framed by the mailbox itself. It does not mark the mail read (the read page does).
pub async fn body(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    Path(mail_id): Path<String>,
    Query(show): Query<ShowImages>,
) -> Response {
    let (raw, _) = match own_mail(&state, lang.texts(), &s, &mail_id).await {
        Ok(copy) => copy,
        Err(r) => return r,
    };
    let images = show.images.unwrap_or(0) == 1;
    let html = MessageParser::default()
        .parse(&raw)
        .as_ref()
        .and_then(html_part)
        .map(|h| render::sanitize_html(&h, images).html)
        .unwrap_or_default();
    let doc = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"></head><body>{html}</body></html>"
    );
    let img_src = if images {
        "https: http: data:"
    } else {
        "data:"
    };
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src {img_src}; base-uri 'none'; form-action 'none'; \
         frame-ancestors 'self'; sandbox allow-popups allow-popups-to-escape-sandbox"
    );
    let mut r = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], doc).into_response();
    harden(r.headers_mut(), &csp, "SAMEORIGIN");
    r
}

/// `GET /mail/attachment/{mail_id}/{index}`: an attachment, only ever as a download: a browser
/// must never render a file a stranger sent (`Content-Disposition: attachment`, a generic type,
/// `nosniff`, and a policy that forbids everything should it be opened anyway).
pub async fn attachment(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    Path((mail_id, index)): Path<(String, usize)>,
) -> Response {
    let (raw, _) = match own_mail(&state, lang.texts(), &s, &mail_id).await {
        Ok(copy) => copy,
        Err(r) => return r,
    };
    let Some(message) = MessageParser::default().parse(&raw) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(part) = message.attachments().nth(index) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let name = part.attachment_name().unwrap_or("attachment");
    // RFC 6266: an ASCII fallback, and the real name percent-encoded as UTF-8.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    let mut r = part.contents().to_vec().into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    harden(h, "default-src 'none'; sandbox", "DENY");
    r
}

/// The anti-CSRF field of every form.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub(super) fn csrf_ok(s: &Session, form: &CsrfForm) -> bool {
    crate::auth::secrets_equal(s.csrf.as_bytes(), form.csrf.as_bytes())
}

/// `POST /mail/logout`: ends the session.
pub async fn logout(
    State(state): State<AppState>,
    lang: Lang,
    SignedIn(s): SignedIn,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Response {
    let t = lang.texts();
    if !csrf_ok(&s, &form) {
        return message(t, StatusCode::FORBIDDEN, t.form_expired, "", Some(&s));
    }
    if let Some(c) = jar.get(SESSION_COOKIE)
        && let Err(e) = state.auth.logout(c.value()).await
    {
        return unavailable_page(t, "signing out", &e);
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    (jar, message(t, StatusCode::OK, t.signed_out, "", None)).into_response()
}
