//! bizmail: a self-hosted enterprise mail server that speaks Tencent Exmail's BizMail OpenApi.
//!
//! The whole server as a library: [`Server::start`] takes a [`Config`], binds the listeners and
//! returns a [`Running`] server with its real addresses (tests bind port 0). The modules are the
//! map: `config`, `store` (all SQL), `auth` (credentials), `admin` (the admin side), `oplog` (the
//! operation-log writer), `http` (the router), `server` (start and stop).

pub mod admin;
pub mod auth;
pub mod config;
pub mod directory;
pub mod http;
pub mod login;
pub mod mail;
pub mod oplog;
pub mod push;
pub mod server;
pub mod smtp;
pub mod sso;
pub mod store;
pub mod telemetry;

pub use config::Config;
pub use server::{Running, Server, StartError};
