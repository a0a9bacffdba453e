//! The directory (§7): members, aliases, departments, mail groups, the change log by version, and
//! address checks. Pure rules over `store`; no HTTP here.
//!
//! Every write runs inside one transaction that the caller opens: the rules check everything
//! before they write anything, then [`finish`] bumps the tenant's version, appends the change log
//! and a `ver` event for `listen`, and writes the operation-log row, all before the commit. So a
//! refused call changes nothing, and a committed change is always logged and always announced.

pub(crate) mod cgi;
pub(crate) mod departments;
pub(crate) mod groups;
pub mod import;
pub mod import_csv;
pub(crate) mod members;
pub(crate) mod reads;

/// The newer API's directory endpoints, called in-process as a tenant's admin.
pub use cgi::local::CorpDirectory;

use crate::store::{self, Conn, StoreError, Tx};
use crate::tenants::OplogEntry;
use bizmail_protocol::directory::Action;
use bizmail_protocol::response::VerNotice;
use bizmail_protocol::{Address, ErrorCode, Ver};

/// Why a directory operation failed. Refusals are named by the protocol's catalogue of refusals
/// (`ErrorCode`, a typed enum: the directory's rules *are* the protocol's); how a refusal or a
/// failure travels on the wire (its number, its HTTP status, a log line) is decided in `http`.
#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// The rules refuse the request.
    #[error("refused: {0}")]
    Refused(ErrorCode),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The newer API's rules refuse the request (its own catalogue, EXMAIL_API.md §5).
    #[error("refused: {0:?}")]
    RefusedCgi(bizmail_protocol::cgi::Code),
    /// Something else inside the server failed (hashing a password, say); the text says what.
    #[error("{0}")]
    Internal(String),
}

impl From<ErrorCode> for DirError {
    fn from(c: ErrorCode) -> DirError {
        DirError::Refused(c)
    }
}

impl From<bizmail_protocol::cgi::Code> for DirError {
    fn from(c: bizmail_protocol::cgi::Code) -> DirError {
        DirError::RefusedCgi(c)
    }
}

impl DirError {
    /// A store conflict (a unique violation: two concurrent calls raced for one address or one
    /// department path) as the refusal `as_code`: the loser sees what it would have seen one
    /// moment later. Other errors pass through.
    pub fn conflict_as(self, as_code: ErrorCode) -> DirError {
        match self {
            DirError::Store(e) if e.is_unique_violation() => DirError::Refused(as_code),
            other => other,
        }
    }
}

/// Shorthand for directory results.
pub type DirResult<T> = Result<T, DirError>;

/// The tenant a call works on, with its domains (addresses outside them are `invalid_alias`).
#[derive(Debug, Clone)]
pub struct Scope {
    /// The tenant.
    pub tenant_id: i64,
    /// Its mail domains, lower-case.
    pub domains: Vec<String>,
}

impl Scope {
    /// Loads the tenant's domains.
    pub async fn load(store: &store::Store, tenant_id: i64) -> Result<Scope, StoreError> {
        Ok(Scope {
            tenant_id,
            domains: store::tenants::domains_of(store, tenant_id).await?,
        })
    }

    /// Whether the address is in one of the tenant's domains.
    pub fn owns(&self, address: &Address) -> bool {
        self.domains.iter().any(|d| d == address.domain())
    }

    /// `invalid_alias` unless the address is in one of the tenant's domains.
    pub fn check_owned(&self, address: &Address) -> DirResult<()> {
        if self.owns(address) {
            Ok(())
        } else {
            Err(ErrorCode::InvalidAlias.into())
        }
    }
}

/// The directory as one handle for the routes: changes ([`Directory::change`]) and reads
/// ([`Directory::read`]), each confined to one tenant, with the tenants' domains cached. Cheap to
/// clone.
#[derive(Debug, Clone)]
pub struct Directory {
    store: store::Store,
    hub: crate::push::hub::Hub,
    scopes: std::sync::Arc<ScopeCache>,
}

impl Directory {
    /// The directory kept in `store`; changes wake `hub`'s polls.
    pub fn new(store: store::Store, hub: crate::push::hub::Hub) -> Directory {
        Directory {
            store,
            hub,
            scopes: std::sync::Arc::default(),
        }
    }

    /// The tenant's scope (its domains), from the cache.
    pub async fn scope(&self, tenant_id: i64) -> Result<Scope, StoreError> {
        self.scopes.get(&self.store, tenant_id).await
    }

    /// Applies one change to the tenant's directory with its operation-log row, as [`apply`]
    /// does. Returns the new directory version.
    pub async fn change(
        &self,
        tenant_id: i64,
        change: Change,
        oplog: Option<&OplogEntry>,
    ) -> DirResult<Option<i64>> {
        let scope = self.scope(tenant_id).await?;
        apply(&self.store, &self.hub, &scope, change, oplog).await
    }
}

/// Tenants' domains, cached: every directory call needs them and they change only when a tenant
/// is created. Entries expire after [`ScopeCache::TTL`] so a domain added by another process (a
/// future domain-management command) is seen within that time.
#[derive(Debug, Default)]
pub struct ScopeCache {
    entries: std::sync::RwLock<std::collections::HashMap<i64, (std::time::Instant, Scope)>>,
}

impl ScopeCache {
    /// How long a cached scope is trusted.
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(30);

    /// The tenant's scope, from the cache or the store.
    pub async fn get(&self, store: &store::Store, tenant_id: i64) -> Result<Scope, StoreError> {
        if let Ok(map) = self.entries.read()
            && let Some((at, scope)) = map.get(&tenant_id)
            && at.elapsed() < Self::TTL
        {
            return Ok(scope.clone());
        }
        let scope = Scope::load(store, tenant_id).await?;
        if let Ok(mut map) = self.entries.write() {
            map.insert(tenant_id, (std::time::Instant::now(), scope.clone()));
        }
        Ok(scope)
    }
}

/// What one call (or one import batch) changed: member entries for the change log, and whether
/// anything changed at all (departments, groups and flags change the version without an entry).
#[derive(Debug, Default)]
pub struct ChangeSet {
    entries: Vec<(String, Action)>,
    touched: bool,
}

impl ChangeSet {
    /// Records a member change for `user/list`.
    pub fn member(&mut self, address: &str, action: Action) {
        self.entries.push((address.to_owned(), action));
        self.touched = true;
    }

    /// Records a change that has no member entry.
    pub fn touch(&mut self) {
        self.touched = true;
    }

    /// Whether anything changed.
    pub fn is_empty(&self) -> bool {
        !self.touched
    }
}

/// Ends a change inside its transaction: bumps the version (when anything changed, or always
/// when `always_bump`: every API write call bumps once, §7), appends the change log and a `ver`
/// event, and writes the operation-log row. Returns the new version, if bumped.
pub(crate) async fn finish(
    tx: &mut Tx,
    tenant_id: i64,
    changes: &ChangeSet,
    always_bump: bool,
    oplog: Option<&OplogEntry>,
) -> Result<Option<i64>, StoreError> {
    let now = store::now_ms();
    let mut ver = None;
    if always_bump || !changes.is_empty() {
        let mut conn = tx.conn();
        let v = store::changes::bump_version(&mut conn, tenant_id, now).await?;
        for (seq, (address, action)) in changes.entries.iter().enumerate() {
            let seq = i64::try_from(seq).unwrap_or(i64::MAX);
            store::changes::append_change(&mut conn, tenant_id, v, seq, address, action.code())
                .await?;
        }
        let notice = VerNotice {
            ver: Ver(u64::try_from(v).unwrap_or(0)),
        };
        let payload = serde_json::to_string(&notice).unwrap_or_default();
        store::events::append_event(tx, tenant_id, now, "ver", &payload).await?;
        // Every change of what `user/get` answers passes here; the commit forgets the cached
        // members of the tenant.
        tx.directory_changed(tenant_id).await?;
        ver = Some(v);
    }
    if let Some(row) = oplog {
        let mut row = row.clone();
        row.at_ms = now;
        store::oplog::insert(&mut tx.conn(), &row).await?;
    }
    Ok(ver)
}

/// Resolves an address of the tenant to a member (by primary address or alias).
pub(crate) async fn resolve_member(
    conn: &mut Conn<'_>,
    scope: &Scope,
    address: &Address,
) -> DirResult<store::directory::MemberRow> {
    store::directory::member_by_address(conn, address.as_str())
        .await?
        .filter(|m| m.tenant_id == scope.tenant_id)
        .ok_or_else(|| ErrorCode::UserNotFound.into())
}

/// One directory write, as an API call (or an import row) asks for it.
#[derive(Debug, Clone)]
pub enum Change {
    /// `user/sync`.
    UserSync(members::PreparedSync),
    /// `party/sync`.
    PartySync(bizmail_protocol::directory::PartySync),
    /// `group/add`.
    GroupAdd(bizmail_protocol::directory::GroupAdd),
    /// `group/delete`.
    GroupDelete(Address),
    /// `group/addmember`.
    GroupAddMember(Address, Vec<Address>),
    /// `group/deletemember`.
    GroupDeleteMember(Address, Vec<Address>),
    /// `group/addallowlist`.
    GroupAddAllow(Address, Vec<Address>),
    /// `group/delallowlist`.
    GroupDeleteAllow(Address, Vec<Address>),
    /// `user/openwxtoken` (true) and `user/closewxtoken` (false).
    SecondFactor(Address, bool),
    /// `user/swapalias`.
    SwapAlias(Address, Address),
}

/// Applies one change in its own transaction with its operation-log row (§7: one call, one
/// transaction, one version bump), then wakes the tenant's polls. Returns the new version.
pub(crate) async fn apply(
    store: &store::Store,
    hub: &crate::push::hub::Hub,
    scope: &Scope,
    change: Change,
    oplog: Option<&OplogEntry>,
) -> DirResult<Option<i64>> {
    // A lost race for a department path is a department conflict; for anything else, an address.
    let conflict = match change {
        Change::PartySync(_) => ErrorCode::PartyExists,
        _ => ErrorCode::AliasExists,
    };
    apply_in_tx(store, hub, scope, change, oplog)
        .await
        .map_err(|e| e.conflict_as(conflict))
}

async fn apply_in_tx(
    store: &store::Store,
    hub: &crate::push::hub::Hub,
    scope: &Scope,
    change: Change,
    oplog: Option<&OplogEntry>,
) -> DirResult<Option<i64>> {
    let mut tx = store.begin().await?;
    let mut changes = ChangeSet::default();
    {
        let conn = &mut tx.conn();
        let ch = &mut changes;
        match change {
            Change::UserSync(p) => members::sync(conn, scope, p, ch).await.map(drop)?,
            Change::PartySync(p) => departments::sync(conn, scope, p, ch).await?,
            Change::GroupAdd(g) => groups::add(conn, scope, g, ch).await?,
            Change::GroupDelete(g) => groups::delete(conn, scope, &g, ch).await?,
            Change::GroupAddMember(g, m) => groups::add_member(conn, scope, &g, &m, ch).await?,
            Change::GroupDeleteMember(g, m) => {
                groups::delete_member(conn, scope, &g, &m, ch).await?
            }
            Change::GroupAddAllow(g, l) => groups::add_allowed(conn, scope, &g, &l, ch).await?,
            Change::GroupDeleteAllow(g, l) => {
                groups::remove_allowed(conn, scope, &g, &l, ch).await?
            }
            Change::SecondFactor(a, on) => {
                members::set_second_factor(conn, scope, &a, on, ch).await?
            }
            Change::SwapAlias(a, s) => members::swap_alias(conn, scope, &a, &s, ch).await?,
        }
    }
    let ver = finish(&mut tx, scope.tenant_id, &changes, true, oplog).await?;
    crate::push::publish(hub, tx.commit().await?);
    Ok(ver)
}
