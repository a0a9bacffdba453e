//! SQLite's WAL checkpoints, off the writers' path.
//!
//! SQLite checkpoints inside whichever commit finds the WAL past 1,000 pages: that commit then
//! copies the WAL into the database and syncs it while this process's other writers queue behind
//! it. A task of the store's own runs a `PASSIVE` checkpoint every [`EVERY`] instead, so under a
//! steady load the WAL rarely reaches that size inside a commit; `PASSIVE` blocks neither writers
//! nor readers. SQLite's own checkpoint stays as the backstop: with it off, the WAL outgrew what
//! the task copied, stopped being reused from its start, and every commit extended the file, which
//! cost SMTP ingest a third of its rate (measured with `bench smtp-ingest`). `journal_size_limit`
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
