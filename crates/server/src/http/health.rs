//! `GET /healthz`: 200 `ok` while the store answers, 503 otherwise (for load balancers).

use super::AppState;
use axum::extract::State;
use axum::http::StatusCode;

/// Answers `ok` when the database answers a trivial query.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.health.check().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::warn!(error = %e, "health check: store unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "store unavailable\n")
        }
    }
}
