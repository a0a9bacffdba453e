//! The one place where what failed inside becomes what a client sees: domain refusals and
//! failures map to the protocol's `{"errcode","error"}` answers (§6) or to a mailbox page, and
//! the cause of every failure that is not a plain refusal is logged here, once.
//!
//! The policy: a refusal (the request broke a rule) is answered with its code and not logged as an
//! error; a failure (the database, a hashing task, a key that does not open) is answered
//! `temporarily_unavailable` (1002) or a 503 page, and its cause goes to the log with what was
//! being done. A cause never reaches the client.

use super::i18n::Texts;
use super::reply::Reply;
use super::webmail::message;
use crate::StoreError;
use crate::auth::access::Refusal;
use crate::directory::DirError;
use axum::http::StatusCode;
use axum::response::Response;
use bizmail_protocol::ErrorCode;
use std::fmt::Display;

/// Logs an internal failure with what was being done.
pub fn log_failure(during: &str, cause: &dyn Display) {
    tracing::error!(error = %cause, "{during} failed");
}

impl From<DirError> for Reply {
    fn from(e: DirError) -> Reply {
        match e {
            DirError::Refused(code) => Reply::Error(code),
            // Only the newer API's routes ask for its rules, and they map it themselves.
            DirError::RefusedCgi(_) => Reply::Error(ErrorCode::InvalidRequest),
            DirError::Store(e) => Reply::from(e),
            DirError::Internal(cause) => {
                log_failure("a directory operation", &cause);
                Reply::Error(ErrorCode::TemporarilyUnavailable)
            }
        }
    }
}

impl From<StoreError> for Reply {
    fn from(e: StoreError) -> Reply {
        log_failure("a store operation", &e);
        Reply::Error(ErrorCode::TemporarilyUnavailable)
    }
}

impl From<Refusal> for Reply {
    fn from(r: Refusal) -> Reply {
        if let Some(cause) = &r.cause {
            log_failure("authentication", cause);
        }
        Reply::Error(r.code)
    }
}

/// The "temporarily unavailable" page (503) of the web mailbox, for a failure whose cause is
/// logged here.
pub fn unavailable_page(t: &Texts, during: &str, cause: &dyn Display) -> Response {
    log_failure(during, cause);
    message(t, StatusCode::SERVICE_UNAVAILABLE, t.unavailable, "", None)
}
