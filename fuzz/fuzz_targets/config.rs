//! The configuration loader on any TOML: values are checked or refused with a message, never a
//! panic, and a configuration that loads passes its own validation again.
#![no_main]

use bizmail_server::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return;
    };
    if let Ok(config) = Config::load(None, &table) {
        assert!(config.validate().is_ok());
        let _ = config.effective_database_url();
        let _ = config.backend();
    }
});
