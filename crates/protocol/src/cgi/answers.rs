//! The newer API's answers (EXMAIL_API.md §4), keys in the order the contract shows. Every answer
//! opens with `errcode` (a JSON number) and `errmsg`; ids are JSON numbers below 2^53, gender and
//! option values strings, `enable` a number.

use serde::Serialize;

/// A successful answer: `errcode` 0, the `errmsg` of its kind, then the body's fields.
#[derive(Debug, Clone, Serialize)]
pub struct Answer<T: Serialize> {
    /// Always 0.
    pub errcode: i64,
    /// `ok` for reads, `created`/`updated`/`deleted` for writes.
    pub errmsg: &'static str,
    /// The endpoint's own fields.
    #[serde(flatten)]
    pub body: T,
}

impl<T: Serialize> Answer<T> {
    /// A read's answer.
    pub fn ok(body: T) -> Answer<T> {
        Answer {
            errcode: 0,
            errmsg: "ok",
            body,
        }
    }

    /// A write's answer, `errmsg` saying what was done.
    pub fn done(errmsg: &'static str, body: T) -> Answer<T> {
        Answer {
            errcode: 0,
            errmsg,
            body,
        }
    }
}

/// No fields beyond `errcode` and `errmsg`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Nothing {}

/// `gettoken`.
#[derive(Debug, Clone, Serialize)]
pub struct Token {
    /// The token.
    pub access_token: String,
    /// Its lifetime in seconds.
    pub expires_in: u64,
}

/// `department/create`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Created {
    /// The new department's id.
    pub id: i64,
}

/// One department of `department/list`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Department {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its parent's id (0 for the root).
    pub parentid: i64,
    /// Its sort key.
    pub order: i64,
}

/// `department/list`.
#[derive(Debug, Clone, Serialize)]
pub struct Departments {
    /// The departments, by `(order, id)`.
    pub department: Vec<Department>,
}

/// One department of `department/search`, with its path of names below the root.
#[derive(Debug, Clone, Serialize)]
pub struct FoundDepartment {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its parent's id.
    pub parentid: i64,
    /// Its sort key.
    pub order: i64,
    /// Names from below the root to it, joined by `/`.
    pub path: String,
}

/// `department/search`.
#[derive(Debug, Clone, Serialize)]
pub struct FoundDepartments {
    /// What matched.
    pub department: Vec<FoundDepartment>,
}

/// `user/get`, and one entry of `user/list`. Every key always present.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// The primary address.
    pub userid: String,
    /// Display name.
    pub name: String,
    /// Department ids (1: the root).
    pub department: Vec<i64>,
    /// Job title.
    pub position: String,
    /// Mobile number.
    pub mobile: String,
    /// Telephone.
    pub tel: String,
    /// Staff number.
    pub extid: String,
    /// `"0"`, `"1"` or `"2"`.
    pub gender: String,
    /// 1 enabled, 0 disabled.
    pub enable: u8,
    /// Aliases.
    pub slaves: Vec<String>,
    /// 1: must change the password at the next login.
    pub cpwd_login: u8,
}

/// One entry of `user/simplelist`.
#[derive(Debug, Clone, Serialize)]
pub struct SimpleUser {
    /// The primary address.
    pub userid: String,
    /// Display name.
    pub name: String,
    /// Department ids.
    pub department: Vec<i64>,
}

/// `user/simplelist` and `user/list`.
#[derive(Debug, Clone, Serialize)]
pub struct Users<T: Serialize> {
    /// The members.
    pub userlist: Vec<T>,
}

/// One entry of `user/batchcheck`.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    /// The address as given.
    pub user: String,
    /// -1 invalid, 0 free, 1 member, 2 alias, 3 group.
    #[serde(rename = "type")]
    pub kind: i8,
}

/// `user/batchcheck`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedList {
    /// One entry per address asked about.
    pub list: Vec<Checked>,
}

/// `group/get`.
#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// The group's address.
    pub groupid: String,
    /// Its name.
    pub groupname: String,
    /// Member addresses.
    pub userlist: Vec<String>,
    /// Nested groups.
    pub grouplist: Vec<String>,
    /// Department ids.
    pub department: Vec<i64>,
    /// Who may write to it (0–3).
    pub allow_type: u8,
    /// The allow list.
    pub allow_userlist: Vec<String>,
}

/// `tag/create`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TagCreated {
    /// The tag's id.
    pub tagid: i64,
}

/// A member in `tag/get`.
#[derive(Debug, Clone, Serialize)]
pub struct TagUser {
    /// The member's address.
    pub userid: String,
    /// The member's name.
    pub name: String,
}

/// `tag/get`.
#[derive(Debug, Clone, Serialize)]
pub struct Tag {
    /// The tag's name.
    pub tagname: String,
    /// Tagged members.
    pub userlist: Vec<TagUser>,
    /// Tagged department ids.
    pub partylist: Vec<i64>,
}

/// `tag/addtagusers` and `tag/deltagusers` with some entries refused.
#[derive(Debug, Clone, Serialize)]
pub struct TagInvalid {
    /// The refused addresses joined by `|` (a string, as recorded), omitted when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalidlist: Option<String>,
    /// The refused department ids, omitted when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalidparty: Option<Vec<i64>>,
}

/// One tag of `tag/list`.
#[derive(Debug, Clone, Serialize)]
pub struct TagItem {
    /// Its id.
    pub tagid: i64,
    /// Its name.
    pub tagname: String,
}

/// `tag/list`.
#[derive(Debug, Clone, Serialize)]
pub struct Tags {
    /// Every tag of the tenant, by id.
    pub taglist: Vec<TagItem>,
}

/// One setting of `useroption/get`.
#[derive(Debug, Clone, Serialize)]
pub struct OptionValue {
    /// 1 forced secure login, 2 IMAP/SMTP, 3 POP/SMTP, 4 secure login on.
    #[serde(rename = "type")]
    pub kind: u8,
    /// `"0"` or `"1"`.
    pub value: String,
}

/// `useroption/get`.
#[derive(Debug, Clone, Serialize)]
pub struct Options {
    /// The settings asked for, in the order asked.
    pub option: Vec<OptionValue>,
}

/// `service/get_login_url`.
#[derive(Debug, Clone, Serialize)]
pub struct LoginUrl {
    /// Where to send the member's browser, once.
    pub login_url: String,
    /// Seconds it stays valid.
    pub expires_in: u64,
}

/// `mail/newcount`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct NewCount {
    /// Unread mails, a number.
    pub count: i64,
}

/// `log/mailstatus`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MailStatus {
    /// Mails sent.
    pub sendsum: i64,
    /// Mails received.
    pub recvsum: i64,
}

/// One row of `log/mail`.
#[derive(Debug, Clone, Serialize)]
pub struct MailLogRow {
    /// 1 sent, 2 received.
    pub mailtype: u8,
    /// The subject.
    pub subject: String,
    /// The sender's address.
    pub sender: String,
    /// The recipient's address.
    pub receiver: String,
    /// Unix seconds.
    pub time: i64,
    /// 0 other, 1 sending, 2 bounced, 3 sent, 4 failed, 11 blocked, 12 spam, 13 inbox, 14 folder.
    pub status: u8,
}

/// One row of `log/login`.
#[derive(Debug, Clone, Serialize)]
pub struct LoginLogRow {
    /// Unix seconds.
    pub time: i64,
    /// The client's address.
    pub ip: String,
    /// 1 web, 2 mobile, 3 app, 4 IMAP/POP/Exchange, 5 other.
    #[serde(rename = "type")]
    pub kind: u8,
}

/// One row of `log/batchjob`.
#[derive(Debug, Clone, Serialize)]
pub struct BatchJobRow {
    /// Unix seconds.
    pub time: i64,
    /// Who ran it.
    pub operator: String,
    /// The job's kind, 0–9.
    #[serde(rename = "type")]
    pub kind: u8,
    /// Its outcome.
    pub status: u8,
}

/// One row of `log/operation`.
#[derive(Debug, Clone, Serialize)]
pub struct OperationRow {
    /// Unix seconds.
    pub time: i64,
    /// Who did it.
    pub operator: String,
    /// The operation's kind, 1–41.
    #[serde(rename = "type")]
    pub kind: u8,
    /// What it was done to.
    pub operand: String,
    /// A remark.
    pub remark: String,
}

/// A log answer: `list:[…]`.
#[derive(Debug, Clone, Serialize)]
pub struct LogList<T: Serialize> {
    /// The rows, oldest first.
    pub list: Vec<T>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn errcode_and_errmsg_come_first() {
        let a = Answer::done("created", Created { id: 7 });
        assert_eq!(
            serde_json::to_string(&a).unwrap(),
            r#"{"errcode":0,"errmsg":"created","id":7}"#
        );
        let n = Answer::done("deleted", Nothing {});
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"errcode":0,"errmsg":"deleted"}"#
        );
    }
}
