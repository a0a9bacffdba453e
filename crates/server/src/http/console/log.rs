//! The operation log page (操作记录, §1.3): every call of both APIs and every console action of
//! the admin's tenant, newest first, filtered by UTC day range, endpoint (a part of it), outcome
//! and client address, 50 to a page, and the same selection as CSV (at most 50,000 rows, the
//! newest; a narrower filter gets older ones).

use super::texts::Ct;
use super::{Signed, unavailable};
use crate::auth::console::Kind;
use crate::http::AppState;
use crate::http::i18n::Lang;
use crate::http::request::ClientIp;
use crate::store::oplog::Search;
use crate::tenants::OplogEntry;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use chrono::NaiveDate;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

/// Rows on one page.
const PAGE: i64 = 50;
/// Rows in one CSV export.
const CSV_ROWS: i64 = 50_000;
/// The longest filter text kept (an endpoint or an address is far shorter).
const FILTER_CHARS: usize = 128;

/// The page's filters, as the form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    endpoint: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    page: Option<u32>,
}

impl LogQuery {
    /// Trims and bounds what was typed; an unknown outcome is "any".
    fn tidy(mut self) -> LogQuery {
        for s in [
            &mut self.from,
            &mut self.to,
            &mut self.endpoint,
            &mut self.ip,
        ] {
            *s = s.trim().chars().take(FILTER_CHARS).collect();
        }
        if !matches!(self.outcome.as_str(), "ok" | "failed") {
            self.outcome = "any".to_owned();
        }
        self
    }

    /// `[from, to)` in Unix milliseconds: from the start of `from` to the end of `to` (UTC days);
    /// `None` for a date that is not `YYYY-MM-DD`.
    fn range(&self) -> Option<(i64, i64)> {
        let day = |s: &str, end: bool| -> Option<i64> {
            if s.is_empty() {
                return Some(if end { i64::MAX } else { 0 });
            }
            let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
            let d = if end { d.succ_opt()? } else { d };
            Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
        };
        Some((day(&self.from, false)?, day(&self.to, true)?))
    }

    /// The query string of these filters on page `page` (none for the first).
    fn to_query(&self, page: Option<u32>) -> String {
        let mut pairs = vec![
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
            ("endpoint", self.endpoint.as_str()),
            ("outcome", self.outcome.as_str()),
            ("ip", self.ip.as_str()),
        ];
        let page = page.map(|p| p.to_string());
        if let Some(p) = &page {
            pairs.push(("page", p));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// One row as the page shows it.
struct Row {
    when: String,
    client_ip: String,
    admin: String,
    endpoint: String,
    params: String,
    errcode: i64,
}

#[derive(Template)]
#[template(path = "console/log.html")]
struct LogTemplate<'a> {
    ct: &'a Ct,
    q: &'a LogQuery,
    query: &'a str,
    rows: Vec<Row>,
    newer: Option<String>,
    older: Option<String>,
    error: &'a str,
}

/// A time as the log shows it: `2026-12-06 16:40:12` (UTC).
fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The signed-in admin's search, or the page to answer instead.
async fn signed_search(
    state: &AppState,
    jar: &CookieJar,
    who: (Lang, std::net::IpAddr),
    q: LogQuery,
) -> Result<(Signed, LogQuery), Response> {
    let signed = Signed::require(state, jar, who, Kind::Admin).await?;
    Ok((signed, q.tidy()))
}

fn search<'a>(q: &'a LogQuery, (from_ms, to_ms): (i64, i64)) -> Search<'a> {
    Search {
        tenant_id: 0,
        from_ms,
        to_ms,
        endpoint: &q.endpoint,
        outcome: &q.outcome,
        client_ip: &q.ip,
    }
}

/// `GET /admin/log?from&to&endpoint&outcome&ip&page`.
pub async fn page(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Query(q): Query<LogQuery>,
) -> Response {
    let (signed, q) = match signed_search(&state, &jar, (lang, ip), q).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ct = signed.ct();
    let page = q.page.unwrap_or(1).clamp(1, 10_000);
    let (rows, error, status) = match q.range() {
        None => (Vec::new(), ct.bad_date, StatusCode::BAD_REQUEST),
        Some(range) => {
            let offset = i64::from(page - 1) * PAGE;
            let found = state
                .admin
                .oplog_search(signed.name(), search(&q, range), offset, PAGE + 1)
                .await;
            match found {
                Ok(rows) => (rows, "", StatusCode::OK),
                Err(e) => return unavailable(lang, "searching the operation log", &e),
            }
        }
    };
    let more = rows.len() > usize::try_from(PAGE).unwrap_or(usize::MAX);
    let rows: Vec<Row> = rows
        .into_iter()
        .take(usize::try_from(PAGE).unwrap_or(0))
        .map(|r: OplogEntry| Row {
            when: when(r.at_ms),
            client_ip: r.client_ip,
            admin: r.admin,
            endpoint: r.endpoint,
            params: r.params,
            errcode: r.errcode,
        })
        .collect();
    let query = q.to_query(None);
    let body = LogTemplate {
        ct,
        q: &q,
        query: &query,
        rows,
        newer: (page > 1).then(|| q.to_query(Some(page - 1))),
        older: more.then(|| q.to_query(Some(page + 1))),
        error,
    }
    .render()
    .unwrap_or_default();
    let mut r = signed.page(ct.nav_log, "/admin/log", &body);
    *r.status_mut() = status;
    r
}

/// `GET /admin/log.csv?…`: the same selection as a CSV file (UTF-8 with a byte-order mark, so
/// that spreadsheet programs read the Chinese right).
pub async fn csv(
    State(state): State<AppState>,
    lang: Lang,
    ClientIp(ip): ClientIp,
    jar: CookieJar,
    Query(q): Query<LogQuery>,
) -> Response {
    let (signed, q) = match signed_search(&state, &jar, (lang, ip), q).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(range) = q.range() else {
        return super::message(lang, StatusCode::BAD_REQUEST, signed.ct().bad_date, "");
    };
    let rows = match state
        .admin
        .oplog_search(signed.name(), search(&q, range), 0, CSV_ROWS)
        .await
    {
        Ok(rows) => rows,
        Err(e) => return unavailable(lang, "exporting the operation log", &e),
    };
    let mut out = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let header = [
        "time_utc",
        "client_ip",
        "admin",
        "endpoint",
        "params",
        "errcode",
    ];
    let mut written = out.write_record(header);
    for r in &rows {
        if written.is_err() {
            break;
        }
        let errcode = r.errcode.to_string();
        let at = when(r.at_ms);
        let record = [
            at.as_str(),
            &cell(&r.client_ip),
            &cell(&r.admin),
            &cell(&r.endpoint),
            &cell(&r.params),
            &errcode,
        ];
        written = out.write_record(record);
    }
    let bytes = written
        .map_err(|e| e.to_string())
        .and_then(|()| out.into_inner().map_err(|e| e.to_string()));
    match bytes {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"oplog.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => unavailable(lang, "writing the operation log as CSV", &e),
    }
}

/// A text cell that a spreadsheet will not run as a formula: a leading `=`, `+`, `-`, `@`, tab
/// or carriage return (a caller's parameters can hold anything) gets a `'` before it.
fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_text() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        for risky in ["+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert!(cell(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(cell("Alias=a@b.c"), "Alias=a@b.c");
        assert_eq!(cell(""), "");
    }

    #[test]
    fn filters_are_tidied_and_days_are_utc() {
        let q = LogQuery {
            from: " 2026-12-06 ".into(),
            to: "2026-12-06".into(),
            outcome: "weird".into(),
            ..LogQuery::default()
        }
        .tidy();
        assert_eq!(q.outcome, "any");
        assert_eq!(q.range(), Some((1_796_515_200_000, 1_796_601_600_000)));
        let bad = LogQuery {
            from: "06/12/2026".into(),
            ..LogQuery::default()
        };
        assert_eq!(bad.range(), None);
        assert_eq!(LogQuery::default().range(), Some((0, i64::MAX)));
        assert!(q.to_query(Some(2)).ends_with("&page=2"));
    }
}
