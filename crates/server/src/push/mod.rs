//! New-mail push (§5): the per-tenant wake-ups (`hub`) and the long poll of `openapi/listen`
//! (`listen`) that reads the event log with a cursor per client, so nothing is lost between two
//! polls, across a restart, or across nodes.

pub mod hub;
pub mod listen;
