//! `bizmail migrate verify`: message counts per folder at the source (STATUS) and here, summed
//! per folder here (two source folders may land in one, e.g. "Sent" and "Sent Messages").

use super::VerifyArgs;
use super::accounts::{self, Account};
use super::folders::Target;
use super::source::{self, Source};
use anyhow::{Context as _, anyhow};
use bizmail_server::mail::Mailboxes;
use bizmail_server::tenants::Admin;
use std::collections::BTreeMap;

/// Runs `migrate verify`; returns whether no folder here misses messages.
pub async fn run(args: VerifyArgs) -> anyhow::Result<bool> {
    let src = &args.source;
    let accounts = accounts::read(&src.accounts, src.master_user.is_some())?;
    let source = Source::from_args(src)?;
    let config = src.store.load(toml::Table::new())?;
    let admin = Admin::open(&config).await?;
    let mailboxes = admin.mailboxes();
    let mut all_ok = true;
    for account in &accounts {
        match compare(&source, &mailboxes, account).await {
            Ok(rows) => {
                let missing: i64 = rows.iter().map(|r| (r.1 - r.2).max(0)).sum();
                let state = if missing == 0 {
                    "ok".to_owned()
                } else {
                    format!("{missing} MISSING")
                };
                println!("{}: {state}", account.address);
                for (folder, at_source, here) in &rows {
                    let note = match here - at_source {
                        0 => "",
                        d if d > 0 => " (more here: mail that arrived here)",
                        _ => " MISSING",
                    };
                    println!("  {folder}: source {at_source}, here {here}{note}");
                }
                all_ok &= missing == 0;
            }
            Err(e) => {
                println!("{}: FAILED: {e:#}", account.address);
                all_ok = false;
            }
        }
    }
    admin.close().await;
    Ok(all_ok)
}

/// `(folder here, messages at the source, messages here)` for each folder the source fills.
async fn compare(
    source: &Source,
    mailboxes: &Mailboxes,
    account: &Account,
) -> anyhow::Result<Vec<(String, i64, i64)>> {
    let owner = mailboxes
        .owner(&account.address)
        .await?
        .ok_or_else(|| anyhow!("{} is not a member here", account.address))?;
    let mut imap = source.sign_in(account).await?;
    let (folders, malformed) = source::folders(source, &mut imap).await?;
    if let Some(name) = malformed.first() {
        return Err(anyhow!(
            "the source folder {name:?} is not valid modified UTF-7"
        ));
    }
    let mut at_source: BTreeMap<String, i64> = BTreeMap::new();
    let mut targets: BTreeMap<String, Target> = BTreeMap::new();
    for folder in folders {
        let status = source
            .patiently(imap.status(&folder.wire, "(MESSAGES)"))
            .await?
            .with_context(|| format!("STATUS of {} at the source", folder.name))?;
        let key = folder.target.to_string();
        *at_source.entry(key.clone()).or_default() += i64::from(status.exists);
        targets.insert(key, folder.target);
    }
    source.patiently(imap.logout()).await.ok();
    let here = mailboxes.folders(&owner).await?;
    let mut rows = Vec::with_capacity(at_source.len());
    for (key, count) in at_source {
        let folder = here.iter().find(|f| match &targets[&key] {
            Target::Special(role) => f.role() == Some(*role),
            Target::Named(name) => &f.name == name,
        });
        let n = match folder {
            Some(f) => mailboxes.counts(f.id).await?.0,
            None => 0,
        };
        rows.push((key, count, n));
    }
    Ok(rows)
}
