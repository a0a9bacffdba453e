//! Mail groups, tags and per-member options (EXMAIL_API.md §4.3–4.5): their requests and checks.

use super::{Checked, address, addresses, bounded, forbidden_name_char, typed};
use crate::Address;
use crate::cgi::Code;
use crate::cgi::fields::Fields;

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

/// The largest tag id (2^31 − 1): ids stay exact for every client, JavaScript's included, and
/// the next free id never overflows.
pub const MAX_TAG_ID: i64 = i32::MAX as i64;

/// A tag id field: missing 60202; not a number, negative or over [`MAX_TAG_ID`] 60201.
pub fn tag_id(f: &Fields) -> Checked<i64> {
    typed(f.int("tagid"), Code::InvalidTagid)?
        .ok_or(Code::MissingTagid)
        .and_then(optional_tag_id)
}

/// A tag id within range (60201 otherwise).
pub fn optional_tag_id(id: i64) -> Checked<i64> {
    if (0..=MAX_TAG_ID).contains(&id) {
        Ok(id)
    } else {
        Err(Code::InvalidTagid)
    }
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
