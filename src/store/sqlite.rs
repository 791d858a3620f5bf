//! SQLite: WAL journal, `synchronous=FULL` (a commit is on disk before it returns), and one
//! writer task that commits concurrent submissions together.
//!
//! Group commit: requests queue on a channel; the writer takes everything waiting (up to
//! [`MAX_BATCH`]), writes each submission inside its own savepoint, and commits once. While one
//! commit is being fsynced the next batch gathers, so under load many requests share an fsync,
//! and a single request is never delayed waiting for company. A failing submission rolls back
//! to its savepoint alone.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{Acquire, Row};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::{
    AttachmentRow, ContactRow, IdempotencyRecord, InsertOutcome, Store, StoreError, SubmissionRow,
    TABLES, TableCounts, TermsRecord,
};

/// Most submissions committed together.
const MAX_BATCH: usize = 256;
/// Requests that may wait for the writer before senders wait too.
const QUEUE_DEPTH: usize = 1024;
const READ_CONNECTIONS: u32 = 4;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

struct WriteJob {
    row: SubmissionRow,
    idempotency: Option<IdempotencyRecord>,
    reply: oneshot::Sender<Result<InsertOutcome, StoreError>>,
}

pub struct SqliteStore {
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
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
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
            pool,
            writer_pool,
            queue: Mutex::new(Some(tx)),
            writer: Mutex::new(Some(writer)),
        })
    }
}

async fn group_commit(pool: SqlitePool, mut queue: mpsc::Receiver<WriteJob>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match commit_batch(&pool, &batch).await {
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

async fn commit_batch(
    pool: &SqlitePool,
    batch: &[WriteJob],
) -> Result<Vec<Result<InsertOutcome, StoreError>>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        let mut savepoint = (&mut tx).begin().await?;
        match insert_rows(&mut savepoint, &job.row, job.idempotency.as_ref()).await {
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

async fn stored_response(
    conn: &mut SqliteConnection,
    key_hash: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT response FROM idempotency_keys WHERE key_hash = ?")
        .bind(key_hash)
        .fetch_optional(conn)
        .await
}

async fn insert_rows(
    conn: &mut SqliteConnection,
    row: &SubmissionRow,
    idempotency: Option<&IdempotencyRecord>,
) -> Result<(), sqlx::Error> {
    let id = row.id.to_string();
    sqlx::query(
        "INSERT INTO submissions (id, received_at, kind, status, summary, message, rating, \
         webapp_version, server_version, browser_brand, browser_version, screen_width, \
         screen_height, page_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(row.received_at)
    .bind(&row.kind)
    .bind(&row.status)
    .bind(&row.summary)
    .bind(&row.message)
    .bind(row.rating)
    .bind(&row.webapp_version)
    .bind(&row.server_version)
    .bind(&row.browser_brand)
    .bind(&row.browser_version)
    .bind(row.screen_width)
    .bind(row.screen_height)
    .bind(&row.page_url)
    .execute(&mut *conn)
    .await?;
    let terms = &row.terms;
    sqlx::query(
        "INSERT INTO terms_acceptances (submission_id, terms_version, terms_sha256, widget, \
         button, accepted_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(&terms.version)
    .bind(&terms.sha256)
    .bind(&terms.widget)
    .bind(&terms.button)
    .bind(terms.accepted_at)
    .execute(&mut *conn)
    .await?;
    for a in &row.attachments {
        sqlx::query(
            "INSERT INTO attachments (submission_id, position, object_key, filename, \
             content_type, size, sha256) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(a.position)
        .bind(&a.object_key)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(&a.sha256)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(contact) = &row.contact {
        sqlx::query(
            "INSERT INTO contacts (submission_id, blind_index, sealed, key_id) VALUES (?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(&contact.blind_index)
        .bind(&contact.sealed)
        .bind(&contact.key_id)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(idem) = idempotency {
        sqlx::query(
            "INSERT INTO idempotency_keys (key_hash, submission_id, response, created_at) \
             VALUES (?, ?, ?, ?)",
        )
        .bind(&idem.key_hash)
        .bind(&id)
        .bind(&idem.response)
        .bind(row.received_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn submission_from_row(row: &SqliteRow) -> Result<SubmissionRow, sqlx::Error> {
    let id: String = row.try_get("id")?;
    Ok(SubmissionRow {
        id: Uuid::parse_str(&id).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        received_at: row.try_get("received_at")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        summary: row.try_get("summary")?,
        message: row.try_get("message")?,
        rating: row.try_get("rating")?,
        webapp_version: row.try_get("webapp_version")?,
        server_version: row.try_get("server_version")?,
        browser_brand: row.try_get("browser_brand")?,
        browser_version: row.try_get("browser_version")?,
        screen_width: row.try_get("screen_width")?,
        screen_height: row.try_get("screen_height")?,
        page_url: row.try_get("page_url")?,
        terms: TermsRecord {
            version: row.try_get("terms_version")?,
            sha256: row.try_get("terms_sha256")?,
            widget: row.try_get("widget")?,
            button: row.try_get("button")?,
            accepted_at: row.try_get("accepted_at")?,
        },
        attachments: Vec::new(),
        contact: None,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.writer_pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_submission(
        &self,
        row: SubmissionRow,
        idempotency: Option<IdempotencyRecord>,
    ) -> Result<InsertOutcome, StoreError> {
        let queue = self
            .queue
            .lock()
            .expect("queue lock")
            .clone()
            .ok_or(StoreError::WriterGone)?;
        let (reply, outcome) = oneshot::channel();
        queue
            .send(WriteJob {
                row,
                idempotency,
                reply,
            })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        outcome.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn idempotent_response(
        &self,
        key_hash: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT response FROM idempotency_keys WHERE key_hash = ? AND created_at >= ?",
        )
        .bind(key_hash)
        .bind(not_before)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn submission(&self, id: Uuid) -> Result<Option<SubmissionRow>, StoreError> {
        let id_text = id.to_string();
        let Some(row) = sqlx::query(
            "SELECT s.*, t.terms_version, t.terms_sha256, t.widget, t.button, t.accepted_at \
             FROM submissions s JOIN terms_acceptances t ON t.submission_id = s.id WHERE s.id = ?",
        )
        .bind(&id_text)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut submission = submission_from_row(&row)?;
        submission.attachments = sqlx::query(
            "SELECT position, object_key, filename, content_type, size, sha256 FROM attachments \
             WHERE submission_id = ? ORDER BY position",
        )
        .bind(&id_text)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(AttachmentRow {
                position: r.try_get("position")?,
                object_key: r.try_get("object_key")?,
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                size: r.try_get("size")?,
                sha256: r.try_get("sha256")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
        submission.contact =
            sqlx::query("SELECT blind_index, sealed, key_id FROM contacts WHERE submission_id = ?")
                .bind(&id_text)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| {
                    Ok::<_, sqlx::Error>(ContactRow {
                        blind_index: r.try_get("blind_index")?,
                        sealed: r.try_get("sealed")?,
                        key_id: r.try_get("key_id")?,
                    })
                })
                .transpose()?;
        Ok(Some(submission))
    }

    async fn referenced_objects(&self, keys: &[String]) -> Result<HashSet<String>, StoreError> {
        let keys_json = serde_json::to_string(keys).expect("strings serialise");
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT object_key FROM attachments WHERE object_key IN (SELECT value FROM json_each(?))",
        )
        .bind(keys_json)
        .fetch_all(&self.pool)
        .await?;
        Ok(found.into_iter().collect())
    }

    async fn prune_idempotency_keys(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(older_than)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn table_counts(&self) -> Result<TableCounts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM submissions), (SELECT COUNT(*) FROM terms_acceptances), \
             (SELECT COUNT(*) FROM attachments), (SELECT COUNT(*) FROM contacts), \
             (SELECT COUNT(*) FROM idempotency_keys)",
        )
        .fetch_one(&self.pool)
        .await?;
        TABLES
            .iter()
            .enumerate()
            .map(|(i, table)| Ok((*table, row.try_get::<i64, _>(i)?)))
            .collect()
    }

    async fn close(&self) {
        let queue = self.queue.lock().expect("queue lock").take();
        drop(queue);
        let writer = self.writer.lock().expect("writer lock").take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
        self.pool.close().await;
        self.writer_pool.close().await;
    }
}
