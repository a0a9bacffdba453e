//! Members by `userid` (EXMAIL_API.md §4.2, §4.5, §4.7): create, update, delete, get, the
//! listings by department, `batchcheck`, the per-member options and the unread count.

use super::departments::{self, stored_ids};
use super::{CgiOutcome, ROOT, member_of, wire_id};
use crate::auth::passwords;
use crate::directory::{ChangeSet, DirError, DirResult, Scope, members as old};
use crate::store::directory::{self as db, MemberRow, ids, kind};
use crate::store::{self, Conn};
use bizmail_protocol::cgi::Code;
use bizmail_protocol::cgi::answers::{Checked, User};
use bizmail_protocol::cgi::requests::{UserFields, UserListing};
use bizmail_protocol::directory::Action;
use bizmail_protocol::{Address, ErrorCode};
use std::collections::HashMap;

/// A member write with its password already hashed (argon2id runs on the blocking pool before
/// the transaction opens).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The member's address.
    pub userid: Address,
    /// The fields given.
    pub fields: UserFields,
    /// argon2id of the given password.
    pub password_hash: Option<String>,
}

/// Hashes the password of a write, if it has one.
pub async fn prepare(userid: Address, fields: UserFields) -> DirResult<Prepared> {
    let password_hash = match fields.password.clone() {
        Some(p) => Some(
            tokio::task::spawn_blocking(move || passwords::hash(&p))
                .await
                .map_err(|e| DirError::Internal(format!("password hashing task: {e}")))?
                .map_err(|e| DirError::Internal(format!("password hashing: {e}")))?,
        ),
        None => None,
    };
    Ok(Prepared {
        userid,
        fields,
        password_hash,
    })
}

/// Aliases must be the tenant's (600004) and free or already this member's (600005): the old
/// API's rules with the newer codes. The member's own address among them is ignored, as the old
/// API does.
async fn check_slaves(
    conn: &mut Conn<'_>,
    scope: &Scope,
    primary: &Address,
    member_id: Option<i64>,
    slaves: &[Address],
) -> DirResult<Vec<Address>> {
    let kept: Vec<Address> = slaves.iter().filter(|s| *s != primary).cloned().collect();
    old::check_slaves(conn, scope, primary, member_id, &kept)
        .await
        .map_err(|e| match e {
            DirError::Refused(ErrorCode::InvalidAlias) => Code::InvalidSlave.into(),
            DirError::Refused(ErrorCode::AliasExists) => Code::SlaveTaken.into(),
            other => other,
        })?;
    Ok(kept)
}

/// `user/create`.
pub async fn create(
    conn: &mut Conn<'_>,
    scope: &Scope,
    p: Prepared,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    let Prepared {
        userid,
        fields: f,
        password_hash,
    } = p;
    if !scope.owns(&userid) {
        return Err(Code::InvalidUserid.into());
    }
    match db::find_address(conn, userid.as_str()).await? {
        None => {}
        Some(r) if r.kind == kind::ALIAS => return Err(Code::UseridIsAlias.into()),
        Some(r) if r.kind == kind::GROUP => return Err(Code::UseridIsGroup.into()),
        Some(_) => return Err(Code::UseridExists.into()),
    }
    let slaves = check_slaves(conn, scope, &userid, None, &f.slaves.unwrap_or_default()).await?;
    let wire = f.department.unwrap_or_default();
    let department_ids = stored_ids(conn, scope, &wire, Code::InvalidDepartmentId).await?;
    let row = MemberRow {
        id: 0,
        tenant_id: scope.tenant_id,
        address: userid.to_string(),
        name: f.name.unwrap_or_default(),
        gender: i64::from(f.gender.unwrap_or(0)),
        position: f.position.unwrap_or_default(),
        tel: f.tel.unwrap_or_default(),
        mobile: f.mobile.unwrap_or_default(),
        ext_id: f.extid.unwrap_or_default(),
        password_hash: password_hash.unwrap_or_default(),
        password_md5: false,
        enabled: f.enable.unwrap_or(true),
        second_factor: false,
    };
    let id = db::insert_member(conn, &row, store::now_ms()).await?;
    let owner = (Some(id), None);
    db::insert_address(
        conn,
        userid.as_str(),
        scope.tenant_id,
        kind::MEMBER,
        owner,
        0,
    )
    .await?;
    old::write_slaves(conn, scope, id, &slaves).await?;
    db::set_member_departments(conn, id, &department_ids).await?;
    if f.cpwd_login == Some(true) {
        ids::set_member_flags(conn, id, (true, true, true)).await?;
    }
    changes.member(userid.as_str(), Action::Add);
    Ok(CgiOutcome::Done)
}

/// `user/update`: what is given replaces what was; a given list replaces the old one.
pub async fn update(
    conn: &mut Conn<'_>,
    scope: &Scope,
    p: Prepared,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    let Prepared {
        userid,
        fields: f,
        password_hash,
    } = p;
    let old_row = member_of(conn, scope, &userid).await?;
    let primary = Address::parse(&old_row.address).ok_or(Code::UseridNotFound)?;
    let slaves = match &f.slaves {
        Some(s) => Some(check_slaves(conn, scope, &primary, Some(old_row.id), s).await?),
        None => None,
    };
    let department_ids = match &f.department {
        Some(w) => Some(stored_ids(conn, scope, w, Code::InvalidDepartmentId).await?),
        None => None,
    };
    let mut new = old_row.clone();
    new.take_profile(db::Profile {
        name: f.name,
        gender: f.gender.map(i64::from),
        position: f.position,
        tel: f.tel,
        mobile: f.mobile,
        ext_id: f.extid,
    });
    let new_password = password_hash.is_some();
    if let Some(h) = password_hash {
        new.password_hash = h;
        new.password_md5 = false;
    }
    if let Some(v) = f.enable {
        new.enabled = v;
    }
    let mut changed = new != old_row;
    if changed {
        db::update_member(conn, &new, store::now_ms()).await?;
    }
    // A new password takes back the member's SSO authorization (it is asked for again).
    if new_password {
        ids::set_sso_authorized(conn, old_row.id, false).await?;
    }
    if let Some(slaves) = slaves {
        let current = db::aliases_of(conn, old_row.id).await?;
        let wanted: Vec<String> = slaves.iter().map(ToString::to_string).collect();
        if current != wanted {
            db::delete_aliases(conn, old_row.id).await?;
            old::write_slaves(conn, scope, old_row.id, &slaves).await?;
            changed = true;
        }
    }
    if let Some(ids) = department_ids
        && db::member_department_ids(conn, old_row.id).await? != ids
    {
        db::set_member_departments(conn, old_row.id, &ids).await?;
        changed = true;
    }
    if let Some(cpwd) = f.cpwd_login {
        let flags = ids::member_flags(conn, old_row.id).await?;
        if flags.0 != cpwd {
            ids::set_member_flags(conn, old_row.id, (cpwd, flags.1, flags.2)).await?;
            changed = true;
        }
    }
    if changed {
        changes.member(&old_row.address, Action::Mod);
    }
    Ok(CgiOutcome::Done)
}

/// `user/delete`: the member, its mailbox and its addresses.
pub async fn delete(
    conn: &mut Conn<'_>,
    scope: &Scope,
    userid: &Address,
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    let m = member_of(conn, scope, userid).await?;
    store::mail::delete_mailbox(conn, m.id).await?;
    db::delete_member(conn, scope.tenant_id, m.id).await?;
    changes.member(&m.address, Action::Del);
    Ok(CgiOutcome::Done)
}

fn user_of(
    m: ids::ListedMember,
    departments: &HashMap<i64, Vec<i64>>,
    aliases: &HashMap<i64, Vec<String>>,
) -> User {
    let department = match departments.get(&m.id) {
        Some(d) if !d.is_empty() => d.iter().map(|id| wire_id(*id)).collect(),
        _ => vec![ROOT],
    };
    User {
        userid: m.address,
        name: m.name,
        department,
        position: m.position,
        mobile: m.mobile,
        tel: m.tel,
        extid: m.ext_id,
        gender: m.gender.to_string(),
        enable: u8::from(m.enabled),
        slaves: aliases.get(&m.id).cloned().unwrap_or_default(),
        cpwd_login: u8::from(m.cpwd_login),
    }
}

fn grouped<V>(pairs: Vec<(i64, V)>) -> HashMap<i64, Vec<V>> {
    let mut map: HashMap<i64, Vec<V>> = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

/// `user/get`.
pub async fn get(conn: &mut Conn<'_>, scope: &Scope, userid: &Address) -> DirResult<User> {
    let m = member_of(conn, scope, userid).await?;
    let listed = ids::listed_members(conn, scope.tenant_id, Some(m.id))
        .await?
        .into_iter()
        .next()
        .ok_or(Code::UseridNotFound)?;
    let departments = HashMap::from([(m.id, db::member_department_ids(conn, m.id).await?)]);
    let aliases = HashMap::from([(m.id, db::aliases_of(conn, m.id).await?)]);
    Ok(user_of(listed, &departments, &aliases))
}

/// `user/list` and `user/simplelist`: the members directly in a department, or anywhere below
/// it with `fetch_child`; for the root, those in no department, or everyone.
pub async fn list(conn: &mut Conn<'_>, scope: &Scope, q: UserListing) -> DirResult<Vec<User>> {
    let rows = departments::all(conn, scope).await?;
    let top = departments::find(&rows, q.department_id, Code::DeptNotFound)?;
    let wanted: Option<Vec<i64>> = top.map(|t| {
        rows.iter()
            .filter(|d| {
                d.id == t.id
                    || (q.fetch_child
                        && d.path
                            .strip_prefix(t.path.as_str())
                            .is_some_and(|r| r.starts_with('/')))
            })
            .map(|d| d.id)
            .collect()
    });
    let departments = grouped(ids::memberships(conn, scope.tenant_id).await?);
    let aliases = grouped(ids::aliases(conn, scope.tenant_id).await?);
    let members = ids::listed_members(conn, scope.tenant_id, None).await?;
    Ok(members
        .into_iter()
        .filter(|m| {
            let own = departments.get(&m.id).map(Vec::as_slice).unwrap_or(&[]);
            match &wanted {
                None => q.fetch_child || own.is_empty(),
                Some(w) => own.iter().any(|d| w.contains(d)),
            }
        })
        .map(|m| user_of(m, &departments, &aliases))
        .collect())
}

/// `user/batchcheck`: each address as given with its kind, as the old `user/check`.
pub async fn batchcheck(
    conn: &mut Conn<'_>,
    scope: &Scope,
    list: Vec<String>,
) -> DirResult<Vec<Checked>> {
    let checked = old::check(conn, scope, list).await?;
    Ok(checked
        .list
        .into_iter()
        .map(|c| Checked {
            user: c.email,
            kind: c.kind,
        })
        .collect())
}

/// `useroption/get`: type 1 the forced second factor, 2 IMAP/SMTP, 3 POP/SMTP, 4 a confirmed
/// TOTP secret; each `"0"` or `"1"`, in the order asked.
pub async fn options(
    conn: &mut Conn<'_>,
    scope: &Scope,
    userid: &Address,
    types: &[u8],
) -> DirResult<Vec<(u8, bool)>> {
    let m = member_of(conn, scope, userid).await?;
    let (_, imap, pop) = ids::member_flags(conn, m.id).await?;
    let totp = ids::totp_enrolled(conn, m.id).await?;
    Ok(types
        .iter()
        .map(|t| {
            let v = match t {
                1 => m.second_factor,
                2 => imap,
                3 => pop,
                _ => totp,
            };
            (*t, v)
        })
        .collect())
}

/// `useroption/update`: types 1–3 change; type 4 (read-only) is ignored.
pub async fn set_options(
    conn: &mut Conn<'_>,
    scope: &Scope,
    userid: &Address,
    options: &[(u8, bool)],
    changes: &mut ChangeSet,
) -> DirResult<CgiOutcome> {
    let mut m = member_of(conn, scope, userid).await?;
    let (cpwd, mut imap, mut pop) = ids::member_flags(conn, m.id).await?;
    let before = (m.second_factor, imap, pop);
    for (t, v) in options {
        match t {
            1 => m.second_factor = *v,
            2 => imap = *v,
            3 => pop = *v,
            _ => {}
        }
    }
    if (m.second_factor, imap, pop) != before {
        db::update_member(conn, &m, store::now_ms()).await?;
        ids::set_member_flags(conn, m.id, (cpwd, imap, pop)).await?;
        changes.touch();
    }
    Ok(CgiOutcome::Done)
}

/// `mail/newcount`: the unread mails of the member's inbox, or of those received in
/// `[from_ms, to_ms)`.
pub async fn new_count(
    conn: &mut Conn<'_>,
    scope: &Scope,
    userid: &Address,
    range_ms: Option<(i64, i64)>,
) -> DirResult<i64> {
    let m = member_of(conn, scope, userid).await?;
    Ok(match range_ms {
        None => store::mail::unread(conn, m.id).await?.max(0),
        Some((from, to)) => ids::unread_between(conn, m.id, from, to).await?,
    })
}
