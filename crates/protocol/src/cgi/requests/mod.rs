//! The newer API's requests, read from [`Fields`] and checked (EXMAIL_API.md §4): everything that
//! can be refused without looking at the directory is refused here, with the contract's code.
//! Department ids are the wire's (root 1); the server maps them to its rows. Departments and
//! members are here; groups, tags and options in `groups.rs`; log dates in `days.rs`.

mod days;
mod groups;

pub use days::{Day, day_range, optional_day_range};
pub use groups::{
    AllowType, GroupWrite, MAX_TAG_ID, TagMembers, option_types, option_values, optional_tag_id,
    tag_id, tag_name,
};

use super::Code;
use super::fields::{Fields, Mistyped};
use crate::Address;

/// A check that failed with `code`.
pub(super) type Checked<T> = Result<T, Code>;

pub(super) fn typed<T>(r: Result<T, Mistyped>, code: Code) -> Checked<T> {
    r.map_err(|Mistyped| code)
}

/// A required address field (`userid`, `groupid`): missing → 40092, malformed → `bad`.
pub fn address(f: &Fields, name: &str, bad: Code) -> Checked<Address> {
    let text = typed(f.text(name), bad)?.ok_or(Code::InvalidParameter)?;
    Address::parse(&text).ok_or(bad)
}

/// A required `userid`.
pub fn userid(f: &Fields) -> Checked<Address> {
    address(f, "userid", Code::InvalidUserid)
}

/// A list of addresses; a malformed entry is `bad`.
pub(super) fn addresses(f: &Fields, name: &str, bad: Code) -> Checked<Option<Vec<Address>>> {
    let Some(list) = typed(f.texts(name), bad)? else {
        return Ok(None);
    };
    let mut out: Vec<Address> = Vec::with_capacity(list.len());
    for t in list {
        let a = Address::parse(&t).ok_or(bad)?;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(Some(out))
}

pub(super) fn bounded(
    f: &Fields,
    name: &str,
    max_bytes: usize,
    bad: Code,
) -> Checked<Option<String>> {
    let v = typed(f.text(name), bad)?;
    match v {
        Some(s) if s.len() > max_bytes => Err(bad),
        other => Ok(other),
    }
}

pub(super) fn phone(f: &Fields, name: &str, bad: Code) -> Checked<Option<String>> {
    let v = bounded(f, name, 32, bad)?;
    if let Some(s) = &v
        && !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == '+' || c == '-')
    {
        return Err(bad);
    }
    Ok(v)
}

/// Characters no department or group name may hold (§3; `/` because the old API's paths need it).
pub(super) fn forbidden_name_char(c: char) -> bool {
    matches!(
        c,
        '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' | '｜' | '/'
    ) || c.is_control()
}

/// A department name: 1–64 bytes (60001), no forbidden character (60009).
pub fn department_name(name: &str) -> Checked<String> {
    if name.is_empty() || name.len() > 64 {
        return Err(Code::DeptNameLength);
    }
    if name.chars().any(forbidden_name_char) {
        return Err(Code::DeptNameInvalid);
    }
    Ok(name.to_owned())
}

/// `department/create`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptCreate {
    /// The name.
    pub name: String,
    /// The parent's wire id (1: the root).
    pub parent_id: i64,
    /// The sort key, smaller first.
    pub order: i64,
}

impl DeptCreate {
    /// Reads and checks the request.
    pub fn from_fields(f: &Fields) -> Checked<DeptCreate> {
        let name = typed(f.text("name"), Code::DeptNameLength)?.ok_or(Code::DeptNameLength)?;
        let parent_id = typed(f.int("parentid"), Code::InvalidParentid)?
            .filter(|p| *p > 0)
            .ok_or(Code::InvalidParentid)?;
        Ok(DeptCreate {
            name: department_name(&name)?,
            parent_id,
            order: order(f)?.unwrap_or(0),
        })
    }
}

fn order(f: &Fields) -> Checked<Option<i64>> {
    let o = typed(f.int("order"), Code::InvalidParameter)?;
    match o {
        Some(n) if !(0..=u32::MAX.into()).contains(&n) => Err(Code::InvalidParameter),
        other => Ok(other),
    }
}

/// A required department id (`id`): missing 60127, not a positive number 60003.
pub fn department_id(f: &Fields, name: &str) -> Checked<i64> {
    typed(f.int(name), Code::DeptNotFound)?
        .ok_or(Code::MissingDepartmentId)
        .and_then(|id| {
            if id > 0 {
                Ok(id)
            } else {
                Err(Code::DeptNotFound)
            }
        })
}

/// `department/update`: what is given changes, the rest stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptUpdate {
    /// The department's wire id.
    pub id: i64,
    /// A new name.
    pub name: Option<String>,
    /// A new parent's wire id.
    pub parent_id: Option<i64>,
    /// A new sort key.
    pub order: Option<i64>,
}

impl DeptUpdate {
    /// Reads and checks the request.
    pub fn from_fields(f: &Fields) -> Checked<DeptUpdate> {
        let id = department_id(f, "id")?;
        let name = typed(f.text("name"), Code::DeptNameLength)?
            .map(|n| department_name(&n))
            .transpose()?;
        let parent_id = typed(f.int("parentid"), Code::ParentNotFound)?;
        if parent_id.is_some_and(|p| p <= 0) {
            return Err(Code::ParentNotFound);
        }
        Ok(DeptUpdate {
            id,
            name,
            parent_id,
            order: order(f)?,
        })
    }
}

/// `department/search`: `fuzzy` 0 (exact or prefix) or 1 (substring), any case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptSearch {
    /// What to look for.
    pub name: String,
    /// Substring rather than prefix.
    pub fuzzy: bool,
}

impl DeptSearch {
    /// Reads and checks the request.
    pub fn from_fields(f: &Fields) -> Checked<DeptSearch> {
        let name = typed(f.text("name"), Code::InvalidParameter)?.unwrap_or_default();
        let fuzzy = match typed(f.int("fuzzy"), Code::InvalidFuzzy)? {
            None | Some(0) => false,
            Some(1) => true,
            Some(_) => return Err(Code::InvalidFuzzy),
        };
        Ok(DeptSearch { name, fuzzy })
    }
}

/// A member's fields in `user/create` and `user/update`; `None`: not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFields {
    /// Display name, 1–64 bytes.
    pub name: Option<String>,
    /// Department wire ids (1: the root), at most 20.
    pub department: Option<Vec<i64>>,
    /// The password in clear, 6–32 characters.
    pub password: Option<String>,
    /// Job title.
    pub position: Option<String>,
    /// Mobile number.
    pub mobile: Option<String>,
    /// Telephone.
    pub tel: Option<String>,
    /// Staff number.
    pub extid: Option<String>,
    /// 0, 1 or 2.
    pub gender: Option<u8>,
    /// Aliases, at most 5; `Some([])` clears them.
    pub slaves: Option<Vec<Address>>,
    /// Must change the password at the next login.
    pub cpwd_login: Option<bool>,
    /// Enabled.
    pub enable: Option<bool>,
}

pub(super) fn flag(f: &Fields, name: &str) -> Checked<Option<bool>> {
    match typed(f.int(name), Code::InvalidParameter)? {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(1) => Ok(Some(true)),
        Some(_) => Err(Code::InvalidParameter),
    }
}

impl UserFields {
    /// Reads and checks the fields every member write shares.
    pub fn from_fields(f: &Fields) -> Checked<UserFields> {
        let name = bounded(f, "name", 64, Code::InvalidName)?;
        let department = typed(f.ints("department"), Code::InvalidDepartmentId)?;
        if let Some(d) = &department {
            if d.len() > 20 {
                return Err(Code::TooManyDepartments);
            }
            if d.iter().any(|id| *id <= 0) {
                return Err(Code::InvalidDepartmentId);
            }
        }
        let password = typed(f.text("password"), Code::InvalidPassword)?;
        if let Some(p) = &password {
            let n = p.chars().count();
            if !(6..=32).contains(&n) {
                return Err(Code::InvalidPassword);
            }
        }
        let gender = match typed(f.int("gender"), Code::InvalidGender)? {
            None => None,
            Some(g @ 0..=2) => u8::try_from(g).ok(),
            Some(_) => return Err(Code::InvalidGender),
        };
        let slaves = addresses(f, "slaves", Code::InvalidSlave)?;
        if slaves.as_ref().is_some_and(|s| s.len() > 5) {
            return Err(Code::TooManySlaves);
        }
        Ok(UserFields {
            name,
            department,
            password,
            position: bounded(f, "position", 64, Code::InvalidPosition)?,
            mobile: phone(f, "mobile", Code::InvalidMobile)?,
            tel: phone(f, "tel", Code::InvalidTel)?,
            extid: bounded(f, "extid", 64, Code::InvalidExtid)?,
            gender,
            slaves,
            cpwd_login: flag(f, "cpwd_login")?,
            enable: flag(f, "enable")?,
        })
    }
}

/// `user/create`: `userid`, `name`, `department` and `password` required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCreate {
    /// The primary address.
    pub userid: Address,
    /// The rest.
    pub fields: UserFields,
}

impl UserCreate {
    /// Reads and checks the request.
    pub fn from_fields(f: &Fields) -> Checked<UserCreate> {
        let userid = userid(f)?;
        let fields = UserFields::from_fields(f)?;
        if fields.name.is_none() {
            return Err(Code::InvalidName);
        }
        if fields.department.as_ref().is_none_or(Vec::is_empty) {
            return Err(Code::MissingDepartmentId);
        }
        if fields.password.is_none() {
            return Err(Code::PasswordRequired);
        }
        Ok(UserCreate { userid, fields })
    }
}

/// `user/simplelist` and `user/list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserListing {
    /// The department's wire id (1: the root).
    pub department_id: i64,
    /// Include the sub-departments' members.
    pub fetch_child: bool,
}

impl UserListing {
    /// Reads and checks the request.
    pub fn from_fields(f: &Fields) -> Checked<UserListing> {
        let department_id = department_id(f, "department_id")?;
        let fetch_child = flag(f, "fetch_child")?.unwrap_or(false);
        Ok(UserListing {
            department_id,
            fetch_child,
        })
    }
}

/// `user/batchcheck`: at most 20 addresses, kept as given.
pub fn batchcheck(f: &Fields) -> Checked<Vec<String>> {
    let list = typed(f.texts("userlist"), Code::InvalidUserlist)?.ok_or(Code::InvalidParameter)?;
    if list.len() > 20 {
        return Err(Code::BatchcheckLimit);
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::cgi::fields::Fields;

    fn fields(json: &str) -> Fields {
        Fields::from_request(None, json.as_bytes()).unwrap()
    }

    #[test]
    fn tencentexmail_empty_strings_are_not_given() {
        let f = fields(
            r#"{"userid":"a@x.com","name":"","department":"","password":"","slaves":"","enable":1,"gender":""}"#,
        );
        let u = UserFields::from_fields(&f).unwrap();
        assert_eq!(u.name, None);
        assert_eq!(u.department, None);
        assert_eq!(u.password, None);
        assert_eq!(u.slaves, None);
        assert_eq!(u.enable, Some(true));
    }

    #[test]
    fn create_requirements_in_the_contracts_order() {
        let c = |s: &str| UserCreate::from_fields(&fields(s)).unwrap_err();
        assert_eq!(c(r#"{"userid":"x"}"#), Code::InvalidUserid);
        assert_eq!(
            c(r#"{"userid":"a@x.com","name":"A"}"#),
            Code::MissingDepartmentId
        );
        assert_eq!(
            c(r#"{"userid":"a@x.com","name":"A","department":[1]}"#),
            Code::PasswordRequired
        );
        assert_eq!(
            c(r#"{"userid":"a@x.com","name":"A","department":[1],"password":"12345","gender":3}"#),
            Code::InvalidPassword
        );
    }

    #[test]
    fn departments_and_days() {
        assert_eq!(
            DeptCreate::from_fields(&fields(r#"{"name":"A","parentid":""}"#)).unwrap_err(),
            Code::InvalidParentid
        );
        assert_eq!(
            DeptCreate::from_fields(&fields(r#"{"name":"A/B","parentid":1}"#)).unwrap_err(),
            Code::DeptNameInvalid
        );
        assert_eq!(Day::parse("2024-02-29").map(|d| d.day), Some(29));
        assert_eq!(Day::parse("2023-02-29"), None);
        assert_eq!(
            day_range(&fields(
                r#"{"begin_date":"2024-03-02","end_date":"2024-03-01"}"#
            ))
            .unwrap_err(),
            Code::InvalidDate
        );
    }

    #[test]
    fn options_and_groups() {
        assert_eq!(
            option_values(&fields(
                r#"{"option":[{"type":2,"value":"0"},{"type":"3","value":"1"}]}"#
            ))
            .unwrap(),
            vec![(2, false), (3, true)]
        );
        assert_eq!(
            option_values(&fields(r#"{"option":[{"type":5,"value":"0"}]}"#)).unwrap_err(),
            Code::InvalidType
        );
        assert_eq!(
            GroupWrite::create_from_fields(&fields(
                r#"{"groupid":"g@x.com","groupname":"G","allow_type":"0","userlist":""}"#
            ))
            .unwrap_err(),
            Code::GroupEmpty
        );
    }
}
