//! What the console's directory pages (通讯录) read of an admin's tenant: the department tree with
//! member counts, members paged and searched, one member's whole record, the mail groups and one
//! group's lists. Reads only: every change the pages make goes through the directory's own
//! writes (`directory::Directory::change`, `cgi_change`), as the APIs' do.

use super::{Admin, AdminError};
use crate::directory::{DirError, Scope, cgi::wire_id, resolve_member};
use crate::store::directory::{self as db, ids};
use bizmail_protocol::Address;
use std::collections::{HashMap, HashSet};

/// One department of the tree, in display order (parents before their children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptNode {
    /// Its id as the newer API shows it (the root is 1).
    pub wire_id: i64,
    /// Names from the root, joined by `/`.
    pub path: String,
    /// Its own name.
    pub name: String,
    /// 0 for a department directly under the root.
    pub depth: usize,
    /// Members placed in it directly.
    pub direct: usize,
    /// Members placed in it or anywhere below it (each once).
    pub total: usize,
}

/// The department tree of a tenant.
#[derive(Debug, Clone, Default)]
pub struct DirectoryTree {
    /// Every department, parents first, siblings by their sort key then name.
    pub departments: Vec<DeptNode>,
    /// Every member of the tenant.
    pub members: usize,
    /// Members in no department (directly under the root).
    pub unplaced: usize,
}

/// A member as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberSummary {
    /// The primary address.
    pub address: String,
    /// Display name.
    pub name: String,
    /// Position.
    pub position: String,
    /// Department paths.
    pub departments: Vec<String>,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Whether the member may sign in and receives mail.
    pub enabled: bool,
}

/// Which members a list page shows.
#[derive(Debug, Clone, Default)]
pub struct MemberFilter {
    /// A piece of an address (primary or alias) or a name, case-insensitive; empty: any.
    pub search: String,
    /// A department path (its sub-departments included); `/` for members in no department;
    /// empty: any.
    pub department: String,
    /// Members skipped (by address).
    pub offset: usize,
    /// Members shown at most.
    pub limit: usize,
}

/// One page of members.
#[derive(Debug, Clone, Default)]
pub struct MemberPage {
    /// The members of the page.
    pub rows: Vec<MemberSummary>,
    /// How many members match in all.
    pub total: usize,
}

/// One member's whole record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberDetail {
    /// The primary address.
    pub address: String,
    /// Display name.
    pub name: String,
    /// 0 unset, 1 male, 2 female.
    pub gender: i64,
    /// Position.
    pub position: String,
    /// Telephone.
    pub tel: String,
    /// Mobile.
    pub mobile: String,
    /// External id.
    pub ext_id: String,
    /// Whether the member may sign in and receives mail.
    pub enabled: bool,
    /// Whether password logins must give a second factor (`user/openwxtoken`).
    pub second_factor: bool,
    /// Whether an authenticator is enrolled.
    pub totp_enrolled: bool,
    /// Whether a password is set (a member imported without one signs in through SSO only).
    pub has_password: bool,
    /// Aliases, in order.
    pub aliases: Vec<String>,
    /// Department paths, in order.
    pub departments: Vec<String>,
}

/// A mail group as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupSummary {
    /// Its address.
    pub address: String,
    /// Its name.
    pub name: String,
    /// `all`, `inner`, `group` or `list`.
    pub status: String,
    /// People and nested groups placed in it directly.
    pub entries: i64,
}

/// One mail group's lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupDetail {
    /// Its address.
    pub address: String,
    /// Its name.
    pub name: String,
    /// `all`, `inner`, `group` or `list`.
    pub status: String,
    /// The people in it, by primary address.
    pub members: Vec<String>,
    /// The nested groups, by address.
    pub groups: Vec<String>,
    /// Its departments (each standing for everyone in it and below): wire id and path.
    pub departments: Vec<(i64, String)>,
    /// Who may write to it when its status is `list`.
    pub allow: Vec<String>,
}

/// A directory read's failure as the admin side names it: a refusal (a member or group that is
/// not the tenant's) is `Invalid`, the store's failure stays one.
fn admin_error(e: DirError, what: &str) -> AdminError {
    match e {
        DirError::Store(e) => AdminError::Store(e),
        _ => AdminError::Invalid(format!("no {what} in this tenant")),
    }
}

impl Admin {
    /// The admin's tenant's scope.
    async fn dir_scope(&self, admin: &str) -> Result<Scope, AdminError> {
        let tenant_id = self.tenant_of(admin).await?;
        Ok(Scope::load(&self.store, tenant_id).await?)
    }

    /// The department tree of the admin's tenant with member counts.
    pub async fn directory_tree(&self, admin: &str) -> Result<DirectoryTree, AdminError> {
        let scope = self.dir_scope(admin).await?;
        let mut pooled = self.store.acquire().await?;
        let conn = &mut pooled.conn();
        let rows = ids::departments(conn, scope.tenant_id).await?;
        let memberships = ids::memberships(conn, scope.tenant_id).await?;
        let members = ids::listed_members(conn, scope.tenant_id, None).await?;
        let parent: HashMap<i64, Option<i64>> = rows.iter().map(|r| (r.id, r.parent_id)).collect();
        let mut direct: HashMap<i64, usize> = HashMap::new();
        // Each department's members, its sub-departments' included: each membership counts for
        // its department and every ancestor.
        let mut below: HashMap<i64, HashSet<i64>> = HashMap::new();
        let mut placed: HashSet<i64> = HashSet::new();
        for (member, dept) in &memberships {
            *direct.entry(*dept).or_default() += 1;
            placed.insert(*member);
            let mut at = Some(*dept);
            let mut steps = 0;
            while let Some(d) = at
                && steps <= rows.len()
            {
                below.entry(d).or_default().insert(*member);
                at = parent.get(&d).copied().flatten();
                steps += 1;
            }
        }
        let mut children: HashMap<Option<i64>, Vec<&ids::DeptRow>> = HashMap::new();
        for r in &rows {
            children.entry(r.parent_id).or_default().push(r);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| (a.ord, &a.name, a.id).cmp(&(b.ord, &b.name, b.id)));
        }
        // Depth first from the root, parents before children.
        let mut departments = Vec::with_capacity(rows.len());
        let mut stack: Vec<(&ids::DeptRow, usize)> = children
            .get(&None)
            .map(|l| l.iter().rev().map(|r| (*r, 0)).collect())
            .unwrap_or_default();
        while let Some((r, depth)) = stack.pop() {
            departments.push(DeptNode {
                wire_id: wire_id(r.id),
                path: r.path.clone(),
                name: r.name.clone(),
                depth,
                direct: direct.get(&r.id).copied().unwrap_or(0),
                total: below.get(&r.id).map_or(0, HashSet::len),
            });
            if let Some(kids) = children.get(&Some(r.id)) {
                stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
            }
        }
        Ok(DirectoryTree {
            departments,
            members: members.len(),
            unplaced: members.iter().filter(|m| !placed.contains(&m.id)).count(),
        })
    }

    /// A page of the admin's tenant's members, by primary address.
    pub async fn member_page(
        &self,
        admin: &str,
        filter: &MemberFilter,
    ) -> Result<MemberPage, AdminError> {
        let scope = self.dir_scope(admin).await?;
        let mut pooled = self.store.acquire().await?;
        let conn = &mut pooled.conn();
        let paths: HashMap<i64, String> = ids::departments(conn, scope.tenant_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.path))
            .collect();
        let mut departments: HashMap<i64, Vec<String>> = HashMap::new();
        for (member, dept) in ids::memberships(conn, scope.tenant_id).await? {
            if let Some(p) = paths.get(&dept) {
                departments.entry(member).or_default().push(p.clone());
            }
        }
        let mut aliases: HashMap<i64, Vec<String>> = HashMap::new();
        for (member, alias) in ids::aliases(conn, scope.tenant_id).await? {
            aliases.entry(member).or_default().push(alias);
        }
        let needle = filter.search.trim().to_lowercase();
        let wanted = filter.department.trim();
        let under = format!("{wanted}/");
        let mut rows: Vec<MemberSummary> = ids::listed_members(conn, scope.tenant_id, None)
            .await?
            .into_iter()
            .map(|m| MemberSummary {
                departments: departments.remove(&m.id).unwrap_or_default(),
                aliases: aliases.remove(&m.id).unwrap_or_default(),
                address: m.address,
                name: m.name,
                position: m.position,
                enabled: m.enabled,
            })
            .filter(|m| {
                needle.is_empty()
                    || m.address.to_lowercase().contains(&needle)
                    || m.name.to_lowercase().contains(&needle)
                    || m.aliases.iter().any(|a| a.to_lowercase().contains(&needle))
            })
            .filter(|m| match wanted {
                "" => true,
                "/" => m.departments.is_empty(),
                w => m
                    .departments
                    .iter()
                    .any(|d| d == w || d.starts_with(&under)),
            })
            .collect();
        rows.sort_by(|a, b| a.address.cmp(&b.address));
        let total = rows.len();
        let rows = rows
            .into_iter()
            .skip(filter.offset)
            .take(filter.limit)
            .collect();
        Ok(MemberPage { rows, total })
    }

    /// One member of the admin's tenant, by primary address or alias.
    pub async fn member_detail(
        &self,
        admin: &str,
        member: &str,
    ) -> Result<MemberDetail, AdminError> {
        let scope = self.dir_scope(admin).await?;
        let address = Address::parse(member)
            .ok_or_else(|| AdminError::Invalid(format!("{member:?} is not an email address")))?;
        let mut pooled = self.store.acquire().await?;
        let conn = &mut pooled.conn();
        let m = resolve_member(conn, &scope, &address)
            .await
            .map_err(|e| admin_error(e, "such member"))?;
        let (aliases, departments) = db::aliases_and_departments(conn, m.id).await?;
        Ok(MemberDetail {
            aliases,
            departments,
            totp_enrolled: ids::totp_enrolled(conn, m.id).await?,
            has_password: !m.password_hash.is_empty(),
            address: m.address,
            name: m.name,
            gender: m.gender,
            position: m.position,
            tel: m.tel,
            mobile: m.mobile,
            ext_id: m.ext_id,
            enabled: m.enabled,
            second_factor: m.second_factor,
        })
    }

    /// The mail groups of the admin's tenant, by address.
    pub async fn group_list(&self, admin: &str) -> Result<Vec<GroupSummary>, AdminError> {
        let scope = self.dir_scope(admin).await?;
        let mut pooled = self.store.acquire().await?;
        let rows = db::tenant_groups(&mut pooled.conn(), scope.tenant_id).await?;
        Ok(rows
            .into_iter()
            .map(|(address, name, status, entries)| GroupSummary {
                address,
                name,
                status,
                entries,
            })
            .collect())
    }

    /// One mail group of the admin's tenant with its lists.
    pub async fn group_detail(&self, admin: &str, group: &str) -> Result<GroupDetail, AdminError> {
        let scope = self.dir_scope(admin).await?;
        let mut pooled = self.store.acquire().await?;
        let conn = &mut pooled.conn();
        let address = Address::parse(group)
            .ok_or_else(|| AdminError::Invalid(format!("{group:?} is not an email address")))?;
        let row = db::group_by_address(conn, scope.tenant_id, address.as_str())
            .await?
            .ok_or_else(|| AdminError::Invalid("no such mail group in this tenant".into()))?;
        let (name, status) = ids::group_name_status(conn, row.id).await?;
        let paths: HashMap<i64, String> = ids::departments(conn, scope.tenant_id)
            .await?
            .into_iter()
            .map(|d| (d.id, d.path))
            .collect();
        let departments = ids::group_departments(conn, row.id)
            .await?
            .into_iter()
            .filter_map(|d| paths.get(&d).map(|p| (wire_id(d), p.clone())))
            .collect();
        Ok(GroupDetail {
            address: address.to_string(),
            name,
            status,
            members: db::direct_group_members(conn, row.id)
                .await?
                .into_iter()
                .map(|(_, a)| a)
                .collect(),
            groups: ids::subgroup_addresses(conn, row.id).await?,
            departments,
            allow: db::allow_list(conn, row.id).await?,
        })
    }
}
