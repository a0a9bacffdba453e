//! The mail settings page (邮件设置, `/admin/mail`): every member's quota and usage (their own
//! quota, or the server's default), setting a member's quota (MB, 0 for none) or giving them the
//! default back; the tenant's DKIM keys with the TXT records to publish, creating and removing
//! them; the tenant's own spam thresholds. Each change is written to the operation log.

#[path = "mail_texts.rs"]
mod mail_texts;

use super::texts::Ct;
use super::{Signed, errcode_of, unavailable};
use crate::auth::console::Kind;
use crate::http::AppState;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::outbound::dkim::{Algorithm, DkimKey};
use crate::tenants::AdminError;
use crate::tenants::mail_console::MemberQuota;
use askama::Template;
use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use bizmail_protocol::ErrorCode;
use mail_texts::MailTexts;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

/// Members per page of the quota table.
const PAGE: u32 = 50;
/// The largest quota that can be typed, in MB (about a petabyte).
const MAX_MB: u64 = 1_000_000_000;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/mail", get(page))
        .route("/admin/mail/{action}", post(act))
}

/// The quota table's search and page (`?q=&page=`), kept as typed.
#[derive(Deserialize, Default)]
pub struct MailQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: String,
}

/// A member's row of the quota table.
struct QuotaView {
    address: String,
    name: String,
    used: String,
    quota: String,
    is_default: bool,
    usage: String,
    full: bool,
}

/// The spam thresholds as the form shows them.
struct SpamView {
    junk: String,
    reject: String,
    server_junk: String,
    server_reject: String,
    active: bool,
}

#[derive(Template)]
#[template(path = "console/mail.html")]
struct MailTemplate<'a> {
    ct: &'a Ct,
    mt: &'a MailTexts,
    csrf: &'a str,
    q: &'a str,
    members: Vec<QuotaView>,
    default_quota: String,
    prev: Option<String>,
    next: Option<String>,
    domains: Vec<String>,
    keys: Vec<DkimKey>,
    created: Option<&'a DkimKey>,
    selector: String,
    spam: SpamView,
    form: &'a MailForm,
    notice: &'a str,
    error: &'a str,
}

/// What a page shows besides the settings: the search, a notice or an error, a created key.
struct Shown<'a> {
    query: &'a MailQuery,
    form: &'a MailForm,
    created: Option<&'a DkimKey>,
    notice: &'a str,
    error: &'a str,
    status: StatusCode,
}

/// The page as it is now.
async fn show(state: &AppState, signed: &Signed, shown: Shown<'_>) -> Response {
    let (ct, mt, lang, admin) = (
        signed.ct(),
        mail_texts::mt(signed.lang),
        signed.lang,
        signed.name(),
    );
    let q = shown.query.q.trim();
    let page = shown
        .query
        .page
        .trim()
        .parse::<u32>()
        .unwrap_or(1)
        .clamp(1, 100_000);
    let members = match state
        .admin
        .member_quotas(admin, q, (page - 1) * PAGE, PAGE + 1)
        .await
    {
        Ok(m) => m,
        Err(e) => return unavailable(lang, "reading members' quotas", &e),
    };
    let (keys, domains, own) = match tokio::try_join!(
        state.admin.dkim_list(admin),
        state.admin.domains(admin),
        state.admin.spam_thresholds(admin),
    ) {
        Ok(all) => all,
        Err(e) => return unavailable(lang, "reading the mail settings", &e),
    };
    let default = crate::mail::quota::default_bytes(state.config.mailbox_quota_mb);
    let more = members.len() > PAGE as usize;
    let members: Vec<QuotaView> = members
        .iter()
        .take(PAGE as usize)
        .map(|m| quota_view(m, default, mt))
        .collect();
    let pager = |p: u32| format!("q={}&page={p}", utf8_percent_encode(q, NON_ALPHANUMERIC));
    let config = &state.config;
    let number = |v: Option<f64>| v.map(|s| s.to_string()).unwrap_or_default();
    let body = MailTemplate {
        ct,
        mt,
        csrf: &signed.session.csrf,
        q,
        members,
        default_quota: default.map_or_else(|| mt.no_limit.to_owned(), size),
        prev: (page > 1).then(|| pager(page - 1)),
        next: more.then(|| pager(page + 1)),
        domains,
        keys,
        created: shown.created,
        selector: chrono::DateTime::from_timestamp_millis(crate::store::now_ms())
            .map(|t| t.format("bizmail%Y%m").to_string())
            .unwrap_or_default(),
        spam: SpamView {
            junk: number(own.junk),
            reject: number(own.reject),
            server_junk: config.spam_junk_score.to_string(),
            server_reject: config.spam_reject_score.to_string(),
            active: !config.rspamd_url.trim().is_empty(),
        },
        form: shown.form,
        notice: shown.notice,
        error: shown.error,
    }
    .render()
    .unwrap_or_default();
    let mut r = signed.page(ct.nav_mail, "/admin/mail", &body);
    *r.status_mut() = shown.status;
    r
}

/// A member's row: usage, quota (own or default) and the share used.
fn quota_view(m: &MemberQuota, default: Option<i64>, mt: &MailTexts) -> QuotaView {
    // `set_quota(Some(0))` stores "no limit" as the largest number.
    let limit = match m.own_bytes {
        Some(i64::MAX) => None,
        Some(own) => Some(own),
        None => default,
    };
    let quota = limit.map_or_else(|| mt.no_limit.to_owned(), size);
    let (usage, full) = match limit {
        Some(l) if l > 0 => {
            let share = i128::from(m.used_bytes) * 100 / i128::from(l);
            (format!("{share}%"), m.used_bytes >= l)
        }
        _ => ("—".to_owned(), false),
    };
    QuotaView {
        address: m.address.clone(),
        name: m.name.clone(),
        used: size(m.used_bytes),
        quota,
        is_default: m.own_bytes.is_none(),
        usage,
        full,
    }
}

/// A size for people: `532 B`, `12.5 KB`, `1 MB`, `2.3 GB`.
fn size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    let text = if unit == 0 {
        bytes.to_string()
    } else {
        format!("{value:.1}")
    };
    format!("{} {}", text.trim_end_matches(".0"), UNITS[unit])
}

/// `GET /admin/mail?q=&page=`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    query: Result<Query<MailQuery>, QueryRejection>,
) -> Response {
    let signed = match Signed::require(&state, &jar, (lang, ip), Kind::Admin).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let form = MailForm::default();
    let shown = Shown {
        query: &query,
        form: &form,
        created: None,
        notice: "",
        error: "",
        status: StatusCode::OK,
    };
    show(&state, &signed, shown).await
}

/// Every form of the page; each uses some of the fields.
#[derive(Deserialize, Default)]
pub struct MailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    member: String,
    #[serde(default)]
    mb: String,
    /// Present when "back to default" was pressed.
    #[serde(default)]
    default: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    selector: String,
    #[serde(default)]
    algorithm: String,
    #[serde(default)]
    junk: String,
    #[serde(default)]
    reject: String,
}

/// Why an action was not done: the admin side's refusal, or the page's own (a field that does
/// not parse), already in words.
enum Refusal {
    Admin(AdminError),
    Said(String),
}

impl From<AdminError> for Refusal {
    fn from(e: AdminError) -> Refusal {
        Refusal::Admin(e)
    }
}

/// What a done action shows.
struct Done {
    notice: String,
    created: Option<DkimKey>,
}

/// `POST /admin/mail/{quota|dkim-create|dkim-remove|spam}`.
pub async fn act(
    State(state): State<AppState>,
    Path(action): Path<String>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    form: Result<Form<MailForm>, FormRejection>,
) -> Response {
    let signed = match Signed::require(&state, &jar, (lang, ip), Kind::Admin).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ct = signed.ct();
    let f = form.map(|Form(f)| f).unwrap_or_default();
    let query = MailQuery::default();
    let mut shown = Shown {
        query: &query,
        form: &f,
        created: None,
        notice: "",
        error: "",
        status: StatusCode::OK,
    };
    if !signed.csrf_ok(&f.csrf) {
        shown.error = ct.form_expired;
        shown.status = StatusCode::FORBIDDEN;
        return show(&state, &signed, shown).await;
    }
    let (outcome, params) = match action.as_str() {
        "quota" => quota(&state, &signed, &f).await,
        "dkim-create" | "dkim-remove" => dkim(&state, &signed, &f, &action).await,
        "spam" => spam(&state, &signed, &f).await,
        _ => return super::message(lang, StatusCode::NOT_FOUND, ct.refused, &action),
    };
    let endpoint = format!("mail/{action}");
    match outcome {
        Ok(done) => {
            signed.record(&state, &endpoint, &params, 0).await;
            let notice = done.notice;
            shown.notice = &notice;
            shown.created = done.created.as_ref();
            // The form's fields were used: an empty form again.
            let empty = MailForm::default();
            shown.form = &empty;
            show(&state, &signed, shown).await
        }
        Err(Refusal::Admin(e @ (AdminError::Store(_) | AdminError::Vault(_)))) => {
            unavailable(lang, "a mail-settings action", &e)
        }
        Err(refusal) => {
            let (code, error) = match refusal {
                Refusal::Admin(e) => (errcode_of(&e), format!("{}{e}", ct.refused)),
                Refusal::Said(text) => (i64::from(ErrorCode::InvalidRequest.code()), text),
            };
            signed.record(&state, &endpoint, &params, code).await;
            shown.error = &error;
            shown.status = StatusCode::BAD_REQUEST;
            show(&state, &signed, shown).await
        }
    }
}

/// Sets a member's quota, or gives them the default back.
async fn quota(state: &AppState, signed: &Signed, f: &MailForm) -> (Result<Done, Refusal>, String) {
    let mt = mail_texts::mt(signed.lang);
    let member = f.member.trim().to_lowercase();
    let back = !f.default.is_empty();
    let mb = match f.mb.trim().parse::<u64>() {
        _ if back => None,
        Ok(mb) if mb <= MAX_MB => Some(mb),
        _ => {
            let params = format!("member={member}; mb={}", f.mb.trim());
            return (Err(Refusal::Said(mt.bad_mb.to_owned())), params);
        }
    };
    let params = format!(
        "member={member}; mb={}",
        mb.map_or_else(|| "default".to_owned(), |mb| mb.to_string())
    );
    let outcome = match state.admin.set_quota(signed.name(), &member, mb).await {
        Ok(()) => {
            let value = match mb {
                None => mt.reset_quota.to_owned(),
                Some(0) => mt.no_limit.to_owned(),
                Some(mb) => format!("{mb} MB"),
            };
            Ok(Done {
                notice: format!("{}{member} → {value}", mt.quota_set),
                created: None,
            })
        }
        Err(AdminError::Invalid(_)) => Err(Refusal::Said(format!("{}{member}", mt.no_member))),
        Err(e) => Err(e.into()),
    };
    (outcome, params)
}

/// Creates or removes a DKIM key.
async fn dkim(
    state: &AppState,
    signed: &Signed,
    f: &MailForm,
    action: &str,
) -> (Result<Done, Refusal>, String) {
    let mt = mail_texts::mt(signed.lang);
    let (domain, selector) = (f.domain.trim(), f.selector.trim());
    let mut params = format!("domain={domain}; selector={selector}");
    if action == "dkim-remove" {
        let outcome = match state
            .admin
            .dkim_remove(signed.name(), domain, selector)
            .await
        {
            Ok(true) => Ok(Done {
                notice: format!("{}{selector}._domainkey.{domain}", mt.key_removed),
                created: None,
            }),
            Ok(false) => Err(Refusal::Said(format!(
                "{}{domain} {selector}",
                mt.no_such_key
            ))),
            Err(e) => Err(e.into()),
        };
        return (outcome, params);
    }
    let algorithm = match f.algorithm.as_str() {
        "rsa" | "" => Algorithm::Rsa,
        "ed25519" => Algorithm::Ed25519,
        other => {
            params.push_str(&format!("; algorithm={other}"));
            return (Err(Refusal::Said(mt.bad_algorithm.to_owned())), params);
        }
    };
    params.push_str(&format!(
        "; algorithm={}",
        if f.algorithm.is_empty() {
            "rsa"
        } else {
            &f.algorithm
        }
    ));
    let outcome = match state
        .admin
        .dkim_create(signed.name(), domain, selector, algorithm)
        .await
    {
        Ok(key) => Ok(Done {
            notice: mt.key_created.to_owned(),
            created: Some(key),
        }),
        Err(AdminError::Invalid(why)) => Err(Refusal::Said(format!("{}{why}", mt.dkim_refused))),
        Err(e) => Err(e.into()),
    };
    (outcome, params)
}

/// Sets the tenant's own spam thresholds (an empty field: the server's).
async fn spam(state: &AppState, signed: &Signed, f: &MailForm) -> (Result<Done, Refusal>, String) {
    let mt = mail_texts::mt(signed.lang);
    let (junk_text, reject_text) = (f.junk.trim(), f.reject.trim());
    let shown = |t: &str| {
        if t.is_empty() {
            "default".to_owned()
        } else {
            t.to_owned()
        }
    };
    let params = format!("junk={}; reject={}", shown(junk_text), shown(reject_text));
    let score = |t: &str| -> Result<Option<f64>, Refusal> {
        if t.is_empty() {
            return Ok(None);
        }
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() < 1e6 => Ok(Some(v)),
            _ => Err(Refusal::Said(mt.bad_score.to_owned())),
        }
    };
    let (junk, reject) = match (score(junk_text), score(reject_text)) {
        (Ok(j), Ok(r)) => (j, r),
        (Err(e), _) | (_, Err(e)) => return (Err(e), params),
    };
    if let (Some(j), Some(r)) = (junk, reject)
        && j >= r
    {
        return (Err(Refusal::Said(mt.junk_over_reject.to_owned())), params);
    }
    let outcome = state
        .admin
        .set_spam_thresholds(signed.name(), junk, reject)
        .await
        .map(|()| Done {
            notice: mt.spam_saved.to_owned(),
            created: None,
        })
        .map_err(|e| match e {
            AdminError::Invalid(_) => Refusal::Said(mt.bad_score.to_owned()),
            other => other.into(),
        });
    (outcome, params)
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_for_people() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(532), "532 B");
        assert_eq!(size(1024), "1 KB");
        assert_eq!(size(1536), "1.5 KB");
        assert_eq!(size(1024 * 1024), "1 MB");
        assert_eq!(size(50 * 1024 * 1024), "50 MB");
        assert_eq!(size(1_200_000), "1.1 MB");
    }
}
