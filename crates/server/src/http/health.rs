//! `GET /healthz`: 200 `ok` while the store answers (`ok (sandbox)` on a server-wide sandbox),
//! 503 otherwise (for load balancers).

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// Answers `ok` when the database answers a trivial query.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.health.check().await {
        // A server-wide sandbox says so to whatever checks it, so nobody mistakes it for a
        // real one.
        Ok(()) if state.config.sandbox => (StatusCode::OK, "ok (sandbox)\n"),
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
    }
}
