//! The configuration's tests: defaults, files, variables and flags in their order, validation.
use super::*;

#[test]
fn defaults_run_out_of_the_box() {
    let c = Config::default();
    assert_eq!(c.http_addr.port(), 12211);
    assert_eq!(c.smtp_addr.port(), 2525);
    assert_eq!(c.token_lifetime_secs, 86_400);
    assert_eq!(c.poll_timeout_secs, 60);
    assert_eq!(c.backend(), Some(Backend::Sqlite));
    assert!(
        c.effective_database_url()
            .ends_with("bizmail-data/bizmail.sqlite?mode=rwc")
    );
}

#[test]
fn file_then_overrides() {
    let dir = std::env::temp_dir().join(format!("bizmail-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c.toml");
    std::fs::write(&file, "poll_timeout_secs = 5\ntoken_lifetime_secs = 10\n").unwrap();
    let mut flags = toml::Table::new();
    flags.insert("token_lifetime_secs".into(), toml::Value::Integer(20));
    let c = Config::load(Some(&file), &flags).unwrap();
    assert_eq!(c.poll_timeout_secs, 5);
    assert_eq!(c.token_lifetime_secs, 20);
}

#[test]
fn example_config_documents_exactly_the_defaults() {
    let example: Config =
        toml::from_str(include_str!("../../../../bizmail.example.toml")).expect("example parses");
    assert_eq!(example, Config::default());
    let keys = toml::Value::try_from(Config::default()).unwrap();
    let text = include_str!("../../../../bizmail.example.toml");
    for key in keys.as_table().unwrap().keys() {
        assert!(
            text.contains(&format!("\n{key} = ")),
            "{key} is not documented"
        );
    }
}

#[test]
fn unknown_key_is_named() {
    let dir = std::env::temp_dir().join(format!("bizmail-cfg2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("c.toml");
    std::fs::write(&file, "poll_timeot_secs = 5\n").unwrap();
    let e = Config::load(Some(&file), &toml::Table::new()).unwrap_err();
    assert!(e.to_string().contains("poll_timeot_secs"), "{e}");
}

#[test]
fn bad_values_are_refused() {
    let mut flags = toml::Table::new();
    flags.insert(
        "database_url".into(),
        toml::Value::String("mysql://x".into()),
    );
    let e = Config::load(None, &flags).unwrap_err();
    assert!(e.to_string().contains("database_url"), "{e}");
    let missing = Config::load(
        Some(Path::new("/nonexistent/bizmail.toml")),
        &toml::Table::new(),
    );
    assert!(missing.is_err());
}
