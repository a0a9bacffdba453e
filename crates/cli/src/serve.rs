//! `bizmail serve`: open the store, create a first tenant on an empty one, serve until a signal.

use crate::StoreArgs;
use bizmail_server::Server;
use bizmail_server::tenants::{self, Admin};
use clap::Args;
use std::net::SocketAddr;

/// Flags of `bizmail serve`.
#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address for HTTP (the OpenApi, /cgi-bin/*, the web mailbox).
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Address for the SMTP receiver.
    #[arg(long, value_name = "ADDR")]
    smtp: Option<SocketAddr>,
    /// Address for IMAP with STARTTLS (usually port 143); off unless given here or in the config.
    #[arg(long, value_name = "ADDR")]
    imap: Option<SocketAddr>,
    /// Address for IMAP over implicit TLS (usually port 993); needs smtp_tls_cert_file.
    #[arg(long, value_name = "ADDR")]
    imaps: Option<SocketAddr>,
    /// Address for POP3 with STLS (usually port 110); off unless given here or in the config.
    #[arg(long, value_name = "ADDR")]
    pop3: Option<SocketAddr>,
    /// Address for POP3 over implicit TLS (usually port 995); needs smtp_tls_cert_file.
    #[arg(long, value_name = "ADDR")]
    pop3s: Option<SocketAddr>,
    /// Address for authenticated submission with STARTTLS (usually port 587); off unless given
    /// here or in the config.
    #[arg(long, value_name = "ADDR")]
    submission: Option<SocketAddr>,
    /// Address for submission over implicit TLS (usually port 465); needs smtp_tls_cert_file.
    #[arg(long, value_name = "ADDR")]
    submissions: Option<SocketAddr>,
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut flags = toml::Table::new();
    if let Some(a) = args.http {
        flags.insert("http_addr".into(), toml::Value::String(a.to_string()));
    }
    for (key, addr) in [
        ("smtp_addr", args.smtp),
        ("imap_addr", args.imap),
        ("imaps_addr", args.imaps),
        ("pop3_addr", args.pop3),
        ("pop3s_addr", args.pop3s),
        ("submission_addr", args.submission),
        ("submissions_addr", args.submissions),
    ] {
        if let Some(a) = addr {
            flags.insert(key.into(), toml::Value::String(a.to_string()));
        }
    }
    let config = args.store.load(flags)?;
    if let Some(path) = Admin::exposed_key_file(&config) {
        eprintln!(
            "bizmail: warning: the key file {} can be read by others than its owner; it opens \
             every interface key. Fix it with: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
    let admin = Admin::open(&config).await?;
    let first = admin.bootstrap_if_empty().await?;
    let running = Server::start_with(config, admin).await?;
    let base = running.base_url();
    if let Some(t) = first {
        print_first_run(&base, &t);
    }
    // One write for the whole banner, and a reader that went away (a closed pipe) is no reason
    // to stop serving: a server must not die of its own log line.
    let mut banner = format!(
        "bizmail is serving the OpenApi on {base} and SMTP on {}  (Ctrl-C stops it)\n",
        running.smtp_addr
    );
    for (what, addr) in [
        ("IMAP", running.imap_addr),
        ("IMAPS", running.imaps_addr),
        ("POP3", running.pop3_addr),
        ("POP3S", running.pop3s_addr),
        ("submission", running.submission_addr),
        ("submission (implicit TLS)", running.submissions_addr),
    ] {
        if let Some(a) = addr {
            banner.push_str(&format!("bizmail is serving {what} on {a}\n"));
        }
    }
    let signals = Signals::install();
    say(&banner);
    signals.wait(&running).await;
    say("bizmail: shutting down\n");
    running.shutdown().await;
    Ok(())
}

/// Writes to standard output, ignoring a reader that has gone (`println!` would panic).
fn say(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

fn print_first_run(base: &str, t: &tenants::CreatedTenant) {
    let password = t.generated_password.as_deref().unwrap_or("(as given)");
    let key = t.openapi_key.as_deref().unwrap_or("(not applied)");
    say(&format!(
        "\
This is a new bizmail: a first tenant was created. These secrets are shown only now.

  domain          {domain}
  admin           {admin}           (client_id)
  admin password  {password}
  interface key   {key}   (client_secret)

Get an access token:
  curl -s {base}/cgi-bin/token -d grant_type=client_credentials -d client_id={admin} -d client_secret={key}

The newer Exmail API: a corp id and one secret per application.
{corp}
Get a token of the newer API (here for the directory):
  curl -s '{base}/cgi-bin/gettoken?corpid={corp_id}&corpsecret=<directory secret>'

The admin console (the open protocol, the operation log, the directory, …):
  {base}/admin/   sign in as {admin}; the first sign-in enrols an authenticator app.

Next: `bizmail init --domain yourcompany.com --admin you` creates your own tenant;
`bizmail openapi reveal --admin {admin}` shows the key again after the admin password,
`bizmail corp reveal --admin {admin} --app directory` a secret of the newer API.
",
        corp = crate::corp::created_lines(t, "  "),
        corp_id = t.corp_id,
        domain = t.domains.join(", "),
        admin = t.admin,
    ));
}

/// The signals `serve` answers, listened for before the banner says it is serving: a SIGHUP
/// (`systemctl reload`) the moment after would otherwise find no handler and end the process.
struct Signals {
    #[cfg(unix)]
    term_hup: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let term_hup = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::hangup()),
            ) {
                (Ok(term), Ok(hup)) => Some((term, hup)),
                _ => None,
            };
            Signals { term_hup }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// Waits for Ctrl-C or SIGTERM; SIGHUP meanwhile loads the HTTPS certificate again (a
    /// renewed certificate needs no restart: `systemctl reload bizmail`).
    async fn wait(self, running: &bizmail_server::Running) {
        #[cfg(unix)]
        {
            let Some((mut term, mut hup)) = self.term_hup else {
                let _ = tokio::signal::ctrl_c().await;
                return;
            };
            loop {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => return,
                    _ = term.recv() => return,
                    _ = hup.recv() => match running.reload_tls() {
                        Ok(true) => say("bizmail: SIGHUP: the HTTPS certificate was loaded again\n"),
                        Ok(false) => say("bizmail: SIGHUP: no HTTPS certificate to load\n"),
                        Err(e) => say(&format!("bizmail: SIGHUP: {e}; the old certificate stays\n")),
                    },
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = running;
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
