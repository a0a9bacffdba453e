//! `/admin/directory/members`: the members, 50 to a page, searched by address, alias or name and
//! filtered by department (its sub-departments included, or "no department"), and adding one as
//! a `user/sync` ADD: the same checks (an address of the tenant's domains that is free, a name,
//! a password of 6–32 characters, existing departments), a generated password shown once when
//! none is typed.

use super::texts::DirTexts;
use super::{
    Failure, Said, SignedAdmin, Tabs, csrf_ok, enc, field, form, member, outcome, with_status,
};
use crate::directory::{Change, members as dir_members};
use crate::http::AppState;
use crate::http::console::texts::Ct;
use crate::http::console::unavailable;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::tenants::directory_console::{MemberFilter, MemberSummary};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use bizmail_protocol::Params;
use bizmail_protocol::directory::UserSync;

/// Members on one page.
const PAGE: usize = 50;
/// The longest search text kept.
const SEARCH_CHARS: usize = 128;

/// One member row with its link.
struct Row {
    m: MemberSummary,
    href: String,
}

#[derive(Template)]
#[template(path = "console/directory_members.html")]
struct MembersTemplate<'a> {
    ct: &'a Ct,
    dt: &'a DirTexts,
    tabs: Tabs,
    said: &'a Said,
    csrf: &'a str,
    q: &'a str,
    dept: &'a str,
    domain: &'a str,
    departments: Vec<String>,
    rows: Vec<Row>,
    total: usize,
    previous: Option<String>,
    next: Option<String>,
}

/// The list's filters, as the search form sends them.
#[derive(Debug, Default)]
struct Filters {
    q: String,
    dept: String,
    page: usize,
}

impl Filters {
    fn from_query(raw: Option<&str>) -> Filters {
        let p = Params::from_query(raw.unwrap_or_default()).unwrap_or_default();
        Filters {
            q: field(&p, "q").chars().take(SEARCH_CHARS).collect(),
            dept: field(&p, "dept").chars().take(SEARCH_CHARS * 4).collect(),
            page: field(&p, "page").parse().unwrap_or(1).clamp(1, 100_000),
        }
    }

    /// The query string of these filters on `page`.
    fn to_query(&self, page: usize) -> String {
        format!("q={}&dept={}&page={page}", enc(&self.q), enc(&self.dept))
    }
}

/// The list page with what an action said.
async fn show(state: &AppState, admin: &SignedAdmin, f: &Filters, said: &Said) -> Response {
    let lang = admin.signed.lang;
    let filter = MemberFilter {
        search: f.q.clone(),
        department: f.dept.clone(),
        offset: f.page.saturating_sub(1).saturating_mul(PAGE),
        limit: PAGE,
    };
    let read = async {
        let page = state.admin.member_page(admin.name(), &filter).await?;
        let tree = state.admin.directory_tree(admin.name()).await?;
        Ok::<_, crate::tenants::AdminError>((page, tree))
    };
    let (page, tree) = match read.await {
        Ok(r) => r,
        Err(e) => return unavailable(lang, "listing members", &e),
    };
    let domain = match state.directory.scope(admin.tenant_id).await {
        Ok(s) => s.domains.into_iter().next().unwrap_or_default(),
        Err(e) => return unavailable(lang, "reading the tenant's domains", &e),
    };
    let more = filter.offset + page.rows.len() < page.total;
    let body = MembersTemplate {
        ct: admin.signed.ct(),
        dt: admin.dt(),
        tabs: Tabs::at(admin.dt(), 1),
        said,
        csrf: &admin.signed.session.csrf,
        q: &f.q,
        dept: &f.dept,
        domain: &domain,
        departments: tree.departments.into_iter().map(|d| d.path).collect(),
        total: page.total,
        rows: page
            .rows
            .into_iter()
            .map(|m| Row {
                href: enc(&m.address),
                m,
            })
            .collect(),
        previous: (f.page > 1).then(|| f.to_query(f.page - 1)),
        next: more.then(|| f.to_query(f.page.max(1) + 1)),
    }
    .render()
    .unwrap_or_default();
    let r = admin.signed.page(
        admin.signed.ct().nav_directory,
        "/admin/directory/members",
        &body,
    );
    with_status(r, said.status())
}

/// The first page of every member, with what an action said.
pub(super) async fn show_first(state: &AppState, admin: &SignedAdmin, said: &Said) -> Response {
    show(state, admin, &Filters::default(), said).await
}

/// `GET /admin/directory/members?q&dept&page`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    RawQuery(query): RawQuery,
) -> Response {
    match SignedAdmin::require(&state, &jar, (lang, ip)).await {
        Ok(admin) => {
            let f = Filters::from_query(query.as_deref());
            show(&state, &admin, &f, &Said::default()).await
        }
        Err(r) => r,
    }
}

/// `POST /admin/directory/members`: adds a member; their page follows, with the generated
/// password shown once.
pub async fn create(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let admin = match SignedAdmin::require(&state, &jar, (lang, ip)).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let p = form(&body);
    let none = Filters::default();
    if !csrf_ok(&admin.signed, &p) {
        let said = Said::error(admin.signed.ct().form_expired);
        return with_status(
            show(&state, &admin, &none, &said).await,
            StatusCode::FORBIDDEN,
        );
    }
    let address = match with_domain(&state, &admin, field(&p, "address")).await {
        Ok(a) => a,
        Err(e) => return unavailable(lang, "reading the tenant's domains", &e),
    };
    match outcome(add(&state, &admin, &address, &p).await) {
        Ok(said) if said.error.is_empty() => member::show(&state, &admin, &address, &said).await,
        Ok(said) => {
            let f = Filters {
                dept: field(&p, "department").to_owned(),
                ..Filters::default()
            };
            show(&state, &admin, &f, &said).await
        }
        Err(cause) => super::failed_page(lang, &cause),
    }
}

/// The address typed, with the tenant's first domain added when only a name was typed.
pub(super) async fn with_domain(
    state: &AppState,
    admin: &SignedAdmin,
    typed: &str,
) -> Result<String, crate::store::StoreError> {
    if typed.is_empty() || typed.contains('@') {
        return Ok(typed.to_owned());
    }
    let scope = state.directory.scope(admin.tenant_id).await?;
    Ok(match scope.domains.first() {
        Some(d) => format!("{typed}@{d}"),
        None => typed.to_owned(),
    })
}

/// The `user/sync` ADD of the form.
async fn add(
    state: &AppState,
    admin: &SignedAdmin,
    address: &str,
    p: &Params,
) -> Result<Said, Failure> {
    let typed = field(p, "password");
    let generated = typed.is_empty().then(crate::auth::new_password);
    let password = generated.as_deref().unwrap_or(typed);
    let mut wire = Params::default();
    wire.push("action", "2");
    wire.push("alias", address);
    wire.push("name", field(p, "name"));
    wire.push("password", password);
    let department = field(p, "department");
    wire.push(
        "partypath",
        if department.is_empty() {
            "/"
        } else {
            department
        },
    );
    wire.push("position", field(p, "position"));
    wire.push("mobile", field(p, "mobile"));
    let action = ("member/create", wire.to_log_line());
    let req = match UserSync::from_params(&wire) {
        Ok(r) => r,
        Err(code) => return Err(admin.refused(state, (action.0, &action.1), code).await),
    };
    let prepared = match dir_members::prepare(req).await {
        Ok(p) => p,
        Err(e) => return Err(admin.failed(state, (action.0, &action.1), e).await),
    };
    admin
        .change(state, (action.0, &action.1), Change::UserSync(prepared))
        .await?;
    let dt = admin.dt();
    Ok(Said {
        notice: match generated {
            Some(_) => format!("{} {}", dt.member_created, dt.password_once),
            None => dt.member_created.to_owned(),
        },
        secret: generated,
        ..Said::default()
    })
}
