//! The sandbox for integrators (`docs/SANDBOX.md`): tenants marked as sandboxes (or every tenant
//! of a server with `sandbox = true`) may have faults injected into their API calls and SMTP
//! sessions, their clock moved, and their exchanges recorded. Nothing here touches a tenant that
//! is not a sandbox: every switch refuses one.
//!
//! The plan and its rules are `bizmail_protocol::sandbox`; the rows are `store::sandbox`. The
//! counters that say which call a rule has reached live here, in memory, per node: a restarted
//! server, or a replaced plan, starts them over.

pub mod har;
pub mod record;

use crate::store::sandbox as rows;
pub use crate::store::sandbox::{Exchange, TenantSandbox};
use crate::store::{Store, StoreError};
use bizmail_protocol::sandbox::{Effect, Fault, Plan};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a sandbox switch was refused.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The tenant is not a sandbox, and the server is not one.
    #[error(
        "this tenant is not a sandbox: mark it with `bizmail sandbox mark --tenant …` (or run a \
         server with sandbox = true) before injecting faults, moving its clock or recording"
    )]
    NotSandbox,
    /// A plan, rule or shift that does not parse or check; the text says why.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the server does to one call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decision {
    /// Wait this long first.
    pub latency: Duration,
    /// Then answer with this instead of handling the call.
    pub fault: Option<Fault>,
}

impl Decision {
    /// How the operation log and the record mark it; `None` when nothing was injected.
    pub fn mark(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(f) = self.fault {
            parts.push(f.describe());
        }
        if !self.latency.is_zero() {
            parts.push(format!("latency {} ms", self.latency.as_millis()));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// Each rule's progress: matching calls seen, and how many it failed.
#[derive(Debug, Default)]
struct Counters {
    generation: i64,
    rules: Vec<(u64, u64)>,
}

/// The sandboxes of one store, as one handle for the routes, SMTP and the CLI. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sandbox(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    store: Store,
    server_wide: bool,
    keep: i64,
    counters: Mutex<HashMap<i64, Counters>>,
}

/// A control key's prefix, so a leaked one is recognisable in a log or a repository.
const KEY_PREFIX: &str = "bzsb_";

impl Sandbox {
    /// The sandboxes kept in `store`; `server_wide` makes every tenant one; `keep` is how many
    /// exchanges the record keeps per client.
    pub fn new(store: Store, server_wide: bool, keep: u32) -> Sandbox {
        Sandbox(Arc::new(Inner {
            store,
            server_wide,
            keep: i64::from(keep.max(1)),
            counters: Mutex::default(),
        }))
    }

    /// Whether the whole server is a sandbox (`sandbox = true`).
    pub fn server_wide(&self) -> bool {
        self.0.server_wide
    }

    /// A tenant's sandbox as a grant found it, or a blank one on a server-wide sandbox.
    pub fn resolve(
        &self,
        found: Option<&Arc<TenantSandbox>>,
        tenant_id: i64,
    ) -> Option<Arc<TenantSandbox>> {
        found.cloned().or_else(|| {
            self.0.server_wide.then(|| {
                Arc::new(TenantSandbox {
                    tenant_id,
                    ..TenantSandbox::default()
                })
            })
        })
    }

    /// A tenant's sandbox, if it is one. A store failure counts as "not a sandbox" (logged):
    /// faults are for tests, and a real call must not fail for their sake.
    pub async fn of(&self, tenant_id: i64) -> Option<Arc<TenantSandbox>> {
        match rows::snapshot(&self.0.store).await {
            Ok(s) => self.resolve(s.tenants.get(&tenant_id), tenant_id),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the sandboxes; no faults injected");
                None
            }
        }
    }

    /// Whether any tenant could be a sandbox (so token requests need to find theirs).
    pub async fn any(&self) -> bool {
        self.0.server_wide
            || rows::snapshot(&self.0.store)
                .await
                .is_ok_and(|s| !s.tenants.is_empty())
    }

    /// What to do to this call of `endpoint` (`openapi/user/get`, `cgi-bin/gettoken`, `smtp`):
    /// every matching rule counts it; those that fire add their latency, and the first that
    /// fires with a fault answers it (rules with faults after it do not count the call).
    pub fn decide(&self, sandbox: &TenantSandbox, endpoint: &str) -> Decision {
        let plan = &sandbox.plan;
        let mut decision = Decision::default();
        if plan.rules.is_empty() {
            return decision;
        }
        let Ok(mut all) = self.0.counters.lock() else {
            return decision;
        };
        let counters = all.entry(sandbox.tenant_id).or_default();
        if counters.generation != sandbox.generation || counters.rules.len() != plan.rules.len() {
            *counters = Counters {
                generation: sandbox.generation,
                rules: vec![(0, 0); plan.rules.len()],
            };
        }
        for (i, rule) in plan.rules.iter().enumerate() {
            if !rule.matches(endpoint) {
                continue;
            }
            let fault = match rule.effect_on(endpoint) {
                Effect::NotHere => continue,
                Effect::LatencyOnly => None,
                Effect::Fault(f) => Some(f),
            };
            // A call gets one fault: a later rule with a fault of its own neither sees nor
            // spends its count on a call an earlier rule answers.
            if fault.is_some() && decision.fault.is_some() {
                continue;
            }
            let (seen, fired) = &mut counters.rules[i];
            let n = *seen;
            *seen += 1;
            if rule.count.is_some_and(|c| *fired >= c) || !plan.drawn(i, n) {
                continue;
            }
            *fired += 1;
            decision.latency += Duration::from_millis(rule.latency_ms.unwrap_or(0));
            if decision.fault.is_none() {
                decision.fault = fault;
            }
        }
        decision
    }

    /// The sandbox of the tenant an OpenApi admin name belongs to, for its token requests.
    pub async fn of_admin(&self, admin: &str) -> Option<Arc<TenantSandbox>> {
        if !self.any().await {
            return None;
        }
        let row = crate::store::tenants::find_admin(&self.0.store, admin.trim())
            .await
            .ok()??;
        self.of(row.tenant_id).await
    }

    /// The sandbox of the tenant a corp id belongs to, for its `gettoken` requests.
    pub async fn of_corp(&self, corp_id: &str) -> Option<Arc<TenantSandbox>> {
        if !self.any().await {
            return None;
        }
        let apps = crate::store::corp::apps_of_corp(&self.0.store, corp_id.trim())
            .await
            .ok()?;
        self.of(apps.first()?.tenant_id).await
    }

    /// Keeps one exchange in the tenant's record (best effort: a failure is logged, the call
    /// it records has been answered already).
    pub async fn record(&self, tenant_id: i64, exchange: Exchange) {
        if let Err(e) = rows::record(&self.0.store, tenant_id, &exchange, self.0.keep).await {
            tracing::warn!(error = %e, "could not record a sandbox exchange");
        }
    }

    /// Writes an operation-log row for a fault injected outside the API routes (SMTP), so the
    /// tenant's log shows it as the routes' marked rows do.
    pub async fn log_fault(
        &self,
        tenant_id: i64,
        client_ip: &str,
        (endpoint, params): (&str, &str),
        errcode: i64,
    ) {
        let row = crate::tenants::OplogEntry {
            tenant_id: Some(tenant_id),
            at_ms: crate::clock::now_ms(),
            client_ip: client_ip.to_owned(),
            admin: String::new(),
            endpoint: endpoint.to_owned(),
            params: params.to_owned(),
            errcode,
        };
        if let Err(e) = crate::store::oplog::insert_one(&self.0.store, &row).await {
            tracing::warn!(error = %e, "could not log a sandbox fault");
        }
    }

    // ---- the switches: the CLI, the control endpoint and the console ------------------------

    /// The sandbox of `tenant_id`, or `NotSandbox`. On a server-wide sandbox the tenant's row is
    /// made on first use.
    pub async fn require(&self, tenant_id: i64) -> Result<Arc<TenantSandbox>, SandboxError> {
        let found = |s: Arc<rows::Snapshot>| s.tenants.get(&tenant_id).cloned();
        if let Some(sandbox) = found(rows::snapshot(&self.0.store).await?) {
            return Ok(sandbox);
        }
        // Only the first use writes the row; every later one finds it in the snapshot.
        if self.0.server_wide {
            rows::mark(&self.0.store, tenant_id, crate::clock::now_ms()).await?;
            if let Some(sandbox) = found(rows::snapshot(&self.0.store).await?) {
                return Ok(sandbox);
            }
        }
        Err(SandboxError::NotSandbox)
    }

    /// Marks a tenant as a sandbox and gives it a new control key (returned once, stored
    /// hashed). Marking one twice only replaces the key.
    pub async fn mark(&self, tenant_id: i64) -> Result<String, SandboxError> {
        rows::mark(&self.0.store, tenant_id, crate::clock::now_ms()).await?;
        self.new_key(tenant_id).await
    }

    /// Ends a tenant's sandbox: its faults, clock, key and record go. False if it was none.
    pub async fn unmark(&self, tenant_id: i64) -> Result<bool, SandboxError> {
        Ok(rows::unmark(&self.0.store, tenant_id).await?)
    }

    /// A new control key for the sandbox's HTTP endpoint; the old one stops working.
    pub async fn new_key(&self, tenant_id: i64) -> Result<String, SandboxError> {
        self.require(tenant_id).await?;
        let key = format!(
            "{KEY_PREFIX}{}",
            hex::encode(crate::auth::random_bytes::<24>())
        );
        rows::set_key(&self.0.store, tenant_id, &key_hash(&key)).await?;
        Ok(key)
    }

    /// The sandbox a control key opens.
    pub async fn tenant_of_key(&self, key: &str) -> Result<Option<i64>, SandboxError> {
        let key = key.trim();
        if !key.starts_with(KEY_PREFIX) {
            return Ok(None);
        }
        Ok(rows::tenant_of_key(&self.0.store, &key_hash(key)).await?)
    }

    /// Replaces the fault plan (checked first); an empty plan clears the faults.
    pub async fn set_plan(&self, tenant_id: i64, plan: &Plan) -> Result<(), SandboxError> {
        self.require(tenant_id).await?;
        plan.check().map_err(SandboxError::Invalid)?;
        let json = if plan.is_empty() {
            String::new()
        } else {
            serde_json::to_string(plan).map_err(|e| SandboxError::Invalid(e.to_string()))?
        };
        rows::set_plan(&self.0.store, tenant_id, &json).await?;
        Ok(())
    }

    /// Moves the tenant's clock by `shift_ms` (or to exactly `shift_ms` ahead when `absolute`);
    /// returns the new offset. The clock is never behind the real one: expiry and retention
    /// measured against a clock that runs late would keep what the real service drops.
    pub async fn move_clock(
        &self,
        tenant_id: i64,
        shift_ms: i64,
        absolute: bool,
    ) -> Result<i64, SandboxError> {
        let current = self.require(tenant_id).await?.clock_offset_ms;
        let offset = if absolute {
            shift_ms
        } else {
            current.saturating_add(shift_ms)
        };
        if offset < 0 {
            return Err(SandboxError::Invalid(format!(
                "the clock would be {} behind the real one; a sandbox's clock may only be ahead \
                 (use 0 to go back to the real time)",
                humanize_ms(-offset)
            )));
        }
        rows::set_clock(&self.0.store, tenant_id, offset).await?;
        Ok(offset)
    }

    /// The sandbox's recorded exchanges (of one client, if named), oldest first.
    pub async fn exchanges(
        &self,
        tenant_id: i64,
        client: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Exchange>, SandboxError> {
        self.require(tenant_id).await?;
        Ok(rows::exchanges(&self.0.store, tenant_id, client, i64::from(limit)).await?)
    }

    /// Forgets the sandbox's record; returns how many exchanges went.
    pub async fn clear_record(&self, tenant_id: i64) -> Result<u64, SandboxError> {
        self.require(tenant_id).await?;
        Ok(rows::clear_exchanges(&self.0.store, tenant_id).await?)
    }
}

fn key_hash(key: &str) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(key.as_bytes()).to_vec()
}

/// `2h 30m`-style text for an offset, for messages and the CLI.
pub fn humanize_ms(ms: i64) -> String {
    let mut left = ms.unsigned_abs() / 1000;
    let mut out = Vec::new();
    for (unit, secs) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if left >= secs {
            out.push(format!("{}{unit}", left / secs));
            left %= secs;
        }
    }
    if out.is_empty() {
        "0s".to_owned()
    } else {
        out.join(" ")
    }
}
