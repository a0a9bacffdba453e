//! `bizmail backup FILE` and `bizmail restore FILE`: a consistent copy of the database taken while
//! the server runs, and putting one back.

use crate::StoreArgs;
use bizmail_server::tenants::Admin;
use clap::Args;
use std::path::PathBuf;

/// Flags of `bizmail backup`.
#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Where to write the backup (must not exist): a SQLite file, or a pg_dump archive.
    file: PathBuf,
}

/// Flags of `bizmail restore`.
#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// A file written by `bizmail backup` for the same kind of database.
    file: PathBuf,
    /// Replace the database's contents (required: a restore overwrites everything in it).
    #[arg(long)]
    force: bool,
}

/// `bizmail backup`.
pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let config = args.store.load(toml::Table::new())?;
    let admin = Admin::open(&config).await?;
    admin.backup(&config, &args.file).await?;
    admin.close().await;
    println!(
        "backup written to {} (mode 0600).\nThe key file that opens its interface keys is not in it: keep {} with it, apart.",
        args.file.display(),
        config.effective_secret_key_file().display()
    );
    Ok(())
}

/// `bizmail restore`.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.force,
        "a restore replaces everything in the database; stop the server (SQLite) and run again with --force"
    );
    let config = args.store.load(toml::Table::new())?;
    Admin::restore(&config, &args.file).await?;
    println!(
        "restored from {}. Every access token, SSO ticket and web session of the backup was \
         dropped: clients sign in again. Interface keys open only with the key file of the \
         server that wrote the backup ({}).",
        args.file.display(),
        config.effective_secret_key_file().display()
    );
    Ok(())
}
