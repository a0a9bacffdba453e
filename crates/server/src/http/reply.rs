//! How every OpenApi answer leaves: JSON with the protocol's content type, the empty body of a
//! success without data, or the `{"errcode","error"}` shape of §6.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bizmail_protocol::{ApiError, ErrorCode};
use serde::Serialize;

const JSON: &str = "application/json; charset=utf-8";

/// One answer of the OpenApi.
#[derive(Debug)]
pub enum Reply {
    /// A JSON document, already serialized (keys in struct order).
    Json(Vec<u8>),
    /// Success without data: HTTP 200 and an empty body (real clients test `body == ""`).
    Empty,
    /// A protocol error; HTTP 200 unless `http_error_status` is on.
    Error(ErrorCode),
    /// A protocol error with a fixed HTTP status (413 for an oversized body, 404 for an unknown
    /// endpoint), whatever `http_error_status` says.
    ErrorWithStatus(ErrorCode, StatusCode),
    /// A sandbox's fault: no answer, the connection is dropped (`http/sandbox.rs`).
    Cut,
}

impl Reply {
    /// Serializes `value` as the answer.
    pub fn json<T: Serialize>(value: &T) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply::Json(body),
            Err(e) => {
                tracing::error!(error = %e, "could not serialize an answer");
                Reply::Error(ErrorCode::TemporarilyUnavailable)
            }
        }
    }

    /// The error code this reply carries, if it is an error (for the operation log).
    pub fn errcode(&self) -> Option<ErrorCode> {
        match self {
            Reply::Error(c) | Reply::ErrorWithStatus(c, _) => Some(*c),
            _ => None,
        }
    }
}

impl From<ErrorCode> for Reply {
    fn from(code: ErrorCode) -> Reply {
        Reply::Error(code)
    }
}

fn error_response(code: ErrorCode, status: StatusCode) -> Response {
    let body = serde_json::to_vec(&ApiError::from(code)).unwrap_or_default();
    let mut r = (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
        body,
    )
        .into_response();
    r.extensions_mut().insert(code);
    r
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Json(body) => (
                [(header::CONTENT_TYPE, HeaderValue::from_static(JSON))],
                body,
            )
                .into_response(),
            Reply::Empty => Response::new(Body::empty()),
            Reply::Cut => super::sandbox::cut(),
            Reply::Error(code) => error_response(code, StatusCode::OK),
            Reply::ErrorWithStatus(code, status) => {
                let mut r = error_response(code, status);
                // A fixed status is not rewritten by the `http_error_status` layer.
                r.extensions_mut().remove::<ErrorCode>();
                r
            }
        }
    }
}
