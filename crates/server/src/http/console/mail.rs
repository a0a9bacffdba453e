//! The console's mail pages (being built).

use crate::http::AppState;
use axum::Router;

/// The routes of this area.
pub fn routes() -> Router<AppState> {
    Router::new()
}
