//! Mail groups (§7.7): create, delete, members (nested groups without cycles), allow lists.

use super::{ChangeSet, DirResult, Scope};
use crate::store::directory::{self as db, GroupRow, kind};
use crate::store::{self, Conn};
use bizmail_protocol::directory::{GroupAdd, GroupStatus};
use bizmail_protocol::{Address, ErrorCode};
use std::collections::HashSet;

/// A resolved group member: a person or a nested group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Member(i64),
    Group(i64),
}

impl Target {
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Target::Member(m) => (Some(m), None),
            Target::Group(g) => (None, Some(g)),
        }
    }
}

async fn resolve(conn: &mut Conn<'_>, scope: &Scope, address: &Address) -> DirResult<Target> {
    match db::find_address(conn, address.as_str()).await? {
        Some(r) if r.tenant_id == scope.tenant_id => match (r.kind, r.member_id, r.group_id) {
            (kind::GROUP, _, Some(g)) => Ok(Target::Group(g)),
            (_, Some(m), _) => Ok(Target::Member(m)),
            _ => Err(ErrorCode::UserNotFound.into()),
        },
        _ => Err(ErrorCode::UserNotFound.into()),
    }
}

async fn group(conn: &mut Conn<'_>, scope: &Scope, address: &Address) -> DirResult<GroupRow> {
    db::group_by_address(conn, scope.tenant_id, address.as_str())
        .await?
        .ok_or_else(|| ErrorCode::GroupNotFound.into())
}

/// Whether `target` is reachable from `from` through nested groups (or is `from`).
pub(crate) async fn contains(conn: &mut Conn<'_>, from: i64, target: i64) -> DirResult<bool> {
    let mut seen = HashSet::new();
    let mut stack = vec![from];
    while let Some(g) = stack.pop() {
        if g == target {
            return Ok(true);
        }
        if seen.insert(g) {
            stack.extend(db::subgroups(conn, g).await?);
        }
    }
    Ok(false)
}

async fn add_members(
    conn: &mut Conn<'_>,
    scope: &Scope,
    group_id: i64,
    members: &[Address],
) -> DirResult<()> {
    let mut targets = Vec::with_capacity(members.len());
    for m in members {
        let t = resolve(conn, scope, m).await?;
        if let Target::Group(sub) = t
            && contains(conn, sub, group_id).await?
        {
            return Err(ErrorCode::GroupCycle.into());
        }
        targets.push(t);
    }
    for t in targets {
        db::add_group_member(conn, group_id, t.columns()).await?;
    }
    Ok(())
}

/// `group/add`.
pub async fn add(
    conn: &mut Conn<'_>,
    scope: &Scope,
    req: GroupAdd,
    changes: &mut ChangeSet,
) -> DirResult<()> {
    scope.check_owned(&req.address)?;
    if db::find_address(conn, req.address.as_str())
        .await?
        .is_some()
    {
        return Err(ErrorCode::AliasExists.into());
    }
    // Resolve members before writing anything, so an unknown one leaves no group behind.
    for m in &req.members {
        resolve(conn, scope, m).await?;
    }
    let id = db::insert_group(
        conn,
        scope.tenant_id,
        req.address.as_str(),
        &req.name,
        req.status.as_str(),
        store::now_ms(),
    )
    .await?;
    db::insert_address(
        conn,
        req.address.as_str(),
        scope.tenant_id,
        kind::GROUP,
        (None, Some(id)),
        0,
    )
    .await?;
    add_members(conn, scope, id, &req.members).await?;
    changes.touch();
    Ok(())
}

/// `group/delete`.
pub async fn delete(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
    changes: &mut ChangeSet,
) -> DirResult<()> {
    let g = group(conn, scope, address).await?;
    db::delete_group(conn, scope.tenant_id, g.id).await?;
    changes.touch();
    Ok(())
}

/// `group/addmember`: present members are not an error; unknown addresses are; no cycles.
pub async fn add_member(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
    members: &[Address],
    changes: &mut ChangeSet,
) -> DirResult<()> {
    let g = group(conn, scope, address).await?;
    add_members(conn, scope, g.id, members).await?;
    changes.touch();
    Ok(())
}

/// `group/deletemember`: absent members are not an error; unknown addresses are.
pub async fn delete_member(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
    members: &[Address],
    changes: &mut ChangeSet,
) -> DirResult<()> {
    let g = group(conn, scope, address).await?;
    let mut targets = Vec::with_capacity(members.len());
    for m in members {
        targets.push(resolve(conn, scope, m).await?);
    }
    for t in targets {
        db::remove_group_member(conn, g.id, t.columns()).await?;
    }
    changes.touch();
    Ok(())
}

async fn list_group(conn: &mut Conn<'_>, scope: &Scope, address: &Address) -> DirResult<GroupRow> {
    let g = group(conn, scope, address).await?;
    if GroupStatus::parse(&g.status) != Some(GroupStatus::List) {
        return Err(ErrorCode::AllowlistNotAllowed.into());
    }
    Ok(g)
}

/// `group/addallowlist`: only for status `list`.
pub async fn add_allowed(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
    list: &[Address],
    changes: &mut ChangeSet,
) -> DirResult<()> {
    let g = list_group(conn, scope, address).await?;
    for a in list {
        db::add_allowed(conn, g.id, a.as_str()).await?;
    }
    changes.touch();
    Ok(())
}

/// `group/delallowlist`: only for status `list`, and never leaving the list empty.
pub async fn remove_allowed(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
    list: &[Address],
    changes: &mut ChangeSet,
) -> DirResult<()> {
    let g = list_group(conn, scope, address).await?;
    let current = db::allow_list(conn, g.id).await?;
    if current.iter().all(|c| list.iter().any(|a| a.as_str() == c)) {
        return Err(ErrorCode::AllowlistCannotBeEmpty.into());
    }
    for a in list {
        db::remove_allowed(conn, g.id, a.as_str()).await?;
    }
    changes.touch();
    Ok(())
}
