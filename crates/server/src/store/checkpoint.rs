//! SQLite's WAL checkpoints, off the writers' path.
//!
//! By default SQLite checkpoints inside whichever commit finds the WAL past 1,000 pages: that
//! commit then copies the WAL into the database and syncs it, while every other writer of this
//! process queues behind it (the writer slot is held). Under a steady write load that put
//! 100 ms on the 99th percentile of token requests. Instead every connection is opened with
//! `wal_autocheckpoint = 0`, and a task of the store's own runs a `PASSIVE` checkpoint every
//! [`EVERY`]: it copies what no reader still needs without blocking writers or readers, and the
//! next writer restarts the WAL from its start once all of it was copied. `journal_size_limit`
//! trims the file back after a burst. A process that closes its store last checkpoints the rest.

use std::time::Duration;

/// How often the checkpoint runs.
pub const EVERY: Duration = Duration::from_millis(200);
/// The WAL's size kept on disk after a restart, in bytes.
pub const WAL_SIZE_LIMIT: &str = "67108864";

/// Starts the checkpoint task of `pool`; it ends when the pool is closed.
pub fn spawn(pool: sqlx::SqlitePool) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if pool.is_closed() {
                return;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await
            {
                if pool.is_closed() {
                    return;
                }
                tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
            }
        }
    });
}
