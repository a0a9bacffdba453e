//! The JSON answers of the protocol, with their keys in the documented order.
//!
//! Field order in these structs *is* the wire order (one recorded client reads the token answer by
//! position), so never reorder fields. Successful calls that return no data answer HTTP 200 with an
//! empty body instead (§1): they have no type here.

use crate::ver::Ver;
use serde::{Deserialize, Serialize};

/// The answer of `/cgi-bin/token` (§3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// 86 characters of base64url; a new one on every request.
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Lifetime in seconds (86400 unless configured otherwise).
    pub expires_in: u64,
    /// Always `""`: client-credentials tokens are not refreshed, they are requested anew.
    pub refresh_token: String,
}

/// One `{"Value": …}` entry of the `Count`/`List` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValueItem {
    /// A department name, department path or address.
    #[serde(rename = "Value")]
    pub value: String,
}

/// `{"Count": n, "List": [{"Value": …}]}`: `party/list`, `partyuser/list`, and a member's
/// `PartyList` in `user/get`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ValueList {
    /// How many entries follow.
    #[serde(rename = "Count")]
    pub count: usize,
    /// The entries.
    #[serde(rename = "List")]
    pub list: Vec<ValueItem>,
}

impl ValueList {
    /// A list of these values, counted.
    pub fn of(values: impl IntoIterator<Item = String>) -> ValueList {
        let list: Vec<ValueItem> = values
            .into_iter()
            .map(|value| ValueItem { value })
            .collect();
        ValueList {
            count: list.len(),
            list,
        }
    }
}

/// The answer of `user/get` (§7.2), keys in the recorded order. `Status` is not in the document
/// but was in recorded answers; it repeats `OpenType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    /// The primary address (always, even when asked by alias).
    #[serde(rename = "Alias")]
    pub alias: String,
    /// Display name.
    #[serde(rename = "Name")]
    pub name: String,
    /// 0 unset, 1 male, 2 female.
    #[serde(rename = "Gender")]
    pub gender: u8,
    /// Aliases, comma-separated, `""` if none.
    #[serde(rename = "SlaveList")]
    pub slave_list: String,
    /// Position.
    #[serde(rename = "Position")]
    pub position: String,
    /// Telephone.
    #[serde(rename = "Tel")]
    pub tel: String,
    /// Mobile.
    #[serde(rename = "Mobile")]
    pub mobile: String,
    /// External id.
    #[serde(rename = "ExtId")]
    pub ext_id: String,
    /// 1 enabled, 2 disabled.
    #[serde(rename = "Status")]
    pub status: u8,
    /// Department paths without the root.
    #[serde(rename = "PartyList")]
    pub party_list: ValueList,
    /// 1 enabled, 2 disabled.
    #[serde(rename = "OpenType")]
    pub open_type: u8,
}

/// One entry of `user/list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChange {
    /// 1 DEL, 2 ADD, 3 MOD.
    #[serde(rename = "Action")]
    pub action: u8,
    /// The member's primary address.
    #[serde(rename = "Alias")]
    pub alias: String,
}

/// The answer of `user/list` (§7.3): `Ver` a JSON number here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    /// The tenant's current directory version.
    #[serde(rename = "Ver")]
    pub ver: Ver,
    /// How many entries follow.
    #[serde(rename = "Count")]
    pub count: usize,
    /// One entry per changed member, by each member's latest change.
    #[serde(rename = "List")]
    pub list: Vec<UserChange>,
}

/// One entry of `user/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckItem {
    /// The address as given, trimmed.
    #[serde(rename = "Email")]
    pub email: String,
    /// -1 invalid or foreign, 0 free, 1 member, 2 alias, 3 mail group.
    #[serde(rename = "Type")]
    pub kind: i8,
}

/// The answer of `user/check` (§7.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckList {
    /// How many entries follow.
    #[serde(rename = "Count")]
    pub count: usize,
    /// One entry per address asked, in input order.
    #[serde(rename = "List")]
    pub list: Vec<CheckItem>,
}

/// The answer of `mail/newcount` (§7.4): `NewCount` a JSON *string*, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCount {
    /// The member's primary address.
    #[serde(rename = "Alias")]
    pub alias: String,
    /// Unread mails in the inbox, as a string of digits.
    #[serde(rename = "NewCount")]
    pub new_count: String,
}

/// The answer of `mail/authkey` (§4): every recorded client reads `auth_key`, the document shows
/// `AuthKey`; both carry the same ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthKey {
    /// The ticket, as recorded clients read it.
    pub auth_key: String,
    /// The same ticket, as the document shows it.
    #[serde(rename = "AuthKey")]
    pub auth_key_doc: String,
}

/// A new-mail notice of `openapi/listen` (§5), keys in the documented order; `NewCount` a JSON
/// number here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewMailNotice {
    /// The member's primary address.
    #[serde(rename = "UserName")]
    pub user_name: String,
    /// This member's copy (also the `mailid` of `/cgi-bin/login`).
    #[serde(rename = "MailId")]
    pub mail_id: String,
    /// The From header as written, e.g. `"Test" <test@gzdev.com>`.
    #[serde(rename = "Sender")]
    pub sender: String,
    /// The member's primary address.
    #[serde(rename = "Receiver")]
    pub receiver: String,
    /// The subject, decoded to UTF-8.
    #[serde(rename = "Subject")]
    pub subject: String,
    /// The first 100 characters of the text.
    #[serde(rename = "Summary")]
    pub summary: String,
    /// The member's unread count after this mail.
    #[serde(rename = "NewCount")]
    pub new_count: u64,
}

/// An unread-count notice of `openapi/listen` (§5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnreadNotice {
    /// The member's primary address.
    #[serde(rename = "UserName")]
    pub user_name: String,
    /// The member's unread count now.
    #[serde(rename = "NewCount")]
    pub new_count: u64,
}

/// The answer of `openapi/listen` (§5) that says the directory changed: `{"Ver":"<newer>"}`, the
/// version as a string (unlike `user/list`, where it is a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerNotice {
    /// The tenant's directory version now.
    #[serde(rename = "Ver", with = "crate::ver::as_string")]
    pub ver: crate::Ver,
}

/// The answer of `openapi/listen` (§5) when the poll timed out with nothing to say: `{"Ret":0}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Idle {
    /// Always 0.
    #[serde(rename = "Ret")]
    pub ret: i32,
}

/// Any answer of `openapi/listen`, as a client reads it. The variants are tried in this order,
/// so a new-mail notice (a superset of an unread notice's keys) is recognised first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ListenAnswer {
    /// The directory changed: fetch `user/list` from your version, then listen with this one.
    Ver(VerNotice),
    /// A member received a mail.
    NewMail(NewMailNotice),
    /// A member's unread count changed otherwise.
    Unread(UnreadNotice),
    /// Nothing happened; call again.
    Idle(Idle),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_keys_in_recorded_order() {
        let u = UserInfo {
            alias: "bob@gzdev.com".into(),
            name: "鲍勃".into(),
            gender: 1,
            slave_list: "bb@gzdev.com,bo@gzdev.com".into(),
            position: "工程师".into(),
            tel: "62394".into(),
            mobile: String::new(),
            ext_id: "100".into(),
            status: 1,
            party_list: ValueList::of(["部门 a".to_owned(), "部门 B/部门 b".to_owned()]),
            open_type: 1,
        };
        assert_eq!(
            serde_json::to_string(&u).unwrap(),
            r#"{"Alias":"bob@gzdev.com","Name":"鲍勃","Gender":1,"SlaveList":"bb@gzdev.com,bo@gzdev.com","Position":"工程师","Tel":"62394","Mobile":"","ExtId":"100","Status":1,"PartyList":{"Count":2,"List":[{"Value":"部门 a"},{"Value":"部门 B/部门 b"}]},"OpenType":1}"#
        );
    }

    #[test]
    fn list_answers() {
        let l = UserList {
            ver: Ver(1_346_674_693_912),
            count: 1,
            list: vec![UserChange {
                action: 3,
                alias: "a@x.com".into(),
            }],
        };
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"{"Ver":1346674693912,"Count":1,"List":[{"Action":3,"Alias":"a@x.com"}]}"#
        );
        let n = NewCount {
            alias: "a@x.com".into(),
            new_count: "15".into(),
        };
        assert_eq!(
            serde_json::to_string(&n).unwrap(),
            r#"{"Alias":"a@x.com","NewCount":"15"}"#
        );
        assert_eq!(
            serde_json::to_string(&ValueList::default()).unwrap(),
            r#"{"Count":0,"List":[]}"#
        );
    }

    #[test]
    fn token_keys_in_documented_order() {
        let t = TokenResponse {
            access_token: "t".into(),
            token_type: "Bearer".into(),
            expires_in: 86400,
            refresh_token: String::new(),
        };
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            r#"{"access_token":"t","token_type":"Bearer","expires_in":86400,"refresh_token":""}"#
        );
    }

    #[test]
    fn listen_answers_both_ways() {
        let ver = VerNotice {
            ver: crate::Ver(1_467_945_892_870),
        };
        assert_eq!(
            serde_json::to_string(&ver).unwrap(),
            r#"{"Ver":"1467945892870"}"#
        );
        assert_eq!(
            serde_json::to_string(&Idle::default()).unwrap(),
            r#"{"Ret":0}"#
        );
        let read = |s: &str| serde_json::from_str::<ListenAnswer>(s).unwrap();
        assert_eq!(
            read(r#"{"Ver":"7"}"#),
            ListenAnswer::Ver(VerNotice { ver: crate::Ver(7) })
        );
        assert_eq!(read(r#"{"Ret":0}"#), ListenAnswer::Idle(Idle::default()));
        assert!(matches!(
            read(r#"{"UserName":"a@b.c","NewCount":3}"#),
            ListenAnswer::Unread(UnreadNotice { new_count: 3, .. })
        ));
        assert!(matches!(
            read(
                r#"{"UserName":"a@b.c","MailId":"m","Sender":"s","Receiver":"a@b.c","Subject":"x","Summary":"y","NewCount":1}"#
            ),
            ListenAnswer::NewMail(NewMailNotice { new_count: 1, .. })
        ));
    }
}
