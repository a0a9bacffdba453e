//! `GET /metrics` (Prometheus' text format, for the addresses `metrics_allow` lists) and the
//! middleware that counts and times every routed request.

use super::AppState;
use super::request::ClientIp;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Counts and times a request by the route it matched (never by its raw path, which a client
/// could fill with endless distinct values).
pub async fn track(request: Request, next: Next) -> Response {
    // A clone of the matched path is a reference count, not a copy.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    crate::telemetry::http_request(
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// The method as a label, from a closed set: any other method (a client may send any token of up
/// to 8 KB) is `other`, so the series cannot grow from request lines.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 7] = [
        (Method::GET, "GET"),
        (Method::POST, "POST"),
        (Method::HEAD, "HEAD"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::PATCH, "PATCH"),
    ];
    KNOWN
        .iter()
        .find(|(m, _)| m == method)
        .map_or("other", |(_, label)| label)
}

/// The metrics, to an allowed address; 404 to anyone else (nothing to see here).
pub async fn metrics(State(state): State<AppState>, ClientIp(ip): ClientIp) -> Response {
    let allowed = state.config.metrics_allow.iter().any(|n| n.contains(&ip));
    let Some(handle) = crate::telemetry::handle().filter(|_| allowed) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    crate::telemetry::held_polls(state.push.held());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
