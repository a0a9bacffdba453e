//! Departments (§7.5): `party/sync`, `party/list`, `partyuser/list`, and the department lists of
//! members.

use super::{ChangeSet, DirResult, Scope};
use crate::store::Conn;
use crate::store::directory as db;
use bizmail_protocol::directory::{Action, PartySync};
use bizmail_protocol::party::MAX_LEVELS;
use bizmail_protocol::response::ValueList;
use bizmail_protocol::{ErrorCode, PartyPath};

/// The ids of existing departments, in order (`party_not_found` for any that does not exist).
pub async fn existing_ids(
    conn: &mut Conn<'_>,
    scope: &Scope,
    paths: &[PartyPath],
) -> DirResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(paths.len());
    for p in paths {
        let id = db::department_id(conn, scope.tenant_id, &p.joined())
            .await?
            .ok_or(ErrorCode::PartyNotFound)?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The id of the department at `path` (`None` for the root), `party_not_found` if missing.
async fn find(conn: &mut Conn<'_>, scope: &Scope, path: &PartyPath) -> DirResult<Option<i64>> {
    if path.is_root() {
        return Ok(None);
    }
    db::department_id(conn, scope.tenant_id, &path.joined())
        .await?
        .map(Some)
        .ok_or_else(|| ErrorCode::PartyNotFound.into())
}

/// Creates `path` and any missing ancestors; returns its id and whether anything was created.
async fn ensure(
    conn: &mut Conn<'_>,
    scope: &Scope,
    path: &PartyPath,
) -> DirResult<(Option<i64>, bool)> {
    let mut parent = None;
    let mut created = false;
    for p in path.lineage() {
        let joined = p.joined();
        parent = Some(
            match db::department_id(conn, scope.tenant_id, &joined).await? {
                Some(id) => id,
                None => {
                    created = true;
                    let name = p.names().last().map(String::as_str).unwrap_or_default();
                    db::insert_department(conn, scope.tenant_id, parent, name, &joined).await?
                }
            },
        );
    }
    Ok((parent, created))
}

/// `party/sync`: ADD creates the path and its ancestors (succeeding if it exists); DEL removes one
/// empty department; MOD moves or renames a subtree, its members logged as MOD.
pub async fn sync(
    conn: &mut Conn<'_>,
    scope: &Scope,
    req: PartySync,
    changes: &mut ChangeSet,
) -> DirResult<()> {
    match req.action {
        Action::Add => {
            if ensure(conn, scope, &req.dst).await?.1 {
                changes.touch();
            }
        }
        Action::Del => {
            let id = find(conn, scope, &req.dst)
                .await?
                .ok_or(ErrorCode::PartyNotFound)?;
            if db::department_in_use(conn, id).await? {
                return Err(ErrorCode::PartyNotEmpty.into());
            }
            db::delete_department(conn, scope.tenant_id, id).await?;
            changes.touch();
        }
        Action::Mod => {
            let src = req.src.ok_or(ErrorCode::InvalidRequest)?;
            let dst = req.dst;
            let id = find(conn, scope, &src)
                .await?
                .ok_or(ErrorCode::PartyNotFound)?;
            if dst.is_within(&src)
                || db::department_id(conn, scope.tenant_id, &dst.joined())
                    .await?
                    .is_some()
            {
                return Err(ErrorCode::PartyExists.into());
            }
            // The deepest department of the moved subtree must still be within 5 levels.
            let src_joined = src.joined();
            let subtree = db::subtree_paths(conn, scope.tenant_id, &src_joined).await?;
            let deepest_below = subtree
                .iter()
                .map(|p| p.split('/').count().saturating_sub(src.depth()))
                .max()
                .unwrap_or(0);
            if dst.depth() + deepest_below > MAX_LEVELS {
                return Err(ErrorCode::InvalidPartyPath.into());
            }
            let moved_members = db::members_in_subtree(conn, scope.tenant_id, &src_joined).await?;
            let (new_parent, _) = ensure(conn, scope, &dst.parent()).await?;
            let new_name = dst.names().last().map(String::as_str).unwrap_or_default();
            db::move_subtree(
                conn,
                scope.tenant_id,
                id,
                &src_joined,
                &dst.joined(),
                new_parent,
                new_name,
            )
            .await?;
            for m in moved_members {
                changes.member(&m, Action::Mod);
            }
            changes.touch();
        }
    }
    Ok(())
}

/// `party/list`: the names of the direct children of `path`, by name.
pub async fn children(
    conn: &mut Conn<'_>,
    scope: &Scope,
    path: &PartyPath,
) -> DirResult<ValueList> {
    let id = find(conn, scope, path).await?;
    Ok(ValueList::of(
        db::child_names(conn, scope.tenant_id, id).await?,
    ))
}

/// `partyuser/list`: the primary addresses of the members placed directly in `path` (the root:
/// members with no department).
pub async fn members(conn: &mut Conn<'_>, scope: &Scope, path: &PartyPath) -> DirResult<ValueList> {
    let id = find(conn, scope, path).await?;
    Ok(ValueList::of(
        db::members_directly_in(conn, scope.tenant_id, id).await?,
    ))
}
