//! The directory's read endpoints (§7.2–§7.6) as one query type and one answer type, so the routes
//! parse and serialize while the directory owns the connection and the rules.

use super::{DirResult, Directory, departments, members};
use bizmail_protocol::response::{CheckList, NewCount, UserInfo, UserList, ValueList};
use bizmail_protocol::{Address, PartyPath, Ver};

/// A read of the directory, parsed from a request.
#[derive(Debug, Clone)]
pub enum Query {
    /// `user/get`: one member, by primary address or alias.
    UserGet(Address),
    /// `user/list`: the members changed since a version (`None`: all).
    UserList(Option<Ver>),
    /// `user/check`: what each address is.
    UserCheck(Vec<String>),
    /// `party/list`: the departments directly under a path.
    PartyList(PartyPath),
    /// `partyuser/list`: the members directly in a department.
    PartyUsers(PartyPath),
    /// `mail/newcount`: a member's unread count.
    NewCount(Address),
}

/// What a [`Query`] answers, in the protocol's answer types.
#[derive(Debug, Clone)]
pub enum Answer {
    /// For `user/get`.
    User(UserInfo),
    /// For `user/list`.
    Users(UserList),
    /// For `user/check`.
    Checked(CheckList),
    /// For `party/list` and `partyuser/list`.
    Values(ValueList),
    /// For `mail/newcount`.
    NewCount(NewCount),
}

impl Directory {
    /// Answers a read of the tenant's directory, on one pooled connection.
    pub async fn read(&self, tenant_id: i64, query: Query) -> DirResult<Answer> {
        let scope = self.scope(tenant_id).await?;
        if let Query::UserGet(a) = &query {
            // The old API's hottest read, answered from memory until the directory changes.
            let cache = &self.store.auth_cache().directory;
            let fetch = async {
                let mut pooled = self.store.acquire().await?;
                members::info(&mut pooled.conn(), &scope, a).await
            };
            let info = cache
                .read_through(self.store.auth_cache(), tenant_id, a.as_str(), fetch)
                .await?;
            return Ok(Answer::User(info));
        }
        let mut pooled = self.store.acquire().await?;
        let conn = &mut pooled.conn();
        Ok(match query {
            Query::UserGet(a) => Answer::User(members::info(conn, &scope, &a).await?),
            Query::UserList(v) => Answer::Users(members::list(conn, &scope, v).await?),
            Query::UserCheck(e) => Answer::Checked(members::check(conn, &scope, e).await?),
            Query::PartyList(p) => Answer::Values(departments::children(conn, &scope, &p).await?),
            Query::PartyUsers(p) => Answer::Values(departments::members(conn, &scope, &p).await?),
            Query::NewCount(a) => Answer::NewCount(members::new_count(conn, &scope, &a).await?),
        })
    }
}
