//! The new-mail callback on the newer API's page: setting or replacing it (the callbacks room
//! checks the URL with a signed, encrypted `echostr` first), removing it, a test notice, and the
//! delivery log: the running totals, the notices waiting in the outbox (being sent or waiting for
//! a retry), and the console's own callback actions from the operation log (each test notice with
//! what the receiver answered).

use super::apps_texts::{self, AppsTexts};
use super::{AppsForm, Done, Refusal};
use crate::callbacks::{CallbackError, CallbackStatus};
use crate::http::AppState;
use crate::http::console::{Signed, unavailable};
use crate::store::oplog::Search;
use axum::http::StatusCode;
use axum::response::Response;
use bizmail_protocol::ErrorCode;

/// Rows of each part of the delivery log.
const LOG_ROWS: u32 = 20;

/// The callback as the page shows it.
pub(super) struct CallbackView {
    /// The receiver and its totals; `None` when none is set.
    pub(super) status: Option<CallbackStatus>,
    /// The notices waiting, newest first.
    pub(super) waiting: Vec<WaitingRow>,
    /// The worker's delivery attempts, newest first.
    pub(super) attempts: Vec<AttemptRow>,
    /// The console's callback actions, newest first.
    pub(super) history: Vec<HistoryRow>,
}

/// One delivery attempt.
pub(super) struct AttemptRow {
    pub(super) when: String,
    pub(super) event: &'static str,
    pub(super) member: String,
    pub(super) outcome: &'static str,
    pub(super) ok: bool,
    pub(super) detail: String,
}

/// A notice waiting in the outbox.
pub(super) struct WaitingRow {
    pub(super) when: String,
    pub(super) event: &'static str,
    pub(super) member: String,
    pub(super) attempts: u64,
    pub(super) state: String,
}

/// One of the console's callback actions.
pub(super) struct HistoryRow {
    pub(super) when: String,
    pub(super) action: &'static str,
    pub(super) detail: String,
    pub(super) ok: bool,
}

/// A time as the page shows it: `2026-12-06 16:40:12` (UTC, as the operation log).
fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// The callback's part of the page; the error is the "unavailable" page.
pub(super) async fn view(
    state: &AppState,
    signed: &Signed,
    tenant_id: i64,
) -> Result<CallbackView, Response> {
    let at = apps_texts::at(signed.lang);
    let cb = &state.callbacks;
    let fail = |e: &dyn std::fmt::Display| unavailable(signed.lang, "reading the callback", e);
    let status = cb.status(tenant_id).await.map_err(|e| fail(&e))?;
    let event = |kind: &str| {
        if kind == "Mail" {
            at.kind_mail
        } else {
            at.kind_unread
        }
    };

    let waiting = cb
        .waiting(tenant_id, LOG_ROWS)
        .await
        .map_err(|e| fail(&e))?
        .into_iter()
        .map(|w| WaitingRow {
            when: when(w.created_ms),
            event: event(&w.kind),
            member: w.member,
            attempts: w.attempts,
            state: if w.sending {
                at.sending.to_owned()
            } else if w.next_ms > crate::store::now_ms() {
                format!("{}{}", at.retry_at, when(w.next_ms))
            } else {
                at.due.to_owned()
            },
        })
        .collect();
    let attempts = cb
        .attempts(tenant_id, LOG_ROWS)
        .await
        .map_err(|e| fail(&e))?
        .into_iter()
        .map(|a| AttemptRow {
            when: when(a.at_ms),
            event: event(&a.kind),
            member: a.member,
            outcome: match a.outcome.as_str() {
                "delivered" => at.attempt_delivered,
                "retry" => at.attempt_retry,
                _ => at.attempt_dropped,
            },
            ok: a.outcome == "delivered",
            detail: a.detail,
        })
        .collect();
    let search = Search {
        tenant_id: 0,
        from_ms: 0,
        to_ms: i64::MAX,
        endpoint: "console/apps/callback-",
        outcome: "any",
        client_ip: "",
    };
    let history = state
        .admin
        .oplog_search(signed.name(), search, 0, i64::from(LOG_ROWS))
        .await
        .map_err(|e| fail(&e))?
        .into_iter()
        .map(|row| HistoryRow {
            when: when(row.at_ms),
            action: match row.endpoint.rsplit('/').next().unwrap_or_default() {
                "callback-set" => at.act_set,
                "callback-test" => at.act_test,
                _ => at.act_remove,
            },
            detail: row.params,
            ok: row.errcode == 0,
        })
        .collect();
    Ok(CallbackView {
        status,
        waiting,
        attempts,
        history,
    })
}

/// A callback action (`callback-set`, `callback-test`, `callback-remove`) with its masked
/// parameters for the operation log; `None` for an unknown action.
pub(super) async fn act(
    state: &AppState,
    signed: &Signed,
    f: &AppsForm,
    action: &str,
) -> Option<(Result<Done, Refusal>, String)> {
    let at = apps_texts::at(signed.lang);
    let tenant_id = match state.admin.tenant_of(signed.name()).await {
        Ok(t) => t,
        Err(e) => return Some((Err(Refusal::Failed(Box::new(e))), String::new())),
    };
    let cb = &state.callbacks;
    Some(match action {
        "callback-set" => {
            let mut params = format!("url={}; token=***; aes_key=***", masked_url(&f.url));
            let outcome = cb
                .set(tenant_id, f.url.trim(), f.token.trim(), f.aes_key.trim())
                .await;
            if let Err(e) = &outcome {
                params.push_str(&format!("; result={e}"));
            }
            let done = outcome
                .map(|()| Done::Notice(at.callback_saved.to_owned()))
                .map_err(|e| refusal(at, e));
            (done, params)
        }
        "callback-test" => {
            let user = f.user.trim().to_lowercase();
            let outcome = cb.test(tenant_id, &user).await;
            let result = match &outcome {
                Ok(()) => "delivered".to_owned(),
                Err(CallbackError::NotDelivered(why)) => why.clone(),
                Err(e) => e.to_string(),
            };
            let done = outcome
                .map(|()| Done::Notice(at.test_sent.to_owned()))
                .map_err(|e| refusal(at, e));
            (done, format!("user={user}; result={result}"))
        }
        "callback-remove" => {
            let done = match cb.remove(tenant_id).await {
                Ok(true) => Ok(Done::Notice(at.callback_removed.to_owned())),
                Ok(false) => Err(refusal(at, CallbackError::NotSet)),
                Err(e) => Err(refusal(at, e)),
            };
            (done, String::new())
        }
        _ => return None,
    })
}

/// A callback refusal in words (the callbacks room's own detail after the page's text).
fn refusal(at: &AppsTexts, e: CallbackError) -> Refusal {
    let (text, status) = match e {
        CallbackError::Store(_) | CallbackError::Vault(_) => {
            return Refusal::Failed(Box::new(e));
        }
        CallbackError::InvalidUrl => (at.bad_url.to_owned(), StatusCode::BAD_REQUEST),
        CallbackError::InvalidToken => (at.bad_token.to_owned(), StatusCode::BAD_REQUEST),
        CallbackError::InvalidKey => (at.bad_key.to_owned(), StatusCode::BAD_REQUEST),
        CallbackError::NoCorpId => (at.no_corp.to_owned(), StatusCode::BAD_REQUEST),
        CallbackError::NotSet => (at.not_set.to_owned(), StatusCode::BAD_REQUEST),
        CallbackError::UnknownUser(u) => {
            (format!("{}{u}", at.unknown_user), StatusCode::BAD_REQUEST)
        }
        CallbackError::Unverified(why) => {
            (format!("{}{why}", at.unverified), StatusCode::BAD_GATEWAY)
        }
        CallbackError::NotDelivered(why) => (
            format!("{}{why}", at.not_delivered),
            StatusCode::BAD_GATEWAY,
        ),
    };
    Refusal::Said(text, i64::from(ErrorCode::InvalidRequest.code()), status)
}

/// A receiver's URL for the operation log: scheme, host, port and path, without the user part
/// or the query (either may hold the receiver's own secret).
fn masked_url(url: &str) -> String {
    match reqwest::Url::parse(url.trim()) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            let host = u.host_str().unwrap_or_default();
            format!("{}://{host}{port}{}", u.scheme(), u.path())
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::masked_url;

    #[test]
    fn urls_lose_their_secrets() {
        assert_eq!(
            masked_url(" https://u:pw@recv.example:8443/cb?key=s3cret "),
            "https://recv.example:8443/cb"
        );
        assert_eq!(masked_url("http://127.0.0.1/"), "http://127.0.0.1/");
        assert_eq!(masked_url("not a url"), "(not a URL)");
    }
}
