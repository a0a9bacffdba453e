//! `bizmail import FILE.csv --admin NAME`: loads an org chart through the directory's own rules.

use crate::StoreArgs;
use anyhow::Context as _;
use bizmail_server::directory::import::{BatchReport, ImportRow};
use bizmail_server::directory::import_csv::{CsvProblem, parse_csv};
use bizmail_server::tenants::Admin;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;

/// `bizmail import --help`: the columns and the rules.
pub const HELP: &str = "Load an org chart from a CSV file into a tenant's directory.

The first line names the columns (any order, any case). Columns:
  alias        the member's primary address (required)
  name         display name (required for new members)
  departments  department paths separated by ';', e.g. IT/Backend;Ops (empty: the root);
               missing departments are created
  aliases      alias addresses separated by ';' (at most 5)
  position, tel, mobile, extid
               free text, at most 64 characters each
  gender       empty or 0 (unset), 1 (male), 2 (female)
  password     a password of 6-32 characters, or
  md5          the lower-case hex MD5 of one (as user/sync's Md5=1)

Each row is checked like a user/sync call: an address that exists is modified, a new one added.
Passwords are set for new members only (without one, a member signs in only through SSO).
Rows are applied in batches, one transaction each; a refused row is reported with its line and
reason and the others still load. Re-running the same file changes nothing.
Exit status: 0 when every row loaded, 1 when any was refused.";

/// Flags of `bizmail import`.
#[derive(Args)]
pub struct ImportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The CSV file.
    file: PathBuf,
    /// The admin whose tenant receives the members.
    #[arg(long, value_name = "NAME")]
    admin: String,
    /// Rows per transaction.
    #[arg(long, default_value_t = 500)]
    batch: usize,
}

/// Runs the import; returns whether every row loaded.
pub async fn run(args: ImportArgs) -> anyhow::Result<bool> {
    let rows = read_rows(&args.file)?;
    let config = args.store.load(toml::Table::new())?;
    let admin = Admin::open(&config).await?;
    let importer = admin.importer(&args.admin).await?;

    importer
        .ensure_departments(&rows)
        .await
        .map_err(|e| anyhow::anyhow!("creating departments: {e}"))?;
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut total = BatchReport::default();
    for chunk in rows.chunks(args.batch.max(1)) {
        let r = importer
            .apply_batch(chunk)
            .await
            .map_err(|e| anyhow::anyhow!("batch failed: {e}"))?;
        total.added += r.added;
        total.changed += r.changed;
        total.unchanged += r.unchanged;
        total.refused.extend(r.refused);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    admin.close().await;
    println!(
        "{} rows: {} added, {} changed, {} unchanged, {} refused",
        rows.len(),
        total.added,
        total.changed,
        total.unchanged,
        total.refused.len()
    );
    for (line, alias, code) in &total.refused {
        println!("  line {line}: {alias}: {} {}", code.code(), code.name());
    }
    Ok(total.refused.is_empty())
}

/// The rows of the file, read by the directory's own reader (the console's upload uses it too).
/// A file without rows is nothing to do, not an error.
fn read_rows(path: &std::path::Path) -> anyhow::Result<Vec<ImportRow>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    match parse_csv(&bytes, usize::MAX) {
        Ok(rows) => Ok(rows),
        Err(CsvProblem::Empty) => Ok(Vec::new()),
        Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
    }
}
