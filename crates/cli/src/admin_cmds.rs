//! `bizmail init`, `bizmail openapi …` and `bizmail oplog`: the admin side of §2 for headless
//! servers. They work directly on the store a server uses; a running server sees the change at once.

use crate::StoreArgs;
use bizmail_server::tenants::{self, Admin, NewTenant};
use clap::{Args, Subcommand};
use std::io::{BufRead as _, IsTerminal as _};

/// Flags of `bizmail init`.
#[derive(Args)]
pub struct InitArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A mail domain of the tenant; repeat for several (`--domain a.com --domain b.com`).
    #[arg(long = "domain", required = true, value_name = "DOMAIN")]
    domains: Vec<String>,
    /// The admin account's name: the `client_id` of token requests.
    #[arg(long, value_name = "NAME")]
    admin: String,
    /// The admin password (at least 8 characters); generated and printed when absent.
    #[arg(long, value_name = "PW")]
    admin_password: Option<String>,
    /// The interface key (32 hex characters, e.g. the one your integration already uses);
    /// generated and printed when absent.
    #[arg(long, value_name = "KEY")]
    openapi_key: Option<String>,
    /// Create the tenant without applying for the OpenApi (apply later with `bizmail openapi apply`).
    #[arg(long)]
    no_openapi: bool,
}

/// `bizmail openapi …`.
#[derive(Subcommand)]
pub enum OpenapiCommand {
    /// Apply for the OpenApi (立即申请): create the interface key and switch sync on.
    Apply(AdminArg),
    /// Show the interface key in clear (查看明文) after the admin password.
    Reveal(RevealArgs),
    /// Replace the interface key; tokens issued under the old key stop working at once.
    Rotate(AdminArg),
    /// Switch sync on (启用同步).
    Enable(AdminArg),
    /// Switch sync off (关闭同步): token requests and API calls get 1102 openapi_disabled.
    Disable(AdminArg),
    /// Allow addresses or CIDR ranges to call the API (an empty list allows any address).
    AllowIp(IpArgs),
    /// Remove addresses or CIDR ranges from the allow list.
    DenyIp(IpArgs),
    /// Show the IP allow list.
    ListIps(AdminArg),
}

/// An admin to act as.
#[derive(Args)]
pub struct AdminArg {
    #[command(flatten)]
    pub(crate) store: StoreArgs,
    /// The admin account (its tenant is the one shown or changed).
    #[arg(long, value_name = "NAME")]
    pub(crate) admin: String,
}

/// Flags of `bizmail openapi reveal`.
#[derive(Args)]
pub struct RevealArgs {
    #[command(flatten)]
    who: AdminArg,
    /// The admin password; asked for (without echo) when absent, or read from standard input
    /// when that is not a terminal.
    #[arg(long, value_name = "PW")]
    admin_password: Option<String>,
}

/// Flags of `bizmail openapi allow-ip|deny-ip`.
#[derive(Args)]
pub struct IpArgs {
    #[command(flatten)]
    who: AdminArg,
    /// Addresses (`192.0.2.7`) or CIDR ranges (`10.0.0.0/8`).
    #[arg(required = true, value_name = "CIDR")]
    cidrs: Vec<String>,
}

/// Flags of `bizmail oplog`.
#[derive(Args)]
pub struct OplogArgs {
    #[command(flatten)]
    who: AdminArg,
    /// How many rows to show.
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

/// `bizmail member …`.
#[derive(Subcommand)]
pub enum MemberCommand {
    /// Forget a member's authenticator (a lost or new phone): with the second factor forced
    /// (`user/openwxtoken`), their next password login shows a new QR code to enrol.
    ResetTotp(ResetTotpArgs),
    /// Set a member's own mailbox quota in MB (0: no limit for them), or with `default` put
    /// them back on `mailbox_quota_mb`.
    Quota(QuotaArgs),
    /// Client passwords for mail clients (IMAP, POP3): the way in for a member whose second
    /// factor is forced, one per client, each removable on its own.
    #[command(subcommand)]
    AppPassword(AppPasswordCommand),
}

/// Flags of `bizmail member quota`.
#[derive(Args)]
pub struct QuotaArgs {
    #[command(flatten)]
    who: AdminArg,
    /// The member's address (primary or alias).
    #[arg(value_name = "ADDRESS")]
    member: String,
    /// Megabytes, 0 for no limit, or `default`.
    #[arg(value_name = "MB|default")]
    quota: String,
}

/// `bizmail member app-password …`.
#[derive(Subcommand)]
pub enum AppPasswordCommand {
    /// Make one and print it (shown only now).
    Add(AppPasswordArgs),
    /// List a member's client passwords by name.
    List(ResetTotpArgs),
    /// Remove one; the client using it is refused from then on.
    Remove(AppPasswordArgs),
}

/// Flags of `bizmail member app-password add|remove`.
#[derive(Args)]
pub struct AppPasswordArgs {
    #[command(flatten)]
    who: AdminArg,
    /// The member's address (primary or alias).
    #[arg(value_name = "ADDRESS")]
    member: String,
    /// What the password is for, e.g. "Outlook on the office PC".
    #[arg(value_name = "NAME")]
    name: String,
}

/// Flags of `bizmail member reset-totp`.
#[derive(Args)]
pub struct ResetTotpArgs {
    #[command(flatten)]
    who: AdminArg,
    /// The member's address (primary or alias).
    #[arg(value_name = "ADDRESS")]
    member: String,
}

/// `bizmail member …`.
pub async fn member(command: MemberCommand) -> anyhow::Result<()> {
    match command {
        MemberCommand::ResetTotp(args) => {
            let admin = open(&args.who.store).await?;
            if admin
                .reset_second_factor(&args.who.admin, &args.member)
                .await?
            {
                println!(
                    "{}: authenticator forgotten; the next password login enrols a new one",
                    args.member
                );
            } else {
                println!(
                    "{}: no authenticator was enrolled; nothing to reset",
                    args.member
                );
            }
            Ok(())
        }
        MemberCommand::Quota(args) => {
            let mb = match args.quota.as_str() {
                "default" => None,
                n => Some(n.parse::<u64>().map_err(|_| {
                    anyhow::anyhow!("the quota is a number of MB, 0 for no limit, or `default`")
                })?),
            };
            let admin = open(&args.who.store).await?;
            admin.set_quota(&args.who.admin, &args.member, mb).await?;
            match mb {
                None => println!("{}: the server's default quota", args.member),
                Some(0) => println!("{}: no quota", args.member),
                Some(mb) => println!("{}: {mb} MB", args.member),
            }
            Ok(())
        }
        MemberCommand::AppPassword(AppPasswordCommand::Add(args)) => {
            let admin = open(&args.who.store).await?;
            let password = admin
                .add_app_password(&args.who.admin, &args.member, &args.name)
                .await?;
            println!(
                "Client password {:?} for {}: {password}\nEnter it in the mail client instead \
                 of the mailbox password. It is shown only now.",
                args.name.trim(),
                args.member
            );
            Ok(())
        }
        MemberCommand::AppPassword(AppPasswordCommand::List(args)) => {
            let admin = open(&args.who.store).await?;
            let all = admin.app_passwords(&args.who.admin, &args.member).await?;
            if all.is_empty() {
                println!("{}: no client passwords", args.member);
            }
            for (name, created_ms) in all {
                let at = std::time::UNIX_EPOCH
                    + std::time::Duration::from_millis(u64::try_from(created_ms).unwrap_or(0));
                println!("{name}\t(made {})", httpdate::fmt_http_date(at));
            }
            Ok(())
        }
        MemberCommand::AppPassword(AppPasswordCommand::Remove(args)) => {
            let admin = open(&args.who.store).await?;
            if admin
                .remove_app_password(&args.who.admin, &args.member, &args.name)
                .await?
            {
                println!("{}: client password {:?} removed", args.member, args.name);
                Ok(())
            } else {
                anyhow::bail!(
                    "{} has no client password called {:?}",
                    args.member,
                    args.name
                )
            }
        }
    }
}

async fn open(store_args: &StoreArgs) -> anyhow::Result<Admin> {
    let config = store_args.load(toml::Table::new())?;
    Ok(Admin::open(&config).await?)
}

/// `bizmail init`. Refuses to seal a new tenant's key with a key file others can read.
pub async fn init(args: InitArgs) -> anyhow::Result<()> {
    let config = args.store.load(toml::Table::new())?;
    if let Some(path) = Admin::exposed_key_file(&config) {
        anyhow::bail!(
            "the key file {} can be read by others than its owner, and it would seal this \
             tenant's interface key; fix it first: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    let admin = Admin::open(&config).await?;
    let created = admin
        .create_tenant(NewTenant {
            domains: args.domains,
            admin: args.admin,
            admin_password: args.admin_password,
            openapi_key: args.openapi_key.clone(),
            apply_openapi: !args.no_openapi,
        })
        .await?;
    println!(
        "tenant {} created: domains {}",
        created.tenant_id,
        created.domains.join(", ")
    );
    println!("admin           {}", created.admin);
    if let Some(pw) = &created.generated_password {
        println!("admin password  {pw}   (generated; shown only now)");
    }
    match (&created.openapi_key, &args.openapi_key) {
        (Some(k), None) => {
            println!("interface key   {k}   (generated; `bizmail openapi reveal` shows it again)")
        }
        (Some(_), Some(_)) => println!("interface key   as given"),
        (None, _) => println!(
            "OpenApi not applied; run `bizmail openapi apply --admin {}`",
            created.admin
        ),
    }
    print!("{}", crate::corp::created_lines(&created, ""));
    println!(
        "console         /admin/ on the server: sign in as {} (an authenticator app is needed)",
        created.admin
    );
    admin.close().await;
    Ok(())
}

/// `bizmail openapi …`.
pub async fn openapi(cmd: OpenapiCommand) -> anyhow::Result<()> {
    match cmd {
        OpenapiCommand::Apply(a) => {
            let admin = open(&a.store).await?;
            let key = admin.apply(&a.admin).await?;
            println!("OpenApi applied and sync switched on.\ninterface key   {key}");
        }
        OpenapiCommand::Reveal(r) => {
            let password = match r.admin_password {
                Some(p) => p,
                None => read_password()?,
            };
            let admin = open(&r.who.store).await?;
            println!("{}", admin.reveal(&r.who.admin, &password).await?);
        }
        OpenapiCommand::Rotate(a) => {
            let admin = open(&a.store).await?;
            let key = admin.rotate(&a.admin).await?;
            println!(
                "Key rotated: tokens issued under the old key no longer work.\ninterface key   {key}"
            );
        }
        OpenapiCommand::Enable(a) => {
            let admin = open(&a.store).await?;
            admin.set_enabled(&a.admin, true).await?;
            println!("sync switched on");
        }
        OpenapiCommand::Disable(a) => {
            let admin = open(&a.store).await?;
            admin.set_enabled(&a.admin, false).await?;
            println!(
                "sync switched off: token requests and API calls now get 1102 openapi_disabled"
            );
        }
        OpenapiCommand::AllowIp(i) => {
            let admin = open(&i.who.store).await?;
            print_ips(&admin.allow_ips(&i.who.admin, &i.cidrs).await?);
        }
        OpenapiCommand::DenyIp(i) => {
            let admin = open(&i.who.store).await?;
            print_ips(&admin.deny_ips(&i.who.admin, &i.cidrs).await?);
        }
        OpenapiCommand::ListIps(a) => {
            let admin = open(&a.store).await?;
            print_ips(&admin.allowed_ips(&a.admin).await?);
        }
    }
    Ok(())
}

fn print_ips(list: &[tenants::AllowedNet]) {
    if list.is_empty() {
        println!("allow list empty: any address may call the API");
    } else {
        println!("allowed:");
        for n in list {
            println!("  {n}");
        }
    }
}

/// The admin password from the terminal (without echo) or from standard input.
pub fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        Ok(rpassword::prompt_password("admin password: ")?)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// `bizmail oplog`.
pub async fn oplog(args: OplogArgs) -> anyhow::Result<()> {
    let admin = open(&args.who.store).await?;
    let rows = admin.oplog(&args.who.admin, args.limit).await?;
    println!(
        "{:<24} {:<16} {:<20} {:<28} {:>6}  parameters",
        "time (UTC)", "client", "admin", "endpoint", "result"
    );
    for r in rows {
        println!(
            "{:<24} {:<16} {:<20} {:<28} {:>6}  {}",
            format_ms(r.at_ms),
            r.client_ip,
            r.admin,
            r.endpoint,
            r.errcode,
            r.params
        );
    }
    Ok(())
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS.mmm` (UTC).
fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_utc_times() {
        assert_eq!(super::format_ms(0), "1970-01-01 00:00:00.000");
        assert_eq!(
            super::format_ms(1_467_945_892_870),
            "2016-07-08 02:44:52.870"
        );
    }
}
