//! The directory pages (通讯录) of the console: the department tree (`departments`), members
//! (`members` lists and adds, `member` shows and changes one), mail groups (`groups`), and the
//! CSV import with its progress page (`import`).
//!
//! Every change goes through the directory's own writes, as the APIs' calls do: the old API's
//! `Change` (`user/sync`, `party/sync`, `group/*`, `user/openwxtoken`) and, where the old API has
//! no verb (a group's name and sending permission, its departments, removing a member's last
//! alias), the newer API's `user/update` and `group/update`. So the rules, the change log of
//! `user/list`, the directory version and the `openapi/listen` wake-ups are the APIs' own. A
//! change's operation-log row (`console/directory/…`, parameters masked) is written in the
//! change's own transaction; a refusal is logged with its code and shown on the page.

mod csv_rows;
mod departments;
mod groups;
mod import;
mod member;
mod members;
pub mod texts;

use super::{Signed, unavailable};
use crate::auth::console::Kind;
use crate::directory::cgi::CgiChange;
use crate::directory::{Change, DirError};
use crate::http::AppState;
use crate::http::i18n::Lang;
use crate::tenants::OplogEntry;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use bizmail_protocol::params::ParamsLimits;
use bizmail_protocol::{ErrorCode, Params};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use std::net::IpAddr;
use texts::DirTexts;

/// The routes of the directory pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/directory", get(departments::page))
        .route(
            "/admin/directory/departments/{action}",
            post(departments::act),
        )
        .route(
            "/admin/directory/members",
            get(members::page).post(members::create),
        )
        .route("/admin/directory/members/{address}", get(member::page))
        .route(
            "/admin/directory/members/{address}/{action}",
            post(member::act),
        )
        .route(
            "/admin/directory/groups",
            get(groups::page).post(groups::create),
        )
        .route("/admin/directory/groups/{address}", get(groups::detail))
        .route(
            "/admin/directory/groups/{address}/{action}",
            post(groups::act),
        )
        .route(
            "/admin/directory/import",
            get(import::page)
                .post(import::upload)
                .layer(axum::extract::DefaultBodyLimit::max(import::MAX_UPLOAD)),
        )
        .route("/admin/directory/import/{id}", get(import::progress))
}

/// A signed-in admin on a directory page, with the tenant they administer.
pub(super) struct SignedAdmin {
    /// The session, language and address.
    signed: Signed,
    /// The admin's tenant.
    tenant_id: i64,
}

impl SignedAdmin {
    /// The signed-in admin, or the response to answer instead (the sign-in page).
    async fn require(
        state: &AppState,
        jar: &CookieJar,
        who: (Lang, IpAddr),
    ) -> Result<SignedAdmin, Response> {
        let signed = Signed::require(state, jar, who, Kind::Admin).await?;
        match signed.session.account.tenant_id {
            Some(tenant_id) => Ok(SignedAdmin { signed, tenant_id }),
            None => Err(crate::http::redirect::see_other("/admin/", "/admin/")),
        }
    }

    /// The directory pages' texts in the admin's language.
    fn dt(&self) -> &'static DirTexts {
        texts::dt(self.signed.lang)
    }

    /// The admin's name.
    fn name(&self) -> &str {
        self.signed.name()
    }

    /// The operation-log row of a console action under `console/directory/…`.
    fn oplog_row(&self, endpoint: &str, params: &str) -> OplogEntry {
        OplogEntry {
            tenant_id: Some(self.tenant_id),
            at_ms: crate::store::now_ms(),
            client_ip: self.signed.ip.to_string(),
            admin: self.name().to_owned(),
            endpoint: format!("console/directory/{endpoint}"),
            params: params.to_owned(),
            errcode: 0,
        }
    }

    /// Applies an old-API change with its operation-log row; a refusal is logged and worded.
    async fn change(
        &self,
        state: &AppState,
        (endpoint, params): (&str, &str),
        change: Change,
    ) -> Result<(), Failure> {
        let row = self.oplog_row(endpoint, params);
        match state
            .directory
            .change(self.tenant_id, change, Some(&row))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(state, (endpoint, params), e).await),
        }
    }

    /// Applies a newer-API change with its operation-log row; a refusal is logged and worded.
    async fn cgi_change(
        &self,
        state: &AppState,
        (endpoint, params): (&str, &str),
        change: CgiChange,
    ) -> Result<(), Failure> {
        let row = self.oplog_row(endpoint, params);
        match state
            .directory
            .cgi_change(self.tenant_id, change, Some(&row))
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => Err(self.failed(state, (endpoint, params), e).await),
        }
    }

    /// Logs a refused or failed action (nothing was changed) and says why.
    async fn failed(
        &self,
        state: &AppState,
        (endpoint, params): (&str, &str),
        e: DirError,
    ) -> Failure {
        let lang = self.signed.lang;
        let (errcode, failure) = match e {
            DirError::Refused(code) => (
                i64::from(code.code()),
                Failure::Refused(texts::refusal(lang, code)),
            ),
            DirError::RefusedCgi(code) => (
                code.number(),
                Failure::Refused(texts::cgi_refusal(lang, code)),
            ),
            e @ (DirError::Store(_) | DirError::Internal(_)) => (
                i64::from(ErrorCode::TemporarilyUnavailable.code()),
                Failure::Unavailable(e.to_string()),
            ),
        };
        let endpoint = format!("directory/{endpoint}");
        self.signed.record(state, &endpoint, params, errcode).await;
        failure
    }

    /// A refusal found before anything was asked of the directory (a form the rules refuse).
    async fn refused(&self, state: &AppState, action: (&str, &str), code: ErrorCode) -> Failure {
        self.failed(state, action, DirError::Refused(code)).await
    }
}

/// Why an action was not done.
pub(super) enum Failure {
    /// The rules refused it; the sentence says why.
    Refused(String),
    /// The store failed; the cause is logged when the page is made.
    Unavailable(String),
}

/// What a page says above its content after an action.
#[derive(Debug, Default)]
pub(super) struct Said {
    /// What was done.
    pub notice: String,
    /// Why it was not.
    pub error: String,
    /// A password to show once.
    pub secret: Option<String>,
}

impl Said {
    /// A notice.
    fn notice(text: &str) -> Said {
        Said {
            notice: text.to_owned(),
            ..Said::default()
        }
    }

    /// An error.
    fn error(text: &str) -> Said {
        Said {
            error: text.to_owned(),
            ..Said::default()
        }
    }

    /// The status a page with this message answers.
    fn status(&self) -> StatusCode {
        if self.error.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::BAD_REQUEST
        }
    }
}

/// The outcome of an action as the page shows it, or the cause of a failure (for the
/// "unavailable" page, [`failed_page`]).
fn outcome(done: Result<Said, Failure>) -> Result<Said, String> {
    match done {
        Ok(said) => Ok(said),
        Err(Failure::Refused(why)) => Ok(Said::error(&why)),
        Err(Failure::Unavailable(cause)) => Err(cause),
    }
}

/// The "unavailable" page of a failed action, whose cause is logged.
fn failed_page(lang: Lang, cause: &str) -> Response {
    unavailable(lang, "a console directory action", &cause)
}

/// The fields of a POSTed form (repeated names kept, values trimmed, `+` a space), or none for
/// a body that is not one.
fn form(body: &[u8]) -> Params {
    Params::from_request(None, None, body, ParamsLimits::default()).unwrap_or_default()
}

/// Parameters as one operation-log line, escaped and masked as the APIs' are.
fn log_line(pairs: &[(&str, &str)]) -> String {
    let mut p = Params::default();
    for (name, value) in pairs {
        p.push(name, value);
    }
    p.to_log_line()
}

/// The value of one field, or empty.
fn field<'a>(p: &'a Params, name: &str) -> &'a str {
    p.get(name).unwrap_or_default()
}

/// Whether the form carries this session's anti-CSRF token.
fn csrf_ok(signed: &Signed, p: &Params) -> bool {
    signed.csrf_ok(field(p, "csrf"))
}

/// What [`enc`] leaves as it is: letters, digits and `.-_~@`, so an address reads as itself.
const KEPT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'-')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

/// Percent-encodes a path segment or query value.
fn enc(text: &str) -> String {
    utf8_percent_encode(text, KEPT).to_string()
}

/// Addresses typed in a text area: split on commas, semicolons and white space.
fn split_addresses(text: &str) -> Vec<String> {
    text.split([',', ';', '，', '；', ' ', '\n', '\r', '\t'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The sub-navigation of the directory pages, with the current tab.
pub(super) struct Tabs {
    /// `(href, label, current)`.
    pub items: [(&'static str, &'static str, bool); 4],
}

impl Tabs {
    /// The tabs with `here` (0 tree, 1 members, 2 groups, 3 import) marked.
    fn at(dt: &DirTexts, here: usize) -> Tabs {
        Tabs {
            items: [
                ("/admin/directory", dt.tab_tree, here == 0),
                ("/admin/directory/members", dt.tab_members, here == 1),
                ("/admin/directory/groups", dt.tab_groups, here == 2),
                ("/admin/directory/import", dt.tab_import, here == 3),
            ],
        }
    }
}

/// A page answering `status` (a page answering a failure of its own, the "unavailable" page or
/// a redirect, keeps its status).
fn with_status(mut r: Response, status: StatusCode) -> Response {
    if matches!(r.status(), StatusCode::OK | StatusCode::BAD_REQUEST) {
        *r.status_mut() = status;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_typed_in_a_text_area() {
        assert_eq!(
            split_addresses("a@x.cn, b@x.cn;c@x.cn\nd@x.cn，e@x.cn"),
            ["a@x.cn", "b@x.cn", "c@x.cn", "d@x.cn", "e@x.cn"]
        );
        assert!(split_addresses(" ,\n").is_empty());
    }

    #[test]
    fn forms_keep_repeated_fields() {
        let p = form(b"csrf=t&department=%E7%A0%94%E5%8F%91&department=Ops+Team");
        assert_eq!(p.all("department"), ["研发", "Ops Team"]);
        assert_eq!(field(&p, "csrf"), "t");
        assert_eq!(field(&p, "missing"), "");
    }
}
