//! A property of `user/list` (§7.3), on both backends: after any sequence of member operations,
//! a client that held the directory as of any earlier version and applies `user/list?Ver=<that
//! version>` ends up with exactly the current directory, and every entry is consistent with what
//! it held: ADD only for addresses it did not have, MOD only for ones it had. A DEL may name an
//! address the client never saw, because §7.3 folds ADD-then-DEL into DEL; deleting what it does
//! not hold is a no-op for the client.
//!
//! `user/swapalias` is left out on purpose: it changes a member's primary address, the key a
//! client holds, and §7.9 records it as one MOD of the new primary address, which a client can
//! only follow by asking `user/get` (the answer's `SlaveList` names the old address). Its own test
//! is in `directory_members.rs`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use bizmail_testkit::backend_test;
use common::Api;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::collections::BTreeSet;

#[derive(Debug, Clone)]
enum Op {
    Add(usize),
    Mod(usize),
    Del(usize),
    /// Give member `.0` the alias `alias<.1>` (replacing its aliases).
    Slave(usize, usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..6usize).prop_map(Op::Add),
        2 => (0..6usize).prop_map(Op::Mod),
        2 => (0..6usize).prop_map(Op::Del),
        1 => (0..6usize, 0..3usize).prop_map(|(m, s)| Op::Slave(m, s)),
    ]
}

async fn current(api: &Api<'_>) -> BTreeSet<String> {
    api.changes_since(0)
        .await
        .into_iter()
        .map(|(_, a)| a)
        .collect()
}

async fn run_ops(api: &Api<'_>, ops: &[Op]) -> Result<(), TestCaseError> {
    let name = |i: usize| api.addr(&format!("m{i}"));
    let mut history: Vec<(u64, BTreeSet<String>)> = vec![(api.version().await, current(api).await)];
    for op in ops {
        // Calls may be refused (adding an existing member, deleting a missing one): that is part
        // of the property — refusals must not disturb the log.
        let body = match op {
            Op::Add(i) => {
                api.post(
                    "user/sync",
                    &[
                        ("Action", "2"),
                        ("Alias", &name(*i)),
                        ("Name", "n"),
                        ("Password", "secret123"),
                    ],
                )
                .await
            }
            Op::Mod(i) => {
                api.post(
                    "user/sync",
                    &[
                        ("Action", "3"),
                        ("Alias", &name(*i)),
                        ("Position", &format!("p{}", ops.len())),
                    ],
                )
                .await
            }
            Op::Del(i) => {
                api.post("user/sync", &[("Action", "1"), ("Alias", &name(*i))])
                    .await
            }
            Op::Slave(i, s) => {
                api.post(
                    "user/sync",
                    &[
                        ("Action", "3"),
                        ("Alias", &name(*i)),
                        ("Slave", &api.addr(&format!("alias{s}"))),
                    ],
                )
                .await
            }
        };
        prop_assert!(
            body.is_empty() || body.contains("errcode"),
            "{op:?}: {body}"
        );
        history.push((api.version().await, current(api).await));
    }
    let now = current(api).await;
    for (ver, held) in &history {
        let mut dir = held.clone();
        for (action, alias) in api.changes_since(*ver).await {
            match action {
                2 => prop_assert!(
                    dir.insert(alias.clone()),
                    "ADD of {alias} already held at {ver}"
                ),
                3 => prop_assert!(dir.contains(&alias), "MOD of {alias} not held at {ver}"),
                1 => {
                    dir.remove(&alias);
                }
                other => prop_assert!(false, "unknown action {other}"),
            }
        }
        prop_assert_eq!(&dir, &now, "replay from {}", ver);
    }
    Ok(())
}

backend_test! {
    async fn replaying_user_list_from_any_version_yields_the_directory(srv) {
        let mut runner = TestRunner::new(Config {
            cases: 12,
            max_shrink_iters: 64,
            failure_persistence: None,
            ..Config::default()
        });
        let handle = tokio::runtime::Handle::current();
        let srv = &srv;
        let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
            tokio::task::block_in_place(|| {
                handle.block_on(async {
                    // A fresh tenant per case, so cases do not see each other's members.
                    let api = Api::other(srv).await;
                    run_ops(&api, &ops).await
                })
            })
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
