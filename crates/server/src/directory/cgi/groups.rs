//! Mail groups by `groupid` (EXMAIL_API.md §4.3): typed members (people, nested groups,
//! departments), `allow_type` over the old API's `status`, and the allow list.

use super::departments::stored_ids;
use super::{CgiOutcome, wire_id};
use crate::directory::{ChangeSet, DirResult, Scope};
use crate::store::directory::ids::{self, GroupLists};
use crate::store::directory::{self as db, kind};
use crate::store::{self, Conn};
use bizmail_protocol::Address;
use bizmail_protocol::cgi::Code;
use bizmail_protocol::cgi::answers::Group;
use bizmail_protocol::cgi::requests::{AllowType, GroupWrite};

async fn group_id(conn: &mut Conn<'_>, scope: &Scope, address: &Address) -> DirResult<i64> {
    if !scope.owns(address) {
        return Err(Code::InvalidGroupid.into());
    }
    Ok(
        db::group_by_address(conn, scope.tenant_id, address.as_str())
            .await?
            .ok_or(Code::GroupNotFound)?
            .id,
    )
}

/// The members a `userlist` names (by primary address or alias): 600016 for any that is not one.
async fn people(conn: &mut Conn<'_>, scope: &Scope, list: &[Address]) -> DirResult<Vec<i64>> {
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let id = match db::find_address(conn, a.as_str()).await? {
            Some(r) if r.tenant_id == scope.tenant_id && r.kind != kind::GROUP => r.member_id,
            _ => None,
        }
        .ok_or(Code::GroupUserNotFound)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// The groups a `grouplist` names: 600018 for any that is not one, 600020 for one that holds
/// `group` already (directly or deeper).
async fn subgroups(
    conn: &mut Conn<'_>,
    scope: &Scope,
    group: Option<i64>,
    list: &[Address],
) -> DirResult<Vec<i64>> {
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        let sub = db::group_by_address(conn, scope.tenant_id, a.as_str())
            .await?
            .ok_or(Code::GroupGroupNotFound)?
            .id;
        if let Some(g) = group
            && crate::directory::groups::contains(conn, sub, g).await?
        {
            return Err(Code::GroupCycle.into());
        }
        if !out.contains(&sub) {
            out.push(sub);
        }
    }
    Ok(out)
}

/// Writes the lists a request gives, replacing the old ones.
async fn write_lists(conn: &mut Conn<'_>, scope: &Scope, id: i64, g: &GroupWrite) -> DirResult<()> {
    // Resolve everything before anything is written, so a refusal leaves the group as it was.
    let members = match &g.userlist {
        Some(l) => Some(people(conn, scope, l).await?),
        None => None,
    };
    let subs = match &g.grouplist {
        Some(l) => Some(subgroups(conn, scope, Some(id), l).await?),
        None => None,
    };
    let departments = match &g.department {
        Some(w) => Some(stored_ids(conn, scope, w, Code::GroupPartyNotFound).await?),
        None => None,
    };
    let lists = GroupLists {
        members: members.is_some(),
        groups: subs.is_some(),
        allow: g.allow_userlist.is_some(),
    };
    ids::clear_group(conn, id, lists).await?;
    for m in members.unwrap_or_default() {
        db::add_group_member(conn, id, (Some(m), None)).await?;
    }
    for s in subs.unwrap_or_default() {
        db::add_group_member(conn, id, (None, Some(s))).await?;
    }
    if let Some(d) = departments {
        ids::set_group_departments(conn, id, &d).await?;
    }
    for a in g.allow_userlist.iter().flatten() {
        db::add_allowed(conn, id, a.as_str()).await?;
    }
    Ok(())
}

/// `group/create`: a free address of the tenant (600007, 600015, 600024).
pub async fn create(
    conn: &mut Conn<'_>,
    scope: &Scope,
    g: GroupWrite,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    if !scope.owns(&g.groupid) {
        return Err(Code::InvalidGroupid.into());
    }
    match db::find_address(conn, g.groupid.as_str()).await? {
        None => {}
        Some(r) if r.kind == kind::GROUP => return Err(Code::GroupExists.into()),
        Some(_) => return Err(Code::GroupidTaken.into()),
    }
    let status = g.allow_type.unwrap_or(AllowType::Inner).status();
    let name = g.groupname.clone().unwrap_or_default();
    let address = g.groupid.as_str();
    let id = db::insert_group(
        conn,
        scope.tenant_id,
        address,
        &name,
        status,
        store::now_ms(),
    )
    .await?;
    db::insert_address(
        conn,
        address,
        scope.tenant_id,
        kind::GROUP,
        (None, Some(id)),
        0,
    )
    .await?;
    write_lists(conn, scope, id, &g).await?;
    changes.touch();
    Ok(CgiOutcome::Done)
}

/// `group/update`: given fields replace; type 3 needs an allow list (600023).
pub async fn update(
    conn: &mut Conn<'_>,
    scope: &Scope,
    g: GroupWrite,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    let id = group_id(conn, scope, &g.groupid).await?;
    let (name, status) = ids::group_name_status(conn, id).await?;
    let allow_type = g
        .allow_type
        .unwrap_or_else(|| AllowType::from_status(&status));
    if allow_type == AllowType::List {
        let allow_empty = match &g.allow_userlist {
            Some(l) => l.is_empty(),
            None => db::allow_list(conn, id).await?.is_empty(),
        };
        if allow_empty {
            return Err(Code::AllowUserlistMissing.into());
        }
    }
    let name = g.groupname.clone().unwrap_or(name);
    ids::update_group(conn, id, &name, allow_type.status()).await?;
    write_lists(conn, scope, id, &g).await?;
    changes.touch();
    Ok(CgiOutcome::Done)
}

/// `group/delete`.
pub async fn delete(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    let id = group_id(conn, scope, address).await?;
    db::delete_group(conn, scope.tenant_id, id).await?;
    changes.touch();
    Ok(CgiOutcome::Done)
}

/// `group/get`.
pub async fn get(conn: &mut Conn<'_>, scope: &Scope, address: &Address) -> DirResult<Group> {
    let id = group_id(conn, scope, address).await?;
    let (name, status) = ids::group_name_status(conn, id).await?;
    let userlist = db::direct_group_members(conn, id)
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    Ok(Group {
        groupid: address.to_string(),
        groupname: name,
        userlist,
        grouplist: ids::subgroup_addresses(conn, id).await?,
        department: ids::group_departments(conn, id)
            .await?
            .into_iter()
            .map(wire_id)
            .collect(),
        allow_type: AllowType::from_status(&status).number(),
        allow_userlist: db::allow_list(conn, id).await?,
    })
}
