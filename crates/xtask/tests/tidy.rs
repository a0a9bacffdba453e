//! The house rules as a test: every Rust file opens with a `//!` line saying what it is for, and
//! none is over 600 lines. `cargo xtask tidy` prints the same list.

#[test]
fn every_file_has_a_module_doc_and_at_most_600_lines() {
    let root = xtask::workspace_root();
    assert!(
        xtask::rust_files(&root).len() > 50,
        "the walk found the workspace's files"
    );
    let problems = xtask::tidy(&root);
    assert!(
        problems.is_empty(),
        "house rules broken:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_rules_catch_what_they_say() {
    let dir = std::env::temp_dir().join(format!("xtask-tidy-{}", std::process::id()));
    let src = dir.join("crates/demo/src");
    std::fs::create_dir_all(&src).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("good.rs"), "//! Good.\nfn f() {}\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(src.join("undocumented.rs"), "fn f() {}\n").unwrap_or_else(|e| panic!("{e}"));
    let long = format!("//! Long.\n{}", "fn f() {}\n".repeat(xtask::MAX_LINES));
    std::fs::write(src.join("long.rs"), long).unwrap_or_else(|e| panic!("{e}"));
    let problems = xtask::tidy(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems
            .iter()
            .any(|p| p.contains("undocumented.rs") && p.contains("//!"))
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("long.rs") && p.contains("601 lines"))
    );
}
