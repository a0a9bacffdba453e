//! `bizmail callback …`: a tenant's new-mail callback of the newer API (EXMAIL_API.md §4.7): set
//! it (the receiver must pass the signed `echostr` check first), see what was delivered, dropped
//! and is waiting, send a test notice, remove it.

use crate::admin_cmds::AdminArg as Who;
use bizmail_server::callbacks::{CallbackSettings, Callbacks};
use bizmail_server::tenants::Admin;
use clap::{Args, Subcommand};

/// `bizmail callback …`.
#[derive(Subcommand)]
pub enum CallbackCommand {
    /// Set the receiver: its URL is checked with a signed, encrypted `echostr` before it is kept.
    Set(SetArgs),
    /// Show the receiver and how many notices were delivered, dropped and are waiting.
    Status(Who),
    /// Send one signed unread-count notice for a member now, and say whether it was taken.
    Test(TestArgs),
    /// Stop calling the receiver; waiting notices are dropped.
    Remove(Who),
}

/// Flags of `bizmail callback set`.
#[derive(Args)]
pub struct SetArgs {
    #[command(flatten)]
    who: Who,
    /// The receiver's URL (http or https, any port).
    #[arg(long, value_name = "URL")]
    url: String,
    /// The Token the signatures are made with (3–32 letters and digits).
    #[arg(long, value_name = "TOKEN")]
    token: String,
    /// The EncodingAESKey (43 characters) the notices are encrypted with.
    #[arg(long, value_name = "KEY")]
    aes_key: String,
}

/// Flags of `bizmail callback test`.
#[derive(Args)]
pub struct TestArgs {
    #[command(flatten)]
    who: Who,
    /// The member the test notice is about (their address).
    #[arg(long, value_name = "ADDRESS")]
    user: String,
}

async fn open(who: &Who) -> anyhow::Result<(Admin, Callbacks, i64)> {
    let config = who.store.load(toml::Table::new())?;
    let admin = Admin::open(&config).await?;
    let tenant = admin.tenant_of(&who.admin).await?;
    let callbacks = admin.callbacks(CallbackSettings::from_config(&config));
    Ok((admin, callbacks, tenant))
}

/// Runs `bizmail callback …`.
pub async fn callback(cmd: CallbackCommand) -> anyhow::Result<()> {
    match cmd {
        CallbackCommand::Set(a) => {
            let (admin, callbacks, tenant) = open(&a.who).await?;
            callbacks.set(tenant, &a.url, &a.token, &a.aes_key).await?;
            println!("callback set: {} passed its check", a.url.trim());
            admin.close().await;
        }
        CallbackCommand::Status(w) => {
            let (admin, callbacks, tenant) = open(&w).await?;
            match callbacks.status(tenant).await? {
                Some(s) => println!(
                    "url        {}\ndelivered  {}\ndropped    {}\nwaiting    {}",
                    s.url, s.delivered, s.dropped, s.pending
                ),
                None => println!("no callback is set"),
            }
            admin.close().await;
        }
        CallbackCommand::Test(t) => {
            let (admin, callbacks, tenant) = open(&t.who).await?;
            callbacks.test(tenant, &t.user).await?;
            println!("the receiver took the test notice");
            admin.close().await;
        }
        CallbackCommand::Remove(w) => {
            let (admin, callbacks, tenant) = open(&w).await?;
            let removed = callbacks.remove(tenant).await?;
            println!(
                "{}",
                if removed {
                    "callback removed"
                } else {
                    "no callback was set"
                }
            );
            admin.close().await;
        }
    }
    Ok(())
}
