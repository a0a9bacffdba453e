//! A sandbox's record as a HAR 1.2 file (the HTTP Archive format browsers' developer tools and
//! proxies read), so an integrator opens what their code sent in the tool they already know.
//! bizmail's own fields start with `_`, as the format allows: `_client`, `_token`, `_fault`.

use crate::store::sandbox::Exchange;
use serde_json::{Value, json};

/// The HAR document of `exchanges`; `origin` (`http://host:port`) completes their URLs.
pub fn document(exchanges: &[Exchange], origin: &str) -> Value {
    json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "bizmail", "version": env!("CARGO_PKG_VERSION") },
            "pages": [],
            "entries": exchanges.iter().map(|e| entry(e, origin)).collect::<Vec<_>>(),
        }
    })
}

fn entry(e: &Exchange, origin: &str) -> Value {
    let started = chrono::DateTime::from_timestamp_millis(e.at_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    #[allow(clippy::cast_precision_loss)] // microseconds of one call: far below 2^52
    let time_ms = e.duration_us as f64 / 1000.0;
    let request_headers = pairs(&e.request_headers);
    let response_headers = pairs(&e.response_headers);
    let mime = |headers: &[Value]| {
        headers
            .iter()
            .find(|h| h["name"].as_str() == Some("content-type"))
            .and_then(|h| h["value"].as_str())
            .unwrap_or("")
            .to_owned()
    };
    let query: Vec<Value> = e
        .url
        .split_once('?')
        .map(|(_, q)| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| json!({ "name": k, "value": v }))
                .collect()
        })
        .unwrap_or_default();
    let mut request = json!({
        "method": e.method,
        "url": format!("{origin}{}", e.url),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": request_headers,
        "queryString": query,
        "headersSize": -1,
        "bodySize": e.request_body.len(),
    });
    if !e.request_body.is_empty() {
        request["postData"] = json!({ "mimeType": mime(&request_headers), "text": e.request_body });
    }
    let status_text = u16::try_from(e.status)
        .ok()
        .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
        .and_then(|s| s.canonical_reason())
        .unwrap_or("connection cut");
    let mut entry = json!({
        "startedDateTime": started,
        "time": time_ms,
        "request": request,
        "response": {
            "status": e.status,
            "statusText": status_text,
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": response_headers,
            "content": {
                "size": e.response_body.len(),
                "mimeType": mime(&response_headers),
                "text": e.response_body,
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": e.response_body.len(),
        },
        "cache": {},
        "timings": { "send": 0, "wait": time_ms, "receive": 0 },
        "_client": e.client,
        "_token": e.token,
    });
    if !e.fault.is_empty() {
        entry["_fault"] = json!(e.fault);
        entry["comment"] = json!(format!("sandbox fault: {}", e.fault));
    }
    entry
}

/// Stored `[[name, value], …]` as HAR's `[{"name", "value"}, …]`.
fn pairs(stored: &str) -> Vec<Value> {
    serde_json::from_str::<Vec<(String, String)>>(stored)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect()
}
