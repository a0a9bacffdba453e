//! `bizmail sandbox …`: a sandbox tenant for integrators' tests (docs/SANDBOX.md): mark one,
//! inject faults, move its clock, read or export the record of its API exchanges. Every switch
//! but `mark` refuses a tenant that is not a sandbox.

use crate::StoreArgs;
use anyhow::Context as _;
use bizmail_protocol::sandbox::{Plan, Rule, parse_shift};
use bizmail_server::Config;
use bizmail_server::sandbox::{Sandbox, har, humanize_ms};
use bizmail_server::tenants::Admin;
use clap::{Args, Subcommand};

/// `bizmail sandbox …`.
#[derive(Subcommand)]
pub enum SandboxCommand {
    /// Make a tenant a sandbox and print the control key of its HTTP endpoint (/sandbox/v1).
    /// Marking one again only replaces the key.
    Mark(Tenant),
    /// End a tenant's sandbox: its faults, clock, control key and record are dropped.
    Unmark(Tenant),
    /// Print a new control key (the old one stops working).
    Key(Tenant),
    /// Show the faults in force and the clock.
    Status(Tenant),
    /// Replace the fault plan: rules from --rule (repeatable) or a JSON file, or --clear.
    #[command(after_help = FAULTS_HELP)]
    Faults(FaultsArgs),
    /// Move the tenant's clock: `+2h`, `+1d12h`, `+90s`, or `0` for the real clock. Expiry of
    /// tokens and tickets, change-log retention and listen's grace follow it.
    Clock(ClockArgs),
    /// The record of the tenant's API exchanges: a table, JSON, or a HAR file.
    Record(RecordArgs),
}

const FAULTS_HELP: &str = "A rule is the endpoint, then key=value words:\n  \
  error=CODE     answer this code in the endpoint's API (1002 OpenApi busy, -1 newer API busy)\n  \
  latency=DUR    wait first (300ms, 2s)\n  \
  cut[=DUR]      openapi/listen only: drop the connection after DUR, no answer\n  \
  idle           openapi/listen only: answer {\"Ret\":0} at once\n  \
  smtp=CODE      endpoint smtp only: answer RCPT TO with 421 (and close), 450, 451 or 452\n  \
  share=F        the share of matching calls (0.5 or 50%), drawn from --seed\n  \
  count=N        at most N calls\n\
Endpoints: openapi/user/get, cgi-bin/token (the OpenApi's token), cgi-bin/gettoken,\n\
cgi-bin/user/get, smtp; a trailing * matches a prefix (cgi-bin/*, *).\n\n\
Examples:\n  \
  bizmail sandbox faults --tenant example.com --seed 7 \\\n    \
    --rule 'openapi/user/get error=1002 share=30%' --rule 'openapi/listen cut=2s count=1'\n  \
  bizmail sandbox faults --tenant example.com --token-ttl 30s\n  \
  bizmail sandbox faults --tenant example.com --clear";

/// A tenant, by one of its domains or an admin's name.
#[derive(Args)]
pub struct Tenant {
    #[command(flatten)]
    store: StoreArgs,
    /// The tenant: one of its mail domains, or an admin's name.
    #[arg(long, value_name = "DOMAIN|ADMIN")]
    tenant: String,
}

/// Flags of `bizmail sandbox faults`.
#[derive(Args)]
pub struct FaultsArgs {
    #[command(flatten)]
    who: Tenant,
    /// A rule (repeatable), e.g. 'openapi/user/get error=1002 share=0.5'.
    #[arg(long, value_name = "RULE")]
    rule: Vec<String>,
    /// The seed of the shares' draws: the same seed, the same faults.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Tokens issued from now on stop working after this long (30s, 5m), while their answer
    /// still says the usual expires_in.
    #[arg(long, value_name = "DUR")]
    token_ttl: Option<String>,
    /// The whole plan as JSON (the control endpoint's format) instead of --rule.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["rule", "token_ttl"])]
    file: Option<std::path::PathBuf>,
    /// No faults at all.
    #[arg(long, conflicts_with_all = ["rule", "token_ttl", "file"])]
    clear: bool,
}

/// Flags of `bizmail sandbox clock`.
#[derive(Args)]
pub struct ClockArgs {
    #[command(flatten)]
    who: Tenant,
    /// `+2h` moves it from where it is; `0` puts it back to the real clock.
    #[arg(allow_hyphen_values = true, value_name = "SHIFT")]
    shift: String,
}

/// Flags of `bizmail sandbox record`.
#[derive(Args)]
pub struct RecordArgs {
    #[command(flatten)]
    who: Tenant,
    /// Only this client (openapi:<admin>, app:<application>, corp:<corpid>).
    #[arg(long)]
    client: Option<String>,
    /// The last this many exchanges.
    #[arg(long, default_value_t = 200)]
    limit: u32,
    /// Write a HAR 1.2 file (for browsers' developer tools, Charles, Fiddler …).
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    har: Option<std::path::PathBuf>,
    /// Print the exchanges as JSON.
    #[arg(long)]
    json: bool,
    /// Forget the record after reading it.
    #[arg(long)]
    clear: bool,
}

/// Runs a `bizmail sandbox` command.
pub async fn sandbox(command: SandboxCommand) -> anyhow::Result<()> {
    let who = match &command {
        SandboxCommand::Mark(t)
        | SandboxCommand::Unmark(t)
        | SandboxCommand::Key(t)
        | SandboxCommand::Status(t) => t,
        SandboxCommand::Faults(a) => &a.who,
        SandboxCommand::Clock(a) => &a.who,
        SandboxCommand::Record(a) => &a.who,
    };
    let config = who.store.load(toml::Table::new())?;
    let admin = Admin::open(&config).await?;
    let tenant = admin.tenant_named(&who.tenant).await?;
    let sandbox = admin.sandbox(&config);
    let outcome = run(&command, &sandbox, tenant, &config).await;
    admin.close().await;
    outcome
}

async fn run(
    command: &SandboxCommand,
    sandbox: &Sandbox,
    tenant: i64,
    config: &Config,
) -> anyhow::Result<()> {
    match command {
        SandboxCommand::Mark(_) => {
            let key = sandbox.mark(tenant).await?;
            println!("the tenant is a sandbox now; its control key (shown once):\n{key}");
        }
        SandboxCommand::Unmark(_) => {
            if sandbox.unmark(tenant).await? {
                println!("the tenant is no longer a sandbox");
            } else {
                println!("the tenant was not a sandbox");
            }
        }
        SandboxCommand::Key(_) => println!("{}", sandbox.new_key(tenant).await?),
        SandboxCommand::Status(_) => print_status(sandbox, tenant).await?,
        SandboxCommand::Faults(a) => {
            let plan = plan_of(a)?;
            sandbox.set_plan(tenant, &plan).await?;
            print_status(sandbox, tenant).await?;
        }
        SandboxCommand::Clock(a) => {
            let shift = parse_shift(&a.shift).map_err(anyhow::Error::msg)?;
            // `0` means "back to the real clock", not "no move".
            let absolute = a.shift.trim() == "0";
            let offset = sandbox.move_clock(tenant, shift, absolute).await?;
            println!(
                "the tenant's clock is {} ahead of the real one",
                humanize_ms(offset)
            );
        }
        SandboxCommand::Record(a) => record(a, sandbox, tenant, config).await?,
    }
    Ok(())
}

fn plan_of(a: &FaultsArgs) -> anyhow::Result<Plan> {
    if a.clear {
        return Ok(Plan::default());
    }
    if let Some(file) = &a.file {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        return serde_json::from_str(&text)
            .with_context(|| format!("{} as a fault plan", file.display()));
    }
    let rules = a
        .rule
        .iter()
        .map(|r| Rule::parse_line(r).map_err(|e| anyhow::anyhow!("rule {r:?}: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let token_ttl_secs = a
        .token_ttl
        .as_deref()
        .map(|d| {
            parse_shift(&format!("+{d}"))
                .map(|ms| u64::try_from(ms / 1000).unwrap_or(0))
                .map_err(anyhow::Error::msg)
        })
        .transpose()?;
    if rules.is_empty() && token_ttl_secs.is_none() {
        anyhow::bail!("give at least one --rule or --token-ttl, a --file, or --clear");
    }
    Ok(Plan {
        seed: a.seed,
        token_ttl_secs,
        rules,
    })
}

async fn print_status(sandbox: &Sandbox, tenant: i64) -> anyhow::Result<()> {
    let s = sandbox.require(tenant).await?;
    println!(
        "clock: {} ahead of the real one",
        humanize_ms(s.clock_offset_ms)
    );
    if s.plan.is_empty() {
        println!("faults: none");
    } else {
        println!("faults (seed {}):", s.plan.seed);
        if let Some(ttl) = s.plan.token_ttl_secs {
            println!("  tokens stop working after {ttl} s");
        }
        for rule in &s.plan.rules {
            println!("  {}", serde_json::to_string(rule)?);
        }
    }
    Ok(())
}

async fn record(
    a: &RecordArgs,
    sandbox: &Sandbox,
    tenant: i64,
    config: &Config,
) -> anyhow::Result<()> {
    let list = sandbox
        .exchanges(tenant, a.client.as_deref(), a.limit)
        .await?;
    if let Some(path) = &a.har {
        let origin = if config.public_url.is_empty() {
            format!("http://{}", config.http_addr)
        } else {
            config.public_url.trim_end_matches('/').to_owned()
        };
        let doc = har::document(&list, &origin);
        std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("{} exchanges written to {}", list.len(), path.display());
    } else if a.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
    } else {
        for e in &list {
            let at = chrono::DateTime::from_timestamp_millis(e.at_ms)
                .map(|t| t.format("%H:%M:%S%.3f").to_string())
                .unwrap_or_default();
            let fault = if e.fault.is_empty() {
                String::new()
            } else {
                format!("  [{}]", e.fault)
            };
            // Both APIs answer errors with HTTP 200: the code is what tells.
            let errcode = serde_json::from_str::<serde_json::Value>(&e.response_body)
                .ok()
                .and_then(|v| v.get("errcode").map(|c| c.to_string().replace('"', "")))
                .filter(|c| c != "0")
                .unwrap_or_default();
            println!(
                "{at}  {:<22} {:<6} {:<44} {:>3} {:>6} {:>7.1} ms{fault}",
                e.client,
                e.method,
                e.url.chars().take(44).collect::<String>(),
                e.status,
                errcode,
                e.duration_us as f64 / 1000.0
            );
        }
        println!("{} exchanges", list.len());
    }
    if a.clear {
        sandbox.clear_record(tenant).await?;
    }
    Ok(())
}
