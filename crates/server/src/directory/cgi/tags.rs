//! Tags (EXMAIL_API.md §4.4): per-tenant ids (client-chosen or the next one), names unique and
//! at most 32 characters, at most 3000 tags, members and departments tagged.

use super::departments::{all, find};
use super::{CgiOutcome, wire_id};
use crate::directory::{ChangeSet, DirResult, Scope};
use crate::store::Conn;
use crate::store::directory::{self as db, kind, tags};
use bizmail_protocol::Address;
use bizmail_protocol::cgi::Code;
use bizmail_protocol::cgi::answers::{Tag, TagItem, TagUser};
use bizmail_protocol::cgi::requests::TagMembers;

/// The most tags one tenant may have.
pub const MAX_TAGS: i64 = 3000;

async fn existing(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> DirResult<String> {
    Ok(tags::tag_name(conn, scope.tenant_id, id)
        .await?
        .ok_or(Code::InvalidTagid)?)
}

/// `tag/create`: a free name (60204); a wanted id must be free (60201), else the next one.
pub async fn create(
    conn: &mut Conn<'_>,
    scope: &Scope,
    name: &str,
    wanted: Option<i64>,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    if tags::tag_named(conn, scope.tenant_id, name)
        .await?
        .is_some()
    {
        return Err(Code::TagnameExists.into());
    }
    let (count, next) = tags::count_and_next(conn, scope.tenant_id).await?;
    if count >= MAX_TAGS {
        return Err(Code::InvalidTagid.into());
    }
    let id = match wanted {
        Some(id) if tags::tag_name(conn, scope.tenant_id, id).await?.is_some() => {
            return Err(Code::InvalidTagid.into());
        }
        Some(id) => id,
        None => next,
    };
    tags::insert_tag(conn, scope.tenant_id, id, name).await?;
    changes.touch();
    Ok(CgiOutcome::TagCreated(id))
}

/// `tag/update`: renames (60201 unknown id, 60204 a name taken by another tag).
pub async fn rename(
    conn: &mut Conn<'_>,
    scope: &Scope,
    id: i64,
    name: &str,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    existing(conn, scope, id).await?;
    if tags::tag_named(conn, scope.tenant_id, name)
        .await?
        .is_some_and(|other| other != id)
    {
        return Err(Code::TagnameExists.into());
    }
    tags::rename_tag(conn, scope.tenant_id, id, name).await?;
    changes.touch();
    Ok(CgiOutcome::Done)
}

/// `tag/delete`.
pub async fn delete(
    conn: &mut Conn<'_>,
    scope: &Scope,
    id: i64,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    existing(conn, scope, id).await?;
    tags::delete_tag(conn, scope.tenant_id, id).await?;
    changes.touch();
    Ok(CgiOutcome::Done)
}

/// `tag/addtagusers` (`add`) and `tag/deltagusers`: valid entries are applied, the others
/// returned; no valid entry at all is 60205.
pub async fn members(
    conn: &mut Conn<'_>,
    scope: &Scope,
    req: TagMembers,
    add: bool,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    existing(conn, scope, req.tag_id).await?;
    let mut targets = Vec::new();
    let mut bad_users = Vec::new();
    for u in &req.userlist {
        let member = match Address::parse(u) {
            Some(a) if scope.owns(&a) => match db::find_address(conn, a.as_str()).await? {
                Some(r) if r.tenant_id == scope.tenant_id && r.kind != kind::GROUP => r.member_id,
                _ => None,
            },
            _ => None,
        };
        match member {
            Some(m) => targets.push((Some(m), None)),
            None => bad_users.push(u.clone()),
        }
    }
    let rows = all(conn, scope).await?;
    let mut bad_parties = Vec::new();
    for p in &req.partylist {
        match find(&rows, *p, Code::InvalidPartylist) {
            Ok(Some(d)) => targets.push((None, Some(d.id))),
            _ => bad_parties.push(*p),
        }
    }
    if targets.is_empty() {
        return Err(Code::AllInvalid.into());
    }
    for t in targets {
        if add {
            tags::add_tag_member(conn, scope.tenant_id, req.tag_id, t).await?;
        } else {
            tags::remove_tag_member(conn, scope.tenant_id, req.tag_id, t).await?;
        }
    }
    changes.touch();
    Ok(CgiOutcome::Partial(bad_users, bad_parties))
}

/// `tag/get`.
pub async fn get(conn: &mut Conn<'_>, scope: &Scope, id: i64) -> DirResult<Tag> {
    let tagname = existing(conn, scope, id).await?;
    let (users, parties) = tags::tag_members(conn, scope.tenant_id, id).await?;
    Ok(Tag {
        tagname,
        userlist: users
            .into_iter()
            .map(|(userid, name)| TagUser { userid, name })
            .collect(),
        partylist: parties.into_iter().map(wire_id).collect(),
    })
}

/// `tag/list`.
pub async fn list(conn: &mut Conn<'_>, scope: &Scope) -> DirResult<Vec<TagItem>> {
    Ok(tags::tags(conn, scope.tenant_id)
        .await?
        .into_iter()
        .map(|(tagid, tagname)| TagItem { tagid, tagname })
        .collect())
}
