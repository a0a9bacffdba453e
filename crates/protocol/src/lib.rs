//! The wire contract of Tencent Exmail's "BizMail OpenApi", as bizmail serves it.
//!
//! Every quirk of the protocol lives here, once: how parameters are pulled out of a request
//! ([`params`]), how clients authenticate ([`credentials`]), the error codes and their answer shape
//! ([`error`]), the directory version ([`ver`]) and the JSON answers with their key order
//! ([`response`]). This crate does no I/O and knows nothing of HTTP servers or databases, so the
//! server and the client SDK share it without dragging either in.
//!
//! The contract is `shared/spec/PROTOCOL.md`; section numbers (§) in the docs below refer to it.

pub mod address;
pub mod cgi;
pub mod credentials;
pub mod directory;
pub mod error;
pub mod params;
pub mod party;
pub mod response;
pub mod sandbox;
pub mod text;
pub mod ver;

pub use address::Address;
pub use error::{ApiError, ErrorCode};
pub use params::{Params, ParamsLimits};
pub use party::PartyPath;
pub use ver::Ver;
