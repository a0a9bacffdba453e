//! `bizmail migrate …`: moving a company in from Tencent Exmail or any IMAP host. `directory`
//! reads the old directory through the newer Exmail API and writes it through the directory's own
//! rules; `mail` copies every member's folders over IMAP, resumably; `verify` compares counts.
//! docs/MIGRATION.md is the guide.

mod accounts;
mod directory;
mod exmail;
mod folders;
mod mail;
mod source;
mod verify;

use crate::StoreArgs;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `bizmail migrate …`.
#[derive(Subcommand)]
pub enum MigrateCommand {
    /// Copy departments, members, mail groups and tags from Exmail's newer API into a tenant.
    #[command(long_about = directory::HELP)]
    Directory(directory::DirectoryArgs),
    /// Copy every folder and message of the listed accounts from an IMAP server, resumably.
    #[command(long_about = MAIL_HELP)]
    Mail(MailArgs),
    /// Compare message counts per folder at the source and here.
    #[command(long_about = VERIFY_HELP)]
    Verify(VerifyArgs),
}

/// `bizmail migrate mail --help`.
const MAIL_HELP: &str = "Copy the listed accounts' mail from an IMAP server (Exmail: imap.exmail.qq.com \
with --imaps) into their bizmail mailboxes.

Every folder is copied with its messages' flags (\\Seen, \\Answered, \\Flagged, \\Draft, \\Deleted, \
keywords) and internal dates. Special folders (by their SPECIAL-USE attribute, or by names such as \
\"Sent Messages\", 已发送, \"Deleted Messages\", 草稿箱, 垃圾邮件) land in bizmail's Sent, Drafts, \
Trash and Junk; the others keep their (decoded) names and hierarchy.

Runs are resumable and incremental: per member and source folder, the source's UIDVALIDITY and \
the last UID copied are stored with each batch of messages, so a run that was stopped resumes \
where it stopped, and a later run copies only what is new. Run it again until the MX switch, and \
once after it. If a folder's UIDVALIDITY changed, messages already here (same Message-ID, internal \
date and size) are skipped rather than copied twice.

The accounts file is CSV, one account per line: address,login,password
  address   the member's address here (create members first: `bizmail migrate directory`)
  login     the login at the source (empty: the address)
  password  the password at the source, or Exmail's client-specific password (客户端专用密码);
            empty when --master-user is given
A first line `address,login,password` is skipped; lines starting with # are comments.

Exit status: 0 when every account was copied completely, 1 otherwise.";

/// `bizmail migrate verify --help`.
const VERIFY_HELP: &str =
    "Compare, for each listed account, the number of messages in every source \
folder with the number in the folder it is copied to here (folders that merge, such as two \
sent-mail folders, are compared together). More here is fine (mail that arrived after the MX \
switch); fewer is reported as missing.

Takes the same source flags and accounts file as `bizmail migrate mail`.
Exit status: 0 when no folder misses messages, 1 otherwise.";

/// Flags of `bizmail migrate mail`.
#[derive(Args)]
pub struct MailArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Accounts copied at the same time.
    #[arg(long, default_value_t = 4, value_name = "N")]
    jobs: usize,
    /// Messages stored per transaction.
    #[arg(long, default_value_t = 100, value_name = "N")]
    batch: usize,
}

/// Flags of `bizmail migrate verify`.
#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    source: SourceArgs,
}

/// Where the mail comes from and whose: the flags `migrate mail` and `migrate verify` share.
#[derive(Args)]
pub struct SourceArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The source IMAP server's host name.
    #[arg(long, value_name = "HOST")]
    imap_host: String,
    /// Its port (default: 993 with --imaps, else 143).
    #[arg(long, value_name = "PORT")]
    imap_port: Option<u16>,
    /// Connect with TLS from the first byte (IMAPS), as Exmail requires.
    #[arg(long)]
    imaps: bool,
    /// A PEM file of extra certificate authorities to trust for --imaps (a private source).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// The accounts to copy (CSV: address,login,password).
    #[arg(long, value_name = "FILE")]
    accounts: PathBuf,
    /// Sign in to every account as this admin (SASL PLAIN with an authorization identity, e.g.
    /// Dovecot's master users) instead of with each account's password. Its password comes from
    /// MIGRATE_MASTER_PASSWORD, or is asked for.
    #[arg(long, value_name = "LOGIN")]
    master_user: Option<String>,
    /// Seconds one answer of the source may take before its account is given up (and left for
    /// the next run to resume).
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    timeout: u64,
}

/// Runs one `bizmail migrate` command; returns whether everything went through.
pub async fn migrate(command: MigrateCommand) -> anyhow::Result<bool> {
    match command {
        MigrateCommand::Directory(a) => directory::run(a).await,
        MigrateCommand::Mail(a) => mail::run(a).await,
        MigrateCommand::Verify(a) => verify::run(a).await,
    }
}
