//! `GET /metrics` (Prometheus' text format, for the addresses `metrics_allow` lists) and the
//! middleware that counts and times every routed request.

use super::AppState;
use super::request::ClientIp;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Instant;

/// Counts and times every request by the route it matched (never by its raw path, which a
/// client could fill with endless distinct values). A tower layer rather than
/// `axum::middleware::from_fn`, which boxes the inner service and its future on every request:
/// for the cheapest calls that was a measurable share, and a held `listen` poll kept both boxes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Track;

impl<S> tower::Layer<S> for Track {
    type Service = Tracked<S>;

    fn layer(&self, inner: S) -> Tracked<S> {
        Tracked(inner)
    }
}

/// The service [`Track`] wraps around a route.
#[derive(Debug, Clone)]
pub struct Tracked<S>(S);

impl<S> tower::Service<Request> for Tracked<S>
where
    S: tower::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Timed<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Timed<S::Future> {
        // A clone of the matched path is a reference count, not a copy.
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = method_label(request.method());
        Timed {
            inner: self.0.call(request),
            route,
            method,
            started: Instant::now(),
        }
    }
}

pin_project_lite::pin_project! {
    /// A routed request's future, counted and timed when it yields its response.
    pub struct Timed<F> {
        #[pin]
        inner: F,
        route: Option<MatchedPath>,
        method: &'static str,
        started: Instant,
    }
}

impl<F, E> std::future::Future for Timed<F>
where
    F: std::future::Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let out = std::task::ready!(this.inner.poll(cx));
        if let Ok(response) = &out {
            crate::telemetry::http_request(
                this.route.as_ref().map_or("unmatched", MatchedPath::as_str),
                this.method,
                response.status().as_u16(),
                this.started.elapsed().as_secs_f64(),
            );
        }
        std::task::Poll::Ready(out)
    }
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
