//! The web console's accounts from the command line: an operator's account (`bizmail operator
//! add|list|reset-totp`) and a lost console authenticator of a tenant's admin (`bizmail admin
//! reset-totp`). The console itself is served by `bizmail serve` at `/admin/`.

use crate::StoreArgs;
use crate::admin_cmds::AdminArg;
use bizmail_server::tenants::Admin;
use bizmail_server::tenants::console::ConsoleKind as Kind;
use clap::{Args, Subcommand};

/// `bizmail admin …`.
#[derive(Subcommand)]
pub enum AdminCommand {
    /// Forget the admin's console authenticator (a lost phone) and sign them out of the console;
    /// their next sign-in at /admin/ shows a new QR code.
    ResetTotp(AdminArg),
}

/// `bizmail operator …`.
#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Add an operator (or give one a new password): signs in at /admin/operator/login to list,
    /// create, disable and enable tenants. The password is read from standard input (asked for
    /// on a terminal); with --generate one is made and printed once.
    Add(OperatorAddArgs),
    /// Every operator's name.
    List(OperatorStore),
    /// Forget an operator's console authenticator and sign them out.
    ResetTotp(OperatorArgs),
}

/// Only the store flags.
#[derive(Args)]
pub struct OperatorStore {
    #[command(flatten)]
    store: StoreArgs,
}

/// The store and an operator's name.
#[derive(Args)]
pub struct OperatorArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The operator's name.
    #[arg(value_name = "NAME")]
    name: String,
}

/// Flags of `bizmail operator add`.
#[derive(Args)]
pub struct OperatorAddArgs {
    #[command(flatten)]
    who: OperatorArgs,
    /// Make a password and print it instead of reading one.
    #[arg(long)]
    generate: bool,
}

async fn open(store: &StoreArgs) -> anyhow::Result<Admin> {
    let config = store.load(toml::Table::new())?;
    Ok(Admin::open(&config).await?)
}

fn say_reset(name: &str, reset: bool) {
    if reset {
        println!("{name}: console authenticator forgotten; the next sign-in enrols a new one");
    } else {
        println!("{name}: no console authenticator was enrolled; nothing to reset");
    }
}

/// Runs `bizmail admin …`.
pub async fn admin(cmd: AdminCommand) -> anyhow::Result<()> {
    match cmd {
        AdminCommand::ResetTotp(who) => {
            let admin = open(&who.store).await?;
            let reset = admin.reset_console_totp(Kind::Admin, &who.admin).await?;
            say_reset(&who.admin, reset);
            admin.close().await;
        }
    }
    Ok(())
}

/// Runs `bizmail operator …`.
pub async fn operator(cmd: OperatorCommand) -> anyhow::Result<()> {
    match cmd {
        OperatorCommand::Add(a) => {
            let password = if a.generate {
                None
            } else {
                let p = crate::admin_cmds::read_password()?;
                if p.chars().count() < 8 {
                    anyhow::bail!("an operator's password is at least 8 characters");
                }
                Some(p)
            };
            let admin = open(&a.who.store).await?;
            let generated = admin.set_operator(&a.who.name, password).await?;
            println!(
                "operator {}: ready to sign in at /admin/operator/login",
                a.who.name
            );
            if let Some(p) = generated {
                println!("password (shown only now): {p}");
            }
            admin.close().await;
        }
        OperatorCommand::List(a) => {
            let admin = open(&a.store).await?;
            for name in admin.operators().await? {
                println!("{name}");
            }
            admin.close().await;
        }
        OperatorCommand::ResetTotp(a) => {
            let admin = open(&a.store).await?;
            let reset = admin.reset_console_totp(Kind::Operator, &a.name).await?;
            say_reset(&a.name, reset);
            admin.close().await;
        }
    }
    Ok(())
}
