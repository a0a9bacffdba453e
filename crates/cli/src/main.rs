//! `bizmail`: runs the server and administers it from the command line.
//!
//! Thin by design: it parses flags, builds a [`Config`], and calls the server library. Every
//! command that touches the store takes the same `--config`, `--data-dir` and `--database-url`
//! flags as `serve`, so it works on the database a server uses (SQLite or PostgreSQL).

mod admin_cmds;
mod backup;
mod callback;
mod check_config;
mod console;
mod corp;
mod import;
mod migrate;
mod remote;
mod sandbox;
mod seed;
mod sending;
mod serve;
mod tenant;

use bizmail_server::Config;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "bizmail",
    version,
    about = "A self-hosted enterprise mail server that speaks Tencent Exmail's BizMail OpenApi",
    long_about = "bizmail serves the BizMail OpenApi (single sign-on, new-mail push, directory sync) to \
OA, HR and portal systems written for Tencent Exmail: point them at bizmail's address instead.\n\n\
Start with `bizmail serve`: on an empty data folder it creates a first tenant (domain example.com, \
admin `admin`) and prints its password and interface key once.",
    after_help = "Configuration comes from defaults, then --config FILE (TOML; see bizmail.example.toml), \
then BIZMAIL_* environment variables (e.g. BIZMAIL_HTTP_ADDR), then flags.\nLog level: BIZMAIL_LOG \
(e.g. BIZMAIL_LOG=debug)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (HTTP on 127.0.0.1:12211 and SQLite in ./bizmail-data unless told otherwise).
    Serve(serve::ServeArgs),
    /// Check a configuration without starting: the data folder and key file, the database and its
    /// migrations, the TLS files, the listen addresses. Exit 1 on a problem.
    CheckConfig(check_config::CheckConfigArgs),
    /// Create a tenant non-interactively (for scripts and integrators' CI); prints generated secrets once.
    Init(admin_cmds::InitArgs),
    /// The admin side of the OpenApi: apply, reveal, rotate, enable, disable, the IP allow list.
    #[command(subcommand)]
    Openapi(admin_cmds::OpenapiCommand),
    /// The newer Exmail API's credentials: the corp id, and per application a secret to
    /// reveal, rotate, or switch on and off.
    #[command(subcommand)]
    Corp(corp::CorpCommand),
    /// The newer API's new-mail callback: set (after a signed check), status, test, remove.
    #[command(subcommand)]
    Callback(callback::CallbackCommand),
    /// The operator's commands: list tenants, create one, disable or enable a whole tenant.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// A tenant admin's web console (/admin/): forget a lost console authenticator.
    #[command(subcommand)]
    Admin(console::AdminCommand),
    /// Operator accounts of the web console (/admin/operator/): add, list, reset-totp.
    #[command(subcommand)]
    Operator(console::OperatorCommand),
    /// Show a tenant's operation log (every OpenApi call), newest first.
    Oplog(admin_cmds::OplogArgs),
    /// Load an org chart (CSV) into a tenant's directory; `bizmail import --help` lists the columns.
    // On the variant: its doc comment would otherwise stand in for the long help as well.
    #[command(long_about = import::HELP)]
    Import(import::ImportArgs),
    /// Move a company in from Tencent Exmail or any IMAP host: its directory, its mail, and a
    /// check of the counts (docs/MIGRATION.md).
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
    /// Fill a tenant with demo data: a Chinese company's departments, members, mail groups and
    /// mails, the same for the same --seed (docs/SEEDING.md).
    #[command(long_about = seed::HELP)]
    Seed(seed::SeedArgs),
    /// A member's web-mailbox login: reset a lost authenticator.
    #[command(subcommand)]
    Member(admin_cmds::MemberCommand),
    /// Write a consistent copy of the database to a file while the server runs (SQLite: VACUUM
    /// INTO; PostgreSQL: pg_dump). The key file is not in it: keep secret.key apart.
    Backup(backup::BackupArgs),
    /// Put a backup back (replacing the database; stop a SQLite server first); access tokens,
    /// tickets and sessions of the backup are dropped.
    Restore(backup::RestoreArgs),
    /// Call any OpenApi endpoint (`bizmail api user/get Alias=bob@example.com`); the token is
    /// fetched for you; the answer is printed as pretty JSON.
    Api(remote::ApiArgs),
    /// Hold `openapi/listen` and print each notice (new mail, unread counts, directory changes)
    /// as it arrives, like an integration would see it.
    Listen(remote::ListenArgs),
    /// DKIM signing keys of a tenant's domains: create (prints the DNS record), list, remove.
    #[command(subcommand)]
    Dkim(sending::DkimCommand),
    /// A tenant's own spam thresholds (rspamd scores) for Junk and for refusing; without
    /// flags, the server's apply again.
    Spam(sending::SpamArgs),
    /// The outbound queue (mail for other domains): list, retry, drop.
    #[command(subcommand)]
    Queue(sending::QueueCommand),
    /// A sandbox tenant for integrators' tests: mark one, inject faults, move its clock, export
    /// the record of its API exchanges as HAR (docs/SANDBOX.md).
    #[command(subcommand)]
    Sandbox(sandbox::SandboxCommand),
}

/// Where the store is: the flags every store-touching command shares.
#[derive(Args, Clone, Debug, Default)]
pub struct StoreArgs {
    /// A TOML configuration file.
    #[arg(long, short = 'c', env = "BIZMAIL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data folder (the SQLite file and the key file live here).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// `postgres://user:pass@host/db` to use PostgreSQL instead of the SQLite file.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

impl StoreArgs {
    /// The configuration these flags select, with `extra` flag overrides on top.
    pub fn load(&self, mut extra: toml::Table) -> anyhow::Result<Config> {
        if let Some(d) = &self.data_dir {
            extra.insert(
                "data_dir".into(),
                toml::Value::String(d.display().to_string()),
            );
        }
        if let Some(u) = &self.database_url {
            extra.insert("database_url".into(), toml::Value::String(u.clone()));
        }
        Ok(Config::load(self.config.as_deref(), &extra)?)
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BIZMAIL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Command::Serve(a) => serve::run(a).await,
        Command::Init(a) => admin_cmds::init(a).await,
        Command::Openapi(c) => admin_cmds::openapi(c).await,
        Command::Corp(c) => corp::corp(c).await,
        Command::Tenant(c) => tenant::tenant(c).await,
        Command::Admin(c) => console::admin(c).await,
        Command::Operator(c) => console::operator(c).await,
        Command::CheckConfig(a) => check_config::check_config(a).await,
        Command::Callback(c) => callback::callback(c).await,
        Command::Oplog(a) => admin_cmds::oplog(a).await,
        Command::Member(c) => admin_cmds::member(c).await,
        Command::Backup(a) => backup::backup(a).await,
        Command::Restore(a) => backup::restore(a).await,
        Command::Api(a) => remote::api(a).await,
        Command::Listen(a) => remote::listen(a).await,
        Command::Dkim(c) => sending::dkim(c).await,
        Command::Queue(c) => sending::queue(c).await,
        Command::Spam(a) => sending::spam(a).await,
        Command::Sandbox(c) => sandbox::sandbox(c).await,
        Command::Migrate(c) => match migrate::migrate(c).await {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Command::Seed(a) => match seed::run(a).await {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(e) => Err(e),
        },
        Command::Import(a) => match import::run(a).await {
            Ok(true) => Ok(()),
            Ok(false) => return std::process::ExitCode::FAILURE,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bizmail: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
