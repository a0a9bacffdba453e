//! The newer API's requests, read from [`Fields`] and checked (EXMAIL_API.md §4): everything that
//! can be refused without looking at the directory is refused here, with the contract's code.
//! Department ids are the wire's (root 1); the server maps them to its rows.

use super::Code;
use super::fields::{Fields, Mistyped};
use crate::Address;

/// A check that failed with `code`.
type Checked<T> = Result<T, Code>;

fn typed<T>(r: Result<T, Mistyped>, code: Code) -> Checked<T> {
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
fn addresses(f: &Fields, name: &str, bad: Code) -> Checked<Option<Vec<Address>>> {
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

fn bounded(f: &Fields, name: &str, max_bytes: usize, bad: Code) -> Checked<Option<String>> {
    let v = typed(f.text(name), bad)?;
    match v {
        Some(s) if s.len() > max_bytes => Err(bad),
        other => Ok(other),
    }
}

fn phone(f: &Fields, name: &str, bad: Code) -> Checked<Option<String>> {
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
fn forbidden_name_char(c: char) -> bool {
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

fn flag(f: &Fields, name: &str) -> Checked<Option<bool>> {
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

/// Who may write to a mail group: 0 the tenant's members, 1 anyone, 2 the group's members, 3 a
/// list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllowType {
    /// 0: the tenant's members.
    Inner,
    /// 1: anyone.
    All,
    /// 2: the group's own members.
    Group,
    /// 3: the allow list.
    List,
}

impl AllowType {
    /// The number on the wire.
    pub fn number(self) -> u8 {
        match self {
            AllowType::Inner => 0,
            AllowType::All => 1,
            AllowType::Group => 2,
            AllowType::List => 3,
        }
    }

    /// The old API's `status` with the same meaning.
    pub fn status(self) -> &'static str {
        match self {
            AllowType::Inner => "inner",
            AllowType::All => "all",
            AllowType::Group => "group",
            AllowType::List => "list",
        }
    }

    /// From the old API's `status`.
    pub fn from_status(status: &str) -> AllowType {
        match status {
            "all" => AllowType::All,
            "group" => AllowType::Group,
            "list" => AllowType::List,
            _ => AllowType::Inner,
        }
    }
}

/// `group/create` and `group/update`; `None`: not given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupWrite {
    /// The group's address.
    pub groupid: Address,
    /// Its display name.
    pub groupname: Option<String>,
    /// Who may write to it.
    pub allow_type: Option<AllowType>,
    /// Member addresses.
    pub userlist: Option<Vec<Address>>,
    /// Nested groups.
    pub grouplist: Option<Vec<Address>>,
    /// Department wire ids, each standing for its members (sub-departments included).
    pub department: Option<Vec<i64>>,
    /// The allow list (type 3).
    pub allow_userlist: Option<Vec<Address>>,
}

impl GroupWrite {
    /// Reads and checks an update: only `groupid` is required.
    pub fn from_fields(f: &Fields) -> Checked<GroupWrite> {
        let groupid = address(f, "groupid", Code::InvalidGroupid)?;
        let groupname = bounded(f, "groupname", 64, Code::InvalidGroupname)?;
        if groupname
            .as_deref()
            .is_some_and(|n| n.chars().any(forbidden_name_char))
        {
            return Err(Code::InvalidGroupname);
        }
        let allow_type = match typed(f.int("allow_type"), Code::InvalidAllowType)? {
            None => None,
            Some(0) => Some(AllowType::Inner),
            Some(1) => Some(AllowType::All),
            Some(2) => Some(AllowType::Group),
            Some(3) => Some(AllowType::List),
            Some(_) => return Err(Code::InvalidAllowType),
        };
        let department = typed(f.ints("department"), Code::InvalidPartylist)?;
        if department
            .as_ref()
            .is_some_and(|d| d.iter().any(|id| *id <= 0))
        {
            return Err(Code::InvalidPartylist);
        }
        Ok(GroupWrite {
            groupid,
            groupname,
            allow_type,
            userlist: addresses(f, "userlist", Code::InvalidGroupUserlist)?,
            grouplist: addresses(f, "grouplist", Code::InvalidGrouplist)?,
            department,
            allow_userlist: addresses(f, "allow_userlist", Code::InvalidAllowUserlist)?,
        })
    }

    /// Reads and checks a create: name and type required, at least one member list (600009),
    /// an allow list for type 3 (600023).
    pub fn create_from_fields(f: &Fields) -> Checked<GroupWrite> {
        let g = GroupWrite::from_fields(f)?;
        if g.groupname.is_none() {
            return Err(Code::InvalidGroupname);
        }
        let Some(t) = g.allow_type else {
            return Err(Code::InvalidAllowType);
        };
        let empty = |l: &Option<Vec<Address>>| l.as_ref().is_none_or(Vec::is_empty);
        if empty(&g.userlist)
            && empty(&g.grouplist)
            && g.department.as_ref().is_none_or(Vec::is_empty)
        {
            return Err(Code::GroupEmpty);
        }
        if t == AllowType::List && empty(&g.allow_userlist) {
            return Err(Code::AllowUserlistMissing);
        }
        Ok(g)
    }
}

/// A tag id field: missing 60202, not a number or negative 60201.
pub fn tag_id(f: &Fields) -> Checked<i64> {
    typed(f.int("tagid"), Code::InvalidTagid)?
        .ok_or(Code::MissingTagid)
        .and_then(|id| {
            if id >= 0 {
                Ok(id)
            } else {
                Err(Code::InvalidTagid)
            }
        })
}

/// A tag name: 1–32 characters (60203).
pub fn tag_name(f: &Fields) -> Checked<String> {
    let name = typed(f.text("tagname"), Code::InvalidTagname)?.ok_or(Code::InvalidTagname)?;
    if name.chars().count() > 32 {
        return Err(Code::InvalidTagname);
    }
    Ok(name)
}

/// `tag/addtagusers` and `tag/deltagusers`: entries kept as given, judged by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagMembers {
    /// The tag.
    pub tag_id: i64,
    /// Member addresses as given.
    pub userlist: Vec<String>,
    /// Department wire ids as given.
    pub partylist: Vec<i64>,
}

impl TagMembers {
    /// Reads and checks the request.
    pub fn from_fields(f: &Fields) -> Checked<TagMembers> {
        Ok(TagMembers {
            tag_id: tag_id(f)?,
            userlist: typed(f.texts("userlist"), Code::InvalidUserlist)?.unwrap_or_default(),
            partylist: typed(f.ints("partylist"), Code::InvalidPartylist)?.unwrap_or_default(),
        })
    }
}

/// `useroption/get`: the types asked for, each 1–4 (60301).
pub fn option_types(f: &Fields) -> Checked<Vec<u8>> {
    let types = typed(f.ints("type"), Code::InvalidType)?.ok_or(Code::InvalidType)?;
    types
        .into_iter()
        .map(|t| match t {
            1..=4 => u8::try_from(t).map_err(|_| Code::InvalidType),
            _ => Err(Code::InvalidType),
        })
        .collect()
}

/// `useroption/update`: `option:[{type, value}]`, value `"0"` or `"1"` (60302), type 1–4 (60301).
pub fn option_values(f: &Fields) -> Checked<Vec<(u8, bool)>> {
    let Some(serde_json::Value::Array(items)) = f.raw("option") else {
        return Err(Code::InvalidOption);
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let one = Fields::from_json(item.clone()).ok_or(Code::InvalidOption)?;
        let t = typed(one.int("type"), Code::InvalidType)?.ok_or(Code::InvalidOption)?;
        let t = match t {
            1..=4 => u8::try_from(t).map_err(|_| Code::InvalidType)?,
            _ => return Err(Code::InvalidType),
        };
        let v = match typed(one.text("value"), Code::InvalidOption)?.as_deref() {
            Some("0") => false,
            Some("1") => true,
            _ => return Err(Code::InvalidOption),
        };
        out.push((t, v));
    }
    Ok(out)
}

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day of the month.
    pub day: u8,
}

impl Day {
    /// Parses `YYYY-MM-DD` (a real date of the Gregorian calendar).
    pub fn parse(s: &str) -> Option<Day> {
        let mut parts = s.trim().splitn(3, '-');
        let year: i32 = parts.next()?.parse().ok()?;
        let month: u8 = parts.next()?.parse().ok()?;
        let day: u8 = parts.next()?.parse().ok()?;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1000..=9999).contains(&year) && (1..=days).contains(&day)).then_some(Day {
            year,
            month,
            day,
        })
    }
}

/// A log query's range: `begin_date` and `end_date`, both required, begin ≤ end (601001).
pub fn day_range(f: &Fields) -> Checked<(Day, Day)> {
    let day = |name: &str| -> Checked<Day> {
        let t = typed(f.text(name), Code::InvalidDate)?.ok_or(Code::InvalidDate)?;
        Day::parse(&t).ok_or(Code::InvalidDate)
    };
    let (begin, end) = (day("begin_date")?, day("end_date")?);
    if begin > end {
        return Err(Code::InvalidDate);
    }
    Ok((begin, end))
}

/// `mail/newcount`'s optional range: both or neither; a malformed date is 40092.
pub fn optional_day_range(f: &Fields) -> Checked<Option<(Day, Day)>> {
    let day = |name: &str| -> Checked<Option<Day>> {
        typed(f.text(name), Code::InvalidParameter)?
            .map(|t| Day::parse(&t).ok_or(Code::InvalidParameter))
            .transpose()
    };
    Ok(match (day("begin_date")?, day("end_date")?) {
        (None, None) => None,
        (b, e) => Some((
            b.unwrap_or(Day {
                year: 1970,
                month: 1,
                day: 1,
            }),
            e.unwrap_or(Day {
                year: 9999,
                month: 12,
                day: 31,
            }),
        )),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
