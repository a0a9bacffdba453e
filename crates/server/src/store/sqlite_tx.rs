//! A SQLite write transaction as the store's callers see it: a member of a chained commit (see
//! [`super::chain`]), run by hand rather than through sqlx's `Transaction`.
//!
//! sqlx's own `Transaction` keeps counting a transaction whose `COMMIT` failed (a full disk:
//! `SQLITE_FULL`) as open, and returns its connection to the pool that way: every later
//! transaction on that connection then fails ("non-zero transaction depth") long after the disk
//! has room again. Here a failed commit is rolled back, and a connection that cannot even roll
//! back is closed instead of returned.

use super::chain::{Held, Writer};
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::Arc;

/// An open SQLite write transaction, holding this process's writer slot until it ends. Dropped
/// without [`SqliteTx::commit`], it is undone (on a task, since a drop cannot wait).
pub struct SqliteTx {
    held: Option<Held>,
}

impl SqliteTx {
    /// Waits for the writer slot and opens this transaction's part of the chain (`BEGIN
    /// IMMEDIATE`, so a writer never fails to upgrade a read lock, when no chain is open).
    pub async fn begin(pool: &SqlitePool, writer: &Arc<Writer>) -> sqlx::Result<SqliteTx> {
        let mut held = writer.hold().await;
        held.open(pool).await?;
        Ok(SqliteTx { held: Some(held) })
    }

    /// The connection, inside the transaction.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        // Present from `begin` until `commit` or drop, which both take `self`: an invariant of
        // the type, not something input can break.
        #[allow(clippy::expect_used)]
        self.held
            .as_mut()
            .expect("a SqliteTx is used only between begin and commit")
            .conn()
    }

    /// Commits: returns once this transaction's work is durable, or with the error that lost it.
    pub async fn commit(mut self) -> sqlx::Result<()> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        // On a task of its own: a caller that goes away mid-commit (a client hanging up) must not
        // leave the chain half-ended under the other members.
        match tokio::spawn(held.release()).await {
            Ok(done) => done,
            Err(e) => Err(sqlx::Error::Io(std::io::Error::other(e.to_string()))),
        }
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(held.undo());
            }
            // No runtime to undo it on: dropping the holder abandons the chain (see `Held`).
            Err(_) => drop(held),
        }
    }
}
