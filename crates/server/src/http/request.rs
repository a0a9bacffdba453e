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
    /// The request as it came, for a sandbox's record (taken by the handler; moved out of the
    /// request, never copied).
    pub raw: Option<Box<crate::sandbox::record::Raw>>,
}

/// Whether reading a body failed because it stopped arriving in time.
fn is_timeout(e: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = c.source();
    }
    false
}

impl FromRequest<AppState> for ApiRequest {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let client_ip = client_ip(&parts, &state.config.trusted_proxies);
        let body = whole_body(body, state.config.max_body_bytes)
            .await
            .map_err(|e| {
                // A body that stopped arriving (the listener's body timeout) is 408; anything
                // else that ends reading it here is a body over the limit.
                let status = if is_timeout(&e) {
                    StatusCode::REQUEST_TIMEOUT
                } else {
                    StatusCode::PAYLOAD_TOO_LARGE
                };
                Reply::ErrorWithStatus(ErrorCode::InvalidRequest, status).into_response()
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
        let raw = crate::sandbox::record::Raw::new(
            parts.method,
            parts.uri,
            std::mem::take(&mut parts.headers),
            body,
        );
        Ok(ApiRequest {
            params,
            authorization,
            client_ip,
            raw: Some(Box::new(raw)),
        })
    }
}

/// A request's body, read whole (up to `limit` bytes). A body known to be empty is not read at
/// all: reading it would arm the listener's body timeout (a timer set and cancelled) for nothing,
/// and the cheapest calls (a bearer token, no parameters) come without one.
pub async fn whole_body(
    body: axum::body::Body,
    limit: usize,
) -> Result<axum::body::Bytes, axum::Error> {
    use axum::body::HttpBody as _;
    if body.is_end_stream() {
        return Ok(axum::body::Bytes::new());
    }
    axum::body::to_bytes(body, limit).await
}

/// An address as the operation log writes it, the way `Display` does. An IPv4 address is
/// written octet by octet: `to_string` goes through the formatting machinery (padding support
/// included), a measurable share of a cheap call's cost.
pub fn ip_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut text = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            text.push('.');
        }
        text.push_str(itoa::Buffer::new().format(octet));
    }
    text
}

/// The peer address of a request's connection (unspecified when served without one, in-process).
fn peer_ip(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The client's address: the connection's peer; or, when that peer is a trusted proxy, the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy itself. Entries further left
/// were written by whoever sent the request and can say anything, so they are never believed.
/// An entry that is not an address stops the walk at the last trusted hop.
pub fn client_ip(parts: &axum::http::request::Parts, trusted: &[ipnet::IpNet]) -> IpAddr {
    let peer = peer_ip(&parts.extensions);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let parsed = hop
            .parse::<IpAddr>()
            .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()));
        let Ok(ip) = parsed.map(|ip| ip.to_canonical()) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The client address of a request (see [`client_ip`]), for the per-address limits of the pages.
pub struct ClientIp(pub IpAddr);

impl axum::extract::FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<ClientIp, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, &state.config.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(peer: &str, xff: &[&str], trusted: &[&str]) -> IpAddr {
        let mut req = axum::http::Request::builder();
        for v in xff {
            req = req.header("x-forwarded-for", *v);
        }
        let (mut parts, ()) = req.body(()).unwrap().into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::new(peer.parse().unwrap(), 1234)));
        let trusted: Vec<ipnet::IpNet> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        client_ip(&parts, &trusted)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ip_text_writes_what_display_writes() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "203.0.113.255",
            "10.20.30.4",
            "::1",
            "2001:db8::7",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(ip_text(ip), ip.to_string());
        }
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        // No trusted proxy: the header is ignored.
        assert_eq!(from("192.0.2.1", &["203.0.113.9"], &[]), ip("192.0.2.1"));
        // From a trusted proxy: the right-most untrusted entry.
        let proxies = ["10.0.0.0/8"];
        assert_eq!(
            from("10.0.0.2", &["203.0.113.9"], &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(
            from(
                "10.0.0.2",
                &["198.51.100.7, 203.0.113.9, 10.0.0.3"],
                &proxies
            ),
            ip("203.0.113.9"),
            "a forged left-most entry is not believed"
        );
        assert_eq!(
            from("10.0.0.2", &["198.51.100.7", "203.0.113.9"], &proxies),
            ip("203.0.113.9"),
            "several header lines are one list"
        );
        assert_eq!(
            from("10.0.0.2", &["[2001:db8::1]:443"], &proxies),
            ip("2001:db8::1")
        );
        assert_eq!(
            from("10.0.0.2", &["junk, 10.0.0.3"], &proxies),
            ip("10.0.0.3")
        );
        assert_eq!(from("10.0.0.2", &[], &proxies), ip("10.0.0.2"));
        // A peer that is not trusted cannot speak for anyone.
        assert_eq!(
            from("192.0.2.1", &["203.0.113.9"], &proxies),
            ip("192.0.2.1")
        );
    }
}
