//! The operation-log writer: every OpenApi call hands its row to a background task that writes
//! rows in batches, one transaction (one fsync) per batch, so logging never sits on a call's path.
//!
//! Rows still queued when the process is killed are lost; the writer drains the queue on graceful
//! shutdown. Calls that change the directory will write their row inside their own transaction.

use crate::store::Store;
use tokio::sync::{mpsc, oneshot};

/// One operation-log row. `params` is already masked (passwords, keys and tokens as `***`).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OplogEntry {
    /// The tenant, when the call could be tied to one.
    pub tenant_id: Option<i64>,
    /// When the call was answered, Unix milliseconds.
    pub at_ms: i64,
    /// The caller's address.
    pub client_ip: String,
    /// The admin whose token or `client_id` was used; empty when unknown.
    pub admin: String,
    /// The path called, e.g. `openapi/user/get`.
    pub endpoint: String,
    /// The parameters as one masked line.
    pub params: String,
    /// 0 for success, else the error code answered.
    pub errcode: i64,
}

const QUEUE: usize = 16_384;
const BATCH: usize = 512;
/// How long a small batch waits for company before it is written.
const LINGER: std::time::Duration = std::time::Duration::from_millis(5);

enum Msg {
    Row(OplogEntry),
    Flush(oneshot::Sender<()>),
}

/// The sending side; cheap to clone.
#[derive(Debug, Clone)]
pub struct OplogWriter {
    tx: mpsc::Sender<Msg>,
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("oplog message")
    }
}

impl OplogWriter {
    /// Starts the writer task; it ends when every `OplogWriter` is dropped and the queue is drained.
    pub fn spawn(store: Store) -> (OplogWriter, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(store, rx));
        (OplogWriter { tx }, task)
    }

    /// Queues a row. Waits only if the queue is full (the store is slower than the calls).
    pub async fn record(&self, row: OplogEntry) {
        if self.tx.send(Msg::Row(row)).await.is_err() {
            tracing::warn!("operation log writer has stopped; a row was dropped");
        }
    }

    /// Returns once every row queued before this call is committed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Msg>) {
    let mut rows = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Row(r) => rows.push(r),
                Msg::Flush(f) => flushes.push(f),
            }
            if rows.len() < BATCH {
                next = rx.try_recv().ok();
            }
        }
        // A short wait for more rows when nobody is waiting on this batch: under load, one
        // transaction (and one fsync) then carries many more calls' rows. Nothing is answered
        // later for it; a crash could lose LINGER more of rows not yet written.
        if flushes.is_empty() && rows.len() < BATCH {
            let until = tokio::time::Instant::now() + LINGER;
            while rows.len() < BATCH {
                match tokio::time::timeout_at(until, rx.recv()).await {
                    Ok(Some(Msg::Row(r))) => rows.push(r),
                    Ok(Some(Msg::Flush(f))) => {
                        flushes.push(f);
                        break;
                    }
                    Ok(None) | Err(_) => break,
                }
            }
        }
        if let Err(e) = crate::store::oplog::insert_batch(&store, &rows).await {
            // One bad row must not take the others with it: write them one by one, and drop
            // (and report) only the ones that fail on their own.
            tracing::warn!(error = %e, rows = rows.len(), "an operation-log batch failed; writing its rows one by one");
            for row in &rows {
                if let Err(e) = crate::store::oplog::insert_one(&store, row).await {
                    tracing::error!(error = %e, endpoint = %row.endpoint, "could not write an operation-log row");
                }
            }
        }
        rows.clear();
        for f in flushes.drain(..) {
            let _ = f.send(());
        }
    }
}
