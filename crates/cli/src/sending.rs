//! `bizmail dkim` (signing keys per domain, with the DNS record to publish) and `bizmail queue`
//! (the outbound queue: look, retry, drop).

use crate::StoreArgs;
use bizmail_server::outbound::dkim::Algorithm;
use bizmail_server::tenants::Admin;
use clap::{Args, Subcommand, ValueEnum};

/// `bizmail dkim …`.
#[derive(Subcommand)]
pub enum DkimCommand {
    /// Make a signing key for a domain and print the TXT record to publish. It signs new mail
    /// at once; the domain's older keys stay (unused) until removed, so rotating is: create with
    /// a new selector, publish its record, and remove the old selector once mail signed with it
    /// has arrived (a few days).
    Create(DkimCreateArgs),
    /// List the tenant's keys and their DNS records.
    List(DkimListArgs),
    /// Remove a key (an old selector after a rotation).
    Remove(DkimRemoveArgs),
}

/// The key kinds of `--algorithm`.
#[derive(Clone, Copy, ValueEnum)]
pub enum AlgorithmArg {
    /// RSA 2048 bits with SHA-256: verified everywhere.
    Rsa,
    /// Ed25519 (RFC 8463): short, not yet verified everywhere.
    Ed25519,
}

/// The store and the admin account: whose tenant.
#[derive(Args)]
pub struct Who {
    #[command(flatten)]
    store: StoreArgs,
    /// The admin account (its tenant's domains are the ones signed for).
    #[arg(long, value_name = "NAME")]
    admin: String,
}

/// Flags of `bizmail dkim create`.
#[derive(Args)]
pub struct DkimCreateArgs {
    #[command(flatten)]
    who: Who,
    /// One of the tenant's domains.
    #[arg(long, value_name = "DOMAIN")]
    domain: String,
    /// The selector (the DNS label in front of `._domainkey`); default: bizmail + year and month.
    #[arg(long, value_name = "NAME")]
    selector: Option<String>,
    /// The key kind.
    #[arg(long, value_enum, default_value = "rsa")]
    algorithm: AlgorithmArg,
}

/// Flags of `bizmail dkim list`.
#[derive(Args)]
pub struct DkimListArgs {
    #[command(flatten)]
    who: Who,
}

/// Flags of `bizmail dkim remove`.
#[derive(Args)]
pub struct DkimRemoveArgs {
    #[command(flatten)]
    who: Who,
    /// The domain.
    #[arg(long, value_name = "DOMAIN")]
    domain: String,
    /// The selector to remove.
    #[arg(long, value_name = "NAME")]
    selector: String,
}

async fn open(store: &StoreArgs) -> anyhow::Result<Admin> {
    let config = store.load(toml::Table::new())?;
    Ok(Admin::open(&config).await?)
}

/// Runs a `bizmail dkim` command.
pub async fn dkim(command: DkimCommand) -> anyhow::Result<()> {
    match command {
        DkimCommand::Create(a) => {
            let admin = open(&a.who.store).await?;
            let selector = a.selector.unwrap_or_else(|| {
                let now = time::OffsetDateTime::now_utc();
                format!("bizmail{}{:02}", now.year(), u8::from(now.month()))
            });
            let algorithm = match a.algorithm {
                AlgorithmArg::Rsa => Algorithm::Rsa,
                AlgorithmArg::Ed25519 => Algorithm::Ed25519,
            };
            let key = admin
                .dkim_create(&a.who.admin, &a.domain, &selector, algorithm)
                .await?;
            println!(
                "Made a {} key for {} (selector {}); it signs new mail now.\n\
                 Publish this TXT record:\n\n{}  IN  TXT  {}\n",
                key.algorithm, key.domain, key.selector, key.dns_name, key.dns_value
            );
            Ok(())
        }
        DkimCommand::List(a) => {
            let admin = open(&a.who.store).await?;
            let keys = admin.dkim_list(&a.who.admin).await?;
            if keys.is_empty() {
                println!("no DKIM keys: mail goes out unsigned (bizmail dkim create --domain …)");
            }
            for k in keys {
                let state = if k.active { "signing" } else { "retired" };
                println!(
                    "{}\t{}\t{}\t{state}\n  {}  IN  TXT  {}",
                    k.domain, k.selector, k.algorithm, k.dns_name, k.dns_value
                );
            }
            Ok(())
        }
        DkimCommand::Remove(a) => {
            let admin = open(&a.who.store).await?;
            if admin
                .dkim_remove(&a.who.admin, &a.domain, &a.selector)
                .await?
            {
                println!("{}: the key {} is removed", a.domain, a.selector);
                Ok(())
            } else {
                anyhow::bail!("{} has no key with the selector {}", a.domain, a.selector)
            }
        }
    }
}

/// `bizmail queue …`.
#[derive(Subcommand)]
pub enum QueueCommand {
    /// Show the queue's rows, newest first: one per remote recipient.
    List(QueueListArgs),
    /// Try rows again now (a failed row is queued again); all rows not yet sent without an id.
    Retry(QueueIdArgs),
    /// Remove a row without sending it.
    Drop(QueueDropArgs),
}

/// Flags of `bizmail queue list`.
#[derive(Args)]
pub struct QueueListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Only rows in this state.
    #[arg(long, value_parser = ["queued", "sent", "failed"])]
    state: Option<String>,
    /// At most this many rows.
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

/// Flags of `bizmail queue retry`.
#[derive(Args)]
pub struct QueueIdArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The row (from `bizmail queue list`); none: every row not yet sent.
    #[arg(value_name = "ID")]
    id: Option<i64>,
}

/// Flags of `bizmail queue drop`.
#[derive(Args)]
pub struct QueueDropArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The row (from `bizmail queue list`).
    #[arg(value_name = "ID")]
    id: i64,
}

fn when(ms: i64) -> String {
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    httpdate::fmt_http_date(at)
}

/// Runs a `bizmail queue` command.
pub async fn queue(command: QueueCommand) -> anyhow::Result<()> {
    match command {
        QueueCommand::List(a) => {
            let queue = open(&a.store).await?.queue();
            let rows = queue.list(a.state.as_deref(), a.limit).await?;
            if rows.is_empty() {
                println!("the queue is empty");
            }
            for r in rows {
                let next = if r.state == "queued" {
                    format!("  next {}", when(r.next_ms))
                } else {
                    String::new()
                };
                println!(
                    "{}\t{}\t{} -> {}\tattempts {}\tqueued {}{next}",
                    r.id,
                    r.state,
                    r.sender,
                    r.recipient,
                    r.attempts,
                    when(r.created_ms)
                );
                if !r.last_error.is_empty() {
                    println!("\t{}", r.last_error);
                }
            }
            Ok(())
        }
        QueueCommand::Retry(a) => {
            let n = open(&a.store).await?.queue().retry(a.id).await?;
            println!("{n} row(s) due now; a running server sends them within seconds");
            Ok(())
        }
        QueueCommand::Drop(a) => {
            if open(&a.store).await?.queue().drop_entry(a.id).await? {
                println!("row {} dropped", a.id);
                Ok(())
            } else {
                anyhow::bail!("no row {} in the queue", a.id)
            }
        }
    }
}

/// Flags of `bizmail spam`.
#[derive(Args)]
pub struct SpamArgs {
    #[command(flatten)]
    who: Who,
    /// rspamd score from which this tenant's mail goes to Junk; absent: the server's
    /// spam_junk_score.
    #[arg(long, value_name = "SCORE")]
    junk: Option<f64>,
    /// rspamd score from which this tenant's mail is refused; absent: the server's
    /// spam_reject_score.
    #[arg(long, value_name = "SCORE")]
    reject: Option<f64>,
}

/// Runs `bizmail spam`.
pub async fn spam(a: SpamArgs) -> anyhow::Result<()> {
    let admin = open(&a.who.store).await?;
    admin
        .set_spam_thresholds(&a.who.admin, a.junk, a.reject)
        .await?;
    let shown =
        |v: Option<f64>, what: &str| v.map_or(format!("the server's {what}"), |v| v.to_string());
    println!(
        "Junk from {}, refused from {}",
        shown(a.junk, "spam_junk_score"),
        shown(a.reject, "spam_reject_score")
    );
    Ok(())
}
