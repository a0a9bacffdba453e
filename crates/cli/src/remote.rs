//! `bizmail api` and `bizmail listen`: the OpenApi from the command line, as an integrator calls
//! it, through the typed SDK (`bizmail-client`): the token is fetched, and fetched again when it
//! expires, for the user.

use bizmail_client::{Client, Listener, Notice, Ver};
use clap::Args;

/// Where the OpenApi is and whose credentials to use: the flags `api` and `listen` share.
#[derive(Args, Debug)]
pub struct Remote {
    /// The server's base URL.
    #[arg(
        long,
        env = "BIZMAIL_URL",
        default_value = "http://127.0.0.1:12211",
        value_name = "URL"
    )]
    url: String,
    /// The admin account (`client_id`).
    #[arg(
        long,
        env = "BIZMAIL_ADMIN",
        default_value = "admin",
        value_name = "NAME"
    )]
    admin: String,
    /// The interface key (`client_secret`); `bizmail openapi reveal` shows it.
    #[arg(long, env = "BIZMAIL_KEY", value_name = "KEY", hide_env_values = true)]
    key: String,
}

impl Remote {
    fn client(&self) -> Client {
        Client::new(&self.url, &self.admin, &self.key)
    }
}

/// Flags of `bizmail api`.
#[derive(Args, Debug)]
pub struct ApiArgs {
    #[command(flatten)]
    remote: Remote,
    /// The endpoint under /openapi/, e.g. `user/get` or `party/list`.
    endpoint: String,
    /// Parameters as `Name=value`; repeat a name for a list (`Slave=a@x.com Slave=b@x.com`).
    #[arg(value_name = "NAME=VALUE")]
    params: Vec<String>,
}

/// `bizmail api`: one call; the JSON answer pretty-printed in the server's key order, nothing
/// for success without data, the protocol error on standard error (and a failure exit).
pub async fn api(args: ApiArgs) -> anyhow::Result<()> {
    let mut params = Vec::with_capacity(args.params.len());
    for p in &args.params {
        let (name, value) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("{p:?} is not NAME=VALUE"))?;
        params.push((name, value));
    }
    let client = args.remote.client();
    let body = client
        .call(args.endpoint.trim_matches('/'), &params)
        .await?;
    if !body.is_empty() {
        println!("{}", pretty(&body));
    }
    Ok(())
}

/// Flags of `bizmail listen`.
#[derive(Args, Debug)]
pub struct ListenArgs {
    #[command(flatten)]
    remote: Remote,
    /// The directory version to start from; by default the current one (no backlog of changes).
    #[arg(long, value_name = "VER")]
    ver: Option<u64>,
    /// Print each notice as one line of JSON and nothing else (for scripts).
    #[arg(long)]
    json: bool,
}

/// `bizmail listen`: holds `openapi/listen` and prints each notice as it arrives, following the
/// protocol's loop (a directory change fetches `user/list`), until interrupted.
pub async fn listen(args: ListenArgs) -> anyhow::Result<()> {
    let client = args.remote.client();
    let start = match args.ver {
        Some(v) => Ver(v),
        None => client.user_list(None).await?.ver,
    };
    if !args.json {
        eprintln!(
            "bizmail: listening on {} as {} from directory version {start} (Ctrl-C stops)",
            client.base_url(),
            client.admin()
        );
    }
    let mut listener = Listener::new(&client, Some(start));
    loop {
        let notice = tokio::select! {
            n = listener.next() => n?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let (kind, json) = match &notice {
            Notice::Directory(list) => ("directory", serde_json::to_string(list)?),
            Notice::NewMail(n) => ("newmail", serde_json::to_string(n)?),
            Notice::Unread(n) => ("unread", serde_json::to_string(n)?),
        };
        if args.json {
            println!("{json}");
        } else {
            let at = time_of_day();
            println!("{at}  {kind:<9}  {json}");
        }
    }
}

/// The answer pretty-printed, keys in the order the server sent them (serde_json's
/// `preserve_order`: the protocol's key order is part of the contract). Not JSON: as it came.
fn pretty(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| body.to_owned())
}

/// The time of day, for the human-readable listen output.
fn time_of_day() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}Z",
        day / 3600,
        (day % 3600) / 60,
        day % 60
    )
}
