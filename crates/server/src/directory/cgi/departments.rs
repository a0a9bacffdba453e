//! Departments by id (EXMAIL_API.md §4.1): create, update (rename, move, reorder), delete, list
//! and search, over the same departments the old API addresses by path.

use super::{CgiOutcome, ROOT, db_id, wire_id};
use crate::directory::{ChangeSet, DirResult, Scope};
use crate::store::Conn;
use crate::store::directory::{self as db, ids::DeptRow};
use bizmail_protocol::cgi::Code;
use bizmail_protocol::cgi::answers::{Department, FoundDepartment};
use bizmail_protocol::cgi::requests::{DeptCreate, DeptSearch, DeptUpdate};
use bizmail_protocol::directory::Action;
use bizmail_protocol::party::MAX_LEVELS;

/// The tenant's departments, by `(order, id)`.
pub(crate) async fn all(conn: &mut Conn<'_>, scope: &Scope) -> DirResult<Vec<DeptRow>> {
    Ok(db::ids::departments(conn, scope.tenant_id).await?)
}

fn levels(path: &str) -> usize {
    path.split('/').count()
}

/// The department with a wire id (`None` for the root); `missing` when there is none.
pub(crate) fn find(rows: &[DeptRow], wire: i64, missing: Code) -> DirResult<Option<&DeptRow>> {
    match db_id(wire) {
        None => Ok(None),
        Some(id) => rows
            .iter()
            .find(|d| d.id == id)
            .map(Some)
            .ok_or_else(|| missing.into()),
    }
}

fn in_subtree(row: &DeptRow, top: &DeptRow) -> bool {
    row.path == top.path
        || row
            .path
            .strip_prefix(top.path.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
}

fn child_path(parent: Option<&DeptRow>, name: &str) -> String {
    match parent {
        Some(p) => format!("{}/{name}", p.path),
        None => name.to_owned(),
    }
}

/// `department/create`: under an existing parent (60004), a free name among its siblings
/// (60008), at most five levels deep (60002).
pub async fn create(
    conn: &mut Conn<'_>,
    scope: &Scope,
    req: DeptCreate,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    let rows = all(conn, scope).await?;
    let parent = find(&rows, req.parent_id, Code::ParentNotFound)?;
    let path = child_path(parent, &req.name);
    if levels(&path) > MAX_LEVELS {
        return Err(Code::DeptTooDeep.into());
    }
    if rows.iter().any(|d| d.path == path) {
        return Err(Code::DeptNameExists.into());
    }
    let id = db::insert_department(
        conn,
        scope.tenant_id,
        parent.map(|p| p.id),
        &req.name,
        &path,
    )
    .await?;
    db::ids::set_department_order(conn, id, req.order).await?;
    changes.touch();
    Ok(CgiOutcome::DeptCreated(wire_id(id)))
}

/// `department/update`: the root cannot change (60007); a move keeps the subtree's ids and may
/// not go under itself (60010); members of a moved or renamed subtree are logged as changed, as
/// the old API's move logs them.
pub async fn update(
    conn: &mut Conn<'_>,
    scope: &Scope,
    req: DeptUpdate,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    if req.id == ROOT {
        return Err(Code::RootDept.into());
    }
    let rows = all(conn, scope).await?;
    let dept = find(&rows, req.id, Code::DeptNotFound)?
        .cloned()
        .ok_or(Code::RootDept)?;
    let parent = match req.parent_id {
        Some(p) => find(&rows, p, Code::ParentNotFound)?,
        None => match dept.parent_id {
            Some(id) => rows.iter().find(|d| d.id == id),
            None => None,
        },
    };
    if parent.is_some_and(|p| in_subtree(p, &dept)) {
        return Err(Code::DeptCycle.into());
    }
    let name = req.name.clone().unwrap_or_else(|| dept.name.clone());
    let path = child_path(parent, &name);
    if path != dept.path {
        if rows.iter().any(|d| d.path == path) {
            return Err(Code::DeptNameExists.into());
        }
        let height = rows
            .iter()
            .filter(|d| in_subtree(d, &dept))
            .map(|d| levels(&d.path) - levels(&dept.path))
            .max()
            .unwrap_or(0);
        if levels(&path) + height > MAX_LEVELS {
            return Err(Code::DeptTooDeep.into());
        }
        for address in db::members_in_subtree(conn, scope.tenant_id, &dept.path).await? {
            changes.member(&address, Action::Mod);
        }
        db::move_subtree(
            conn,
            scope.tenant_id,
            dept.id,
            &dept.path,
            &path,
            parent.map(|p| p.id),
            &name,
        )
        .await?;
    }
    if let Some(order) = req.order
        && order != dept.ord
    {
        db::ids::set_department_order(conn, dept.id, order).await?;
    }
    changes.touch();
    Ok(CgiOutcome::Done)
}

/// `department/delete`: not the root (60007), not one with sub-departments (60006) or members
/// (60005).
pub async fn delete(
    conn: &mut Conn<'_>,
    scope: &Scope,
    wire: i64,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    if wire == ROOT {
        return Err(Code::RootDept.into());
    }
    let rows = all(conn, scope).await?;
    let dept = find(&rows, wire, Code::DeptNotFound)?
        .cloned()
        .ok_or(Code::RootDept)?;
    if rows.iter().any(|d| d.parent_id == Some(dept.id)) {
        return Err(Code::DeptHasChildren.into());
    }
    if !db::members_directly_in(conn, scope.tenant_id, Some(dept.id))
        .await?
        .is_empty()
    {
        return Err(Code::DeptHasMembers.into());
    }
    db::delete_department(conn, scope.tenant_id, dept.id).await?;
    changes.touch();
    Ok(CgiOutcome::Done)
}

fn wire_row(d: &DeptRow) -> Department {
    Department {
        id: wire_id(d.id),
        name: d.name.clone(),
        parentid: d.parent_id.map_or(ROOT, wire_id),
        order: d.ord,
    }
}

/// `department/list`: the department and every one below it, by `(order, id)`; for the root,
/// every department (the root itself has no entry).
pub async fn list(conn: &mut Conn<'_>, scope: &Scope, wire: i64) -> DirResult<Vec<Department>> {
    let rows = all(conn, scope).await?;
    let top = find(&rows, wire, Code::DeptNotFound)?;
    Ok(rows
        .iter()
        .filter(|d| top.is_none_or(|t| in_subtree(d, t)))
        .map(wire_row)
        .collect())
}

/// `department/search`: names equal to or starting with `name` (any case), or containing it
/// with `fuzzy`; each with its path of names below the root.
pub async fn search(
    conn: &mut Conn<'_>,
    scope: &Scope,
    req: &DeptSearch,
) -> DirResult<Vec<FoundDepartment>> {
    let wanted = req.name.to_lowercase();
    let rows = all(conn, scope).await?;
    Ok(rows
        .iter()
        .filter(|d| {
            let name = d.name.to_lowercase();
            if req.fuzzy {
                name.contains(&wanted)
            } else {
                name.starts_with(&wanted)
            }
        })
        .map(|d| {
            let w = wire_row(d);
            FoundDepartment {
                id: w.id,
                name: w.name,
                parentid: w.parentid,
                order: w.order,
                path: d.path.clone(),
            }
        })
        .collect())
}

/// The stored ids of departments given by wire id, each once; the root is dropped (members
/// directly under the root have no department row); an unknown id is `missing`.
pub(crate) async fn stored_ids(
    conn: &mut Conn<'_>,
    scope: &Scope,
    wire: &[i64],
    missing: Code,
) -> DirResult<Vec<i64>> {
    let rows = all(conn, scope).await?;
    let mut out = Vec::with_capacity(wire.len());
    for w in wire {
        if let Some(d) = find(&rows, *w, missing)?
            && !out.contains(&d.id)
        {
            out.push(d.id);
        }
    }
    Ok(out)
}
