//! `/admin/directory`: the department tree as a nested list with member counts, and creating,
//! renaming, moving and deleting a department, each a `party/sync` (ADD, MOD, DEL) with its
//! rules: five levels at most, names of 1–64 characters, no move into its own subtree or onto an
//! existing department, only an empty department deleted; a move or rename logs its members as
//! MOD for `user/list`.

use super::texts::DirTexts;
use super::{
    Failure, Said, SignedAdmin, Tabs, csrf_ok, enc, field, form, log_line, outcome, with_status,
};
use crate::http::AppState;
use crate::http::console::texts::Ct;
use crate::http::console::unavailable;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::tenants::directory_console::{DeptNode, DirectoryTree};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use bizmail_protocol::directory::{Action, PartySync};
use bizmail_protocol::{ErrorCode, PartyPath};

/// One department as the nested list draws it.
struct Item<'a> {
    node: &'a DeptNode,
    /// The department's path, encoded for the members link.
    href: String,
    /// Whether a list of children opens after it.
    opens: bool,
    /// The `</ul></li>` that close the levels ending after it.
    closers: String,
}

/// The flat tree (parents first, with depths) as nested-list items.
fn items(tree: &DirectoryTree) -> Vec<Item<'_>> {
    let nodes = &tree.departments;
    nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let next = nodes.get(i + 1).map_or(0, |n| n.depth);
            let opens = next > node.depth;
            Item {
                node,
                href: enc(&node.path),
                opens,
                closers: if opens {
                    String::new()
                } else {
                    "</ul></li>".repeat(node.depth.saturating_sub(next))
                },
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console/directory.html")]
struct TreeTemplate<'a> {
    ct: &'a Ct,
    dt: &'a DirTexts,
    tabs: Tabs,
    said: &'a Said,
    csrf: &'a str,
    tree: &'a DirectoryTree,
    items: Vec<Item<'a>>,
}

/// The tree page as it is now, with what an action said.
async fn show(state: &AppState, admin: &SignedAdmin, said: &Said) -> Response {
    let tree = match state.admin.directory_tree(admin.name()).await {
        Ok(t) => t,
        Err(e) => return unavailable(admin.signed.lang, "reading the department tree", &e),
    };
    let body = TreeTemplate {
        ct: admin.signed.ct(),
        dt: admin.dt(),
        tabs: Tabs::at(admin.dt(), 0),
        said,
        csrf: &admin.signed.session.csrf,
        tree: &tree,
        items: items(&tree),
    }
    .render()
    .unwrap_or_default();
    let r = admin
        .signed
        .page(admin.signed.ct().nav_directory, "/admin/directory", &body);
    with_status(r, said.status())
}

/// `GET /admin/directory`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
) -> Response {
    match SignedAdmin::require(&state, &jar, (lang, ip)).await {
        Ok(admin) => show(&state, &admin, &Said::default()).await,
        Err(r) => r,
    }
}

/// `a/b` under `parent` (empty: the root).
fn under(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

/// `POST /admin/directory/departments/{create|rename|move|delete}`.
pub async fn act(
    State(state): State<AppState>,
    Path(action): Path<String>,
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
    let dt = admin.dt();
    if !csrf_ok(&admin.signed, &p) {
        let said = Said::error(admin.signed.ct().form_expired);
        return with_status(show(&state, &admin, &said).await, StatusCode::FORBIDDEN);
    }
    let done = apply(&state, &admin, dt, &action, &p).await;
    match outcome(done) {
        Ok(said) => show(&state, &admin, &said).await,
        Err(cause) => super::failed_page(lang, &cause),
    }
}

/// Runs one department action.
async fn apply(
    state: &AppState,
    admin: &SignedAdmin,
    dt: &DirTexts,
    action: &str,
    p: &bizmail_protocol::Params,
) -> Result<Said, Failure> {
    let (name, parent, path) = (field(p, "name"), field(p, "parent"), field(p, "path"));
    let endpoint = format!("department/{action}");
    let (sync, params, notice) = match action {
        "create" => {
            let dst = under(parent, name);
            let params = log_line(&[("dstpath", &dst)]);
            if name.contains('/') {
                let _ = admin
                    .refused(state, (&endpoint, &params), ErrorCode::InvalidPartyPath)
                    .await;
                return Ok(Said::error(dt.slash_in_name));
            }
            ((Action::Add, None, dst), params, dt.dept_created)
        }
        "rename" | "move" => {
            let src = PartyPath::parse(path);
            let own = src
                .as_ref()
                .ok()
                .and_then(|s| s.names().last().cloned())
                .unwrap_or_default();
            let dst = if action == "rename" {
                let parent = src.as_ref().map(|s| s.parent().joined());
                under(&parent.unwrap_or_default(), name)
            } else {
                under(parent, &own)
            };
            let params = log_line(&[("srcpath", path), ("dstpath", &dst)]);
            if action == "rename" && name.contains('/') {
                let _ = admin
                    .refused(state, (&endpoint, &params), ErrorCode::InvalidPartyPath)
                    .await;
                return Ok(Said::error(dt.slash_in_name));
            }
            let notice = if action == "rename" {
                dt.dept_renamed
            } else {
                dt.dept_moved
            };
            ((Action::Mod, Some(path.to_owned()), dst), params, notice)
        }
        "delete" => (
            (Action::Del, None, path.to_owned()),
            log_line(&[("dstpath", path)]),
            dt.dept_deleted,
        ),
        _ => {
            return Err(admin
                .refused(state, (&endpoint, ""), ErrorCode::InvalidRequest)
                .await);
        }
    };
    // The same parse as `party/sync`'s, so the same paths are refused the same way.
    let (act, src, dst) = sync;
    let mut wire = bizmail_protocol::Params::default();
    wire.push("action", &act.code().to_string());
    wire.push("dstpath", &dst);
    if let Some(s) = &src {
        wire.push("srcpath", s);
    }
    let req = match PartySync::from_params(&wire) {
        Ok(r) => r,
        Err(code) => return Err(admin.refused(state, (&endpoint, &params), code).await),
    };
    admin
        .change(
            state,
            (&endpoint, &params),
            crate::directory::Change::PartySync(req),
        )
        .await?;
    Ok(Said::notice(notice))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(path: &str, depth: usize) -> DeptNode {
        DeptNode {
            wire_id: 2,
            path: path.into(),
            name: path.rsplit('/').next().unwrap_or_default().into(),
            depth,
            direct: 0,
            total: 0,
        }
    }

    #[test]
    fn the_flat_tree_nests() {
        let tree = DirectoryTree {
            departments: vec![
                node("a", 0),
                node("a/b", 1),
                node("a/b/c", 2),
                node("d", 0),
                node("d/e", 1),
            ],
            ..DirectoryTree::default()
        };
        let html: String = items(&tree)
            .iter()
            .map(|i| {
                let end = if i.opens { "<ul>" } else { "</li>" };
                format!("<li>{}{end}{}", i.node.name, i.closers)
            })
            .collect();
        assert_eq!(
            html,
            "<li>a<ul><li>b<ul><li>c</li></ul></li></ul></li><li>d<ul><li>e</li></ul></li>"
        );
    }
}
