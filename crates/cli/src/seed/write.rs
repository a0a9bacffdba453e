//! Writing a [`Company`] into a tenant: departments by their path of names, members and groups
//! by address, each created through the newer API's rules unless it is there already (then it
//! is left exactly as it is); mails stored per member in batches with `store_migrated`, under a
//! source named by the seed, so a second run knows which mails it stored before.

use super::Tally;
use super::company::{Allow, Company};
use super::mails::{self, Mail};
use bizmail_server::directory::CorpDirectory;
use bizmail_server::mail::Mailboxes;
use bizmail_server::mail::folders::{Entry, Special};
use bizmail_server::mail::migrate::Incoming;
use indicatif::ProgressBar;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Where the seed's mails are recorded as coming from (the `migrate mail` progress table's
/// source), with the seed as the folder.
const SOURCE: &str = "bizmail seed";
/// Mails generated, grouped and stored at a time (bounds the memory a big run takes).
const ROUND: u64 = 20_000;

/// What storing mail did.
#[derive(Debug, Default)]
pub struct MailTally {
    /// Mails stored now.
    pub stored: u64,
    /// Of them, not read.
    pub unread: u64,
    /// Of them, in GBK.
    pub gbk: u64,
    /// Of them, with attachments.
    pub with_attachments: u64,
    /// Mails an earlier run of this seed stored already.
    pub already: u64,
}

/// One run's writer.
pub struct Writer<'a> {
    /// The company to write.
    pub company: &'a Company,
    /// The tenant's directory, as its newer API.
    pub dir: CorpDirectory,
    /// The tenant's mailboxes.
    pub mailboxes: Mailboxes,
    /// The progress bar.
    pub bar: &'a ProgressBar,
    /// Each department's newer-API id (by index), once it is there.
    pub departments: Vec<Option<i64>>,
    /// Whether each member is there (created now or before).
    pub present: Vec<bool>,
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_str()?.parse().ok())
}

fn refusal(what: &str, answer: &Value) -> String {
    format!(
        "{what}: {} {}",
        answer["errcode"],
        answer["errmsg"].as_str().unwrap_or("")
    )
}

impl Writer<'_> {
    async fn call(&self, endpoint: &str, body: Value) -> anyhow::Result<Value> {
        Ok(self.dir.call(endpoint, body).await?)
    }

    /// Departments, parents first; one already at the same path of names is left alone.
    pub async fn departments(&mut self) -> anyhow::Result<Tally> {
        self.bar.set_prefix("departments");
        let mut tally = Tally::default();
        let here = self.call("department/list", json!({"id": 1})).await?;
        let rows: Vec<Value> = here["department"].as_array().cloned().unwrap_or_default();
        let by_id: HashMap<i64, &Value> = rows
            .iter()
            .filter_map(|d| Some((int(&d["id"])?, d)))
            .collect();
        let mut existing: HashMap<String, i64> = HashMap::new();
        for &id in by_id.keys() {
            let mut names = Vec::new();
            let mut at = id;
            // Bounded, whatever the parents say.
            for _ in 0..16 {
                let Some(d) = by_id.get(&at) else { break };
                names.push(d["name"].as_str().unwrap_or("").to_owned());
                at = int(&d["parentid"]).unwrap_or(0);
            }
            names.reverse();
            existing.insert(names.join("/"), id);
        }
        let mut ids: HashMap<&str, i64> = HashMap::new();
        for d in &self.company.departments {
            self.bar.inc(1);
            if let Some(id) = existing.get(d.path) {
                tally.already += 1;
                ids.insert(d.path, *id);
                self.departments.push(Some(*id));
                continue;
            }
            let parent = match d.parent() {
                None => Some(1),
                Some(p) => ids.get(p).copied(),
            };
            let Some(parent) = parent else {
                tally
                    .refused
                    .push(format!("{}: its parent is missing", d.path));
                self.departments.push(None);
                continue;
            };
            let body = json!({"name": d.name(), "parentid": parent, "order": d.order});
            let a = self.call("department/create", body).await?;
            match int(&a["id"]).filter(|_| int(&a["errcode"]) == Some(0)) {
                Some(id) => {
                    tally.created += 1;
                    ids.insert(d.path, id);
                    self.departments.push(Some(id));
                }
                None => {
                    tally.refused.push(refusal(d.path, &a));
                    self.departments.push(None);
                }
            }
        }
        Ok(tally)
    }

    /// Members by address; one there already (by primary address) is left as it is.
    pub async fn members(&mut self, password: Option<&str>) -> anyhow::Result<Tally> {
        self.bar.set_prefix("members");
        let mut tally = Tally::default();
        let q = json!({"department_id": 1, "fetch_child": 1});
        let here: HashSet<String> = self.call("user/list", q).await?["userlist"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|u| Some(u["userid"].as_str()?.to_lowercase()))
                    .collect()
            })
            .unwrap_or_default();
        for m in &self.company.members {
            self.bar.inc(1);
            if here.contains(&m.address) {
                tally.already += 1;
                self.present.push(true);
                continue;
            }
            let department = self
                .departments
                .get(m.department)
                .copied()
                .flatten()
                .unwrap_or(1);
            let mut body = json!({
                "userid": m.address,
                "name": m.name.chinese,
                "department": [department],
                "position": m.position,
                "mobile": m.mobile,
                "gender": m.name.gender,
                "slaves": m.alias.iter().collect::<Vec<_>>(),
                "enable": i64::from(m.enabled),
            });
            let a = match password {
                Some(pw) => {
                    body["password"] = pw.into();
                    self.call("user/create", body).await?
                }
                None => self.dir.create_without_password(body).await?,
            };
            let ok = int(&a["errcode"]) == Some(0);
            if ok {
                tally.created += 1;
            } else {
                tally.refused.push(refusal(&m.address, &a));
            }
            self.present.push(ok);
        }
        Ok(tally)
    }

    /// Mail groups by address (nested ones first); one there already is left as it is.
    pub async fn groups(&mut self) -> anyhow::Result<Tally> {
        self.bar.set_prefix("groups");
        let mut tally = Tally::default();
        let c = self.company;
        let mut present: HashSet<&str> = HashSet::new();
        for g in &c.groups {
            self.bar.inc(1);
            let address = format!("{}@{}", g.local, c.domain);
            let existing = self.call("group/get", json!({"groupid": address})).await?;
            if int(&existing["errcode"]) == Some(0) {
                tally.already += 1;
                present.insert(g.local);
                continue;
            }
            // Only what is there: a name the directory does not know would refuse the group.
            let people = |list: &[usize]| -> Vec<String> {
                list.iter()
                    .filter(|m| self.present.get(**m).copied().unwrap_or(false))
                    .map(|m| c.members[*m].address.clone())
                    .collect()
            };
            let departments: Vec<i64> = g
                .departments
                .iter()
                .filter_map(|d| self.departments.get(*d).copied().flatten())
                .collect();
            let groups: Vec<String> = g
                .groups
                .iter()
                .filter(|l| present.contains(**l))
                .map(|l| format!("{l}@{}", c.domain))
                .collect();
            let (allow_type, allow_list) = match &g.allow {
                Allow::Inner => (0, Vec::new()),
                Allow::Anyone => (1, Vec::new()),
                Allow::Members => (2, Vec::new()),
                Allow::List(l) if !people(l).is_empty() => (3, people(l)),
                Allow::List(_) => (0, Vec::new()),
            };
            let body = json!({
                "groupid": address,
                "groupname": g.name,
                "userlist": people(&g.members),
                "grouplist": groups,
                "department": departments,
                "allow_type": allow_type,
                "allow_userlist": allow_list,
            });
            let a = self.call("group/create", body).await?;
            if int(&a["errcode"]) == Some(0) {
                tally.created += 1;
                present.insert(g.local);
            } else {
                tally.refused.push(refusal(&address, &a));
            }
        }
        Ok(tally)
    }

    /// `total` mails into the inboxes of the enabled members that are there, in rounds; per
    /// member, the mails an earlier run of `seed` stored (its recorded position) are skipped.
    pub async fn mails(&mut self, seed: u64, total: u64) -> anyhow::Result<MailTally> {
        self.bar.set_prefix("mails");
        let mut tally = MailTally::default();
        let c = self.company;
        let recipients: Vec<usize> = (0..c.members.len())
            .filter(|m| c.members[*m].enabled && self.present.get(*m).copied().unwrap_or(false))
            .collect();
        if recipients.is_empty() || total == 0 {
            self.bar.inc(total);
            return Ok(tally);
        }
        let folder = format!("seed {seed}");
        let today = mails::today(now_s());
        // Per member: their mailbox, INBOX, and the last mail number + 1 stored before.
        let mut boxes = HashMap::new();
        for start in (0..total).step_by(usize::try_from(ROUND).unwrap_or(1)) {
            let mut by_member: BTreeMap<usize, Vec<(u64, Mail)>> = BTreeMap::new();
            for k in start..(start + ROUND).min(total) {
                let mail = mails::generate(c, seed, (k, total), &recipients, today);
                by_member.entry(mail.recipient).or_default().push((k, mail));
            }
            for (member, batch) in by_member {
                let n = batch.len() as u64;
                let (owner, inbox, done) = match boxes.get(&member) {
                    Some(b) => b,
                    None => {
                        let b = self.mailbox(member, &folder).await?;
                        boxes.entry(member).or_insert(b)
                    }
                };
                let mut incoming = Vec::with_capacity(batch.len());
                for (k, mail) in batch {
                    if k < *done {
                        tally.already += 1;
                        continue;
                    }
                    tally.unread += u64::from(!mail.seen);
                    tally.gbk += u64::from(mail.gbk);
                    tally.with_attachments += u64::from(mail.attachments);
                    let mut entry = Entry::upload(mail.received_ms);
                    entry.seen = mail.seen;
                    incoming.push(Incoming {
                        source_uid: u32::try_from(k + 1).unwrap_or(u32::MAX),
                        raw: mail.raw,
                        entry,
                    });
                }
                if !incoming.is_empty() {
                    let stored = self
                        .mailboxes
                        .store_migrated(owner, *inbox, (SOURCE, &folder, 1), incoming, None)
                        .await?;
                    tally.stored += stored.copied;
                }
                self.bar.inc(n);
            }
        }
        Ok(tally)
    }

    /// A member's mailbox, INBOX id, and how far an earlier run of this seed got (the last mail
    /// number + 1 it stored there; 0 for none).
    async fn mailbox(
        &self,
        member: usize,
        folder: &str,
    ) -> anyhow::Result<(bizmail_server::mail::Owner, i64, u64)> {
        let address = &self.company.members[member].address;
        let Some(owner) = self.mailboxes.owner(address).await? else {
            anyhow::bail!("{address} has no mailbox");
        };
        let inbox = self
            .mailboxes
            .folders(&owner)
            .await?
            .into_iter()
            .find(|f| f.role() == Some(Special::Inbox))
            .map(|f| f.id);
        let Some(inbox) = inbox else {
            anyhow::bail!("{address} has no INBOX");
        };
        let done = self
            .mailboxes
            .migration_progress(&owner, SOURCE, folder)
            .await?
            .map_or(0, |p| u64::try_from(p.last_uid).unwrap_or(0));
        Ok((owner, inbox, done))
    }
}

/// Now, Unix seconds.
fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
