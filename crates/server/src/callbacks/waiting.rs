//! The console's view of a tenant's outbox: the notices waiting to be delivered (being sent, or
//! waiting for a retry after a refused attempt), with the event each announces; and the log of
//! delivery attempts the worker writes.

use super::{CallbackError, Callbacks};
use crate::store;

/// A notice waiting in a tenant's outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitingNotice {
    /// When it was made from its event (Unix ms).
    pub created_ms: i64,
    /// Its `MsgType`: `Mail` (a new mail) or `UnRead` (an unread count).
    pub kind: String,
    /// The member it is about.
    pub member: String,
    /// Attempts the receiver refused so far.
    pub attempts: u64,
    /// When the next attempt is due (Unix ms).
    pub next_ms: i64,
    /// Whether an attempt is under way now.
    pub sending: bool,
}

impl Callbacks {
    /// A tenant's waiting notices, newest first, at most `limit`.
    ///
    /// # Errors
    /// The database.
    pub async fn waiting(
        &self,
        tenant_id: i64,
        limit: u32,
    ) -> Result<Vec<WaitingNotice>, CallbackError> {
        let now = store::now_ms();
        let rows = store::callbacks::waiting(&self.store, tenant_id, i64::from(limit)).await?;
        Ok(rows
            .into_iter()
            .map(|r| WaitingNotice {
                created_ms: r.created_ms,
                kind: cdata(&r.plaintext, "MsgType"),
                member: notice_member(&r.plaintext),
                attempts: u64::try_from(r.attempts).unwrap_or(0),
                next_ms: r.next_ms,
                sending: r.lease_ms > now,
            })
            .collect())
    }

    /// A tenant's newest delivery attempts, newest first, at most `limit`.
    ///
    /// # Errors
    /// The database.
    pub async fn attempts(
        &self,
        tenant_id: i64,
        limit: u32,
    ) -> Result<Vec<store::callbacks::Attempt>, CallbackError> {
        Ok(store::callbacks::attempts(&self.store, tenant_id, i64::from(limit)).await?)
    }
}

/// The member a notice is about: `ToUserID` of a new mail, `UserID` of an unread count.
pub(super) fn notice_member(xml: &str) -> String {
    match cdata(xml, "MsgType").as_str() {
        "Mail" => cdata(xml, "ToUserID"),
        _ => cdata(xml, "UserID"),
    }
}

/// The text of `<tag><![CDATA[…]]></tag>` in a notice's plaintext; empty when absent.
pub(super) fn cdata(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}><![CDATA[");
    xml.find(&open)
        .map(|at| &xml[at + open.len()..])
        .and_then(|rest| rest.find("]]>").map(|end| rest[..end].to_owned()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::cdata;

    #[test]
    fn fields_of_a_notice() {
        let xml = "<xml><CorpID><![CDATA[c]]></CorpID><MsgType><![CDATA[UnRead]]></MsgType>\
                   <UserID><![CDATA[b@x]]></UserID><Time>1</Time></xml>";
        assert_eq!(cdata(xml, "MsgType"), "UnRead");
        assert_eq!(cdata(xml, "UserID"), "b@x");
        assert_eq!(cdata(xml, "ToUserID"), "");
    }
}
