//! `bizmail check-config`: what a start with this configuration would trip over, found without
//! starting and without changing anything; for an install script, a deploy pipeline or a
//! `systemctl reload` (`ExecReload=bizmail check-config …` first).

use crate::StoreArgs;
use bizmail_server::check::{Level, preflight};
use clap::Args;

/// Flags of `bizmail check-config`.
#[derive(Args)]
pub struct CheckConfigArgs {
    #[command(flatten)]
    store: StoreArgs,
}

/// Prints one line per check; fails (exit 1) when any is an error. A configuration that does not
/// even parse fails with the key that is wrong.
pub async fn check_config(args: CheckConfigArgs) -> anyhow::Result<()> {
    let config = args.store.load(toml::Table::new())?;
    let findings = preflight(&config).await;
    let width = findings.iter().map(|f| f.what.len()).max().unwrap_or(0);
    let mut errors = 0;
    for f in &findings {
        let mark = match f.level {
            Level::Ok => "ok     ",
            Level::Warning => "warning",
            Level::Error => {
                errors += 1;
                "ERROR  "
            }
        };
        println!("{mark}  {:<width$}  {}", f.what, f.detail);
    }
    if errors > 0 {
        anyhow::bail!("{errors} problem(s) would stop or endanger a start");
    }
    Ok(())
}
