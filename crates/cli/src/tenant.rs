//! `bizmail tenant …`: the operator's commands for a server with several tenants: list them,
//! create one (as `bizmail init`), disable a whole tenant and enable it again.

use crate::StoreArgs;
use crate::admin_cmds::InitArgs;
use bizmail_server::tenants::Admin;
use clap::{Args, Subcommand};

/// `bizmail tenant …`.
#[derive(Subcommand)]
pub enum TenantCommand {
    /// Every tenant: id, domains, members, and whether it is disabled.
    List(StoreOnly),
    /// Create a tenant (the same as `bizmail init`); its secrets are printed once.
    Create(InitArgs),
    /// Disable the tenant owning a domain: its APIs answer as switched off (1102, 50005), its
    /// members sign in nowhere, its domains receive no mail (550). Nothing is deleted.
    Disable(DomainArgs),
    /// Enable a disabled tenant again.
    Enable(DomainArgs),
}

/// Only the store flags.
#[derive(Args)]
pub struct StoreOnly {
    #[command(flatten)]
    store: StoreArgs,
}

/// The store and a domain of the tenant.
#[derive(Args)]
pub struct DomainArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A mail domain of the tenant.
    #[arg(long, value_name = "DOMAIN")]
    domain: String,
}

async fn open(store: &StoreArgs) -> anyhow::Result<Admin> {
    let config = store.load(toml::Table::new())?;
    Ok(Admin::open(&config).await?)
}

/// Runs `bizmail tenant …`.
pub async fn tenant(cmd: TenantCommand) -> anyhow::Result<()> {
    match cmd {
        TenantCommand::List(a) => {
            let admin = open(&a.store).await?;
            println!("{:>6}  {:<8}  {:>8}  domains", "tenant", "state", "members");
            for t in admin.tenants().await? {
                let state = if t.disabled { "disabled" } else { "enabled" };
                println!(
                    "{:>6}  {:<8}  {:>8}  {}",
                    t.tenant_id,
                    state,
                    t.members,
                    t.domains.join(", ")
                );
            }
            admin.close().await;
        }
        TenantCommand::Create(args) => crate::admin_cmds::init(args).await?,
        TenantCommand::Disable(a) | TenantCommand::Enable(a) if a.domain.trim().is_empty() => {
            anyhow::bail!("--domain names the tenant")
        }
        TenantCommand::Disable(a) => switch(&a, true).await?,
        TenantCommand::Enable(a) => switch(&a, false).await?,
    }
    Ok(())
}

async fn switch(a: &DomainArgs, disabled: bool) -> anyhow::Result<()> {
    let admin = open(&a.store).await?;
    let id = admin.set_tenant_disabled(&a.domain, disabled).await?;
    let state = if disabled { "disabled" } else { "enabled" };
    println!("tenant {id} ({}) {state}", a.domain.trim());
    admin.close().await;
    Ok(())
}
