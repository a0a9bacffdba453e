//! bizmail: a self-hosted enterprise mail server that speaks Tencent Exmail's BizMail OpenApi.
//!
//! The whole server as a library: [`Server::start`] takes a [`Config`], binds the listeners and
//! returns a [`Running`] server with its real addresses (tests bind port 0). The modules are the
//! rooms of the house (docs/ARCHITECTURE.md is the map): `config`, `tenants` (tenants, keys, the
//! operation log), `auth` (credentials and who may come in), `directory`, `mail`, `push`, `smtp`,
//! `http` (routes and pages only) and `store` (all SQL, private to the rooms).
//!
//! Public are [`Server`], [`Config`] and each room's domain API: [`tenants::Admin`],
//! [`mail::Mailboxes`], the directory's import, the SMTP session; nothing public hands out the
//! store.

mod accept;
mod activity;
mod auth;
pub mod callbacks;
pub mod check;
mod clock;
pub mod config;
mod conn_limits;
pub mod directory;
mod dns;
mod http;
pub mod imap;
pub mod mail;
pub mod outbound;
pub mod pop3;
mod push;
pub mod sandbox;
mod server;
pub mod smtp;
mod store;
mod telemetry;
pub mod tenants;
mod tls;

pub use config::Config;
/// The HTTP listener and its limits, for the bench to serve a bare handler exactly as bizmail
/// serves its routes.
pub use http::listener::{HttpLimits, serve as serve_http};
pub use server::{Running, Server, StartError};
/// The database failed (or could not be reached); domain APIs that only read or write the
/// store return it.
pub use store::StoreError;
