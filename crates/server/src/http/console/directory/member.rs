//! `/admin/directory/members/{address}`: one member's record, and every change to it as the
//! APIs make it: the profile, departments, enabling and disabling, a new password (typed, or
//! generated and shown once) and deleting are `user/sync` MOD and DEL; an alias is added by a
//! `user/sync` MOD with the longer list (five at most, the tenant's domains, free addresses) and
//! removed by the newer API's `user/update` (the old API cannot empty the list); the forced
//! second factor is `user/openwxtoken`/`closewxtoken`; resetting the enrolled authenticator is
//! `bizmail member reset-totp`'s verb (`tenants::Admin::reset_second_factor`).

use super::texts::DirTexts;
use super::{
    Failure, Said, SignedAdmin, Tabs, csrf_ok, enc, field, form, log_line, members, outcome,
    with_status,
};
use crate::directory::cgi::{CgiChange, members as cgi_members};
use crate::directory::{Change, members as dir_members};
use crate::http::AppState;
use crate::http::console::texts::Ct;
use crate::http::console::unavailable;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::tenants::AdminError;
use crate::tenants::directory_console::MemberDetail;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use bizmail_protocol::cgi::fields::Fields;
use bizmail_protocol::cgi::requests::UserFields;
use bizmail_protocol::directory::UserSync;
use bizmail_protocol::{Address, ErrorCode, Params};

#[derive(Template)]
#[template(path = "console/directory_member.html")]
struct MemberTemplate<'a> {
    ct: &'a Ct,
    dt: &'a DirTexts,
    tabs: Tabs,
    said: &'a Said,
    csrf: &'a str,
    base: &'a str,
    domain: &'a str,
    m: &'a MemberDetail,
    departments: Vec<String>,
}

/// The member's page with what an action said; "no such member" when there is none.
pub(super) async fn show(
    state: &AppState,
    admin: &SignedAdmin,
    address: &str,
    said: &Said,
) -> Response {
    let lang = admin.signed.lang;
    let read = async {
        let m = state.admin.member_detail(admin.name(), address).await?;
        let tree = state.admin.directory_tree(admin.name()).await?;
        let scope = state.directory.scope(admin.tenant_id).await?;
        Ok::<_, AdminError>((m, tree, scope))
    };
    let (m, tree, scope) = match read.await {
        Ok(r) => r,
        Err(AdminError::Invalid(_)) => {
            let said = Said {
                error: admin.dt().no_such_member.to_owned(),
                ..Said::default()
            };
            let r = members::show_first(state, admin, &said).await;
            return with_status(r, StatusCode::NOT_FOUND);
        }
        Err(e) => return unavailable(lang, "reading a member", &e),
    };
    let base = format!("/admin/directory/members/{}", enc(&m.address));
    let body = MemberTemplate {
        ct: admin.signed.ct(),
        dt: admin.dt(),
        tabs: Tabs::at(admin.dt(), 1),
        said,
        csrf: &admin.signed.session.csrf,
        base: &base,
        domain: scope.domains.first().map_or("", String::as_str),
        m: &m,
        departments: tree.departments.into_iter().map(|d| d.path).collect(),
    }
    .render()
    .unwrap_or_default();
    let r = admin.signed.page(&m.address, &base, &body);
    with_status(r, said.status())
}

/// `GET /admin/directory/members/{address}`.
pub async fn page(
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

/// `POST /admin/directory/members/{address}/{action}`: `edit`, `enable`, `disable`,
/// `password`, `alias-add`, `alias-remove`, `2fa-on`, `2fa-off`, `reset-totp`, `delete`.
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
    // The member as stored now (their primary address, aliases), or "no such member".
    let m = match state.admin.member_detail(admin.name(), &address).await {
        Ok(m) => m,
        Err(AdminError::Invalid(_)) => {
            return show(&state, &admin, &address, &Said::default()).await;
        }
        Err(e) => return unavailable(lang, "reading a member", &e),
    };
    let done = apply(&state, &admin, &m, &action, &p).await;
    match outcome(done) {
        Ok(said) if action == "delete" && said.error.is_empty() => {
            members::show_first(&state, &admin, &said).await
        }
        Ok(said) => show(&state, &admin, &m.address, &said).await,
        Err(cause) => super::failed_page(lang, &cause),
    }
}

/// A `user/sync` MOD (or DEL) of the member with these fields.
async fn sync(
    state: &AppState,
    admin: &SignedAdmin,
    endpoint: &str,
    wire: &Params,
) -> Result<(), Failure> {
    let params = wire.to_log_line();
    let req = match UserSync::from_params(wire) {
        Ok(r) => r,
        Err(code) => return Err(admin.refused(state, (endpoint, &params), code).await),
    };
    let prepared = match dir_members::prepare(req).await {
        Ok(p) => p,
        Err(e) => return Err(admin.failed(state, (endpoint, &params), e).await),
    };
    admin
        .change(state, (endpoint, &params), Change::UserSync(prepared))
        .await
}

/// The parameters of a `user/sync` on this member.
fn wire_for(m: &MemberDetail, action: &str) -> Params {
    let mut wire = Params::default();
    wire.push("action", action);
    wire.push("alias", &m.address);
    wire
}

/// Runs one action on the member.
async fn apply(
    state: &AppState,
    admin: &SignedAdmin,
    m: &MemberDetail,
    action: &str,
    p: &Params,
) -> Result<Said, Failure> {
    let dt = admin.dt();
    let endpoint = format!("member/{action}");
    let address = Address::parse(&m.address).ok_or(Failure::Refused(dt.no_such_member.into()))?;
    match action {
        "edit" => {
            let mut wire = wire_for(m, "3");
            for name in ["name", "gender", "position", "tel", "mobile", "extid"] {
                wire.push(name, field(p, name));
            }
            let departments = p.all("department");
            if departments.iter().all(|d| d.is_empty()) {
                wire.push("partypath", "/");
            }
            for d in departments {
                wire.push("partypath", d);
            }
            sync(state, admin, &endpoint, &wire).await?;
            Ok(Said::notice(dt.saved))
        }
        "enable" | "disable" => {
            let mut wire = wire_for(m, "3");
            wire.push("opentype", if action == "enable" { "1" } else { "2" });
            sync(state, admin, &endpoint, &wire).await?;
            Ok(Said::notice(if action == "enable" {
                dt.member_enabled
            } else {
                dt.member_disabled
            }))
        }
        "password" => {
            let typed = field(p, "password");
            let generated = typed.is_empty().then(crate::auth::new_password);
            let mut wire = wire_for(m, "3");
            wire.push("password", generated.as_deref().unwrap_or(typed));
            sync(state, admin, &endpoint, &wire).await?;
            Ok(Said {
                notice: match generated {
                    Some(_) => format!("{} {}", dt.password_reset, dt.password_once),
                    None => dt.password_reset.to_owned(),
                },
                secret: generated,
                ..Said::default()
            })
        }
        "alias-add" => {
            let alias = members::with_domain(state, admin, field(p, "alias"))
                .await
                .map_err(|e| Failure::Unavailable(e.to_string()))?;
            let mut wire = wire_for(m, "3");
            for a in m.aliases.iter().chain(std::iter::once(&alias)) {
                wire.push("slave", a);
            }
            // The member's own address among its aliases: the API ignores it; here it is taken.
            if Address::parse(&alias).is_some_and(|a| a == address) {
                let params = wire.to_log_line();
                return Err(admin
                    .refused(state, (&endpoint, &params), ErrorCode::AliasExists)
                    .await);
            }
            sync(state, admin, &endpoint, &wire).await?;
            Ok(Said::notice(dt.alias_added))
        }
        "alias-remove" => {
            let gone = field(p, "alias");
            let kept: Vec<&String> = m.aliases.iter().filter(|a| *a != gone).collect();
            let params = log_line(&[("userid", &m.address), ("slave", gone)]);
            let fields = Fields::from_json(serde_json::json!({ "slaves": kept }));
            let parsed = fields.map(|f| UserFields::from_fields(&f));
            let Some(Ok(fields)) = parsed else {
                return Err(admin
                    .refused(state, (&endpoint, &params), ErrorCode::InvalidAlias)
                    .await);
            };
            let prepared = match cgi_members::prepare(address, fields).await {
                Ok(p) => p,
                Err(e) => return Err(admin.failed(state, (&endpoint, &params), e).await),
            };
            admin
                .cgi_change(state, (&endpoint, &params), CgiChange::UserUpdate(prepared))
                .await?;
            Ok(Said::notice(dt.alias_removed))
        }
        "2fa-on" | "2fa-off" => {
            let on = action == "2fa-on";
            let params = log_line(&[("alias", &m.address)]);
            let change = Change::SecondFactor(address, on);
            admin.change(state, (&endpoint, &params), change).await?;
            Ok(Said::notice(if on {
                dt.sf_on_notice
            } else {
                dt.sf_off_notice
            }))
        }
        "reset-totp" => {
            let params = log_line(&[("alias", &m.address)]);
            match state
                .admin
                .reset_second_factor(admin.name(), &m.address)
                .await
            {
                Ok(had) => {
                    let endpoint = format!("directory/{endpoint}");
                    admin.signed.record(state, &endpoint, &params, 0).await;
                    Ok(Said::notice(if had { dt.totp_reset } else { dt.totp_none }))
                }
                Err(AdminError::Invalid(_)) => Err(admin
                    .refused(state, (&endpoint, &params), ErrorCode::UserNotFound)
                    .await),
                Err(e) => Err(Failure::Unavailable(e.to_string())),
            }
        }
        "delete" => {
            let wire = wire_for(m, "1");
            if field(p, "confirm") != "1" {
                let params = wire.to_log_line();
                return Err(admin
                    .refused(state, (&endpoint, &params), ErrorCode::InvalidRequest)
                    .await);
            }
            sync(state, admin, &endpoint, &wire).await?;
            Ok(Said::notice(dt.member_deleted))
        }
        _ => Err(admin
            .refused(state, (&endpoint, ""), ErrorCode::InvalidRequest)
            .await),
    }
}
