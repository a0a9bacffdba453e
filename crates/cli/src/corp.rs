//! `bizmail corp …`: the newer Exmail API's credentials of a tenant: its corp id, and one secret
//! per application (directory, sso, mail, log, option) to show after the admin password, rotate,
//! or switch on and off.

use crate::StoreArgs;
use crate::admin_cmds::AdminArg as Who;
use bizmail_server::tenants::{Admin, CreatedTenant};
use clap::{Args, Subcommand};
use std::fmt::Write as _;

/// `bizmail corp …`.
#[derive(Subcommand)]
pub enum CorpCommand {
    /// Show the corp id and each application with its switch (secrets are not shown).
    Show(Who),
    /// Show one application's secret in clear, after the admin password.
    Reveal(RevealArgs),
    /// Replace one application's secret; its tokens stop working at once.
    Rotate(AppArgs),
    /// Switch an application on: its secret gets tokens again.
    EnableApp(AppArgs),
    /// Switch an application off: gettoken answers 40091, its tokens 602005.
    DisableApp(AppArgs),
    /// Whether a member's first single sign-on (service/get_login_url) asks for their password
    /// once, as the real service does: `on` (the default) or `off`.
    SsoConfirm(SsoConfirmArgs),
}

/// Flags of `bizmail corp sso-confirm`.
#[derive(Args)]
pub struct SsoConfirmArgs {
    #[command(flatten)]
    who: Who,
    /// `on` or `off`.
    #[arg(value_name = "on|off", value_parser = ["on", "off"])]
    state: String,
}

/// An admin and one application.
#[derive(Args)]
pub struct AppArgs {
    #[command(flatten)]
    who: Who,
    /// The application: directory (departments, users, groups, tags), sso
    /// (service/get_login_url), mail (mail/newcount and the callback), log (log/*), option
    /// (useroption/*).
    #[arg(long, value_name = "NAME")]
    app: String,
}

/// Flags of `bizmail corp reveal`.
#[derive(Args)]
pub struct RevealArgs {
    #[command(flatten)]
    app: AppArgs,
    /// The admin password; asked for (without echo) when absent, or read from standard input
    /// when that is not a terminal.
    #[arg(long, value_name = "PW")]
    admin_password: Option<String>,
}

/// Runs `bizmail corp …`.
pub async fn corp(cmd: CorpCommand) -> anyhow::Result<()> {
    match cmd {
        CorpCommand::Show(w) => {
            let admin = open(&w.store).await?;
            let info = admin.corp_show(&w.admin).await?;
            println!("corp id   {}", info.corp_id);
            for (app, on) in info.apps {
                println!("{:<9} {}", app.name(), if on { "on" } else { "off" });
            }
            admin.close().await;
        }
        CorpCommand::Reveal(r) => {
            let password = match r.admin_password {
                Some(p) => p,
                None => crate::admin_cmds::read_password()?,
            };
            let a = &r.app;
            let admin = open(&a.who.store).await?;
            let secret = admin.corp_reveal(&a.who.admin, &password, &a.app).await?;
            println!("{secret}");
            admin.close().await;
        }
        CorpCommand::Rotate(a) => {
            let admin = open(&a.who.store).await?;
            let secret = admin.corp_rotate(&a.who.admin, &a.app).await?;
            println!("new {} secret   {secret}", a.app);
            admin.close().await;
        }
        CorpCommand::SsoConfirm(a) => {
            let admin = open(&a.who.store).await?;
            admin
                .corp_sso_confirm(&a.who.admin, a.state == "on")
                .await?;
            println!("first SSO logins ask for the password: {}", a.state);
            admin.close().await;
        }
        CorpCommand::EnableApp(a) => switch(&a, true).await?,
        CorpCommand::DisableApp(a) => switch(&a, false).await?,
    }
    Ok(())
}

async fn switch(a: &AppArgs, on: bool) -> anyhow::Result<()> {
    let admin = open(&a.who.store).await?;
    admin.corp_enable_app(&a.who.admin, &a.app, on).await?;
    println!("{} switched {}", a.app, if on { "on" } else { "off" });
    admin.close().await;
    Ok(())
}

async fn open(store: &StoreArgs) -> anyhow::Result<Admin> {
    let config = store.load(toml::Table::new())?;
    Ok(Admin::open(&config).await?)
}

/// The newer API's credentials of a tenant just created, for `init` and the first run, each line
/// starting with `indent`.
pub fn created_lines(t: &CreatedTenant, indent: &str) -> String {
    let mut out = format!(
        "{indent}{:<17} {}   (corpid of the newer API)\n",
        "corp id", t.corp_id
    );
    for (app, secret) in &t.corp_secrets {
        let label = format!("{} secret", app.name());
        let _ = writeln!(out, "{indent}{label:<17} {secret}   (corpsecret)");
    }
    out
}
