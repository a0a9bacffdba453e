//! The directory endpoints (members, departments, mail groups) as typed calls.

use crate::{CheckList, Client, Error, UserInfo, UserList, ValueList, Ver};
pub use bizmail_protocol::directory::{GroupStatus, OpenType};

/// A member to add with `user/sync` `Action=2`. `alias`, `name` and `password` are required.
#[derive(Debug, Clone, Default)]
pub struct NewMember {
    /// The primary address.
    pub alias: String,
    /// The display name.
    pub name: String,
    /// The password, in clear (or its lower-case hex MD5 when `md5`).
    pub password: String,
    /// Whether `password` is an MD5 (`Md5=1`).
    pub md5: bool,
    /// 1 male, 2 female.
    pub gender: Option<u8>,
    /// Job title.
    pub position: Option<String>,
    /// Telephone.
    pub tel: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// External id (编号).
    pub ext_id: Option<String>,
    /// Department paths (`研发/后台`); none puts the member under the root.
    pub parties: Vec<String>,
    /// Aliases, at most five.
    pub slaves: Vec<String>,
    /// Enabled or disabled; the server's default (enabled) when `None`.
    pub open_type: Option<OpenType>,
}

/// Changes to a member with `user/sync` `Action=3`: `None` leaves a field as it is (the protocol
/// has no way to clear a field).
#[derive(Debug, Clone, Default)]
pub struct MemberUpdate {
    /// The display name.
    pub name: Option<String>,
    /// A new password, in clear (or its lower-case hex MD5 when `md5`).
    pub password: Option<String>,
    /// Whether `password` is an MD5.
    pub md5: bool,
    /// 1 male, 2 female.
    pub gender: Option<u8>,
    /// Job title.
    pub position: Option<String>,
    /// Telephone.
    pub tel: Option<String>,
    /// Mobile.
    pub mobile: Option<String>,
    /// External id.
    pub ext_id: Option<String>,
    /// The departments, replacing the current ones (`Some(vec![])` cannot be expressed: an
    /// empty list is "not given" on the wire; use `["/"]` for the root).
    pub parties: Option<Vec<String>>,
    /// The aliases, replacing the current ones.
    pub slaves: Option<Vec<String>>,
    /// Enable or disable.
    pub open_type: Option<OpenType>,
}

/// A mail group to create with `group/add`.
#[derive(Debug, Clone)]
pub struct NewGroup {
    /// The group's name.
    pub name: String,
    /// The group's own address.
    pub address: String,
    /// Who may send to it.
    pub status: GroupStatus,
    /// Its first members: member addresses, aliases or other groups.
    pub members: Vec<String>,
}

/// Form parameters under construction.
#[derive(Default)]
struct Form(Vec<(&'static str, String)>);

impl Form {
    fn set(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.0.push((name, value.into()));
        self
    }

    fn opt(self, name: &'static str, value: Option<&str>) -> Self {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    fn each<'a>(
        mut self,
        name: &'static str,
        values: impl IntoIterator<Item = &'a String>,
    ) -> Self {
        for v in values {
            self.0.push((name, v.clone()));
        }
        self
    }

    fn pairs(&self) -> Vec<(&str, &str)> {
        self.0.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }
}

fn md5_flag(md5: bool) -> &'static str {
    if md5 { "1" } else { "0" }
}

impl Client {
    /// `user/sync` `Action=2`: adds a member.
    pub async fn user_add(&self, m: &NewMember) -> Result<(), Error> {
        let form = Form::default()
            .set("Action", "2")
            .set("Alias", &m.alias)
            .set("Name", &m.name)
            .set("Password", &m.password)
            .set("Md5", md5_flag(m.md5))
            .opt("Gender", m.gender.map(|g| g.to_string()).as_deref())
            .opt("Position", m.position.as_deref())
            .opt("Tel", m.tel.as_deref())
            .opt("Mobile", m.mobile.as_deref())
            .opt("ExtId", m.ext_id.as_deref())
            .each("PartyPath", &m.parties)
            .each("Slave", &m.slaves)
            .opt(
                "OpenType",
                m.open_type.map(|o| o.code().to_string()).as_deref(),
            );
        self.call_empty("user/sync", &form.pairs()).await
    }

    /// `user/sync` `Action=3`: changes the member `alias` (its primary address or an alias).
    pub async fn user_update(&self, alias: &str, u: &MemberUpdate) -> Result<(), Error> {
        let mut form = Form::default()
            .set("Action", "3")
            .set("Alias", alias)
            .opt("Name", u.name.as_deref())
            .opt("Password", u.password.as_deref())
            .opt("Gender", u.gender.map(|g| g.to_string()).as_deref())
            .opt("Position", u.position.as_deref())
            .opt("Tel", u.tel.as_deref())
            .opt("Mobile", u.mobile.as_deref())
            .opt("ExtId", u.ext_id.as_deref())
            .opt(
                "OpenType",
                u.open_type.map(|o| o.code().to_string()).as_deref(),
            );
        if u.password.is_some() {
            form = form.set("Md5", md5_flag(u.md5));
        }
        if let Some(p) = &u.parties {
            form = form.each("PartyPath", p);
        }
        if let Some(s) = &u.slaves {
            form = form.each("Slave", s);
        }
        self.call_empty("user/sync", &form.pairs()).await
    }

    /// `user/sync` `Action=1`: deletes the member `alias`.
    pub async fn user_delete(&self, alias: &str) -> Result<(), Error> {
        self.call_empty("user/sync", &[("Action", "1"), ("Alias", alias)])
            .await
    }

    /// `user/get`: a member's fields, found by primary address or alias.
    pub async fn user_get(&self, alias: &str) -> Result<UserInfo, Error> {
        self.call_json("user/get", &[("Alias", alias)]).await
    }

    /// `user/list`: the members changed since `ver` (net effect per member), or every member for
    /// `None` (`Ver=0`) and for a version older than the retained log.
    pub async fn user_list(&self, ver: Option<Ver>) -> Result<UserList, Error> {
        let ver = ver.map_or_else(|| "0".to_owned(), |v| v.to_string());
        self.call_json("user/list", &[("Ver", &ver)]).await
    }

    /// `user/check`: what each address is (member, alias, group, free, or not the tenant's).
    pub async fn user_check(&self, emails: &[&str]) -> Result<CheckList, Error> {
        let params: Vec<(&str, &str)> = emails.iter().map(|e| ("email", *e)).collect();
        self.call_json("user/check", &params).await
    }

    /// `user/swapalias`: makes the alias `slave` the member's primary address.
    pub async fn user_swap_alias(&self, alias: &str, slave: &str) -> Result<(), Error> {
        self.call_empty("user/swapalias", &[("Alias", alias), ("SlaveAlias", slave)])
            .await
    }

    /// `user/openwxtoken` (`true`) or `user/closewxtoken` (`false`): forces, or stops forcing, a
    /// second factor at the member's password logins.
    pub async fn user_second_factor(&self, alias: &str, on: bool) -> Result<(), Error> {
        let endpoint = if on {
            "user/openwxtoken"
        } else {
            "user/closewxtoken"
        };
        self.call_empty(endpoint, &[("Alias", alias)]).await
    }

    /// `party/sync` `Action=2`: creates a department path and its missing ancestors (an
    /// existing path is fine).
    pub async fn party_add(&self, path: &str) -> Result<(), Error> {
        self.call_empty("party/sync", &[("Action", "2"), ("DstPath", path)])
            .await
    }

    /// `party/sync` `Action=1`: deletes an empty department.
    pub async fn party_delete(&self, path: &str) -> Result<(), Error> {
        self.call_empty("party/sync", &[("Action", "1"), ("DstPath", path)])
            .await
    }

    /// `party/sync` `Action=3`: moves or renames the subtree at `src` to `dst`.
    pub async fn party_move(&self, src: &str, dst: &str) -> Result<(), Error> {
        let params = [("Action", "3"), ("SrcPath", src), ("DstPath", dst)];
        self.call_empty("party/sync", &params).await
    }

    /// `party/list`: the names of the departments directly under `path` (`""` or `"/"`: the root).
    pub async fn party_list(&self, path: &str) -> Result<ValueList, Error> {
        self.call_json("party/list", &[("PartyPath", path)]).await
    }

    /// `partyuser/list`: the primary addresses of the members directly in `path`.
    pub async fn party_users(&self, path: &str) -> Result<ValueList, Error> {
        self.call_json("partyuser/list", &[("PartyPath", path)])
            .await
    }

    /// `group/add`: creates a mail group.
    pub async fn group_add(&self, g: &NewGroup) -> Result<(), Error> {
        let form = Form::default()
            .set("group_name", &g.name)
            .set("group_admin", &g.address)
            .set("status", g.status.as_str())
            .each("members", &g.members);
        self.call_empty("group/add", &form.pairs()).await
    }

    /// `group/delete`: deletes a mail group.
    pub async fn group_delete(&self, group: &str) -> Result<(), Error> {
        self.call_empty("group/delete", &[("group_alias", group)])
            .await
    }

    /// `group/addmember`: adds members (addresses, aliases or groups) to a group.
    pub async fn group_add_members(&self, group: &str, members: &[&str]) -> Result<(), Error> {
        self.group_list_call("group/addmember", group, "members", members)
            .await
    }

    /// `group/deletemember`: removes members from a group.
    pub async fn group_delete_members(&self, group: &str, members: &[&str]) -> Result<(), Error> {
        self.group_list_call("group/deletemember", group, "members", members)
            .await
    }

    /// `group/addallowlist`: lets these addresses send to a `list` group.
    pub async fn group_allow(&self, group: &str, senders: &[&str]) -> Result<(), Error> {
        self.group_list_call("group/addallowlist", group, "allow_list", senders)
            .await
    }

    /// `group/delallowlist`: takes addresses off a group's allow list.
    pub async fn group_disallow(&self, group: &str, senders: &[&str]) -> Result<(), Error> {
        self.group_list_call("group/delallowlist", group, "allow_list", senders)
            .await
    }

    async fn group_list_call(
        &self,
        endpoint: &str,
        group: &str,
        name: &'static str,
        values: &[&str],
    ) -> Result<(), Error> {
        let mut params = vec![("group_alias", group)];
        params.extend(values.iter().map(|v| (name, *v)));
        self.call_empty(endpoint, &params).await
    }
}
