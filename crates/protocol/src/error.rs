//! The protocol's error codes (§6) and the one answer shape they travel in.
//!
//! Every failure a client can see is one [`ErrorCode`]; its answer body is always
//! `{"errcode":"<code>","error":"<name>"}` with the code as a JSON *string* (recorded clients compare
//! `errcode == "1200"`). The message is the same for everyone: no internal detail ever reaches it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Every error code of PROTOCOL.md §6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 1001: a required parameter missing, malformed, out of range, or too many values.
    InvalidRequest,
    /// 1002: the store is unreachable or overloaded; the client may retry.
    TemporarilyUnavailable,
    /// 1100: unknown admin or wrong interface key.
    InvalidClient,
    /// 1101: `grant_type` other than `client_credentials`.
    UnsupportedGrantType,
    /// 1102: the tenant has not applied for the OpenAPI, or has switched sync off.
    OpenapiDisabled,
    /// 1200: missing, unknown, expired or revoked access token.
    InvalidToken,
    /// 1301: no such member.
    UserNotFound,
    /// 1302: not a valid address, or not in one of the tenant's domains.
    InvalidAlias,
    /// 1303: password not 6–32 characters, or not 32 hex characters in MD5 mode.
    InvalidPassword,
    /// 1304: the address is already a member, an alias or a group.
    AliasExists,
    /// 1305: more than 5 aliases.
    TooManySlaves,
    /// 1306: a field too long or out of its range.
    InvalidField,
    /// 1310: no such department.
    PartyNotFound,
    /// 1311: more than 5 levels, an empty or over-64-character name.
    InvalidPartyPath,
    /// 1312: deleting a department that still has members or sub-departments.
    PartyNotEmpty,
    /// 1313: moving or renaming onto an existing department, or into its own subtree.
    PartyExists,
    /// 1320: no such mail group.
    GroupNotFound,
    /// 1321: `status` not one of `all`, `inner`, `group`, `list`.
    InvalidGroupStatus,
    /// 1322: allow-list change on a group whose status is not `list`.
    AllowlistNotAllowed,
    /// 1323: `delallowlist` would leave the list empty.
    AllowlistCannotBeEmpty,
    /// 1324: a group would contain itself.
    GroupCycle,
    /// 1400: `mail/newcount` for an address that has no mailbox.
    MailboxNotFound,
    /// 10001: the caller's address is not on the tenant's allow list.
    IpNotAllowed,
    /// 10002: too many calls from one address.
    IpFreqBlock,
}

impl ErrorCode {
    /// Every code, in the order of §6 (for docs, tests and the SDK).
    pub const ALL: [ErrorCode; 24] = [
        ErrorCode::InvalidRequest,
        ErrorCode::TemporarilyUnavailable,
        ErrorCode::InvalidClient,
        ErrorCode::UnsupportedGrantType,
        ErrorCode::OpenapiDisabled,
        ErrorCode::InvalidToken,
        ErrorCode::UserNotFound,
        ErrorCode::InvalidAlias,
        ErrorCode::InvalidPassword,
        ErrorCode::AliasExists,
        ErrorCode::TooManySlaves,
        ErrorCode::InvalidField,
        ErrorCode::PartyNotFound,
        ErrorCode::InvalidPartyPath,
        ErrorCode::PartyNotEmpty,
        ErrorCode::PartyExists,
        ErrorCode::GroupNotFound,
        ErrorCode::InvalidGroupStatus,
        ErrorCode::AllowlistNotAllowed,
        ErrorCode::AllowlistCannotBeEmpty,
        ErrorCode::GroupCycle,
        ErrorCode::MailboxNotFound,
        ErrorCode::IpNotAllowed,
        ErrorCode::IpFreqBlock,
    ];

    /// The numeric code, as sent in `errcode` (a string on the wire).
    pub fn code(self) -> u32 {
        use ErrorCode::*;
        match self {
            InvalidRequest => 1001,
            TemporarilyUnavailable => 1002,
            InvalidClient => 1100,
            UnsupportedGrantType => 1101,
            OpenapiDisabled => 1102,
            InvalidToken => 1200,
            UserNotFound => 1301,
            InvalidAlias => 1302,
            InvalidPassword => 1303,
            AliasExists => 1304,
            TooManySlaves => 1305,
            InvalidField => 1306,
            PartyNotFound => 1310,
            InvalidPartyPath => 1311,
            PartyNotEmpty => 1312,
            PartyExists => 1313,
            GroupNotFound => 1320,
            InvalidGroupStatus => 1321,
            AllowlistNotAllowed => 1322,
            AllowlistCannotBeEmpty => 1323,
            GroupCycle => 1324,
            MailboxNotFound => 1400,
            IpNotAllowed => 10001,
            IpFreqBlock => 10002,
        }
    }

    /// The snake_case name, as sent in `error`.
    pub fn name(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest => "invalid_request",
            TemporarilyUnavailable => "temporarily_unavailable",
            InvalidClient => "invalid_client",
            UnsupportedGrantType => "unsupported_grant_type",
            OpenapiDisabled => "openapi_disabled",
            InvalidToken => "invalid_token",
            UserNotFound => "user_not_found",
            InvalidAlias => "invalid_alias",
            InvalidPassword => "invalid_password",
            AliasExists => "alias_exists",
            TooManySlaves => "too_many_slaves",
            InvalidField => "invalid_field",
            PartyNotFound => "party_not_found",
            InvalidPartyPath => "invalid_party_path",
            PartyNotEmpty => "party_not_empty",
            PartyExists => "party_exists",
            GroupNotFound => "group_not_found",
            InvalidGroupStatus => "invalid_group_status",
            AllowlistNotAllowed => "allowlist_not_allowed",
            AllowlistCannotBeEmpty => "allowlist_cannot_be_empty",
            GroupCycle => "group_cycle",
            MailboxNotFound => "mailbox_not_found",
            IpNotAllowed => "ip_not_allowed",
            IpFreqBlock => "ip_freq_block",
        }
    }

    /// Looks a code up by its number (as a client reads `errcode`).
    pub fn from_code(code: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The HTTP status used when `http_error_status = true` is configured. The real service answers
    /// every error with 200, which stays the default (§6).
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            TemporarilyUnavailable => 503,
            InvalidClient | InvalidToken => 401,
            IpNotAllowed | OpenapiDisabled => 403,
            IpFreqBlock => 429,
            UserNotFound | PartyNotFound | GroupNotFound | MailboxNotFound => 404,
            AliasExists | PartyExists | PartyNotEmpty => 409,
            _ => 400,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code(), self.name())
    }
}

/// The error answer body: `{"errcode":"<code>","error":"<name>"}`, in that key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("bizmail error {errcode} {error}")]
pub struct ApiError {
    /// The numeric code as a string, e.g. `"1200"`.
    pub errcode: String,
    /// The snake_case name, e.g. `"invalid_token"`.
    pub error: String,
}

impl ApiError {
    /// The known code of this answer, if the server sent one this crate knows.
    pub fn code(&self) -> Option<ErrorCode> {
        self.errcode.parse().ok().and_then(ErrorCode::from_code)
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError {
            errcode: code.code().to_string(),
            error: code.name().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_and_round_trip() {
        let mut codes: Vec<u32> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), Some(c));
            assert!(
                c.name()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_')
            );
        }
    }

    #[test]
    fn answer_shape_has_code_as_string_first() {
        let body = serde_json::to_string(&ApiError::from(ErrorCode::InvalidToken)).unwrap();
        assert_eq!(body, r#"{"errcode":"1200","error":"invalid_token"}"#);
        let body = serde_json::to_string(&ApiError::from(ErrorCode::IpFreqBlock)).unwrap();
        assert_eq!(body, r#"{"errcode":"10002","error":"ip_freq_block"}"#);
    }

    #[test]
    fn every_row_of_section_6() {
        let table = [
            (1001, "invalid_request"),
            (1002, "temporarily_unavailable"),
            (1100, "invalid_client"),
            (1101, "unsupported_grant_type"),
            (1102, "openapi_disabled"),
            (1200, "invalid_token"),
            (1301, "user_not_found"),
            (1302, "invalid_alias"),
            (1303, "invalid_password"),
            (1304, "alias_exists"),
            (1305, "too_many_slaves"),
            (1306, "invalid_field"),
            (1310, "party_not_found"),
            (1311, "invalid_party_path"),
            (1312, "party_not_empty"),
            (1313, "party_exists"),
            (1320, "group_not_found"),
            (1321, "invalid_group_status"),
            (1322, "allowlist_not_allowed"),
            (1323, "allowlist_cannot_be_empty"),
            (1324, "group_cycle"),
            (1400, "mailbox_not_found"),
            (10001, "ip_not_allowed"),
            (10002, "ip_freq_block"),
        ];
        for (code, name) in table {
            let c = ErrorCode::from_code(code).expect("code of §6");
            assert_eq!(c.name(), name);
        }
        assert_eq!(table.len(), ErrorCode::ALL.len());
    }
}
