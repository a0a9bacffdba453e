//! The newer API's directory (EXMAIL_API.md §3, §4.1–4.5) over the same tables as the old one:
//! one directory, two APIs. Every write runs in one transaction and ends in the same
//! [`super::finish`] as an old-API write, so it bumps `Ver`, enters the change log, wakes
//! `openapi/listen` and writes its operation-log row; refusals use the newer API's codes.
//!
//! Department ids on the wire are the stored ids plus one, so that the root (which has no row) is
//! 1 as the newer API requires, and every id is below 2^53.

pub(crate) mod departments;
pub(crate) mod groups;
pub mod local;
pub(crate) mod members;
pub(crate) mod tags;

use super::{ChangeSet, DirError, DirResult, Directory, Scope, finish};
use crate::store::{self, Conn};
use crate::tenants::OplogEntry;
use bizmail_protocol::cgi::requests::{self as rq, DeptCreate, DeptUpdate, GroupWrite, TagMembers};
use bizmail_protocol::cgi::{Code, Fields};
use bizmail_protocol::{Address, ErrorCode};

/// The root department's id on the wire.
pub const ROOT: i64 = 1;

/// A stored department id as the wire shows it.
pub fn wire_id(db_id: i64) -> i64 {
    db_id.saturating_add(1)
}

/// A wire department id as stored (`None`: the root).
pub fn db_id(wire: i64) -> Option<i64> {
    (wire != ROOT).then(|| wire.saturating_sub(1))
}

/// One newer-API write.
#[derive(Debug, Clone)]
pub enum CgiChange {
    /// `department/create`.
    DeptCreate(DeptCreate),
    /// `department/update`.
    DeptUpdate(DeptUpdate),
    /// `department/delete` (a wire id).
    DeptDelete(i64),
    /// `user/create`, password hashed.
    UserCreate(members::Prepared),
    /// `user/update`, password hashed.
    UserUpdate(members::Prepared),
    /// `user/delete`.
    UserDelete(Address),
    /// `group/create`.
    GroupCreate(GroupWrite),
    /// `group/update`.
    GroupUpdate(GroupWrite),
    /// `group/delete`.
    GroupDelete(Address),
    /// `tag/create`: name, wanted id.
    TagCreate(String, Option<i64>),
    /// `tag/update`: id, name.
    TagUpdate(i64, String),
    /// `tag/delete`.
    TagDelete(i64),
    /// `tag/addtagusers`.
    TagAdd(TagMembers),
    /// `tag/deltagusers`.
    TagRemove(TagMembers),
    /// `useroption/update`.
    Options(Address, Vec<(u8, bool)>),
}

/// What a write answers beyond success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgiOutcome {
    /// Nothing more.
    Done,
    /// A department's new wire id.
    DeptCreated(i64),
    /// A tag's id.
    TagCreated(i64),
    /// Tag entries refused: addresses and department ids.
    Partial(Vec<String>, Vec<i64>),
}

/// Reads one newer-API directory write from its fields (the password hashed); `None` when
/// `endpoint` is not a write. The routes and [`local::CorpDirectory`] share it, so both apply the
/// same rules.
pub(crate) async fn parse_change(endpoint: &str, f: &Fields) -> DirResult<Option<CgiChange>> {
    Ok(Some(match endpoint {
        "department/create" => CgiChange::DeptCreate(DeptCreate::from_fields(f)?),
        "department/update" => CgiChange::DeptUpdate(DeptUpdate::from_fields(f)?),
        "department/delete" => CgiChange::DeptDelete(rq::department_id(f, "id")?),
        "user/create" => {
            let r = rq::UserCreate::from_fields(f)?;
            CgiChange::UserCreate(members::prepare(r.userid, r.fields).await?)
        }
        "user/update" => {
            let userid = rq::userid(f)?;
            let fields = rq::UserFields::from_fields(f)?;
            CgiChange::UserUpdate(members::prepare(userid, fields).await?)
        }
        "user/delete" => CgiChange::UserDelete(rq::userid(f)?),
        "group/create" => CgiChange::GroupCreate(GroupWrite::create_from_fields(f)?),
        "group/update" => CgiChange::GroupUpdate(GroupWrite::from_fields(f)?),
        "group/delete" => CgiChange::GroupDelete(rq::address(f, "groupid", Code::InvalidGroupid)?),
        "tag/create" => {
            let name = rq::tag_name(f)?;
            let id = match f.int("tagid") {
                Ok(id) => id.map(rq::optional_tag_id).transpose()?,
                Err(_) => return Err(Code::InvalidTagid.into()),
            };
            CgiChange::TagCreate(name, id)
        }
        "tag/update" => CgiChange::TagUpdate(rq::tag_id(f)?, rq::tag_name(f)?),
        "tag/delete" => CgiChange::TagDelete(rq::tag_id(f)?),
        "tag/addtagusers" => CgiChange::TagAdd(TagMembers::from_fields(f)?),
        "tag/deltagusers" => CgiChange::TagRemove(TagMembers::from_fields(f)?),
        "useroption/update" => CgiChange::Options(rq::userid(f)?, rq::option_values(f)?),
        _ => return Ok(None),
    }))
}

impl Directory {
    /// Applies one newer-API write in its own transaction with its operation-log row, then wakes
    /// the tenant's polls.
    pub async fn cgi_change(
        &self,
        tenant_id: i64,
        change: CgiChange,
        oplog: Option<&OplogEntry>,
    ) -> DirResult<CgiOutcome> {
        let scope = self.scope(tenant_id).await?;
        let conflict = match &change {
            CgiChange::DeptCreate(_) | CgiChange::DeptUpdate(_) => Code::DeptNameExists,
            CgiChange::TagCreate(..) | CgiChange::TagUpdate(..) => Code::TagnameExists,
            CgiChange::GroupCreate(_) => Code::GroupExists,
            _ => Code::UseridExists,
        };
        self.cgi_in_tx(&scope, change, oplog)
            .await
            .map_err(|e| match e {
                DirError::Store(e) if e.is_unique_violation() => DirError::RefusedCgi(conflict),
                other => other,
            })
    }

    async fn cgi_in_tx(
        &self,
        scope: &Scope,
        change: CgiChange,
        oplog: Option<&OplogEntry>,
    ) -> DirResult<CgiOutcome> {
        let mut tx = self.store.begin().await?;
        let mut changes = ChangeSet::default();
        let outcome = {
            let conn = &mut tx.conn();
            let ch = &mut changes;
            match change {
                CgiChange::DeptCreate(r) => departments::create(conn, scope, r, ch).await?,
                CgiChange::DeptUpdate(r) => departments::update(conn, scope, r, ch).await?,
                CgiChange::DeptDelete(id) => departments::delete(conn, scope, id, ch).await?,
                CgiChange::UserCreate(p) => members::create(conn, scope, p, ch).await?,
                CgiChange::UserUpdate(p) => members::update(conn, scope, p, ch).await?,
                CgiChange::UserDelete(a) => members::delete(conn, scope, &a, ch).await?,
                CgiChange::GroupCreate(g) => groups::create(conn, scope, g, ch).await?,
                CgiChange::GroupUpdate(g) => groups::update(conn, scope, g, ch).await?,
                CgiChange::GroupDelete(a) => groups::delete(conn, scope, &a, ch).await?,
                CgiChange::TagCreate(n, id) => tags::create(conn, scope, &n, id, ch).await?,
                CgiChange::TagUpdate(id, n) => tags::rename(conn, scope, id, &n, ch).await?,
                CgiChange::TagDelete(id) => tags::delete(conn, scope, id, ch).await?,
                CgiChange::TagAdd(m) => tags::members(conn, scope, m, true, ch).await?,
                CgiChange::TagRemove(m) => tags::members(conn, scope, m, false, ch).await?,
                CgiChange::Options(a, o) => members::set_options(conn, scope, &a, &o, ch).await?,
            }
        };
        finish(&mut tx, scope.tenant_id, &changes, true, oplog).await?;
        crate::push::publish(&self.hub, tx.commit().await?);
        Ok(outcome)
    }

    /// Runs one newer-API read on a pooled connection.
    pub async fn cgi_read<T>(
        &self,
        tenant_id: i64,
        read: impl for<'c> AsyncFnOnce(&mut Conn<'c>, &Scope) -> DirResult<T>,
    ) -> DirResult<T> {
        let scope = self.scope(tenant_id).await?;
        let mut pooled = self.store.acquire().await?;
        let mut conn = pooled.conn();
        read(&mut conn, &scope).await
    }
}

/// The member an address (primary or alias) of the tenant names, or 60111; an address outside
/// the tenant's domains is 40003.
pub(crate) async fn member_of(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
) -> DirResult<store::directory::MemberRow> {
    if !scope.owns(address) {
        return Err(Code::InvalidUserid.into());
    }
    super::resolve_member(conn, scope, address)
        .await
        .map_err(|e| match e {
            DirError::Refused(ErrorCode::UserNotFound) => Code::UseridNotFound.into(),
            other => other,
        })
}
