//! Bulk loading of an org chart (`bizmail import`) through the same rules as `user/sync` and
//! `party/sync`: departments are created as `party/sync` ADD would, then each row becomes an ADD
//! (new address) or a MOD (existing member) validated exactly like an API call.
//!
//! Rows are applied in batches, one transaction per batch: a refused row is reported and skipped
//! (the rules check before they write, so it left nothing behind); the rest of its batch commits.
//! Passwords are set for new members only, so re-running the same file changes nothing and bumps
//! no version. A new member without a password can sign in only through SSO until one is set.

use super::{ChangeSet, DirError, Scope, departments, finish, members};
use crate::push::hub::Hub;
use crate::store::{self, Store};
use crate::tenants::OplogEntry;
use bizmail_protocol::directory::{Action, PartySync, UserSync};
use bizmail_protocol::{ErrorCode, Params, PartyPath};

/// One row of an org chart, as text from the file.
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    /// Where the row came from (a line number), for the report.
    pub line: u64,
    /// The member's primary address.
    pub alias: String,
    /// Display name (required for new members).
    pub name: String,
    /// Department paths (`IT/Backend`), several allowed.
    pub departments: Vec<String>,
    /// Alias addresses (at most 5).
    pub aliases: Vec<String>,
    /// Position.
    pub position: String,
    /// Telephone.
    pub tel: String,
    /// Mobile.
    pub mobile: String,
    /// External id.
    pub ext_id: String,
    /// Gender: empty, 0, 1 or 2.
    pub gender: String,
    /// A plain password (6–32 characters), for new members.
    pub password: String,
    /// Or the lower-case hex MD5 of one.
    pub md5: String,
}

/// What happened to a batch.
#[derive(Debug, Clone, Default)]
pub struct BatchReport {
    /// New members.
    pub added: u64,
    /// Existing members that changed.
    pub changed: u64,
    /// Existing members already as the file says.
    pub unchanged: u64,
    /// Refused rows: line, address, and the protocol error.
    pub refused: Vec<(u64, String, ErrorCode)>,
}

impl ImportRow {
    /// The row as the parameters of a `user/sync` call, so the protocol's own rules check it.
    fn to_params(&self, action: Action, with_password: bool) -> Params {
        let mut p = Params::default();
        p.push("action", &action.code().to_string());
        p.push("alias", &self.alias);
        p.push("name", &self.name);
        p.push("position", &self.position);
        p.push("tel", &self.tel);
        p.push("mobile", &self.mobile);
        p.push("extid", &self.ext_id);
        p.push("gender", &self.gender);
        // An empty department list puts the member under the root (written `/`, since an empty
        // value would mean "not given").
        if self.departments.is_empty() {
            p.push("partypath", "/");
        }
        for d in &self.departments {
            p.push("partypath", d);
        }
        for a in &self.aliases {
            p.push("slave", a);
        }
        if with_password {
            if !self.md5.is_empty() {
                p.push("password", &self.md5);
                p.push("md5", "1");
            } else {
                p.push("password", &self.password);
            }
        }
        p
    }
}

/// An import into one tenant's directory, as one admin: `bizmail import` and the benchmarks load
/// org charts through it. Get one from [`crate::tenants::Admin::importer`].
#[derive(Debug, Clone)]
pub struct Importer {
    store: Store,
    hub: Hub,
    scope: Scope,
    oplog: OplogEntry,
}

impl Importer {
    /// An importer into `scope`'s tenant; its operation-log rows name `admin`.
    pub(crate) fn new(store: Store, hub: Hub, scope: Scope, admin: &str) -> Importer {
        let oplog = oplog_row(scope.tenant_id, admin);
        Importer {
            store,
            hub,
            scope,
            oplog,
        }
    }

    /// The same import with its operation-log rows written under `endpoint` from `client_ip`
    /// (the console's uploads), instead of `bizmail/import` from `local`.
    pub fn logged_as(mut self, endpoint: &str, client_ip: &str) -> Importer {
        endpoint.clone_into(&mut self.oplog.endpoint);
        client_ip.clone_into(&mut self.oplog.client_ip);
        self
    }

    /// Creates every department the rows name (and their ancestors) in one transaction. Paths
    /// that are not valid are skipped here; their rows are refused with the path's error later.
    pub async fn ensure_departments(&self, rows: &[ImportRow]) -> Result<(), DirError> {
        ensure_departments(&self.store, &self.hub, &self.scope, rows, &self.oplog).await
    }

    /// Applies one batch of rows in one transaction; rows the directory's rules refuse are
    /// reported, not applied.
    pub async fn apply_batch(&self, rows: &[ImportRow]) -> Result<BatchReport, DirError> {
        apply_batch(&self.store, &self.hub, &self.scope, rows, &self.oplog).await
    }
}

async fn ensure_departments(
    store: &Store,
    hub: &Hub,
    scope: &Scope,
    rows: &[ImportRow],
    oplog: &OplogEntry,
) -> Result<(), DirError> {
    let mut paths: Vec<PartyPath> = rows
        .iter()
        .flat_map(|r| r.departments.iter())
        .filter_map(|d| PartyPath::parse(d).ok())
        .filter(|p| !p.is_root())
        .collect();
    paths.sort();
    paths.dedup();
    let mut tx = store.begin().await?;
    let mut changes = ChangeSet::default();
    for dst in paths {
        let req = PartySync {
            action: Action::Add,
            src: None,
            dst,
        };
        departments::sync(&mut tx.conn(), scope, req, &mut changes).await?;
    }
    finish(
        &mut tx,
        scope.tenant_id,
        &changes,
        false,
        (!changes.is_empty()).then_some(oplog),
    )
    .await?;
    crate::push::publish(hub, tx.commit().await?);
    Ok(())
}

async fn apply_batch(
    store: &Store,
    hub: &Hub,
    scope: &Scope,
    rows: &[ImportRow],
    oplog: &OplogEntry,
) -> Result<BatchReport, DirError> {
    let mut report = BatchReport::default();
    // Decide ADD or MOD and hash new passwords before the write lock is taken.
    let mut prepared = Vec::with_capacity(rows.len());
    {
        let mut pooled = store.acquire().await?;
        for row in rows {
            let exists = match bizmail_protocol::Address::parse(&row.alias) {
                Some(a) => super::resolve_member(&mut pooled.conn(), scope, &a)
                    .await
                    .is_ok(),
                None => false,
            };
            let parsed = if exists {
                UserSync::from_params(&row.to_params(Action::Mod, false))
            } else {
                parse_add(row)
            };
            match parsed {
                Ok(req) => prepared.push((row, req)),
                Err(code) => report.refused.push((row.line, row.alias.clone(), code)),
            }
        }
    }
    let mut hashed = Vec::with_capacity(prepared.len());
    for (row, req) in prepared {
        match members::prepare(req).await {
            Ok(p) => hashed.push((row, p)),
            Err(DirError::Refused(code)) => {
                report.refused.push((row.line, row.alias.clone(), code))
            }
            Err(e) => return Err(e),
        }
    }
    let mut tx = store.begin().await?;
    let mut changes = ChangeSet::default();
    for (row, p) in hashed {
        match members::sync(&mut tx.conn(), scope, p, &mut changes).await {
            Ok(members::Outcome::Added) => report.added += 1,
            Ok(members::Outcome::Changed) => report.changed += 1,
            Ok(members::Outcome::Unchanged | members::Outcome::Deleted) => report.unchanged += 1,
            Err(DirError::Refused(code)) => {
                report.refused.push((row.line, row.alias.clone(), code))
            }
            Err(e) => return Err(e),
        }
    }
    let mut row = oplog.clone();
    row.params = format!(
        "rows={}&added={}&changed={}",
        rows.len(),
        report.added,
        report.changed
    );
    finish(
        &mut tx,
        scope.tenant_id,
        &changes,
        false,
        (!changes.is_empty()).then_some(&row),
    )
    .await?;
    crate::push::publish(hub, tx.commit().await?);
    report.refused.sort_by_key(|r| r.0);
    Ok(report)
}

/// A new member: the MOD rules check every field; the ADD rule "name required" is checked here,
/// and a missing password is allowed (import only: SSO-only account).
fn parse_add(row: &ImportRow) -> Result<UserSync, ErrorCode> {
    let has_password = !row.password.is_empty() || !row.md5.is_empty();
    let mut req = UserSync::from_params(&row.to_params(Action::Mod, has_password))?;
    if req.fields.name.is_none() {
        return Err(ErrorCode::InvalidRequest);
    }
    req.action = Action::Add;
    Ok(req)
}

/// The operation-log row an import writes for its batches.
fn oplog_row(tenant_id: i64, admin: &str) -> OplogEntry {
    OplogEntry {
        tenant_id: Some(tenant_id),
        at_ms: store::now_ms(),
        client_ip: "local".into(),
        admin: admin.to_owned(),
        endpoint: "bizmail/import".into(),
        params: String::new(),
        errcode: 0,
    }
}
