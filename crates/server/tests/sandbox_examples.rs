//! The worked examples of docs/SANDBOX.md run as integrators would run them, against the real
//! server on both backends: `docs/examples/sandbox/oa_sync_test.py` (Python's standard library)
//! and `SandboxExample.java` (the JDK alone, launched as a single source file). Each sets faults
//! through the control endpoint, drives its client through them, and checks the HAR record.
//! A binary of its own: the JVM's start is slow.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::{TestServer, backend_test};
use common::Api;
use std::path::{Path, PathBuf};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/sandbox")
}

/// Runs one example with the sandbox's coordinates; returns what it printed.
async fn example(srv: &TestServer, key: &str, alias: &str, program: &str, file: &str) -> String {
    let t = srv.tenant();
    let out = tokio::process::Command::new(program)
        .arg(examples().join(file))
        .env("BIZMAIL_URL", srv.url(""))
        .env("BIZMAIL_ADMIN", &t.admin)
        .env("BIZMAIL_KEY", &t.key)
        .env("BIZMAIL_SANDBOX_KEY", key)
        .env("BIZMAIL_ALIAS", alias)
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program} does not start ({e}); cargo xtask test installs it"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{file} failed:\n{stdout}\n{stderr}");
    stdout
}

backend_test! {
    async fn the_python_and_java_examples_survive_their_faults(srv) {
        let key = srv.running().sandbox().mark(srv.tenant().tenant_id).await.unwrap();
        let bob = Api::new(&srv).await.add_member("bob", &[]).await;
        let py = example(&srv, &key, &bob, "python3", "oa_sync_test.py").await;
        assert!(py.contains("listen was cut"), "{py}");
        assert!(py.contains("a token that expired early was replaced"), "{py}");
        assert!(py.contains("OK: the integration survived"), "{py}");
        let java = example(&srv, &key, &bob, "java", "SandboxExample.java").await;
        assert!(java.contains("OK: the integration survived"), "{java}");
        // Both examples cleared their faults when done.
        let state = srv.running().sandbox().require(srv.tenant().tenant_id).await.unwrap();
        assert!(state.plan.is_empty());
    }
}
