//! Who a recipient address reaches (§9): a member by primary address or alias, or every person of a
//! mail group (nested groups expanded, each person once) if the sender may send to it (§7.7).

use crate::store::directory::{self as db, kind};
use crate::store::{self, Conn, Store, StoreError};
use bizmail_protocol::Address;
use bizmail_protocol::directory::GroupStatus;
use std::collections::HashSet;

/// A mailbox a message goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mailbox {
    /// The tenant of the member.
    pub tenant_id: i64,
    /// The member.
    pub member_id: i64,
    /// The member's primary address (the push's `Receiver`).
    pub address: String,
}

/// Why a recipient is refused. The SMTP reply each gets is decided by `smtp`.
#[derive(Debug)]
pub enum Refusal {
    /// Not an address at all.
    BadSyntax,
    /// A domain bizmail does not host: never relay.
    NotHosted,
    /// An unknown address of a hosted domain, or a disabled member.
    Unknown,
    /// A group the sender may not send to.
    NotPermitted,
    /// The member's mailbox is over its quota; the sender may retry later.
    Full,
    /// The store failed; the sender may retry.
    Unavailable(StoreError),
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Refusal {
        Refusal::Unavailable(e)
    }
}

/// Resolves one RCPT TO address for `sender` (`None` for the null sender `<>`). A member's full
/// mailbox (`default_quota` for members without their own) refuses mail sent to it directly;
/// decided: mail to a group still reaches its full members, since refusing the group would hold
/// the mail back from everyone and skipping them would lose it.
pub async fn resolve(
    store: &Store,
    sender: Option<&Address>,
    rcpt: &str,
    default_quota: Option<i64>,
) -> Result<Vec<Mailbox>, Refusal> {
    let rcpt = Address::parse(rcpt).ok_or(Refusal::BadSyntax)?;
    let mut pooled = store.acquire().await?;
    let conn = &mut pooled.conn();
    // The domain's tenant, the address and its member in one statement (see
    // `store::mail::recipient`).
    let found = store::mail::recipient(conn, rcpt.domain(), rcpt.as_str())
        .await?
        .ok_or(Refusal::NotHosted)?;
    let tenant_id = found.tenant_id;
    // A tenant the operator disabled receives nothing: its addresses are unknown (550).
    if found.disabled {
        return Err(Refusal::Unknown);
    }
    // An address of another tenant is not this domain's (an address names its tenant's domain,
    // but the lookup is by the whole address).
    if found.address_tenant != Some(tenant_id) {
        return Err(Refusal::Unknown);
    }
    match (found.kind, found.member_id, found.group_id) {
        (Some(kind::GROUP), _, Some(group_id)) => {
            let group = db::group_by_address(conn, tenant_id, rcpt.as_str())
                .await?
                .ok_or(Refusal::Unknown)?;
            let people = expand(conn, tenant_id, group_id).await?;
            if !may_send(conn, tenant_id, &group.status, group_id, sender, &people).await? {
                return Err(Refusal::NotPermitted);
            }
            if people.is_empty() {
                return Err(Refusal::Unknown);
            }
            Ok(people)
        }
        (_, Some(member_id), _) => {
            let (Some(true), Some(address)) = (found.enabled, found.member_address) else {
                // No member of this tenant, or a disabled one.
                return Err(Refusal::Unknown);
            };
            let quota =
                super::quota::of_member(conn, member_id, found.quota_bytes, default_quota).await?;
            if quota.full() {
                return Err(Refusal::Full);
            }
            Ok(vec![Mailbox {
                tenant_id,
                member_id,
                address,
            }])
        }
        _ => Err(Refusal::Unknown),
    }
}

/// Every enabled person in a group, nested groups included, each once, in group order.
async fn expand(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    group_id: i64,
) -> Result<Vec<Mailbox>, StoreError> {
    let mut seen_groups = HashSet::new();
    let mut seen_members = HashSet::new();
    let mut out = Vec::new();
    let mut stack = vec![group_id];
    while let Some(g) = stack.pop() {
        if !seen_groups.insert(g) {
            continue;
        }
        // A department in a group stands for its people, sub-departments included (the newer
        // API's typed members, EXMAIL_API.md §3).
        let mut people = db::direct_group_members(conn, g).await?;
        people.extend(db::ids::group_department_members(conn, g).await?);
        for (member_id, address) in people {
            if seen_members.insert(member_id)
                && db::member(conn, tenant_id, member_id)
                    .await?
                    .is_some_and(|m| m.enabled)
            {
                out.push(Mailbox {
                    tenant_id,
                    member_id,
                    address,
                });
            }
        }
        let mut subs = db::subgroups(conn, g).await?;
        subs.reverse();
        stack.extend(subs);
    }
    Ok(out)
}

/// The send permission of a group (§7.7): `all` anyone; `inner` senders in the tenant's domains;
/// `group` the group's own people (by any of their addresses); `list` the allow list.
async fn may_send(
    conn: &mut Conn<'_>,
    tenant_id: i64,
    status: &str,
    group_id: i64,
    sender: Option<&Address>,
    people: &[Mailbox],
) -> Result<bool, StoreError> {
    let status = GroupStatus::parse(status).unwrap_or(GroupStatus::List);
    if status == GroupStatus::All {
        return Ok(true);
    }
    let Some(sender) = sender else {
        return Ok(false);
    };
    Ok(match status {
        GroupStatus::All => true,
        GroupStatus::Inner => {
            store::mail::tenant_of_domain(conn, sender.domain()).await? == Some(tenant_id)
        }
        GroupStatus::Group => match db::find_address(conn, sender.as_str()).await? {
            Some(r) if r.tenant_id == tenant_id => r
                .member_id
                .is_some_and(|id| people.iter().any(|p| p.member_id == id)),
            _ => false,
        },
        GroupStatus::List => db::allow_list(conn, group_id)
            .await?
            .iter()
            .any(|a| a == sender.as_str()),
    })
}
