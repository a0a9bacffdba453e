//! `/admin/directory/groups`: mail groups. Creating one is `group/add` (a free address of the
//! tenant's domains, a name, who may write: `all`, `inner`, `group` or `list`, members that are
//! members, aliases or groups, never itself); its people are `group/addmember` and
//! `group/deletemember`, its allow list `group/addallowlist` and `group/delallowlist` (only for
//! `list`, never emptied), deleting it `group/delete`. The old API has no verb for a group's name,
//! its sending permission or its departments (typed members standing for everyone in a
//! department and below): those are the newer API's `group/update`, which asks for an allow list
//! when the permission becomes `list`.

use super::texts::DirTexts;
use super::{
    Failure, Said, SignedAdmin, Tabs, csrf_ok, enc, field, form, log_line, members, outcome,
    split_addresses, with_status,
};
use crate::directory::Change;
use crate::directory::cgi::CgiChange;
use crate::http::AppState;
use crate::http::console::texts::Ct;
use crate::http::console::unavailable;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::tenants::AdminError;
use crate::tenants::directory_console::{GroupDetail, GroupSummary};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use bizmail_protocol::cgi::fields::Fields;
use bizmail_protocol::cgi::requests::{AllowType, GroupWrite};
use bizmail_protocol::directory::{GroupAdd, GroupStatus, allow_list_param, group_members_param};
use bizmail_protocol::{Address, ErrorCode, Params};

/// The sending permissions with their labels, in the form's order.
fn statuses(dt: &DirTexts) -> [(&'static str, &'static str); 4] {
    [
        ("inner", dt.status_inner),
        ("all", dt.status_all),
        ("group", dt.status_group),
        ("list", dt.status_list),
    ]
}

/// The label of a stored permission.
fn status_text(dt: &DirTexts, status: &str) -> &'static str {
    statuses(dt)
        .into_iter()
        .find(|s| s.0 == status)
        .map_or(dt.status_inner, |s| s.1)
}

#[derive(Template)]
#[template(path = "console/directory_groups.html")]
struct GroupsTemplate<'a> {
    ct: &'a Ct,
    dt: &'a DirTexts,
    tabs: Tabs,
    said: &'a Said,
    csrf: &'a str,
    domain: &'a str,
    statuses: [(&'static str, &'static str); 4],
    /// Each group, its encoded address and its permission's label.
    groups: Vec<(GroupSummary, String, &'static str)>,
}

#[derive(Template)]
#[template(path = "console/directory_group.html")]
struct GroupTemplate<'a> {
    ct: &'a Ct,
    dt: &'a DirTexts,
    tabs: Tabs,
    said: &'a Said,
    csrf: &'a str,
    base: &'a str,
    g: &'a GroupDetail,
    status_text: &'static str,
    statuses: [(&'static str, &'static str); 4],
    /// Every department: wire id and path.
    departments: Vec<(i64, String)>,
}

/// The list page with what an action said.
async fn show_list(state: &AppState, admin: &SignedAdmin, said: &Said) -> Response {
    let lang = admin.signed.lang;
    let dt = admin.dt();
    let groups = match state.admin.group_list(admin.name()).await {
        Ok(g) => g,
        Err(e) => return unavailable(lang, "listing mail groups", &e),
    };
    let domain = match state.directory.scope(admin.tenant_id).await {
        Ok(s) => s.domains.into_iter().next().unwrap_or_default(),
        Err(e) => return unavailable(lang, "reading the tenant's domains", &e),
    };
    let body = GroupsTemplate {
        ct: admin.signed.ct(),
        dt,
        tabs: Tabs::at(dt, 2),
        said,
        csrf: &admin.signed.session.csrf,
        domain: &domain,
        statuses: statuses(dt),
        groups: groups
            .into_iter()
            .map(|g| {
                let (href, label) = (enc(&g.address), status_text(dt, &g.status));
                (g, href, label)
            })
            .collect(),
    }
    .render()
    .unwrap_or_default();
    let r = admin.signed.page(
        admin.signed.ct().nav_directory,
        "/admin/directory/groups",
        &body,
    );
    with_status(r, said.status())
}

/// One group's page with what an action said; the list when there is no such group.
async fn show(state: &AppState, admin: &SignedAdmin, address: &str, said: &Said) -> Response {
    let lang = admin.signed.lang;
    let dt = admin.dt();
    let read = async {
        let g = state.admin.group_detail(admin.name(), address).await?;
        let tree = state.admin.directory_tree(admin.name()).await?;
        Ok::<_, AdminError>((g, tree))
    };
    let (g, tree) = match read.await {
        Ok(r) => r,
        Err(AdminError::Invalid(_)) => {
            let r = show_list(state, admin, &Said::error(dt.no_such_group)).await;
            return with_status(r, StatusCode::NOT_FOUND);
        }
        Err(e) => return unavailable(lang, "reading a mail group", &e),
    };
    let base = format!("/admin/directory/groups/{}", enc(&g.address));
    let body = GroupTemplate {
        ct: admin.signed.ct(),
        dt,
        tabs: Tabs::at(dt, 2),
        said,
        csrf: &admin.signed.session.csrf,
        base: &base,
        status_text: status_text(dt, &g.status),
        statuses: statuses(dt),
        g: &g,
        departments: tree
            .departments
            .into_iter()
            .map(|d| (d.wire_id, d.path))
            .collect(),
    }
    .render()
    .unwrap_or_default();
    let r = admin.signed.page(&g.address, &base, &body);
    with_status(r, said.status())
}

/// `GET /admin/directory/groups`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> Response {
    match SignedAdmin::require(&state, &jar, (lang, ip)).await {
        Ok(admin) => show_list(&state, &admin, &Said::default()).await,
        Err(r) => r,
    }
}

/// `GET /admin/directory/groups/{address}`.
pub async fn detail(
    State(state): State<AppState>,
    Path(address): Path<String>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> Response {
    match SignedAdmin::require(&state, &jar, (lang, ip)).await {
        Ok(admin) => show(&state, &admin, &address, &Said::default()).await,
        Err(r) => r,
    }
}

/// `POST /admin/directory/groups`: creates a group; its page follows.
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
    if !csrf_ok(&admin.signed, &p) {
        let said = Said::error(admin.signed.ct().form_expired);
        return with_status(
            show_list(&state, &admin, &said).await,
            StatusCode::FORBIDDEN,
        );
    }
    let address = match members::with_domain(&state, &admin, field(&p, "address")).await {
        Ok(a) => a,
        Err(e) => return unavailable(lang, "reading the tenant's domains", &e),
    };
    match outcome(add(&state, &admin, &address, &p).await) {
        Ok(said) if said.error.is_empty() => show(&state, &admin, &address, &said).await,
        Ok(said) => show_list(&state, &admin, &said).await,
        Err(cause) => super::failed_page(lang, &cause),
    }
}

/// `group/add`, then the allow list of a `list` group (which the console asks for at once, as
/// the newer API's `group/create` does: a `list` group with an empty list takes no mail).
async fn add(
    state: &AppState,
    admin: &SignedAdmin,
    address: &str,
    p: &Params,
) -> Result<Said, Failure> {
    let mut wire = Params::default();
    wire.push("group_name", field(p, "name"));
    wire.push("group_admin", address);
    wire.push("status", field(p, "status"));
    for m in split_addresses(field(p, "members")) {
        wire.push("members", &m);
    }
    let mut allow = Params::default();
    allow.push("group_alias", address);
    for a in split_addresses(field(p, "allow")) {
        allow.push("allow_list", &a);
    }
    let params = wire.to_log_line();
    let action = ("group/create", params.as_str());
    let req = match GroupAdd::from_params(&wire) {
        Ok(r) => r,
        Err(code) => return Err(admin.refused(state, action, code).await),
    };
    let allowed = if req.status == GroupStatus::List {
        match allow_list_param(&allow) {
            Ok(list) => Some(list),
            Err(ErrorCode::InvalidRequest) => {
                let code = ErrorCode::AllowlistCannotBeEmpty;
                return Err(admin.refused(state, action, code).await);
            }
            Err(code) => return Err(admin.refused(state, action, code).await),
        }
    } else {
        None
    };
    let group = req.address.clone();
    admin.change(state, action, Change::GroupAdd(req)).await?;
    if let Some(list) = allowed {
        let params = allow.to_log_line();
        let change = Change::GroupAddAllow(group, list);
        admin
            .change(state, ("group/allow", &params), change)
            .await?;
    }
    Ok(Said::notice(admin.dt().group_created))
}

/// `POST /admin/directory/groups/{address}/{action}`: `edit`, `add-members`, `remove-member`,
/// `add-department`, `remove-department`, `allow`, `deny`, `delete`.
pub async fn act(
    State(state): State<AppState>,
    Path((address, action)): Path<(String, String)>,
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
    if !csrf_ok(&admin.signed, &p) {
        let said = Said::error(admin.signed.ct().form_expired);
        let r = show(&state, &admin, &address, &said).await;
        return with_status(r, StatusCode::FORBIDDEN);
    }
    let g = match state.admin.group_detail(admin.name(), &address).await {
        Ok(g) => g,
        Err(AdminError::Invalid(_)) => {
            return show(&state, &admin, &address, &Said::default()).await;
        }
        Err(e) => return unavailable(lang, "reading a mail group", &e),
    };
    match outcome(apply(&state, &admin, &g, &action, &p).await) {
        Ok(said) if action == "delete" && said.error.is_empty() => {
            show_list(&state, &admin, &said).await
        }
        Ok(said) => show(&state, &admin, &g.address, &said).await,
        Err(cause) => super::failed_page(lang, &cause),
    }
}

/// A `group/update` of the newer API with these fields (besides `groupid`).
async fn update(
    state: &AppState,
    admin: &SignedAdmin,
    (endpoint, params): (&str, &str),
    mut fields: serde_json::Map<String, serde_json::Value>,
    group: &str,
) -> Result<(), Failure> {
    fields.insert("groupid".into(), group.into());
    let parsed =
        Fields::from_json(serde_json::Value::Object(fields)).map(|f| GroupWrite::from_fields(&f));
    let write = match parsed {
        Some(Ok(w)) => w,
        Some(Err(code)) => {
            let e = crate::directory::DirError::RefusedCgi(code);
            return Err(admin.failed(state, (endpoint, params), e).await);
        }
        None => {
            let code = ErrorCode::InvalidRequest;
            return Err(admin.refused(state, (endpoint, params), code).await);
        }
    };
    let change = CgiChange::GroupUpdate(write);
    admin.cgi_change(state, (endpoint, params), change).await
}

/// Runs one action on the group.
async fn apply(
    state: &AppState,
    admin: &SignedAdmin,
    g: &GroupDetail,
    action: &str,
    p: &Params,
) -> Result<Said, Failure> {
    let dt = admin.dt();
    let endpoint = format!("group/{action}");
    let group = Address::parse(&g.address).ok_or(Failure::Refused(dt.no_such_group.into()))?;
    let mut wire = Params::default();
    wire.push("group_alias", &g.address);
    match action {
        "edit" => {
            let status = field(p, "status");
            let allow_type = GroupStatus::parse(status).map(|s| AllowType::from_status(s.as_str()));
            let Some(allow_type) = allow_type else {
                let params = log_line(&[("group_alias", &g.address), ("status", status)]);
                return Err(admin
                    .refused(state, (&endpoint, &params), ErrorCode::InvalidGroupStatus)
                    .await);
            };
            let allow = split_addresses(field(p, "allow"));
            let mut fields = serde_json::Map::new();
            fields.insert("groupname".into(), field(p, "name").into());
            fields.insert("allow_type".into(), allow_type.number().into());
            if !allow.is_empty() {
                fields.insert("allow_userlist".into(), allow.clone().into());
            }
            let params = log_line(&[
                ("group_alias", &g.address),
                ("group_name", field(p, "name")),
                ("status", status),
                ("allow_list", &allow.join(",")),
            ]);
            update(state, admin, (&endpoint, &params), fields, &g.address).await?;
            Ok(Said::notice(dt.group_saved))
        }
        "add-members" | "remove-member" => {
            let typed = if action == "add-members" {
                split_addresses(field(p, "members"))
            } else {
                vec![field(p, "member").to_owned()]
            };
            for m in &typed {
                wire.push("members", m);
            }
            let params = wire.to_log_line();
            let list = match group_members_param(&wire) {
                Ok(l) => l,
                Err(code) => return Err(admin.refused(state, (&endpoint, &params), code).await),
            };
            let change = if action == "add-members" {
                Change::GroupAddMember(group, list)
            } else {
                Change::GroupDeleteMember(group, list)
            };
            admin.change(state, (&endpoint, &params), change).await?;
            Ok(Said::notice(if action == "add-members" {
                dt.members_added
            } else {
                dt.entry_removed
            }))
        }
        "add-department" | "remove-department" => {
            let id: i64 = field(p, "department").parse().unwrap_or(0);
            let mut ids: Vec<i64> = g.departments.iter().map(|d| d.0).collect();
            if action == "add-department" {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            } else {
                ids.retain(|d| *d != id);
            }
            let params = log_line(&[("group_alias", &g.address), ("department", &id.to_string())]);
            let mut fields = serde_json::Map::new();
            fields.insert("department".into(), ids.into());
            update(state, admin, (&endpoint, &params), fields, &g.address).await?;
            Ok(Said::notice(dt.departments_saved))
        }
        "allow" | "deny" => {
            let typed = if action == "allow" {
                split_addresses(field(p, "entries"))
            } else {
                vec![field(p, "entry").to_owned()]
            };
            for a in &typed {
                wire.push("allow_list", a);
            }
            let params = wire.to_log_line();
            let list = match allow_list_param(&wire) {
                Ok(l) => l,
                Err(code) => return Err(admin.refused(state, (&endpoint, &params), code).await),
            };
            let change = if action == "allow" {
                Change::GroupAddAllow(group, list)
            } else {
                Change::GroupDeleteAllow(group, list)
            };
            admin.change(state, (&endpoint, &params), change).await?;
            Ok(Said::notice(dt.allow_saved))
        }
        "delete" => {
            let params = wire.to_log_line();
            if field(p, "confirm") != "1" {
                return Err(admin
                    .refused(state, (&endpoint, &params), ErrorCode::InvalidRequest)
                    .await);
            }
            let change = Change::GroupDelete(group);
            admin.change(state, (&endpoint, &params), change).await?;
            Ok(Said::notice(dt.group_deleted))
        }
        _ => Err(admin
            .refused(state, (&endpoint, ""), ErrorCode::InvalidRequest)
            .await),
    }
}
