//! Members and their aliases: `user/sync`, `user/get`, `user/list`, `user/check`,
//! `user/swapalias`, and the second-factor flag of `user/openwxtoken`/`closewxtoken`.

use super::{ChangeSet, DirError, DirResult, Scope, departments, resolve_member};
use crate::auth::passwords;
use crate::store::directory::{self as db, MemberRow, kind};
use crate::store::{self, Conn};
use bizmail_protocol::directory::{Action, MemberFields, OpenType, UserSync};
use bizmail_protocol::response::{
    CheckItem, CheckList, NewCount, UserChange, UserInfo, UserList, ValueList,
};
use bizmail_protocol::{Address, ErrorCode, Ver};
use std::collections::HashMap;

/// A `user/sync` with its password already hashed: argon2id is slow, so it runs on the blocking
/// pool before the transaction opens, never while holding the write lock.
#[derive(Debug, Clone)]
pub struct PreparedSync {
    /// The request.
    pub req: UserSync,
    /// argon2id of the given password (of its MD5 hex in MD5 mode).
    pub password_hash: Option<String>,
}

/// Hashes the request's password, if it has one.
pub async fn prepare(req: UserSync) -> DirResult<PreparedSync> {
    let password_hash = match &req.fields.password {
        Some(p) => {
            let value = p.value.clone();
            let hash = tokio::task::spawn_blocking(move || passwords::hash(&value))
                .await
                .map_err(|e| DirError::Internal(format!("password hashing task: {e}")))?
                .map_err(|e| DirError::Internal(format!("password hashing: {e}")))?;
            Some(hash)
        }
        None => None,
    };
    Ok(PreparedSync { req, password_hash })
}

/// What a sync did to one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new member.
    Added,
    /// An existing member changed.
    Changed,
    /// An existing member already looked like this (nothing written).
    Unchanged,
    /// A member deleted.
    Deleted,
}

/// Applies one `user/sync` inside the caller's transaction. Checks everything first; on error
/// nothing was written.
pub async fn sync(
    conn: &mut Conn<'_>,
    scope: &Scope,
    p: PreparedSync,
    changes: &mut ChangeSet,
) -> DirResult<Outcome> {
    let PreparedSync { req, password_hash } = p;
    match req.action {
        Action::Add => add(conn, scope, &req.alias, req.fields, password_hash, changes).await,
        Action::Mod => modify(conn, scope, &req.alias, req.fields, password_hash, changes).await,
        Action::Del => {
            let m = resolve_member(conn, scope, &req.alias).await?;
            store::mail::delete_mailbox(conn, m.id).await?;
            db::delete_member(conn, scope.tenant_id, m.id).await?;
            changes.member(&m.address, Action::Del);
            Ok(Outcome::Deleted)
        }
    }
}

async fn add(
    conn: &mut Conn<'_>,
    scope: &Scope,
    alias: &Address,
    f: MemberFields,
    password_hash: Option<String>,
    changes: &mut ChangeSet,
) -> DirResult<Outcome> {
    scope.check_owned(alias)?;
    if db::find_address(conn, alias.as_str()).await?.is_some() {
        return Err(ErrorCode::AliasExists.into());
    }
    let slaves = f.slaves.clone().unwrap_or_default();
    check_slaves(conn, scope, alias, None, &slaves).await?;
    let department_ids =
        departments::existing_ids(conn, scope, f.parties.as_deref().unwrap_or_default()).await?;
    let row = MemberRow {
        id: 0,
        tenant_id: scope.tenant_id,
        address: alias.to_string(),
        name: f.name.unwrap_or_default(),
        gender: i64::from(f.gender.unwrap_or(0)),
        position: f.position.unwrap_or_default(),
        tel: f.tel.unwrap_or_default(),
        mobile: f.mobile.unwrap_or_default(),
        ext_id: f.ext_id.unwrap_or_default(),
        password_md5: f.password.as_ref().is_some_and(|p| p.md5),
        password_hash: password_hash.unwrap_or_default(),
        enabled: f.open_type != Some(OpenType::Disabled),
        second_factor: false,
    };
    let id = db::insert_member(conn, &row, store::now_ms()).await?;
    db::insert_address(
        conn,
        alias.as_str(),
        scope.tenant_id,
        kind::MEMBER,
        (Some(id), None),
        0,
    )
    .await?;
    write_slaves(conn, scope, id, &slaves).await?;
    db::set_member_departments(conn, id, &department_ids).await?;
    changes.member(alias.as_str(), Action::Add);
    Ok(Outcome::Added)
}

async fn modify(
    conn: &mut Conn<'_>,
    scope: &Scope,
    alias: &Address,
    f: MemberFields,
    password_hash: Option<String>,
    changes: &mut ChangeSet,
) -> DirResult<Outcome> {
    let old = resolve_member(conn, scope, alias).await?;
    let primary = Address::parse(&old.address).ok_or(ErrorCode::UserNotFound)?;
    // `Alias` may name the member by an alias, so the protocol could not drop the primary
    // address from `Slave` (see `slave_list`): it is ignored here, the same way.
    let mut f = f;
    if let Some(slaves) = f.slaves.take() {
        let rest: Vec<Address> = slaves.into_iter().filter(|s| *s != primary).collect();
        f.slaves = (!rest.is_empty()).then_some(rest);
    }
    if let Some(slaves) = &f.slaves {
        check_slaves(conn, scope, &primary, Some(old.id), slaves).await?;
    }
    let department_ids = match &f.parties {
        Some(p) => Some(departments::existing_ids(conn, scope, p).await?),
        None => None,
    };
    let mut new = old.clone();
    // §7.1: MOD changes only the fields given non-empty.
    new.take_profile(db::Profile {
        name: f.name,
        gender: f.gender.map(i64::from),
        position: f.position,
        tel: f.tel,
        mobile: f.mobile,
        ext_id: f.ext_id,
    });
    if let (Some(p), Some(h)) = (&f.password, password_hash) {
        new.password_hash = h;
        new.password_md5 = p.md5;
        // A new password takes back the member's SSO authorization of the newer API.
        db::ids::set_sso_authorized(conn, old.id, false).await?;
    }
    if let Some(o) = f.open_type {
        new.enabled = o == OpenType::Enabled;
    }
    let mut changed = new != old;
    if changed {
        db::update_member(conn, &new, store::now_ms()).await?;
    }
    if let Some(slaves) = &f.slaves {
        let current = db::aliases_of(conn, old.id).await?;
        let wanted: Vec<String> = slaves.iter().map(ToString::to_string).collect();
        if current != wanted {
            db::delete_aliases(conn, old.id).await?;
            write_slaves(conn, scope, old.id, slaves).await?;
            changed = true;
        }
    }
    if let Some(ids) = department_ids {
        let current = db::member_department_ids(conn, old.id).await?;
        if current != ids {
            db::set_member_departments(conn, old.id, &ids).await?;
            changed = true;
        }
    }
    if changed {
        changes.member(&old.address, Action::Mod);
        Ok(Outcome::Changed)
    } else {
        Ok(Outcome::Unchanged)
    }
}

/// Aliases must be in the tenant's domains, not the member's own address (the callers have
/// dropped it already), and free (or already this member's aliases).
pub(crate) async fn check_slaves(
    conn: &mut Conn<'_>,
    scope: &Scope,
    primary: &Address,
    member_id: Option<i64>,
    slaves: &[Address],
) -> DirResult<()> {
    for s in slaves {
        scope.check_owned(s)?;
        if s == primary {
            return Err(ErrorCode::AliasExists.into());
        }
        match db::find_address(conn, s.as_str()).await? {
            None => {}
            Some(r) if r.kind == kind::ALIAS && member_id.is_some() && r.member_id == member_id => {
            }
            Some(_) => return Err(ErrorCode::AliasExists.into()),
        }
    }
    Ok(())
}

pub(crate) async fn write_slaves(
    conn: &mut Conn<'_>,
    scope: &Scope,
    member_id: i64,
    slaves: &[Address],
) -> DirResult<()> {
    for (pos, s) in slaves.iter().enumerate() {
        let pos = i64::try_from(pos).unwrap_or(i64::MAX);
        db::insert_address(
            conn,
            s.as_str(),
            scope.tenant_id,
            kind::ALIAS,
            (Some(member_id), None),
            pos,
        )
        .await?;
    }
    Ok(())
}

/// `user/get` (§7.2): the member's fields; `Alias` is always the primary address.
pub async fn info(conn: &mut Conn<'_>, scope: &Scope, address: &Address) -> DirResult<UserInfo> {
    let m = resolve_member(conn, scope, address).await?;
    let (slaves, parties) = db::aliases_and_departments(conn, m.id).await?;
    let state = if m.enabled {
        OpenType::Enabled
    } else {
        OpenType::Disabled
    }
    .code();
    Ok(UserInfo {
        alias: m.address,
        name: m.name,
        gender: u8::try_from(m.gender).unwrap_or(0),
        slave_list: slaves.join(","),
        position: m.position,
        tel: m.tel,
        mobile: m.mobile,
        ext_id: m.ext_id,
        status: state,
        party_list: ValueList::of(parties),
        open_type: state,
    })
}

/// `mail/newcount` (§7.4): the unread mails of a member's inbox, `NewCount` as a string. An
/// address with no mailbox (no member of this tenant has it) is `mailbox_not_found` (the recorded
/// code 1400), not `user_not_found`.
pub async fn new_count(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
) -> DirResult<NewCount> {
    let m = resolve_member(conn, scope, address)
        .await
        .map_err(|e| match e {
            super::DirError::Refused(ErrorCode::UserNotFound) => ErrorCode::MailboxNotFound.into(),
            other => other,
        })?;
    let unread = store::mail::unread(conn, m.id).await?;
    Ok(NewCount {
        alias: m.address,
        new_count: unread.max(0).to_string(),
    })
}

/// `user/list` (§7.3): the net effect per member of the changes after `ver`, by each member's
/// latest change; the full list (every member as ADD) for no version, 0, a version older than the
/// retained log, or one from the future.
pub async fn list(conn: &mut Conn<'_>, scope: &Scope, ver: Option<Ver>) -> DirResult<UserList> {
    let (current, floor) = store::changes::version_and_floor(conn, scope.tenant_id).await?;
    let current_ver = Ver(u64::try_from(current).unwrap_or(0));
    let since = ver
        .and_then(|v| i64::try_from(v.0).ok())
        // A client already at the current version has nothing to fetch, whatever was pruned.
        .filter(|v| *v > 0 && (*v >= floor || *v == current) && *v <= current);
    let list: Vec<UserChange> = match since {
        None => db::member_addresses(conn, scope.tenant_id)
            .await?
            .into_iter()
            .map(|alias| UserChange {
                action: Action::Add.code(),
                alias,
            })
            .collect(),
        Some(v) => net_effect(store::changes::changes_since(conn, scope.tenant_id, v).await?),
    };
    Ok(UserList {
        ver: current_ver,
        count: list.len(),
        list,
    })
}

/// Folds a run of changes into one entry per address: the client knew the address existed iff its
/// first change was not an ADD, and it exists now iff its last change was not a DEL. So ADD+MOD is
/// ADD, ADD+DEL and MOD+DEL are DEL, DEL+ADD is MOD (§7.3). Entries are ordered by each address's
/// latest change.
pub fn net_effect(changes: Vec<(String, i64)>) -> Vec<UserChange> {
    struct Span {
        first: i64,
        last: i64,
        last_index: usize,
    }
    let mut spans: HashMap<String, Span> = HashMap::new();
    for (i, (address, action)) in changes.into_iter().enumerate() {
        spans
            .entry(address)
            .and_modify(|s| {
                s.last = action;
                s.last_index = i;
            })
            .or_insert(Span {
                first: action,
                last: action,
                last_index: i,
            });
    }
    let mut out: Vec<(usize, UserChange)> = spans
        .into_iter()
        .map(|(alias, s)| {
            let existed = s.first != i64::from(Action::Add.code());
            let exists = s.last != i64::from(Action::Del.code());
            let action = match (existed, exists) {
                (false, true) => Action::Add,
                (true, true) => Action::Mod,
                (_, false) => Action::Del,
            };
            (
                s.last_index,
                UserChange {
                    action: action.code(),
                    alias,
                },
            )
        })
        .collect();
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, c)| c).collect()
}

/// `user/check` (§7.6): for each address as given, -1 invalid or not the tenant's, 0 free,
/// 1 a member, 2 an alias, 3 a group.
pub async fn check(
    conn: &mut Conn<'_>,
    scope: &Scope,
    emails: Vec<String>,
) -> DirResult<CheckList> {
    let mut list = Vec::with_capacity(emails.len());
    for email in emails {
        let kind = match Address::parse(&email).filter(|a| scope.owns(a)) {
            None => -1,
            Some(a) => match db::find_address(conn, a.as_str()).await? {
                None => 0,
                Some(r) if r.tenant_id == scope.tenant_id => i8::try_from(r.kind).unwrap_or(-1),
                Some(_) => -1,
            },
        };
        list.push(CheckItem { email, kind });
    }
    Ok(CheckList {
        count: list.len(),
        list,
    })
}

/// `user/swapalias` (§7.9): the alias becomes the primary address and the primary an alias.
///
/// Logged as one MOD of the new primary address, as §7.9 says. A client that keys its copy of the
/// directory by address sees a MOD of an address it does not hold; `user/get` on it answers with
/// the old address in `SlaveList`, which is how such a client can re-key. (A DEL of the old and an
/// ADD of the new address would replay mechanically, but would make HR systems delete and re-create
/// the person, so bizmail stays with the recorded single MOD.)
pub async fn swap_alias(
    conn: &mut Conn<'_>,
    scope: &Scope,
    alias: &Address,
    slave: &Address,
    changes: &mut ChangeSet,
) -> DirResult<()> {
    let primary = db::find_address(conn, alias.as_str()).await?;
    let member_id = match primary {
        Some(r) if r.tenant_id == scope.tenant_id && r.kind == kind::MEMBER => r.member_id,
        _ => None,
    }
    .ok_or(ErrorCode::UserNotFound)?;
    let mut m = db::member(conn, scope.tenant_id, member_id)
        .await?
        .ok_or(ErrorCode::UserNotFound)?;
    let aliases = db::aliases_of(conn, m.id).await?;
    let pos = aliases
        .iter()
        .position(|a| a == slave.as_str())
        .ok_or(ErrorCode::UserNotFound)?;
    let pos = i64::try_from(pos).unwrap_or(i64::MAX);
    db::set_address_kind(conn, alias.as_str(), kind::ALIAS, pos).await?;
    db::set_address_kind(conn, slave.as_str(), kind::MEMBER, 0).await?;
    m.address = slave.to_string();
    db::update_member(conn, &m, store::now_ms()).await?;
    changes.member(slave.as_str(), Action::Mod);
    Ok(())
}

/// `user/openwxtoken` / `user/closewxtoken` (§7.8): forces (or stops forcing) a second factor on
/// the member's password logins. Idempotent.
pub async fn set_second_factor(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
    forced: bool,
    changes: &mut ChangeSet,
) -> DirResult<()> {
    let mut m = resolve_member(conn, scope, address).await?;
    if m.second_factor != forced {
        m.second_factor = forced;
        db::update_member(conn, &m, store::now_ms()).await?;
        changes.touch();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[(&str, Action)]) -> Vec<(String, i64)> {
        list.iter()
            .map(|(a, x)| ((*a).to_owned(), i64::from(x.code())))
            .collect()
    }

    fn folded(list: &[(&str, Action)]) -> Vec<(u8, String)> {
        net_effect(entries(list))
            .into_iter()
            .map(|c| (c.action, c.alias))
            .collect()
    }

    #[test]
    fn the_four_rules_of_section_7_3() {
        use Action::*;
        assert_eq!(folded(&[("a", Add), ("a", Mod)]), [(2, "a".into())]);
        assert_eq!(folded(&[("a", Add), ("a", Del)]), [(1, "a".into())]);
        assert_eq!(folded(&[("a", Mod), ("a", Del)]), [(1, "a".into())]);
        assert_eq!(folded(&[("a", Del), ("a", Add)]), [(3, "a".into())]);
        assert_eq!(
            folded(&[("a", Add), ("a", Del), ("a", Add)]),
            [(2, "a".into())]
        );
    }

    #[test]
    fn ordered_by_latest_change() {
        use Action::*;
        let f = folded(&[("a", Add), ("b", Add), ("a", Mod), ("c", Mod)]);
        assert_eq!(f, [(2, "b".into()), (2, "a".into()), (3, "c".into())]);
    }
}
