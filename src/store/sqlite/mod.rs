//! SQLite: WAL journal, `synchronous=FULL` (a commit is on disk before it returns), and one
//! writer task that commits concurrent submissions together.
//!
//! Group commit: requests queue on a channel; the writer takes everything waiting (up to
//! [`MAX_BATCH`]), writes them with one statement per table, and commits once. While one
//! commit is being fsynced the next batch gathers, so under load many requests share an fsync,
//! and a single request is never delayed waiting for company. When a batch fails, it is
//! written again with a savepoint per submission, so a failing submission fails alone.

mod duplicates;
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

use sqlx::Acquire;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{IdempotencyRecord, InsertOutcome, StoreError, SubmissionRow};
use intake::{insert_rows, stored_response};

/// Most submissions committed together.
const MAX_BATCH: usize = 256;
/// Requests that may wait for the writer before senders wait too.
const QUEUE_DEPTH: usize = 1024;
const READ_CONNECTIONS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

struct WriteJob {
    row: SubmissionRow,
    idempotency: Option<IdempotencyRecord>,
    /// The submission's notifications, written in its transaction.
    outbox: Vec<crate::domain::outbox::NewMessage>,
    reply: oneshot::Sender<Result<InsertOutcome, StoreError>>,
}

pub struct SqliteStore {
    /// The database file, for the migration lock (`None` for an in-memory database).
    file: Option<std::path::PathBuf>,
    pool: SqlitePool,
    writer_pool: SqlitePool,
    queue: Mutex<Option<mpsc::Sender<WriteJob>>>,
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
            .connect_with(options)
            .await?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let writer = tokio::spawn(group_commit(writer_pool.clone(), rx));
        Ok(Self {
            file,
            pool,
            writer_pool,
            queue: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
        })
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

async fn group_commit(pool: SqlitePool, mut queue: mpsc::Receiver<WriteJob>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match commit_together(&pool, &batch).await {
            Ok(()) => {
                for job in batch.drain(..) {
                    let _ = job.reply.send(Ok(InsertOutcome::Inserted));
                }
                continue;
            }
            Err(error) => {
                tracing::debug!(error = %error, submissions = batch.len(), "batch failed; one by one");
            }
        }
        match commit_one_by_one(&pool, &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
            }
            Err(error) => {
                tracing::error!(error = ?error, submissions = batch.len(), "group commit failed");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::WriterGone));
                }
            }
        }
    }
}

/// The fast path: the whole batch in one transaction with one statement per table.
async fn commit_together(pool: &SqlitePool, batch: &[WriteJob]) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = batch
        .iter()
        .map(|j| (&j.row, j.idempotency.as_ref()))
        .collect();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    insert_rows(&mut tx, &rows).await?;
    let messages: Vec<_> = batch
        .iter()
        .flat_map(|j| j.outbox.iter().cloned())
        .collect();
    outbox::insert_outbox_messages(&mut tx, &messages).await?;
    tx.commit().await
}

/// The careful path: each submission in its own savepoint, so one failure fails alone, and an
/// idempotency key taken by an earlier request answers with that request's response.
///
/// `BEGIN IMMEDIATE`: take the write lock up front. A deferred transaction that reads first and
/// then writes fails at once with `SQLITE_BUSY` when another process committed in between
/// (several replicas on one file); an immediate one waits for the lock (busy timeout).
async fn commit_one_by_one(
    pool: &SqlitePool,
    batch: &[WriteJob],
) -> Result<Vec<Result<InsertOutcome, StoreError>>, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        let mut savepoint = (&mut tx).begin().await?;
        let written =
            match insert_rows(&mut savepoint, &[(&job.row, job.idempotency.as_ref())]).await {
                Ok(()) => outbox::insert_outbox_messages(&mut savepoint, &job.outbox).await,
                Err(error) => Err(error),
            };
        match written {
            Ok(()) => {
                savepoint.commit().await?;
                outcomes.push(Ok(InsertOutcome::Inserted));
            }
            Err(error) => {
                savepoint.rollback().await?;
                let replay = match (&job.idempotency, error.as_database_error()) {
                    (Some(idem), Some(db)) if db.is_unique_violation() => {
                        stored_response(&mut tx, &idem.key_hash).await?
                    }
                    _ => None,
                };
                outcomes.push(match replay {
                    Some(response) => Ok(InsertOutcome::Replayed(response)),
                    None => Err(error.into()),
                });
            }
        }
    }
    tx.commit().await?;
    Ok(outcomes)
}
