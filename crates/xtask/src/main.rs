//! `cargo xtask`: the one command a newcomer needs (`cargo xtask test`) and the house rules
//! (`cargo xtask tidy`). Plain std, so it builds in seconds on a fresh machine.

use std::process::{Command, ExitCode};

const USAGE: &str = "\
usage: cargo xtask <task> [args…]

tasks:
  test [args…]   install what the tests need (Debian's postgresql, chromium, chromium-driver,
                 isync, offlineimap3, fetchmail, getmail6, swaks, python3-dkim, python3-venv,
                 rspamd, redis-server, postfix; with apt-get, as root or through sudo) if it
                 is missing, then run every test (which fetch the newer API's PyPI clients
                 into a virtual environment under target/):
                 `cargo test --workspace --locked [args…]`
  tidy           check that every Rust file opens with a `//!` doc and has at most 600 lines
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("test") => test(args.collect()),
        Some("tidy") => tidy(),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            if let Some(task) = other {
                eprintln!("xtask: unknown task {task:?}");
            }
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn test(args: Vec<String>) -> ExitCode {
    let missing = xtask::missing_packages();
    if !missing.is_empty() {
        println!("== installing {} (apt-get)", missing.join(", "));
        let as_root: &[&str] = if is_root() { &[] } else { &["sudo"] };
        let update = run(as_root, &["apt-get", "update", "-qq"], &[]);
        let mut install = vec!["apt-get", "install", "-y", "-qq"];
        install.extend(&missing);
        let env = [("DEBIAN_FRONTEND", "noninteractive")];
        if !update || !run(as_root, &install, &env) {
            eprintln!(
                "xtask: could not install {}; install them and run again",
                missing.join(" ")
            );
            return ExitCode::FAILURE;
        }
    }
    println!("== cargo test --workspace --locked {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--workspace", "--locked"])
        .args(&args)
        .status();
    match status {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(s) => ExitCode::from(u8::try_from(s.code().unwrap_or(1)).unwrap_or(1)),
        Err(e) => {
            eprintln!("xtask: could not run cargo: {e}");
            ExitCode::FAILURE
        }
    }
}

fn tidy() -> ExitCode {
    let problems = xtask::tidy(&xtask::workspace_root());
    for p in &problems {
        println!("{p}");
    }
    if problems.is_empty() {
        println!(
            "tidy: every file has its `//!` doc and at most {} lines",
            xtask::MAX_LINES
        );
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs `prefix env K=V… cmd` (through `env`, since sudo drops the environment); true when it
/// succeeded.
fn run(prefix: &[&str], cmd: &[&str], env: &[(&str, &str)]) -> bool {
    let assignments: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut all: Vec<&str> = prefix.to_vec();
    all.push("env");
    all.extend(assignments.iter().map(String::as_str));
    all.extend(cmd);
    let Some((program, rest)) = all.split_first() else {
        return false;
    };
    Command::new(program)
        .args(rest)
        .status()
        .is_ok_and(|s| s.success())
}
