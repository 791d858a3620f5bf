//! SQLite: WAL journal, `synchronous=FULL` (a commit is on disk before it returns), and one
//! writer task that commits concurrent submissions together.
//!
//! Group commit: requests queue on a channel; the writer takes everything waiting (up to
//! `MAX_BATCH`), writes them into the narrow intake inbox with one statement, and commits once.
//! While one commit is being fsynced the next batch gathers, so under load many requests share
//! an fsync, and a single request is never delayed waiting for company. When a batch fails, it
//! is written again with a savepoint per submission, so a failing submission fails alone. The
//! same task moves inbox rows into the indexed tables in large batches (see `inbox`).

mod duplicates;
mod inbox;
mod intake;
mod mail;
mod outbox;
mod privacy;
mod staff;
mod statistics;
mod stats;
mod triage;

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::StoreError;
use crate::store::shared::writer_queue::WriterQueue;
use inbox::SettleRequest;

/// Requests that may wait for the writer before senders wait too.
const QUEUE_DEPTH: usize = 1024;
const READ_CONNECTIONS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    /// The database file, for the migration lock (`None` for an in-memory database).
    file: Option<std::path::PathBuf>,
    pool: SqlitePool,
    writer_pool: SqlitePool,
    queue: WriterQueue,
    settles: Mutex<Option<mpsc::Sender<SettleRequest>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let parsed = SqliteConnectOptions::from_str(url)?;
        let file = Some(parsed.get_filename().to_path_buf())
            .filter(|f| !f.as_os_str().is_empty() && f.as_os_str() != ":memory:");
        let options = parsed
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            // Deleted content is overwritten with zeros, so erased data leaves no trace in
            // the file's free pages (see `scrub_erased` for the WAL and full-text index).
            .pragma("secure_delete", "ON")
            .foreign_keys(true)
            // No `PRAGMA optimize` here: its sampled `ANALYZE` (at most ~2,000 rows an index)
            // saw one value per index and rated every filter alike; see
            // `refresh_planner_statistics`.
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(READ_CONNECTIONS)
            .connect_with(options.clone())
            .await?;
        let writer_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        // The indexer's moves need no fsync of their own: see `inbox::writer`.
        let indexer_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let (settle_tx, settle_rx) = mpsc::channel(QUEUE_DEPTH);
        let writer = tokio::spawn(inbox::writer(
            inbox::Connections {
                intake: writer_pool.clone(),
                indexer: indexer_pool,
            },
            rx,
            settle_rx,
        ));
        Ok(Self {
            file,
            pool,
            writer_pool,
            queue: Mutex::new(Some(tx)),
            settles: Mutex::new(Some(settle_tx)),
            writer: Mutex::new(Some(writer)),
        })
    }

    /// Waits until every submission acknowledged so far is in the indexed tables: returns at
    /// once when the inbox is empty (one read), else asks the writer to move it all.
    pub(super) async fn settle_inbox(&self) -> Result<(), StoreError> {
        let pending: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM intake_inbox)")
            .fetch_one(&self.pool)
            .await?;
        if !pending {
            return Ok(());
        }
        let settles = self
            .settles
            .lock()
            .expect("settle lock")
            .clone()
            .ok_or(StoreError::WriterGone)?;
        let (reply, settled) = oneshot::channel();
        settles
            .send(reply)
            .await
            .map_err(|_| StoreError::WriterGone)?;
        settled.await.map_err(|_| StoreError::WriterGone)?
    }
}

impl SqliteStore {
    /// A write transaction that takes the write lock up front (`BEGIN IMMEDIATE`), so what it
    /// reads cannot change before it writes, and another process waits instead of failing.
    pub(super) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }
}
