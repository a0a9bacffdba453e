//! `bizmail migrate mail`: copies the listed accounts' folders from the source, several accounts
//! at a time, each folder from where its last run stopped. Messages are fetched with BODY.PEEK
//! (the source's \Seen stays as it was) in UID order and stored in batches, each batch in one
//! transaction with the folder's new position (`Mailboxes::store_migrated`).

use super::MailArgs;
use super::accounts::{self, Account};
use super::folders::{Mapped, Target};
use super::source::{self, Imap, Source};
use anyhow::{Context as _, anyhow};
use bizmail_server::imap::uid_set;
use bizmail_server::mail::folders::{ANSWERED, DELETED, DRAFT, Entry, FLAGGED, Folder};
use bizmail_server::mail::migrate::Incoming;
use bizmail_server::mail::{Mailboxes, Owner};
use bizmail_server::tenants::Admin;
use futures_util::{StreamExt as _, TryStreamExt as _};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::time::Instant;

/// UIDs asked for in one FETCH command.
const FETCH_CHUNK: usize = 500;
/// A batch is stored once it holds this many bytes, whatever its count.
const BATCH_BYTES: usize = 16 << 20;

/// What happened to one source folder.
#[derive(Debug, Default, Clone)]
pub struct FolderReport {
    /// The folder at the source.
    pub source: String,
    /// Where it went.
    pub target: String,
    /// Messages stored this run.
    pub copied: u64,
    /// Messages found here already (only when the source's UIDs could not be trusted).
    pub duplicates: u64,
    /// Messages listed, but gone (expunged at the source meanwhile) when fetched.
    pub vanished: u64,
    /// Bytes stored.
    pub bytes: u64,
}

/// What happened to one account.
#[derive(Debug)]
pub struct AccountReport {
    /// The member's address.
    pub address: String,
    /// Per folder.
    pub folders: Vec<FolderReport>,
    /// Why the account stopped before the end, if it did.
    pub error: Option<String>,
}

/// Runs `migrate mail`; returns whether every account was copied completely.
pub async fn run(args: MailArgs) -> anyhow::Result<bool> {
    let src = &args.source;
    let accounts = accounts::read(&src.accounts, src.master_user.is_some())?;
    let source = Source::from_args(src)?;
    let config = src.store.load(toml::Table::new())?;
    let admin = Admin::open(&config).await?;
    let mailboxes = admin.mailboxes_as_configured(&config);
    let bars = MultiProgress::new();
    let overall = bars.add(ProgressBar::new(0));
    overall.set_style(style(
        "{prefix:>24} {bar:30} {pos}/{len} messages  {per_sec}  eta {eta}",
    ));
    overall.set_prefix("all accounts");
    let started = Instant::now();
    let run = Run {
        source: &source,
        mailboxes: &mailboxes,
        bars: &bars,
        overall: &overall,
        batch: args.batch.max(1),
    };
    let reports: Vec<AccountReport> = futures_util::stream::iter(&accounts)
        .map(|a| run.account(a))
        .buffer_unordered(args.jobs.max(1))
        .collect()
        .await;
    overall.finish_and_clear();
    admin.close().await;
    let elapsed = started.elapsed().as_secs_f64().max(0.001);
    Ok(print(&reports, elapsed))
}

/// Prints the per-account report and the totals; returns whether every account went through.
fn print(reports: &[AccountReport], elapsed: f64) -> bool {
    let (mut copied, mut bytes, mut ok) = (0u64, 0u64, true);
    for r in reports {
        let c: u64 = r.folders.iter().map(|f| f.copied).sum();
        let d: u64 = r.folders.iter().map(|f| f.duplicates).sum();
        let v: u64 = r.folders.iter().map(|f| f.vanished).sum();
        copied += c;
        bytes += r.folders.iter().map(|f| f.bytes).sum::<u64>();
        let status = match &r.error {
            Some(e) => {
                ok = false;
                format!("FAILED: {e}")
            }
            None => "ok".to_owned(),
        };
        println!(
            "{}: {c} copied, {d} already here, {v} gone at the source; {status}",
            r.address
        );
        for f in r
            .folders
            .iter()
            .filter(|f| f.copied + f.duplicates + f.vanished > 0)
        {
            println!(
                "  {} -> {}: {} copied, {} already here, {} gone at the source",
                f.source, f.target, f.copied, f.duplicates, f.vanished
            );
        }
    }
    #[allow(clippy::cast_precision_loss)] // figures to print
    let (messages, megabytes) = (copied as f64, bytes as f64 / 1e6);
    println!(
        "{} accounts, {copied} messages ({megabytes:.1} MB) in {elapsed:.1} s: {:.0} messages/s, \
         {:.1} MB/s",
        reports.len(),
        messages / elapsed,
        megabytes / elapsed
    );
    ok
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// What every account of a run shares.
struct Run<'a> {
    source: &'a Source,
    mailboxes: &'a Mailboxes,
    bars: &'a MultiProgress,
    overall: &'a ProgressBar,
    batch: usize,
}

impl Run<'_> {
    /// Copies one account; never fails as a whole: what went wrong is in the report.
    async fn account(&self, account: &Account) -> AccountReport {
        let bar = self.bars.add(ProgressBar::new(0));
        bar.set_style(style("{prefix:>24} {bar:30} {pos}/{len} {msg}"));
        bar.set_prefix(account.address.clone());
        let mut report = AccountReport {
            address: account.address.clone(),
            folders: Vec::new(),
            error: None,
        };
        if let Err(e) = self.copy_account(account, &bar, &mut report).await {
            report.error = Some(format!("{e:#}"));
        }
        bar.finish_and_clear();
        self.bars.remove(&bar);
        report
    }

    async fn copy_account(
        &self,
        account: &Account,
        bar: &ProgressBar,
        report: &mut AccountReport,
    ) -> anyhow::Result<()> {
        let owner = self
            .mailboxes
            .owner(&account.address)
            .await?
            .ok_or_else(|| {
                anyhow!(
                    "{} is not a member here (run `bizmail migrate directory` or create it first)",
                    account.address
                )
            })?;
        bar.set_message("signing in");
        let mut imap = self.source.sign_in(account).await?;
        let (folders, malformed) = source::folders(self.source, &mut imap).await?;
        if let Some(name) = malformed.first() {
            return Err(anyhow!(
                "the source folder {name:?} is not valid modified UTF-7"
            ));
        }
        // Plan first (what each folder has that is new), so the bars know their length.
        let mut plans = Vec::with_capacity(folders.len());
        for folder in folders {
            let plan = self.plan(&mut imap, &owner, folder).await?;
            bar.inc_length(plan.uids.len() as u64);
            self.overall.inc_length(plan.uids.len() as u64);
            plans.push(plan);
        }
        for plan in plans {
            bar.set_message(plan.folder.name.clone());
            let mut folder = FolderReport {
                source: plan.folder.name.clone(),
                target: plan.folder.target.to_string(),
                ..FolderReport::default()
            };
            let done = self
                .copy_folder(&mut imap, &owner, &plan, bar, &mut folder)
                .await;
            report.folders.push(folder);
            done?;
        }
        self.source.patiently(imap.logout()).await.ok();
        Ok(())
    }

    /// Examines a source folder: its UIDVALIDITY, and the UIDs not copied yet.
    async fn plan(&self, imap: &mut Imap, owner: &Owner, folder: Mapped) -> anyhow::Result<Plan> {
        let status = self
            .source
            .patiently(imap.examine(&folder.wire))
            .await?
            .with_context(|| format!("opening {} at the source", folder.name))?;
        let uidvalidity = status.uid_validity.unwrap_or(0);
        let source = self.source.name();
        let progress = self
            .mailboxes
            .migration_progress(owner, &source, &folder.name)
            .await?;
        let trusted =
            progress.filter(|p| p.uidvalidity == i64::from(uidvalidity) && uidvalidity != 0);
        let from = trusted.map_or(1, |p| p.last_uid + 1);
        let mut uids: Vec<u32> = if status.exists == 0 {
            Vec::new()
        } else {
            self.source
                .patiently(imap.uid_search(format!("UID {from}:*")))
                .await?
                .with_context(|| format!("listing the messages of {}", folder.name))?
                .into_iter()
                // `n:*` always matches the last message, even below n.
                .filter(|&u| i64::from(u) >= from)
                .collect()
        };
        uids.sort_unstable();
        Ok(Plan {
            folder,
            uidvalidity,
            uids,
            dedup: trusted.is_none(),
        })
    }

    /// Copies the planned UIDs of one folder, batch by batch.
    async fn copy_folder(
        &self,
        imap: &mut Imap,
        owner: &Owner,
        plan: &Plan,
        bar: &ProgressBar,
        report: &mut FolderReport,
    ) -> anyhow::Result<()> {
        if plan.uids.is_empty() {
            return Ok(());
        }
        let target = self.target(owner, &plan.folder.target).await?;
        let mut known = if plan.dedup {
            Some(self.mailboxes.identities(target.id).await?)
        } else {
            None
        };
        let status = self
            .source
            .patiently(imap.examine(&plan.folder.wire))
            .await?
            .with_context(|| format!("opening {} at the source", plan.folder.name))?;
        if status.uid_validity.unwrap_or(0) != plan.uidvalidity {
            // Its UIDs changed meaning since it was planned: the next run starts it over.
            return Err(anyhow!(
                "{} was recreated at the source during the run; run again",
                plan.folder.name
            ));
        }
        let source = self.source.name();
        let place = (source.as_str(), plan.folder.name.as_str(), plan.uidvalidity);
        for chunk in plan.uids.chunks(FETCH_CHUNK) {
            let query = "(UID FLAGS INTERNALDATE BODY.PEEK[])";
            let mut fetches = self
                .source
                .patiently(imap.uid_fetch(uid_set(chunk), query))
                .await?
                .with_context(|| format!("fetching from {}", plan.folder.name))?;
            let mut batch: Vec<Incoming> = Vec::new();
            let mut bytes = 0usize;
            let mut seen = 0u64;
            while let Some(fetch) = self
                .source
                .patiently(fetches.try_next())
                .await?
                .with_context(|| format!("fetching from {}", plan.folder.name))?
            {
                let (Some(uid), Some(raw)) = (fetch.uid, fetch.body()) else {
                    continue;
                };
                seen += 1;
                bytes += raw.len();
                batch.push(incoming(&fetch, uid, raw.to_vec()));
                if batch.len() >= self.batch || bytes >= BATCH_BYTES {
                    let n = batch.len() as u64;
                    self.store(
                        owner,
                        target.id,
                        place,
                        std::mem::take(&mut batch),
                        known.as_mut(),
                        report,
                    )
                    .await?;
                    bytes = 0;
                    bar.inc(n);
                    self.overall.inc(n);
                }
            }
            drop(fetches);
            let n = batch.len() as u64;
            self.store(owner, target.id, place, batch, known.as_mut(), report)
                .await?;
            bar.inc(n);
            self.overall.inc(n);
            // Listed but not fetched: expunged at the source meanwhile, or without a body.
            let missing = chunk.len() as u64 - seen.min(chunk.len() as u64);
            report.vanished += missing;
            bar.inc(missing);
            self.overall.inc(missing);
        }
        Ok(())
    }

    /// Stores one batch, after checking that it fits the member's quota.
    async fn store(
        &self,
        owner: &Owner,
        folder_id: i64,
        place: (&str, &str, u32),
        batch: Vec<Incoming>,
        known: Option<&mut std::collections::HashSet<bizmail_server::mail::migrate::Identity>>,
        report: &mut FolderReport,
    ) -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let bytes: usize = batch.iter().map(|m| m.raw.len()).sum();
        let quota = self.mailboxes.quota(owner).await?;
        if !quota.allows(i64::try_from(bytes).unwrap_or(i64::MAX)) {
            return Err(anyhow!(
                "the mailbox quota is reached (raise it with `bizmail member quota`, then run again)"
            ));
        }
        let stored = self
            .mailboxes
            .store_migrated(owner, folder_id, place, batch, known)
            .await?;
        report.copied += stored.copied;
        report.duplicates += stored.duplicates;
        report.bytes += stored.bytes;
        Ok(())
    }

    /// The member's folder for a target, made (with its parents) when missing.
    async fn target(&self, owner: &Owner, target: &Target) -> anyhow::Result<Folder> {
        match target {
            Target::Special(role) => self
                .mailboxes
                .folders(owner)
                .await?
                .into_iter()
                .find(|f| f.role() == Some(*role))
                .ok_or_else(|| anyhow!("{} has no {} folder", owner.address, role.default_name())),
            Target::Named(name) => {
                let levels: Vec<&str> = name.split('/').collect();
                for depth in 1..=levels.len() {
                    let path = levels[..depth].join("/");
                    // Made already (by an earlier run, or just now by another level) is fine.
                    self.mailboxes.create_folder(owner, &path).await?;
                }
                self.mailboxes
                    .folder(owner, name)
                    .await?
                    .ok_or_else(|| anyhow!("the folder {name} could not be made"))
            }
        }
    }
}

/// A source folder and what of it is still to copy.
struct Plan {
    folder: Mapped,
    uidvalidity: u32,
    uids: Vec<u32>,
    /// Whether the source's UIDs cannot be trusted, so what is here already must be recognised.
    dedup: bool,
}

/// A fetched message as it will be stored: its flags (\Recent is the source's own business)
/// and its internal date (the time it was fetched when the source gave none).
fn incoming(fetch: &async_imap::types::Fetch, uid: u32, raw: Vec<u8>) -> Incoming {
    use async_imap::types::Flag;
    let received_ms = fetch
        .internal_date()
        .map_or_else(now_ms, |d| d.timestamp_millis());
    let mut entry = Entry::upload(received_ms);
    let mut keywords: Vec<String> = Vec::new();
    for flag in fetch.flags() {
        match flag {
            Flag::Seen => entry.seen = true,
            Flag::Answered => entry.flags |= ANSWERED,
            Flag::Flagged => entry.flags |= FLAGGED,
            Flag::Deleted => entry.flags |= DELETED,
            Flag::Draft => entry.flags |= DRAFT,
            Flag::Custom(k) if !k.starts_with('\\') => keywords.push(k.into_owned()),
            _ => {}
        }
    }
    entry.keywords = keywords.join(" ");
    Incoming {
        source_uid: uid,
        raw,
        entry,
    }
}

/// Now, Unix milliseconds.
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #[test]
    fn uid_sets_are_ranges() {
        assert_eq!(super::uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(super::uid_set(&[9]), "9");
        assert_eq!(super::uid_set::<u32>(&[]), "");
    }
}
