//! New-mail push (§5): the per-tenant wake-ups (`hub`) and the long poll of `openapi/listen`
//! (`listen`) that reads the event log with a cursor per client, so nothing is lost between two
//! polls, across a restart, or across nodes.

mod claims;
pub mod hub;
pub mod listen;
mod shared;

use crate::store::{Committed, Store, StoreError};
use bizmail_protocol::Ver;

/// The push as one handle for the routes: holds `openapi/listen` polls. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Push {
    store: Store,
    hub: hub::Hub,
}

impl Push {
    /// Polls over the event log in `store`, woken through `hub`.
    pub fn new(store: Store, hub: hub::Hub) -> Push {
        Push { store, hub }
    }

    /// How many polls this process holds right now.
    pub fn held(&self) -> usize {
        self.hub.held()
    }

    /// One poll of the client `token_hash` of `tenant_id` holding directory version `ver`.
    /// (The poll's own future, not one wrapped around it: a held poll keeps it while it waits.)
    pub fn poll<'a>(
        &'a self,
        settings: listen::PollSettings,
        tenant_id: i64,
        token_hash: &'a [u8],
        ver: Option<Ver>,
    ) -> impl Future<Output = Result<listen::PollAnswer, StoreError>> + Send + 'a {
        listen::poll(&self.store, &self.hub, settings, tenant_id, token_hash, ver)
    }
}

/// Wakes the polls held in this process for every tenant whose events a transaction committed.
/// This is the one way the server wakes polls: whoever commits events publishes the commit.
/// Other nodes were told already: on PostgreSQL the transaction itself sent `pg_notify`, which is
/// delivered exactly when it commits.
pub fn publish(hub: &hub::Hub, committed: Committed) {
    for tenant in committed.tenants {
        hub.wake(tenant);
    }
}
