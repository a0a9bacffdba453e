//! The newer API's error codes (EXMAIL_API.md §5): Exmail's global return-code table, each with
//! the English `errmsg` bizmail answers. No client reads `errmsg`; every client reads `errcode`,
//! so the numbers are the contract and the texts only help a human reading a log.

use serde::Serialize;

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $num:literal, $msg:literal; )*) => {
        /// Every code bizmail answers on the newer API (`0` is success and has no variant).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $( $(#[$doc])* $name, )*
        }

        impl Code {
            /// The number on the wire (`errcode`).
            pub fn number(self) -> i64 {
                match self { $( Code::$name => $num, )* }
            }

            /// The English `errmsg`.
            pub fn errmsg(self) -> &'static str {
                match self { $( Code::$name => $msg, )* }
            }

            /// The code with this number, if bizmail answers it.
            pub fn from_number(n: i64) -> Option<Code> {
                match n { $( $num => Some(Code::$name), )* _ => None }
            }
        }
    };
}

codes! {
    /// -1: the store is unavailable or overloaded; retry.
    SystemBusy = -1, "system busy";
    /// 40001: gettoken with a wrong secret.
    InvalidCredential = 40001, "invalid credential";
    /// 40003: not an address in the tenant's domains.
    InvalidUserid = 40003, "invalid userid";
    /// 40013: gettoken with an unknown corp id.
    InvalidCorpid = 40013, "invalid corpid";
    /// 40014: a missing, unknown, revoked or expired access token.
    InvalidAccessToken = 40014, "invalid access_token";
    /// 40057: the callback URL did not pass its check.
    InvalidCallbackUrl = 40057, "invalid callback url";
    /// 40091: gettoken with an empty secret, or for an application switched off.
    InvalidSecret = 40091, "invalid secret";
    /// 40092: a field missing, mistyped or out of range; a body that is not JSON.
    InvalidParameter = 40092, "invalid parameter";
    /// 40093: more calls of one corp in flight than allowed.
    TooManyConcurrent = 40093, "too many concurrent requests";
    /// 45009: more gettoken calls of one corp than its rate allows.
    ApiLimit = 45009, "api call limit exceeded";
    /// 45024: `user/create` over the tenant's account limit.
    AccountLimit = 45024, "account limit exceeded";
    /// 50005: the tenant's API is switched off.
    CorpDisabled = 50005, "corp disabled";
    /// 60001: a department name empty or over 64 bytes.
    DeptNameLength = 60001, "invalid department name length";
    /// 60002: more than 5 levels of departments.
    DeptTooDeep = 60002, "department too deep";
    /// 60003: no department with that id.
    DeptNotFound = 60003, "department not found";
    /// 60004: no parent department with that id.
    ParentNotFound = 60004, "parent department not found";
    /// 60005: deleting a department that has members.
    DeptHasMembers = 60005, "department has members";
    /// 60006: deleting a department that has sub-departments.
    DeptHasChildren = 60006, "department has children";
    /// 60007: deleting or changing the root department.
    RootDept = 60007, "root department";
    /// 60008: a sibling already has the name.
    DeptNameExists = 60008, "department name exists";
    /// 60009: a department name with a forbidden character.
    DeptNameInvalid = 60009, "invalid department name";
    /// 60010: a department moved under itself.
    DeptCycle = 60010, "department cycle";
    /// 60102: `user/create` for an address that is a member already.
    UseridExists = 60102, "userid exists";
    /// 60103: a mobile number with other characters than digits, `+`, `-`, or too long.
    InvalidMobile = 60103, "invalid mobile";
    /// 60104: a position over 64 bytes.
    InvalidPosition = 60104, "invalid position";
    /// 60105: more than 20 departments for one member.
    TooManyDepartments = 60105, "too many departments";
    /// 60106: a `userlist` that is not a list of strings.
    InvalidUserlist = 60106, "invalid userlist";
    /// 60111: no member by that address or alias.
    UseridNotFound = 60111, "userid not found";
    /// 60112: a name empty or over 64 bytes.
    InvalidName = 60112, "invalid name";
    /// 60114: a gender other than 0, 1, 2.
    InvalidGender = 60114, "invalid gender";
    /// 60120: `user/create` without a password.
    PasswordRequired = 60120, "password required";
    /// 60123: a `department` entry malformed or unknown.
    InvalidDepartmentId = 60123, "invalid department id";
    /// 60124: `department/create` without a numeric `parentid`.
    InvalidParentid = 60124, "invalid parentid";
    /// 60127: `user/create` without `department`; an `id` missing.
    MissingDepartmentId = 60127, "missing department id";
    /// 60201: a tag id unknown or not a number.
    InvalidTagid = 60201, "invalid tagid";
    /// 60202: no tag id given.
    MissingTagid = 60202, "missing tagid";
    /// 60203: a tag name empty, missing or over 32 characters.
    InvalidTagname = 60203, "invalid tagname";
    /// 60204: the tag name is taken.
    TagnameExists = 60204, "tagname exists";
    /// 60205: `addtagusers`/`deltagusers` with no valid entry.
    AllInvalid = 60205, "all invalid";
    /// 60301: a `useroption` type outside 1–4.
    InvalidType = 60301, "invalid type";
    /// 60302: a malformed option or a value other than "0"/"1".
    InvalidOption = 60302, "invalid option";
    /// 600001: `user/create` for an address that is an alias.
    UseridIsAlias = 600001, "userid is an alias";
    /// 600002: `user/create` for an address that is a group.
    UseridIsGroup = 600002, "userid is a group";
    /// 600003: a password not 6–32 characters.
    InvalidPassword = 600003, "invalid password";
    /// 600004: an alias that is not an address in the tenant's domains.
    InvalidSlave = 600004, "invalid slave";
    /// 600005: an alias already a member, an alias or a group.
    SlaveTaken = 600005, "slave taken";
    /// 600006: more than 5 aliases.
    TooManySlaves = 600006, "too many slaves";
    /// 600007: a group id that is not an address in the tenant's domains.
    InvalidGroupid = 600007, "invalid groupid";
    /// 600008: no such mail group.
    GroupNotFound = 600008, "group not found";
    /// 600009: a group with no members given.
    GroupEmpty = 600009, "group empty";
    /// 600010: a malformed `userlist` entry.
    InvalidGroupUserlist = 600010, "invalid userlist";
    /// 600011: a malformed `grouplist` entry.
    InvalidGrouplist = 600011, "invalid grouplist";
    /// 600012: a malformed `department` entry of a group.
    InvalidPartylist = 600012, "invalid department list";
    /// 600013: `allow_type` not 0–3.
    InvalidAllowType = 600013, "invalid allow_type";
    /// 600014: an `allow_userlist` entry that is not an address.
    InvalidAllowUserlist = 600014, "invalid allow_userlist";
    /// 600015: `group/create` for a group that exists.
    GroupExists = 600015, "group exists";
    /// 600016: a `userlist` entry that is no member.
    GroupUserNotFound = 600016, "user not found";
    /// 600017: a `department` entry of a group that is no department.
    GroupPartyNotFound = 600017, "department not found";
    /// 600018: a `grouplist` entry that is no group.
    GroupGroupNotFound = 600018, "group not found";
    /// 600019: a group name with a forbidden character.
    InvalidGroupname = 600019, "invalid groupname";
    /// 600020: a group would contain itself.
    GroupCycle = 600020, "group cycle";
    /// 600021: groups nested more than 5 levels.
    GroupTooDeep = 600021, "group nesting too deep";
    /// 600023: `allow_type` 3 without `allow_userlist`.
    AllowUserlistMissing = 600023, "allow_userlist missing";
    /// 600024: `group/create` for an address that is a member or an alias.
    GroupidTaken = 600024, "groupid taken";
    /// 600025: a telephone number with other characters than digits, `+`, `-`, or too long.
    InvalidTel = 600025, "invalid tel";
    /// 600026: an `extid` over 64 bytes.
    InvalidExtid = 600026, "invalid extid";
    /// 600027: `user/batchcheck` with more than 20 addresses.
    BatchcheckLimit = 600027, "batchcheck limit exceeded";
    /// 600034: `fuzzy` not 0 or 1.
    InvalidFuzzy = 600034, "invalid fuzzy";
    /// 601001: a log date malformed, or the range reversed.
    InvalidDate = 601001, "invalid date";
    /// 601002: a log range longer than the configured limit.
    DateRangeTooLong = 601002, "date range too long";
    /// 601003: a log `domain` that is not a domain name.
    InvalidDomain = 601003, "invalid domain";
    /// 601004: a log `domain` that is not the tenant's.
    DomainNotFound = 601004, "domain not found";
    /// 601005: `mailtype` not 0–2.
    InvalidMailtype = 601005, "invalid mailtype";
    /// 601006: an operation-log `type` not 1–10.
    InvalidLogType = 601006, "invalid type";
    /// 602005: a token of another application, or a caller outside the IP allow list.
    ApiUnauthorized = 602005, "api unauthorized";
}

/// The answer of a refused call: `{"errcode":n,"errmsg":"…"}`, always with HTTP 200.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ErrorAnswer {
    /// The code, a JSON number.
    pub errcode: i64,
    /// Its text.
    pub errmsg: &'static str,
}

impl From<Code> for ErrorAnswer {
    fn from(c: Code) -> ErrorAnswer {
        ErrorAnswer {
            errcode: c.number(),
            errmsg: c.errmsg(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_are_unique() {
        let all = [
            Code::SystemBusy,
            Code::InvalidCredential,
            Code::ApiUnauthorized,
            Code::InvalidGroupUserlist,
            Code::InvalidUserlist,
        ];
        for c in all {
            assert_eq!(Code::from_number(c.number()), Some(c));
        }
        assert_eq!(Code::from_number(0), None);
    }
}
