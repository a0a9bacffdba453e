//! `bizmail seed`: fills a tenant with a believable Chinese company — departments three levels
//! deep, members with pinyin addresses, mail groups with allow lists, and a few hundred mails in
//! the members' inboxes — deterministically from `--seed`. Everything is written through the
//! same rules as the APIs: the directory through the newer API's in-process directory
//! (`CorpDirectory`, logged as `bizmail/seed/…`), the mail through `Mailboxes::store_migrated`
//! (unread counts recounted, `unread` notices for `listen`). docs/SEEDING.md is the guide.

mod company;
mod mails;
mod names;
mod outside;
mod rng;
mod texts;
mod write;

use crate::StoreArgs;
use anyhow::bail;
use bizmail_server::Config;
use bizmail_server::tenants::Admin;
use clap::Args;
use company::Company;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Instant;

/// `bizmail seed --help`.
pub const HELP: &str = "Fill a tenant with demo data: a believable Chinese company, the same one \
every time for the same --seed.

It creates departments three levels deep (研发中心/基础平台部/后端组, 市场部/华东区/上海办事处, …), \
--members members with Chinese names and pinyin addresses (zhang.wei@, a number added when a name \
repeats), positions, mobile numbers, some with an alias (wei.zhang@) and a few disabled; mail \
groups (all@, rd@, market@, sales@, managers@, hr@, finance@, office@) with their allow lists; \
and --mails mails in the members' inboxes from the four weeks before today: weekly reports, \
meeting notices, expense approvals, project progress, mail from customers and suppliers, some \
in GBK, some with attachments, about a third unread.

Everything goes through the same rules as the APIs, and enters the operation log as \
bizmail/seed/…. Running it again changes nothing: departments, members and groups that are there \
already are left as they are, and mails already stored by an earlier run of the same --seed are \
not stored again. Members get no password (they sign in through single sign-on) unless \
--password is given.

Exit status: 0 when nothing was refused, 1 otherwise.";

/// The most members a seed makes.
const MAX_MEMBERS: u32 = 5000;
/// The most mails a seed stores.
const MAX_MAILS: u32 = 100_000;

/// Flags of `bizmail seed`.
#[derive(Args)]
pub struct SeedArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The tenant to fill: one of its mail domains, or an admin's name (`--admin` works too).
    /// It must be a sandbox (`bizmail sandbox mark`, or a server with sandbox = true).
    #[arg(long, visible_alias = "admin", value_name = "DOMAIN|ADMIN")]
    tenant: String,
    /// The mail domain of the new addresses (default: the tenant's first domain).
    #[arg(long, value_name = "DOMAIN")]
    domain: Option<String>,
    /// How many members (at most 5000).
    #[arg(long, default_value_t = 50, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_MEMBERS)))]
    members: u32,
    /// How many mails (at most 100000).
    #[arg(long, default_value_t = 300, value_name = "N",
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_MAILS)))]
    mails: u32,
    /// Which company: the same seed gives the same one.
    #[arg(long, default_value_t = 1, value_name = "S")]
    seed: u64,
    /// A password (6–32 characters) for every member created, for trying the web mailbox and
    /// mail clients; each one is hashed, so this is slower. Without it, members sign in through
    /// single sign-on only.
    #[arg(long, env = "SEED_PASSWORD", hide_env_values = true, value_name = "PW")]
    password: Option<String>,
}

/// What was done to one kind of thing.
#[derive(Debug, Default)]
pub struct Tally {
    /// Created (or stored) now.
    pub created: u64,
    /// There already, left as it was.
    pub already: u64,
    /// Refused by the directory's rules: what and why.
    pub refused: Vec<String>,
}

impl Tally {
    fn line(&self, kind: &str) -> String {
        format!(
            "{kind}: {} created, {} already there, {} refused",
            self.created,
            self.already,
            self.refused.len()
        )
    }
}

/// Runs `bizmail seed`; returns whether nothing was refused.
pub async fn run(args: SeedArgs) -> anyhow::Result<bool> {
    if let Some(pw) = &args.password
        && !(6..=32).contains(&pw.chars().count())
    {
        bail!("--password must have 6 to 32 characters");
    }
    let config = args.store.load(toml::Table::new())?;
    let admin = Admin::open(&config).await?;
    let result = seed(&admin, &config, &args).await;
    admin.close().await;
    result
}

/// Demo data lands only in a sandbox, never among a real company's mail.
async fn may_seed(admin: &Admin, config: &Config, tenant_id: i64) -> anyhow::Result<()> {
    admin
        .sandbox(config)
        .require(tenant_id)
        .await
        .map(|_| ())
        .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn seed(admin: &Admin, config: &Config, args: &SeedArgs) -> anyhow::Result<bool> {
    let started = Instant::now();
    let (tenant_id, admin_name) = admin.tenant_and_admin(&args.tenant).await?;
    may_seed(admin, config, tenant_id).await?;
    let domains = admin.domains(&admin_name).await?;
    let domain = match &args.domain {
        Some(d) => {
            let d = d.trim().to_ascii_lowercase();
            if !domains.contains(&d) {
                bail!(
                    "{d} is not a domain of {}'s tenant ({})",
                    admin_name,
                    domains.join(", ")
                );
            }
            d
        }
        None => match domains.first() {
            Some(d) => d.clone(),
            None => bail!("{admin_name}'s tenant has no mail domain"),
        },
    };
    let company = Company::generate(args.seed, &domain, args.members as usize);
    let bar = ProgressBar::new(
        (company.departments.len() + company.members.len() + company.groups.len()) as u64
            + u64::from(args.mails),
    );
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut w = write::Writer {
        company: &company,
        dir: admin.corp_directory(&admin_name).await?.logged_as("seed"),
        mailboxes: admin.mailboxes_as_configured(config),
        bar: &bar,
        departments: Vec::new(),
        present: Vec::new(),
    };
    let d = w.departments().await?;
    let m = w.members(args.password.as_deref()).await?;
    let g = w.groups().await?;
    let mail = w.mails(args.seed, u64::from(args.mails)).await?;
    bar.finish_and_clear();
    println!(
        "{} ({domain}), seed {}: {} departments, {} members, {} groups",
        company.name,
        args.seed,
        company.departments.len(),
        company.members.len(),
        company.groups.len()
    );
    let mut ok = true;
    for (kind, tally) in [("departments", &d), ("members", &m), ("groups", &g)] {
        println!("{}", tally.line(kind));
        for r in &tally.refused {
            println!("  {r}");
        }
        ok &= tally.refused.is_empty();
    }
    println!(
        "mails: {} stored ({} unread, {} in GBK, {} with attachments), {} already there",
        mail.stored, mail.unread, mail.gbk, mail.with_attachments, mail.already
    );
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ok)
}
