//! The requests of directory sync (§7), parsed and checked from [`Params`].
//!
//! Field rules live here: which parameters are required, their ranges and lengths, the 1/2/3
//! action codes, and §7.1's "an empty value means not given". What needs the directory itself
//! (does the address exist? is the domain the tenant's?) is the server's job.

use crate::address::Address;
use crate::error::ErrorCode;
use crate::params::Params;
use crate::party::PartyPath;
use crate::ver::Ver;

/// Longest free-text field (name, position, tel, mobile, ext id, group name), in characters.
pub const MAX_FIELD_CHARS: usize = 64;
/// Most aliases (`Slave`) a member may have.
pub const MAX_SLAVES: usize = 5;
/// Most addresses one `user/check` may ask about.
pub const MAX_CHECK: usize = 20;

/// `Action` of `user/sync` and `party/sync`: `1`=DEL, `2`=ADD, `3`=MOD. This is also the code of
/// a `user/list` entry (one copy of the document lists 1=Add, 2=Edit, 3=Del for that table; the
/// others, `user/sync` and a recorded answer agree on this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// 1: delete.
    Del,
    /// 2: add.
    Add,
    /// 3: modify.
    Mod,
}

impl Action {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Action::Del => 1,
            Action::Add => 2,
            Action::Mod => 3,
        }
    }

    /// From the wire code.
    pub fn from_code(code: u8) -> Option<Action> {
        match code {
            1 => Some(Action::Del),
            2 => Some(Action::Add),
            3 => Some(Action::Mod),
            _ => None,
        }
    }

    fn from_params(p: &Params) -> Result<Action, ErrorCode> {
        p.get_nonempty("action")
            .and_then(|a| a.parse::<u8>().ok())
            .and_then(Action::from_code)
            .ok_or(ErrorCode::InvalidRequest)
    }
}

/// A member's state: `OpenType`/`Status` 1 enabled, 2 disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenType {
    /// 1: may log in and receives mail.
    Enabled,
    /// 2: cannot log in, receives no mail.
    Disabled,
}

impl OpenType {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            OpenType::Enabled => 1,
            OpenType::Disabled => 2,
        }
    }
}

/// A password as `user/sync` sets it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password {
    /// The plain password, or the lower-case hex MD5 of it.
    pub value: String,
    /// Whether `value` is an MD5 (`Md5=1`).
    pub md5: bool,
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Password(***, md5: {})", self.md5)
    }
}

/// The member fields of `user/sync`; `None` means "not given" (absent or empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFields {
    /// Display name.
    pub name: Option<String>,
    /// 0 unset, 1 male, 2 female.
    pub gender: Option<u8>,
    /// Position (职位).
    pub position: Option<String>,
    /// Telephone.
    pub tel: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// External id (编号).
    pub ext_id: Option<String>,
    /// New password.
    pub password: Option<Password>,
    /// Departments; `Some(vec![])` puts the member directly under the root.
    pub parties: Option<Vec<PartyPath>>,
    /// Aliases, replacing the current ones.
    pub slaves: Option<Vec<Address>>,
    /// Enable or disable (`OpenType=0` is "leave as is": `None`).
    pub open_type: Option<OpenType>,
}

/// `openapi/user/sync` (§7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSync {
    /// DEL, ADD or MOD.
    pub action: Action,
    /// The member's address (primary; MOD and DEL also accept an alias).
    pub alias: Address,
    /// The fields to set (ignored for DEL).
    pub fields: MemberFields,
}

impl UserSync {
    /// Parses and checks a `user/sync` request.
    pub fn from_params(p: &Params) -> Result<UserSync, ErrorCode> {
        let action = Action::from_params(p)?;
        let alias = required_address(p, "alias")?;
        if action == Action::Del {
            return Ok(UserSync {
                action,
                alias,
                fields: MemberFields::default(),
            });
        }
        let md5 = match p.get_nonempty("md5") {
            None | Some("0") => false,
            Some("1") => true,
            Some(_) => return Err(ErrorCode::InvalidField),
        };
        let password = p
            .get_nonempty("password")
            .map(|v| check_password(v, md5))
            .transpose()?;
        let gender = match p.get_nonempty("gender") {
            None => None,
            Some(g @ ("0" | "1" | "2")) => g.parse().ok(),
            Some(_) => return Err(ErrorCode::InvalidField),
        };
        let open_type = match p.get_nonempty("opentype") {
            None | Some("0") => None,
            Some("1") => Some(OpenType::Enabled),
            Some("2") => Some(OpenType::Disabled),
            Some(_) => return Err(ErrorCode::InvalidField),
        };
        let fields = MemberFields {
            name: text_field(p, "name")?,
            gender,
            position: text_field(p, "position")?,
            tel: text_field(p, "tel")?,
            mobile: text_field(p, "mobile")?,
            ext_id: text_field(p, "extid")?,
            password,
            parties: party_list(p, "partypath")?,
            slaves: slave_list(p, &alias)?,
            open_type,
        };
        if action == Action::Add && (fields.name.is_none() || fields.password.is_none()) {
            return Err(ErrorCode::InvalidRequest);
        }
        Ok(UserSync {
            action,
            alias,
            fields,
        })
    }
}

/// A request naming one member by `Alias` (`user/get`, `mail/newcount`, `mail/authkey`,
/// `user/openwxtoken`, `user/closewxtoken`).
pub fn alias_param(p: &Params) -> Result<Address, ErrorCode> {
    required_address(p, "alias")
}

/// `openapi/user/list` (§7.3): `None` when `Ver` is absent or not a number (full list).
pub fn list_ver(p: &Params) -> Option<Ver> {
    p.get_nonempty("ver").and_then(Ver::parse_param)
}

/// `openapi/party/sync` (§7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartySync {
    /// DEL, ADD or MOD.
    pub action: Action,
    /// The department moved or renamed (MOD only).
    pub src: Option<PartyPath>,
    /// The department added, deleted, or the new place of a moved one.
    pub dst: PartyPath,
}

impl PartySync {
    /// Parses and checks a `party/sync` request. The root can be neither added, deleted nor moved.
    pub fn from_params(p: &Params) -> Result<PartySync, ErrorCode> {
        let action = Action::from_params(p)?;
        let dst = PartyPath::parse(p.get("dstpath").unwrap_or_default())?;
        if dst.is_root() {
            return Err(ErrorCode::InvalidRequest);
        }
        let src = if action == Action::Mod {
            let src = PartyPath::parse(p.get("srcpath").unwrap_or_default())?;
            if src.is_root() {
                return Err(ErrorCode::InvalidRequest);
            }
            Some(src)
        } else {
            None
        };
        Ok(PartySync { action, src, dst })
    }
}

/// The `PartyPath` of `party/list` and `partyuser/list`; absent or empty is the root.
pub fn party_path_param(p: &Params) -> Result<PartyPath, ErrorCode> {
    PartyPath::parse(p.get("partypath").unwrap_or_default())
}

/// `openapi/user/check` (§7.6): the addresses as given (trimmed), 1 to 20 of them.
pub fn check_emails(p: &Params) -> Result<Vec<String>, ErrorCode> {
    let emails = p.list("email");
    if emails.is_empty() || emails.len() > MAX_CHECK {
        return Err(ErrorCode::InvalidRequest);
    }
    Ok(emails)
}

/// Who may send to a mail group (§7.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStatus {
    /// Anyone, inside or outside.
    All,
    /// Senders in the tenant's domains.
    Inner,
    /// The group's own members.
    Group,
    /// The addresses on the allow list.
    List,
}

impl GroupStatus {
    /// Parses `all`, `inner`, `group` or `list` (case-insensitive).
    pub fn parse(s: &str) -> Option<GroupStatus> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Some(GroupStatus::All),
            "inner" => Some(GroupStatus::Inner),
            "group" => Some(GroupStatus::Group),
            "list" => Some(GroupStatus::List),
            _ => None,
        }
    }

    /// The wire and stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupStatus::All => "all",
            GroupStatus::Inner => "inner",
            GroupStatus::Group => "group",
            GroupStatus::List => "list",
        }
    }
}

/// `openapi/group/add` (§7.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupAdd {
    /// The group's name.
    pub name: String,
    /// The group's own address (`group_admin`), which must not exist yet.
    pub address: Address,
    /// The send permission.
    pub status: GroupStatus,
    /// Initial members: member addresses, aliases or groups.
    pub members: Vec<Address>,
}

impl GroupAdd {
    /// Parses and checks a `group/add` request.
    pub fn from_params(p: &Params) -> Result<GroupAdd, ErrorCode> {
        let name = text_field(p, "group_name")?.ok_or(ErrorCode::InvalidRequest)?;
        let address = required_address(p, "group_admin")?;
        let status = group_status(p)?;
        let members = address_list(p, "members")?;
        Ok(GroupAdd {
            name,
            address,
            status,
            members,
        })
    }
}

/// The `group_alias` of the other group endpoints.
pub fn group_alias_param(p: &Params) -> Result<Address, ErrorCode> {
    required_address(p, "group_alias")
}

/// The `members` of `group/addmember` and `group/deletemember`: at least one.
pub fn group_members_param(p: &Params) -> Result<Vec<Address>, ErrorCode> {
    let members = address_list(p, "members")?;
    if members.is_empty() {
        return Err(ErrorCode::InvalidRequest);
    }
    Ok(members)
}

/// The `allow_list` of `group/addallowlist` and `group/delallowlist`: at least one address.
pub fn allow_list_param(p: &Params) -> Result<Vec<Address>, ErrorCode> {
    let list = address_list(p, "allow_list")?;
    if list.is_empty() {
        return Err(ErrorCode::InvalidRequest);
    }
    Ok(list)
}

/// `openapi/user/swapalias` (§7.9): `(alias, slavealias)`.
pub fn swap_alias_params(p: &Params) -> Result<(Address, Address), ErrorCode> {
    Ok((
        required_address(p, "alias")?,
        required_address(p, "slavealias")?,
    ))
}

fn group_status(p: &Params) -> Result<GroupStatus, ErrorCode> {
    p.get_nonempty("status")
        .and_then(GroupStatus::parse)
        .ok_or(ErrorCode::InvalidGroupStatus)
}

fn required_address(p: &Params, name: &str) -> Result<Address, ErrorCode> {
    let raw = p.get_nonempty(name).ok_or(ErrorCode::InvalidRequest)?;
    Address::parse(raw).ok_or(ErrorCode::InvalidAlias)
}

fn address_list(p: &Params, name: &str) -> Result<Vec<Address>, ErrorCode> {
    let mut out: Vec<Address> = Vec::new();
    for raw in p.list(name) {
        let a = Address::parse(&raw).ok_or(ErrorCode::InvalidAlias)?;
        if !out.contains(&a) {
            out.push(a);
        }
    }
    Ok(out)
}

fn text_field(p: &Params, name: &str) -> Result<Option<String>, ErrorCode> {
    match p.get_nonempty(name) {
        Some(v) if v.chars().count() > MAX_FIELD_CHARS || crate::text::has_control(v) => {
            Err(ErrorCode::InvalidField)
        }
        other => Ok(other.map(str::to_owned)),
    }
}

fn check_password(value: &str, md5: bool) -> Result<Password, ErrorCode> {
    if md5 {
        if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Password {
                value: value.to_ascii_lowercase(),
                md5,
            });
        }
    } else if (6..=32).contains(&value.chars().count()) {
        return Ok(Password {
            value: value.to_owned(),
            md5,
        });
    }
    Err(ErrorCode::InvalidPassword)
}

/// `PartyPath` values: `None` when none is non-empty (not given); otherwise the distinct paths
/// given, the root dropped (a member "in the root" has no department).
fn party_list(p: &Params, name: &str) -> Result<Option<Vec<PartyPath>>, ErrorCode> {
    let values: Vec<&str> = p.all(name).into_iter().filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return Ok(None);
    }
    let mut out: Vec<PartyPath> = Vec::new();
    for v in values {
        let path = PartyPath::parse(v)?;
        if !path.is_root() && !out.contains(&path) {
            out.push(path);
        }
    }
    Ok(Some(out))
}

/// The `Slave` list, without the member's own address `own`.
///
/// Decided (a gap in the contract): an alias equal to the member's own address is ignored, not
/// refused with `alias_exists`. A public client sends `slave=<own address>` on every add, and the
/// original service accepted it. Ignored means gone before anything else looks: it does not count
/// towards the five aliases, and a list of nothing else is a `Slave` not given (aliases kept).
fn slave_list(p: &Params, own: &Address) -> Result<Option<Vec<Address>>, ErrorCode> {
    let raw = p.list("slave");
    let mut out: Vec<Address> = Vec::new();
    for r in raw {
        let a = Address::parse(&r).ok_or(ErrorCode::InvalidAlias)?;
        if &a != own && !out.contains(&a) {
            out.push(a);
        }
    }
    if out.is_empty() {
        return Ok(None);
    }
    if out.len() > MAX_SLAVES {
        return Err(ErrorCode::TooManySlaves);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests;
