//! The extractor every protocol handler starts from: the merged parameters (§1), the
//! `Authorization` header and the client's address, with the body-size limit enforced.

use super::AppState;
use super::reply::Reply;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bizmail_protocol::{ErrorCode, Params, ParamsLimits};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// A protocol request, read whole.
#[derive(Debug)]
pub struct ApiRequest {
    /// The parameters, or `invalid_request` when they could not be read (invalid UTF-8, too many,
    /// a broken multipart or JSON body). Kept as a result so the handler can log the refusal.
    pub params: Result<Params, ErrorCode>,
    /// The `Authorization` header, when it is visible ASCII.
    pub authorization: Option<String>,
    /// The peer address of the connection.
    pub client_ip: IpAddr,
}

impl FromRequest<AppState> for ApiRequest {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let client_ip = peer_ip(&parts.extensions);
        let body = axum::body::to_bytes(body, state.config.max_body_bytes)
            .await
            .map_err(|_| {
                Reply::ErrorWithStatus(ErrorCode::InvalidRequest, StatusCode::PAYLOAD_TOO_LARGE)
                    .into_response()
            })?;
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let params = Params::from_request(
            parts.uri.query().map(str::as_bytes),
            content_type,
            &body,
            ParamsLimits {
                max_params: state.config.max_params,
            },
        );
        let authorization = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(ApiRequest {
            params,
            authorization,
            client_ip,
        })
    }
}

/// The peer address of a request's connection (unspecified when served without one, in-process).
fn peer_ip(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The client address of a request, for the per-address limits of the pages.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(peer_ip(&parts.extensions)))
    }
}
