//! PostgreSQL: the durable intake path and its indexer.
//!
//! Why: a transaction per submission cost `BEGIN`, an `INSERT` per table and `COMMIT` (4–7
//! round trips) and updated nine indexes, the text-search index and the counts trigger before
//! the answer. So requests queue for [`WRITERS`] writer tasks; each takes everything waiting and
//! commits it with **one statement** (one round trip, one WAL flush): the idempotency keys
//! (`ON CONFLICT DO NOTHING`) and the rows of `intake_inbox`, a narrow append-only table, for
//! the submissions whose key was free. The 201 is sent after that commit.
//!
//! The indexer moves inbox rows into the indexed tables in batches, one transaction per batch
//! that inserts the rows and deletes them from the inbox. It claims rows with
//! `FOR UPDATE SKIP LOCKED`, so replicas sharing the database index side by side without moving
//! a row twice; a crash rolls a batch back into the inbox. Readers first settle the inbox
//! (`settle_inbox`), waiting for rows another replica is moving.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnection, PgPool};
use tokio::sync::{Mutex, Notify, mpsc};
use uuid::Uuid;

use super::intake::insert_rows;
use crate::domain::outbox::NewMessage;
use crate::store::shared::writer_queue::WriteJob;
use crate::store::{InsertOutcome, StoreError, StoredResponse, SubmissionRow};

/// Writer tasks per process: while one waits for its commit's WAL flush, the next batch is on
/// its way. Two, not more: each writer's batch is what waited since its last commit, so more
/// writers mean smaller batches and more commits for the same submissions, and PostgreSQL's
/// CPU (on the same two cores as the service here) went to commits. At `wrk -c32` with
/// TCP_NODELAY, 6 s each: 1 writer 10.7k submissions/s, 2 10.5k, 4 10.1k, 8 8.6k.
pub(super) const WRITERS: usize = 2;
/// Most submissions committed together.
pub(super) const MAX_BATCH: usize = 256;
/// Most inbox rows moved in one transaction.
const INDEX_CHUNK: i64 = 512;
/// How long the indexer waits after a commit, to gather a batch (well within the 1 s
/// visibility); it also looks every [`INDEX_POLL`] for rows other replicas committed.
const INDEX_DELAY: Duration = Duration::from_millis(50);
const INDEX_POLL: Duration = Duration::from_millis(500);

/// One writer task: batches from the shared queue, one statement each.
pub(super) async fn writer(
    pool: PgPool,
    queue: Arc<Mutex<mpsc::Receiver<WriteJob>>>,
    indexer: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let received = queue.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if received == 0 {
            return;
        }
        match commit(&pool, &batch).await {
            Ok(outcomes) => {
                for (job, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = job.reply.send(outcome);
                }
                indexer.notify_one();
            }
            Err(error) => {
                tracing::error!(error = ?error, submissions = batch.len(), "intake commit failed");
                for job in batch.drain(..) {
                    let _ = job.reply.send(Err(StoreError::WriterGone));
                }
            }
        }
    }
}

/// Commits a batch with one statement; answers each submission: inserted, or replayed when its
/// idempotency key was already taken.
async fn commit(
    pool: &PgPool,
    batch: &[WriteJob],
) -> Result<Vec<Result<InsertOutcome, StoreError>>, sqlx::Error> {
    let mut ids = Vec::with_capacity(batch.len());
    let mut payloads = Vec::with_capacity(batch.len());
    let mut keys = Vec::with_capacity(batch.len());
    let mut responses = Vec::with_capacity(batch.len());
    let mut contents = Vec::with_capacity(batch.len());
    let mut received = Vec::with_capacity(batch.len());
    for job in batch {
        ids.push(job.row.id);
        payloads.push(serde_json::to_string(&job.row).map_err(|e| sqlx::Error::Encode(e.into()))?);
        let idem = job.idempotency.as_ref();
        keys.push(idem.map(|i| i.key_hash.clone()));
        responses.push(idem.map(|i| i.response.clone()));
        contents.push(idem.map(|i| i.content_sha256.clone()));
        received.push(job.row.received_at);
    }
    let statement = sqlx::query_scalar(
        "WITH input AS ( \
           SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], \
                                $6::timestamptz[]) \
             AS i (submission_id, payload, key_hash, response, content_sha256, received_at)), \
         keys AS ( \
           INSERT INTO idempotency_keys (key_hash, submission_id, response, content_sha256, created_at) \
           SELECT key_hash, submission_id, response, content_sha256, received_at FROM input \
           WHERE key_hash IS NOT NULL ON CONFLICT (key_hash) DO NOTHING RETURNING submission_id) \
         INSERT INTO intake_inbox (submission_id, payload) \
         SELECT submission_id, payload FROM input \
         WHERE key_hash IS NULL OR submission_id IN (SELECT submission_id FROM keys) \
         RETURNING submission_id",
    )
    .bind(&ids)
    .bind(&payloads)
    .bind(&keys)
    .bind(&responses)
    .bind(&contents)
    .bind(&received);
    // Notifications (none when no webhook or subscription is configured) go in the same
    // transaction as their submissions' inbox rows, for the submissions that were inserted.
    let inserted: Vec<Uuid> = if batch.iter().any(|job| !job.outbox.is_empty()) {
        let mut tx = pool.begin().await?;
        let inserted: Vec<Uuid> = statement.fetch_all(&mut *tx).await?;
        let messages: Vec<NewMessage> = batch
            .iter()
            .filter(|job| inserted.contains(&job.row.id))
            .flat_map(|job| job.outbox.iter().cloned())
            .collect();
        super::outbox::insert_outbox_messages(&mut tx, &messages).await?;
        tx.commit().await?;
        inserted
    } else {
        statement.fetch_all(pool).await?
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        if inserted.contains(&job.row.id) {
            outcomes.push(Ok(InsertOutcome::Inserted));
            continue;
        }
        // Not inserted: its key was taken, by an earlier request or by one in this batch.
        let earlier: Option<StoredResponse> = match &job.idempotency {
            Some(idem) => {
                sqlx::query_as(
                    "SELECT response, content_sha256 FROM idempotency_keys WHERE key_hash = $1",
                )
                .bind(&idem.key_hash)
                .fetch_optional(pool)
                .await?
            }
            None => None,
        };
        outcomes.push(
            earlier
                .map(InsertOutcome::Replayed)
                .ok_or(StoreError::Conflict("idempotency key")),
        );
    }
    Ok(outcomes)
}

/// The indexer task: moves inbox rows after each commit (and every [`INDEX_POLL`]), until told
/// to stop.
pub(super) async fn indexer(pool: PgPool, wake: Arc<Notify>, stop: Arc<Notify>) {
    loop {
        tokio::select! {
            () = stop.notified() => return,
            () = wake.notified() => tokio::time::sleep(INDEX_DELAY).await,
            () = tokio::time::sleep(INDEX_POLL) => {}
        }
        loop {
            match index_chunk(&pool, true).await {
                Ok(moved) if moved < INDEX_CHUNK => break,
                Ok(_) => {}
                Err(error) if not_migrated(&error) => break,
                Err(error) => {
                    tracing::error!(error = ?error, "indexing the intake inbox failed; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
    }
}

/// The indexer starts with the store, before `migrate` has created the inbox.
fn not_migrated(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "42P01")
}

/// Moves the oldest unclaimed inbox rows (at most [`INDEX_CHUNK`]) into the indexed tables in
/// one transaction. `skip_locked`: leave rows another replica is moving (the background
/// indexer); otherwise wait for them (a reader settling the inbox). Returns how many it moved.
///
/// The move's commit does not wait for its WAL flush (`synchronous_commit = off`): the move
/// inserts the rows and deletes them from the inbox in one transaction, so a crash that loses it
/// leaves the rows in the inbox to be moved again, and any later synchronous commit (the next
/// intake batch, a triage change made on a moved row) flushes the WAL up to and past it.
pub(super) async fn index_chunk(pool: &PgPool, skip_locked: bool) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL synchronous_commit = off")
        .execute(&mut *tx)
        .await?;
    let moved = move_rows(&mut tx, skip_locked).await?;
    tx.commit().await?;
    Ok(moved)
}

async fn move_rows(tx: &mut PgConnection, skip_locked: bool) -> Result<i64, sqlx::Error> {
    let claim = if skip_locked {
        "DELETE FROM intake_inbox WHERE seq IN \
           (SELECT seq FROM intake_inbox ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING payload"
    } else {
        "DELETE FROM intake_inbox WHERE seq IN \
           (SELECT seq FROM intake_inbox ORDER BY seq LIMIT $1 FOR UPDATE) \
         RETURNING payload"
    };
    let payloads: Vec<String> = sqlx::query_scalar(claim)
        .bind(INDEX_CHUNK)
        .fetch_all(&mut *tx)
        .await?;
    if payloads.is_empty() {
        return Ok(0);
    }
    let submissions = payloads
        .iter()
        .map(|payload| serde_json::from_str::<SubmissionRow>(payload))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Decode(e.into()))?;
    insert_rows(tx, &submissions.iter().collect::<Vec<_>>()).await?;
    Ok(i64::try_from(payloads.len()).unwrap_or(i64::MAX))
}

/// Moves every inbox row acknowledged before the call, waiting for rows other replicas are
/// moving.
pub(super) async fn settle(pool: &PgPool) -> Result<(), StoreError> {
    // Up to the newest row visible now: every submission acknowledged before this read is at
    // or below it. Rows committed later need not hold the read up; under a steady stream of
    // submissions the inbox is never empty, and waiting for that would starve the reader.
    let newest: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM intake_inbox")
        .fetch_one(pool)
        .await?;
    let Some(newest) = newest else {
        return Ok(());
    };
    loop {
        let pending: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM intake_inbox WHERE seq <= $1)")
                .bind(newest)
                .fetch_one(pool)
                .await?;
        if !pending {
            return Ok(());
        }
        // The oldest rows first, waiting for any another indexer holds: the rows up to
        // `newest` go before any that came later.
        index_chunk(pool, false).await?;
    }
}
