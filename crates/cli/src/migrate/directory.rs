//! `bizmail migrate directory`: departments, members, mail groups and tags read from Exmail's
//! newer API and written through bizmail's own newer-API rules (`CorpDirectory`), compared
//! first, so a second run changes only what changed at the source. Departments are matched by
//! their path of names, members and groups by address, tags by name. Nothing here is deleted
//! because it is gone at the source: a migration adds and updates.

use super::exmail::{Exmail, int, ints, list, strings, text};
use crate::StoreArgs;
use anyhow::{Context as _, bail};
use bizmail_server::directory::CorpDirectory;
use bizmail_server::tenants::Admin;
use clap::{Args, ValueEnum};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// `bizmail migrate directory --help`.
pub const HELP: &str = "Copy a company's directory from Tencent Exmail's newer API into a tenant: \
departments (with their order), members (name, departments, aliases, position, mobile, telephone, \
staff number, gender, enabled state), the mail groups you name, and tags with their members.

Everything is written through the same rules as bizmail's own newer API, after comparing: a second \
run changes only what changed at the source, and reports created, changed, unchanged and failed \
for each kind. Nothing is deleted here because it is gone at the source.

Passwords cannot be read out of Exmail. New members either sign in only through single sign-on \
(--access sso, the default) or get a generated initial password they must change at first login \
(--access password, written to the --passwords file, never to the terminal).

The API cannot list mail groups: name them with --groups (groups inside them follow).
Exit status: 0 when nothing failed, 1 otherwise.";

/// Flags of `bizmail migrate directory`.
#[derive(Args)]
pub struct DirectoryArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Read from Tencent Exmail's newer API (the only directory source so far).
    #[arg(long, required = true)]
    from_exmail: bool,
    /// The corp id (管理后台 → 我的企业).
    #[arg(long, value_name = "ID")]
    corpid: String,
    /// The directory application's secret (通讯录管理); better given as EXMAIL_SECRET.
    #[arg(long, env = "EXMAIL_SECRET", hide_env_values = true, value_name = "S")]
    secret: String,
    /// The API's address.
    #[arg(long, default_value = "https://api.exmail.qq.com", value_name = "URL")]
    base_url: String,
    /// The admin whose tenant receives the directory.
    #[arg(long, value_name = "NAME")]
    admin: String,
    /// How new members sign in.
    #[arg(long, value_enum, default_value_t = Access::Sso)]
    access: Access,
    /// With --access password: the file the generated passwords are appended to
    /// (address,password; created readable by its owner only).
    #[arg(long, value_name = "FILE")]
    passwords: Option<PathBuf>,
    /// Mail groups to copy, by address (comma-separated, or the flag repeated).
    #[arg(long, value_delimiter = ',', value_name = "ADDRESS")]
    groups: Vec<String>,
}

/// How new members sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Access {
    /// No password: single sign-on only, until a password is set.
    Sso,
    /// A generated initial password, to be changed at the first login (cpwd_login).
    Password,
}

/// Counts of one kind of thing.
#[derive(Debug, Default)]
struct Tally {
    created: u64,
    changed: u64,
    unchanged: u64,
    failed: Vec<String>,
}

impl Tally {
    fn line(&self, kind: &str) -> String {
        format!(
            "{kind}: {} created, {} changed, {} unchanged, {} failed",
            self.created,
            self.changed,
            self.unchanged,
            self.failed.len()
        )
    }

    /// Counts a write's answer; `what` names the thing in a failure.
    fn count(&mut self, answer: &Value, created: bool, what: &str) -> bool {
        let ok = int(&answer["errcode"]) == Some(0);
        match (ok, created) {
            (true, true) => self.created += 1,
            (true, false) => self.changed += 1,
            (false, _) => self.failed.push(format!(
                "{what}: {} {}",
                text(&answer["errcode"]),
                text(&answer["errmsg"])
            )),
        }
        ok
    }
}

/// Runs `migrate directory`; returns whether nothing failed.
pub async fn run(args: DirectoryArgs) -> anyhow::Result<bool> {
    if args.access == Access::Password && args.passwords.is_none() {
        bail!("--access password needs --passwords FILE for the generated passwords");
    }
    let exmail = Exmail::sign_in(&args.base_url, &args.corpid, &args.secret).await?;
    let departments = exmail.departments().await?;
    let members = exmail.members().await?;
    let groups = exmail.groups(&args.groups).await?;
    let tags = exmail.tags().await?;
    let config = args.store.load(toml::Table::new())?;
    let admin = Admin::open(&config).await?;
    let dir = admin.corp_directory(&args.admin).await?;
    let mut copy = Copy {
        dir,
        depts: HashMap::from([(1, 1)]),
        passwords: Vec::new(),
    };
    let d = copy.departments(&departments).await?;
    let m = copy.members(&members, args.access).await?;
    if let Some(path) = &args.passwords {
        write_passwords(path, &copy.passwords)?;
    }
    let g = copy.groups(&groups).await?;
    let t = copy.tags(&tags).await?;
    admin.close().await;
    let mut ok = true;
    for (kind, tally) in [
        ("departments", &d),
        ("members", &m),
        ("groups", &g),
        ("tags", &t),
    ] {
        println!("{}", tally.line(kind));
        for f in &tally.failed {
            println!("  {f}");
        }
        ok &= tally.failed.is_empty();
    }
    Ok(ok)
}

/// Appends the generated passwords, the file private to its owner.
fn write_passwords(path: &std::path::Path, rows: &[(String, String)]) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    for (address, password) in rows {
        writeln!(file, "{address},{password}")?;
    }
    Ok(())
}

/// One run's writer: the tenant's directory and what the source's ids became here.
struct Copy {
    dir: CorpDirectory,
    /// Source department id → id here (the root is 1 on both sides).
    depts: HashMap<i64, i64>,
    passwords: Vec<(String, String)>,
}

impl Copy {
    async fn call(&self, endpoint: &str, body: Value) -> anyhow::Result<Value> {
        Ok(self.dir.call(endpoint, body).await?)
    }

    /// Departments by their path of names, parents first.
    async fn departments(&mut self, source: &[Value]) -> anyhow::Result<Tally> {
        let mut tally = Tally::default();
        let here = list(
            &self.call("department/list", json!({"id": 1})).await?,
            "department",
        );
        let here_paths = paths(&here);
        let by_path: HashMap<&String, &Value> = here
            .iter()
            .filter_map(|d| Some((here_paths.get(&int(&d["id"])?)?, d)))
            .collect();
        let source_paths = paths(source);
        let mut ordered: Vec<&Value> = source.iter().filter(|d| int(&d["id"]) != Some(1)).collect();
        ordered.sort_by_key(|d| {
            let p = int(&d["id"]).and_then(|id| source_paths.get(&id));
            (p.map_or(0, |p| p.matches('/').count()), p.cloned())
        });
        for d in ordered {
            let (Some(id), Some(path)) = (
                int(&d["id"]),
                int(&d["id"]).and_then(|i| source_paths.get(&i)),
            ) else {
                continue;
            };
            let order = int(&d["order"]).unwrap_or(0);
            if let Some(existing) = by_path.get(path) {
                let here_id = int(&existing["id"]).unwrap_or(1);
                self.depts.insert(id, here_id);
                if int(&existing["order"]).unwrap_or(0) == order {
                    tally.unchanged += 1;
                } else {
                    let a = self
                        .call("department/update", json!({"id": here_id, "order": order}))
                        .await?;
                    tally.count(&a, false, path);
                }
                continue;
            }
            let Some(parent) = int(&d["parentid"])
                .and_then(|p| self.depts.get(&p))
                .copied()
            else {
                tally
                    .failed
                    .push(format!("{path}: its parent was not copied"));
                continue;
            };
            let body = json!({"name": text(&d["name"]), "parentid": parent, "order": order});
            let a = self.call("department/create", body).await?;
            if tally.count(&a, true, path) {
                self.depts.insert(id, int(&a["id"]).unwrap_or(1));
            }
        }
        Ok(tally)
    }

    /// Members by address: created, or updated when a field differs.
    async fn members(&mut self, source: &[Value], access: Access) -> anyhow::Result<Tally> {
        let mut tally = Tally::default();
        let q = json!({"department_id": 1, "fetch_child": 1});
        let here: HashMap<String, Value> = list(&self.call("user/list", q).await?, "userlist")
            .into_iter()
            .map(|u| (text(&u["userid"]).to_lowercase(), u))
            .collect();
        for m in source {
            let userid = text(&m["userid"]);
            let mut wanted = json!({
                "userid": userid,
                "name": text(&m["name"]),
                "department": self.mapped(&ints(&m["department"])),
                "position": text(&m["position"]),
                "mobile": text(&m["mobile"]),
                "tel": text(&m["tel"]),
                "extid": text(&m["extid"]),
                "gender": text(&m["gender"]),
                "slaves": sorted(strings(&m["slaves"])),
                "enable": int(&m["enable"]).unwrap_or(1),
            });
            if wanted["gender"] == "" {
                wanted["gender"] = "0".into();
            }
            match here.get(&userid.to_lowercase()) {
                Some(existing) if same_member(existing, &wanted) => tally.unchanged += 1,
                Some(_) => {
                    let a = self.call("user/update", wanted).await?;
                    tally.count(&a, false, &userid);
                }
                None => {
                    let a = match access {
                        Access::Sso => self.dir.create_without_password(wanted).await?,
                        Access::Password => {
                            let password = initial_password();
                            wanted["password"] = password.clone().into();
                            wanted["cpwd_login"] = 1.into();
                            let a = self.call("user/create", wanted).await?;
                            if int(&a["errcode"]) == Some(0) {
                                self.passwords.push((userid.clone(), password));
                            }
                            a
                        }
                    };
                    tally.count(&a, true, &userid);
                }
            }
        }
        Ok(tally)
    }

    /// Mail groups by address. A group inside another is written first, when it can be.
    async fn groups(&self, source: &[Value]) -> anyhow::Result<Tally> {
        let mut tally = Tally::default();
        let mut ordered: Vec<&Value> = source.iter().collect();
        // Groups named inside others come later in the source list (read by following them):
        // writing from the end writes the inner ones first.
        ordered.reverse();
        for g in ordered {
            let groupid = text(&g["groupid"]);
            let wanted = json!({
                "groupid": groupid,
                "groupname": text(&g["groupname"]),
                "userlist": sorted(strings(&g["userlist"])),
                "grouplist": sorted(strings(&g["grouplist"])),
                "department": self.mapped(&ints(&g["department"])),
                "allow_type": int(&g["allow_type"]).unwrap_or(0),
                "allow_userlist": sorted(strings(&g["allow_userlist"])),
            });
            let existing = self.call("group/get", json!({"groupid": groupid})).await?;
            if int(&existing["errcode"]) == Some(0) {
                if same_group(&existing, &wanted) {
                    tally.unchanged += 1;
                } else {
                    let a = self.call("group/update", wanted).await?;
                    tally.count(&a, false, &groupid);
                }
            } else {
                let a = self.call("group/create", wanted).await?;
                tally.count(&a, true, &groupid);
            }
        }
        Ok(tally)
    }

    /// Tags by name, then their members: what is missing added, what is extra removed.
    async fn tags(&self, source: &[Value]) -> anyhow::Result<Tally> {
        let mut tally = Tally::default();
        let here: HashMap<String, i64> = list(&self.call("tag/list", json!({})).await?, "taglist")
            .iter()
            .filter_map(|t| Some((text(&t["tagname"]), int(&t["tagid"])?)))
            .collect();
        for t in source {
            let name = text(&t["tagname"]);
            let (id, created) = match here.get(&name) {
                Some(id) => (*id, false),
                None => {
                    let a = self.call("tag/create", json!({"tagname": name})).await?;
                    if !tally.count(&a, true, &name) {
                        continue;
                    }
                    (int(&a["tagid"]).unwrap_or(0), true)
                }
            };
            let current = self.call("tag/get", json!({"tagid": id})).await?;
            let (users, parties) = (strings(&t["userlist"]), self.mapped(&ints(&t["partylist"])));
            let (has_users, has_parties) =
                (strings(&current["userlist"]), ints(&current["partylist"]));
            let add_u: Vec<&String> = users.iter().filter(|u| !has_users.contains(u)).collect();
            let del_u: Vec<&String> = has_users.iter().filter(|u| !users.contains(u)).collect();
            let add_p: Vec<i64> = parties
                .iter()
                .copied()
                .filter(|p| !has_parties.contains(p))
                .collect();
            let del_p: Vec<i64> = has_parties
                .iter()
                .copied()
                .filter(|p| !parties.contains(p))
                .collect();
            let mut ok = true;
            if !add_u.is_empty() || !add_p.is_empty() {
                let body = json!({"tagid": id, "userlist": add_u, "partylist": add_p});
                ok &= written(&self.call("tag/addtagusers", body).await?);
            }
            if !del_u.is_empty() || !del_p.is_empty() {
                let body = json!({"tagid": id, "userlist": del_u, "partylist": del_p});
                ok &= written(&self.call("tag/deltagusers", body).await?);
            }
            let touched =
                !(add_u.is_empty() && add_p.is_empty() && del_u.is_empty() && del_p.is_empty());
            match (ok, created, touched) {
                (false, _, _) => tally
                    .failed
                    .push(format!("{name}: some members were refused")),
                (true, true, _) => {}
                (true, false, true) => tally.changed += 1,
                (true, false, false) => tally.unchanged += 1,
            }
        }
        Ok(tally)
    }

    /// Source department ids as ids here (unknown ones dropped; none left is the root).
    fn mapped(&self, ids: &[i64]) -> Vec<i64> {
        let mut out: Vec<i64> = ids
            .iter()
            .filter_map(|i| self.depts.get(i).copied())
            .collect();
        out.sort_unstable();
        out.dedup();
        if out.is_empty() && !ids.is_empty() {
            out.push(1);
        }
        out
    }
}

/// A write's answer was success, with nothing refused.
fn written(a: &Value) -> bool {
    int(&a["errcode"]) == Some(0)
        && a.get("invalidlist").is_none()
        && a.get("invalidparty").is_none()
}

/// Each department's path of names from the root, by id.
fn paths(departments: &[Value]) -> BTreeMap<i64, String> {
    let by_id: HashMap<i64, &Value> = departments
        .iter()
        .filter_map(|d| Some((int(&d["id"])?, d)))
        .collect();
    let mut out = BTreeMap::new();
    for &id in by_id.keys() {
        let mut names = Vec::new();
        let mut at = id;
        // Bounded: a loop in the source's parents must not hang the run.
        for _ in 0..64 {
            let Some(d) = by_id.get(&at) else { break };
            names.push(text(&d["name"]));
            at = int(&d["parentid"]).unwrap_or(0);
        }
        names.reverse();
        out.insert(id, names.join("/"));
    }
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.iter_mut().for_each(|s| *s = s.to_lowercase());
    v.sort();
    v
}

fn same_member(here: &Value, wanted: &Value) -> bool {
    let mut departments = ints(&here["department"]);
    departments.sort_unstable();
    // An empty text is "not given" to the API: it cannot clear a field, so it is no difference.
    ["name", "position", "mobile", "tel", "extid", "gender"]
        .iter()
        .all(|k| text(&wanted[*k]).is_empty() || text(&here[*k]) == text(&wanted[*k]))
        && departments == ints(&wanted["department"])
        && sorted(strings(&here["slaves"])) == strings(&wanted["slaves"])
        && int(&here["enable"]) == int(&wanted["enable"])
}

fn same_group(here: &Value, wanted: &Value) -> bool {
    let mut departments = ints(&here["department"]);
    departments.sort_unstable();
    text(&here["groupname"]) == text(&wanted["groupname"])
        && ["userlist", "grouplist", "allow_userlist"]
            .iter()
            .all(|k| sorted(strings(&here[*k])) == strings(&wanted[*k]))
        && departments == ints(&wanted["department"])
        && int(&here["allow_type"]) == int(&wanted["allow_type"])
}

/// A password of 16 letters and digits (the API takes 6–32 characters).
fn initial_password() -> String {
    use rand::Rng as _;
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(16)
        .map(char::from)
        .collect()
}
