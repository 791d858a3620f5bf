//! SQLite: the durable intake path and its indexer, both run by the one writer task.
//!
//! Why: committing a submission straight into `submissions` rewrote pages of the table, of its
//! nine indexes, of the terms table and of a new FTS5 segment on every commit (~50 KB of disk
//! writes a submission). So a submission is acknowledged once it is in `intake_inbox`, a narrow
//! append-only table (rowid only, no index, no trigger), committed with `synchronous=FULL` by the
//! group commit (its idempotency key goes in the same transaction). The same task then moves
//! inbox rows into the indexed tables in batches of up to [`INDEX_CHUNK`], each batch one
//! transaction that inserts the rows and deletes them from the inbox: a crash leaves a batch
//! either moved or still in the inbox, never both, and the next start moves what is left.
//!
//! Indexing runs once the oldest unindexed submission is [`INDEX_DELAY`] old and no request
//! waits, or [`MAX_LAG`] old whatever waits, and at once when a reader asks (`settle`): every
//! read of submissions first settles the inbox, so nothing reads as missing that was
//! acknowledged.

use std::collections::VecDeque;
use std::time::Duration;

use sqlx::sqlite::{Sqlite, SqliteConnection, SqlitePool};
use sqlx::{Acquire, Connection, QueryBuilder};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::intake::{insert_rows, stored_response};
use crate::store::shared::writer_queue::WriteJob;
use crate::store::{InsertOutcome, StoreError, SubmissionRow};

/// Most submissions committed together.
pub(super) const MAX_BATCH: usize = 256;
/// Most inbox rows moved in one transaction (bounded by SQLite's bound parameters: five
/// attachment rows of seven columns each per submission).
const INDEX_CHUNK: usize = 256;
/// Most rows moved at a time while submissions keep arriving. A move holds the one writer, so
/// a request arriving during it waits for it (about 50 µs a row: 256 rows put ~13 ms on that
/// request's answer); small moves between group commits keep that wait to a few milliseconds.
const BUSY_INDEX_CHUNK: usize = 24;
/// Submissions committed within this long mean intake is busy: move [`BUSY_INDEX_CHUNK`] rows.
const BUSY_WINDOW: Duration = Duration::from_millis(50);
/// How long an acknowledged submission may wait in the inbox before it is indexed, when no
/// reader asks for it sooner: long enough to gather a batch, well within the 1 s visibility.
const INDEX_DELAY: Duration = Duration::from_millis(100);
/// How long an acknowledged submission may wait while requests keep coming.
const MAX_LAG: Duration = Duration::from_millis(500);
/// How often an idle writer looks for rows other processes left in the inbox.
const INDEX_POLL: Duration = Duration::from_secs(1);

/// A reader waiting for the inbox to be empty.
pub(super) type SettleRequest = oneshot::Sender<Result<(), StoreError>>;

/// The writer task's two connections to the one database file, used one at a time.
pub(super) struct Connections {
    /// Group commits into the inbox: `synchronous=FULL`, the 201 waits for its fsync.
    pub(super) intake: SqlitePool,
    /// The moves into the indexed tables: `synchronous=NORMAL`, no fsync of their own.
    ///
    /// Why that is safe: a move changes nothing an answer depends on. It inserts the rows into
    /// the indexed tables and deletes them from the inbox in one transaction, so losing it (a
    /// power cut before the next fsync; a process crash loses nothing, the pages are in the
    /// kernel's cache) only leaves those rows in the inbox, and the next start moves them again.
    /// WAL frames are appended in commit order, so the next intake commit's fsync makes every
    /// earlier move durable too, and a checkpoint fsyncs the log before copying it.
    pub(super) indexer: SqlitePool,
}

/// The writer task: group commit into the inbox, and the indexer.
pub(super) async fn writer(
    connections: Connections,
    mut queue: mpsc::Receiver<WriteJob>,
    mut settles: mpsc::Receiver<SettleRequest>,
) {
    let Connections {
        intake: pool,
        indexer,
    } = connections;
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // This process's commits not indexed yet, oldest first: (when, how many submissions).
    let mut backlog: VecDeque<(Instant, usize)> = VecDeque::new();
    // Rows an earlier process left (a crash, another process on this file): looked for at once,
    // then every `INDEX_POLL` while this process has none of its own waiting.
    let mut poll = true;
    let mut retry_at = Instant::now();
    loop {
        let wake = backlog
            .front()
            .map_or_else(|| Instant::now() + INDEX_POLL, |(at, _)| *at + INDEX_DELAY)
            .max(retry_at);
        tokio::select! {
            biased;
            Some(request) = settles.recv() => {
                let outcome = index_all(&indexer).await;
                if outcome.is_ok() {
                    backlog.clear();
                }
                let _ = request.send(outcome.map_err(StoreError::from));
                continue;
            }
            received = queue.recv_many(&mut batch, MAX_BATCH) => {
                if received == 0 {
                    break;
                }
                let committed = group_commit(&pool, &mut batch).await;
                if committed > 0 {
                    backlog.push_back((Instant::now(), committed));
                }
            }
            () = tokio::time::sleep_until(wake) => poll |= backlog.is_empty(),
        }
        // Index when the oldest waiting submission is `INDEX_DELAY` old and no request waits,
        // or `MAX_LAG` old whatever waits: a burst is acknowledged at the inbox's pace and
        // indexed behind it, and nothing stays unindexed for long.
        let now = Instant::now();
        let age = backlog.front().map(|(at, _)| now - *at);
        let ripe = age.is_some_and(|a| a >= INDEX_DELAY) && queue.is_empty();
        let overdue = age.is_some_and(|a| a >= MAX_LAG);
        if !(ripe || overdue || poll) || now < retry_at {
            continue;
        }
        poll = false;
        // Falling behind (`overdue`), throughput comes first: large moves cost less a row.
        let busy = backlog
            .back()
            .is_some_and(|(at, _)| now - *at < BUSY_WINDOW);
        let limit = if busy && !overdue {
            BUSY_INDEX_CHUNK
        } else {
            INDEX_CHUNK
        };
        match index_chunk(&indexer, limit).await {
            Ok(moved) if moved < limit => backlog.clear(),
            Ok(moved) => consume(&mut backlog, moved),
            Err(error) if not_migrated(&error) => {}
            Err(error) => {
                tracing::error!(error = ?error, "indexing the intake inbox failed; retrying");
                retry_at = now + Duration::from_secs(1);
            }
        }
    }
    // Shutting down: what is acknowledged is durable either way; index it now if possible.
    if let Err(error) = index_all(&indexer).await
        && !not_migrated(&error)
    {
        tracing::warn!(error = ?error, "the intake inbox is left for the next start");
    }
    indexer.close().await;
}

/// Takes `moved` submissions off the front of the backlog.
fn consume(backlog: &mut VecDeque<(Instant, usize)>, mut moved: usize) {
    while let Some((_, n)) = backlog.front_mut() {
        if *n > moved {
            *n -= moved;
            return;
        }
        moved -= *n;
        backlog.pop_front();
    }
}

/// The writer starts with the store, before `migrate` has created the inbox.
fn not_migrated(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|db| db.message().contains("no such table"))
}

/// Commits one batch and answers its requests. How many submissions reached the inbox.
async fn group_commit(pool: &SqlitePool, batch: &mut Vec<WriteJob>) -> usize {
    match commit_together(pool, batch).await {
        Ok(()) => {
            let committed = batch.len();
            for job in batch.drain(..) {
                let _ = job.reply.send(Ok(InsertOutcome::Inserted));
            }
            return committed;
        }
        Err(error) => {
            tracing::debug!(error = %error, submissions = batch.len(), "batch failed; one by one");
        }
    }
    match commit_one_by_one(pool, batch).await {
        Ok(outcomes) => {
            let inserted = outcomes
                .iter()
                .filter(|o| matches!(o, Ok(InsertOutcome::Inserted)))
                .count();
            for (job, outcome) in batch.drain(..).zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
            inserted
        }
        Err(error) => {
            tracing::error!(error = ?error, submissions = batch.len(), "group commit failed");
            for job in batch.drain(..) {
                let _ = job.reply.send(Err(StoreError::WriterGone));
            }
            0
        }
    }
}

/// The inbox rows and idempotency keys of a batch: one statement per table.
async fn insert_inbox_rows(
    conn: &mut SqliteConnection,
    batch: &[&WriteJob],
) -> Result<(), sqlx::Error> {
    let mut qb = QueryBuilder::<Sqlite>::new("INSERT INTO intake_inbox (submission_id, payload) ");
    let mut payloads = Vec::with_capacity(batch.len());
    for job in batch {
        payloads.push(serde_json::to_string(&job.row).map_err(|e| sqlx::Error::Encode(e.into()))?);
    }
    qb.push_values(batch.iter().zip(payloads), |mut b, (job, payload)| {
        b.push_bind(job.row.id.to_string()).push_bind(payload);
    });
    qb.build().execute(&mut *conn).await?;

    let keys: Vec<_> = batch
        .iter()
        .filter_map(|job| job.idempotency.as_ref().map(|i| (&job.row, i)))
        .collect();
    if !keys.is_empty() {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO idempotency_keys (key_hash, submission_id, response, content_sha256, created_at) ",
        );
        qb.push_values(keys, |mut b, (row, idem)| {
            b.push_bind(idem.key_hash.clone())
                .push_bind(row.id.to_string())
                .push_bind(idem.response.clone())
                .push_bind(idem.content_sha256.clone())
                .push_bind(row.received_at);
        });
        qb.build().execute(&mut *conn).await?;
    }
    let messages: Vec<_> = batch
        .iter()
        .flat_map(|job| job.outbox.iter().cloned())
        .collect();
    super::outbox::insert_outbox_messages(conn, &messages).await?;
    Ok(())
}

/// The fast path: the whole batch in one transaction with one statement per table.
///
/// `BEGIN IMMEDIATE`: take the write lock up front, so that several processes on one file wait
/// for each other (busy timeout) instead of failing with `SQLITE_BUSY`.
async fn commit_together(pool: &SqlitePool, batch: &[WriteJob]) -> Result<(), sqlx::Error> {
    let jobs: Vec<&WriteJob> = batch.iter().collect();
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    insert_inbox_rows(&mut tx, &jobs).await?;
    tx.commit().await
}

/// The careful path: each submission in its own savepoint, so one failure fails alone, and an
/// idempotency key taken by an earlier request answers with that request's response.
async fn commit_one_by_one(
    pool: &SqlitePool,
    batch: &[WriteJob],
) -> Result<Vec<Result<InsertOutcome, StoreError>>, sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    for job in batch {
        let mut savepoint = (&mut tx).begin().await?;
        match insert_inbox_rows(&mut savepoint, &[job]).await {
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

/// Moves the oldest inbox rows (at most `limit`) into the indexed tables, in one transaction.
/// Returns how many it moved.
async fn index_chunk(pool: &SqlitePool, limit: usize) -> Result<usize, sqlx::Error> {
    // A read first: an empty inbox costs no write lock.
    let pending: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM intake_inbox)")
        .fetch_one(pool)
        .await?;
    if !pending {
        return Ok(0);
    }
    let mut conn = pool.acquire().await?;
    move_chunk(&mut conn, limit).await
}

async fn move_chunk(conn: &mut SqliteConnection, limit: usize) -> Result<usize, sqlx::Error> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let rows: Vec<(i64, String)> =
        sqlx::query_as("SELECT seq, payload FROM intake_inbox ORDER BY seq LIMIT ?")
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await?;
    let Some(last) = rows.last().map(|(seq, _)| *seq) else {
        // Now, not when the connection is next used: the write lock must not outlive this.
        tx.rollback().await?;
        return Ok(0);
    };
    let submissions = rows
        .iter()
        .map(|(_, payload)| serde_json::from_str::<SubmissionRow>(payload))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Decode(e.into()))?;
    insert_rows(&mut tx, &submissions.iter().collect::<Vec<_>>()).await?;
    sqlx::query("DELETE FROM intake_inbox WHERE seq <= ?")
        .bind(last)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(rows.len())
}

/// Moves every inbox row.
async fn index_all(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    while index_chunk(pool, INDEX_CHUNK).await? == INDEX_CHUNK {}
    Ok(())
}
