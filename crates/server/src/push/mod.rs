//! New-mail push (§5): the per-tenant wake-ups (`hub`) and the long poll of `openapi/listen`
//! (`listen`) that reads the event log with a cursor per client, so nothing is lost between two
//! polls, across a restart, or across nodes.

pub mod hub;
pub mod listen;

use crate::store::Committed;

/// Wakes the polls held in this process for every tenant whose events a transaction committed.
/// This is the one way the server wakes polls: whoever commits events publishes the commit.
/// Other nodes were told already: on PostgreSQL the transaction itself sent `pg_notify`, which is
/// delivered exactly when it commits.
pub fn publish(hub: &hub::Hub, committed: Committed) {
    for tenant in committed.tenants {
        hub.wake(tenant);
    }
}
