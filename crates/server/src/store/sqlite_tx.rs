//! A SQLite write transaction run by hand (`BEGIN IMMEDIATE` … `COMMIT`) on a pooled connection,
//! so that a failed commit can never hand a broken connection back to the pool.
//!
//! sqlx's own `Transaction` keeps counting a transaction whose `COMMIT` failed (a full disk:
//! `SQLITE_FULL`) as open, and returns its connection to the pool that way: every later
//! transaction on that connection then fails ("non-zero transaction depth") long after the disk
//! has room again. Here a failed commit is rolled back, and a connection that cannot even roll
//! back is closed instead of returned.

use sqlx::pool::PoolConnection;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::OwnedMutexGuard;

/// An open SQLite write transaction, holding this process's writer slot until it ends. Dropped
/// without [`SqliteTx::commit`], it rolls back (on a task, since a drop cannot wait).
pub struct SqliteTx {
    conn: Option<PoolConnection<Sqlite>>,
    slot: Option<OwnedMutexGuard<()>>,
}

impl SqliteTx {
    /// Begins `IMMEDIATE` (so a writer never fails to upgrade a read lock) on a pooled connection.
    pub async fn begin(pool: &SqlitePool, slot: OwnedMutexGuard<()>) -> sqlx::Result<SqliteTx> {
        let mut conn = pool.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        Ok(SqliteTx {
            conn: Some(conn),
            slot: Some(slot),
        })
    }

    /// The connection, inside the transaction.
    pub fn conn(&mut self) -> &mut SqliteConnection {
        // Present from `begin` until `commit` or drop, which both take `self`: an invariant of
        // the type, not something input can break.
        #[allow(clippy::expect_used)]
        self.conn
            .as_deref_mut()
            .expect("a SqliteTx is used only between begin and commit")
    }

    /// Commits. On failure the transaction is rolled back (or its connection closed) before the
    /// error is returned, and the writer slot is released after that.
    pub async fn commit(mut self) -> sqlx::Result<()> {
        let (Some(mut conn), slot) = (self.conn.take(), self.slot.take()) else {
            return Ok(());
        };
        let done = sqlx::query("COMMIT").execute(&mut *conn).await.map(drop);
        if done.is_err() {
            end_badly(conn).await;
        }
        drop(slot);
        done
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        let (Some(conn), slot) = (self.conn.take(), self.slot.take()) else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    end_badly(conn).await;
                    drop(slot);
                });
            }
            // No runtime to roll back on: the connection leaves the pool with the transaction.
            Err(_) => drop(conn.detach()),
        }
    }
}

/// Rolls back; a connection that cannot is closed rather than returned to the pool.
async fn end_badly(mut conn: PoolConnection<Sqlite>) {
    if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
        let _ = conn.close().await;
    }
}
