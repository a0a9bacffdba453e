//! Time as bizmail stores it: Unix milliseconds in an `i64`, the unit of every time column.

/// A configured number of seconds in milliseconds (saturating: an absurdly long lifetime means
/// "never", not an overflow).
pub fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

/// The current time as Unix milliseconds.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
