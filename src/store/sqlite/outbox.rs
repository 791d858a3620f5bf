//! SQLite: the outbox. Writes go through the one writer connection (`writer_pool`), so a claim
//! is one `UPDATE … RETURNING` that no other worker can interleave with; several processes on
//! one file serialise on SQLite's write lock.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::SqliteStore;
use crate::domain::outbox::{Destination, Event, EventMessages, Message, NewMessage};
use crate::store::mail::OutboxEntry;
use crate::store::outbox::OutboxColumns;
use crate::store::{DeadMessage, Failure, OutboxStore, OutboxSummary, StoreError};

/// Writes `messages` (due at once) inside the caller's transaction: one statement, none when
/// there is nothing to write.
pub async fn insert_outbox_messages(
    conn: &mut SqliteConnection,
    messages: &[NewMessage],
) -> Result<(), sqlx::Error> {
    insert_columns(conn, &OutboxColumns::of_messages(messages)).await
}

/// [`insert_outbox_messages`] for the mail store's entries (the outbox's columns).
pub(crate) async fn insert_outbox_entries(
    conn: &mut SqliteConnection,
    entries: &[OutboxEntry],
) -> Result<(), sqlx::Error> {
    insert_columns(conn, &OutboxColumns::of_entries(entries)).await
}

async fn insert_columns(
    conn: &mut SqliteConnection,
    rows: &[OutboxColumns<'_>],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT INTO outbox (event, submission_id, destination, payload, next_attempt_at, \
         created_at) ",
    );
    qb.push_values(rows, |mut b, c| {
        b.push_bind(c.event.to_owned())
            .push_bind(c.submission.map(|id| id.to_string()))
            .push_bind(c.destination.clone())
            .push_bind(c.payload.to_string())
            .push_bind(now)
            .push_bind(now);
    });
    qb.build().execute(conn).await?;
    Ok(())
}

/// Deletes every outbox row of `ids_json` (a JSON array of submission ids), inside the
/// caller's transaction: what an erased submission leaves nowhere.
pub(super) async fn purge_outbox(
    conn: &mut SqliteConnection,
    ids_json: &str,
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM outbox WHERE submission_id IN (SELECT value FROM json_each(?))")
            .bind(ids_json)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// The messages a triage change produces for the rows it locked (`id`, `kind`).
pub(super) fn triage_messages(
    rows: &[SqliteRow],
    notify: &dyn EventMessages,
) -> Result<Vec<NewMessage>, sqlx::Error> {
    let mut messages = Vec::new();
    for row in rows {
        let kind: String = row.try_get("kind")?;
        messages.extend(notify.messages(super::intake::uuid_column(row, "id")?, &kind));
    }
    Ok(messages)
}

fn decode_error(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown outbox {what}").into())
}

fn message_from_row(row: &SqliteRow) -> Result<Message, sqlx::Error> {
    let event: String = row.try_get("event")?;
    let destination: String = row.try_get("destination")?;
    let submission: Option<String> = row.try_get("submission_id")?;
    let payload: String = row.try_get("payload")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(Message {
        id: row.try_get("id")?,
        event: Event::parse(&event).ok_or_else(|| decode_error("event"))?,
        submission: submission
            .map(|s| Uuid::parse_str(&s))
            .transpose()
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        destination: Destination::parse(&destination).ok_or_else(|| decode_error("destination"))?,
        payload: serde_json::from_str(&payload).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        attempts: u32::try_from(attempts).unwrap_or(0),
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl OutboxStore for SqliteStore {
    async fn claim_outbox(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query(
            "UPDATE outbox SET claimed_by = ?1, claimed_until = ?2 WHERE id IN ( \
               SELECT o.id FROM outbox o \
               WHERE o.state = 'pending' AND o.next_attempt_at <= ?3 \
                 AND (o.claimed_until IS NULL OR o.claimed_until < ?3) \
                 AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' \
                   AND p.submission_id = o.submission_id AND p.destination = o.destination \
                   AND p.id < o.id) \
               ORDER BY o.id LIMIT ?4) \
             RETURNING id, event, submission_id, destination, payload, attempts, created_at",
        )
        .bind(worker)
        .bind(until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.writer_pool)
        .await?;
        let mut messages = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    async fn outbox_delivered(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM outbox WHERE id = ?")
            .bind(id)
            .execute(&self.writer_pool)
            .await?;
        Ok(())
    }

    async fn outbox_failed(
        &self,
        id: i64,
        worker: &str,
        failure: &Failure,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, claimed_by = NULL, \
             claimed_until = NULL, state = ?, next_attempt_at = ? \
             WHERE id = ? AND claimed_by = ? AND state = 'pending'",
        )
        .bind(&failure.error)
        .bind(if failure.retry_at.is_some() {
            "pending"
        } else {
            "dead"
        })
        .bind(failure.retry_at.unwrap_or(now))
        .bind(id)
        .bind(worker)
        .execute(&self.writer_pool)
        .await?;
        Ok(())
    }

    async fn release_outbox(&self, worker: &str, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let ids_json = serde_json::to_string(ids).expect("numbers serialise");
        sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
             WHERE claimed_by = ? AND id IN (SELECT value FROM json_each(?))",
        )
        .bind(worker)
        .bind(ids_json)
        .execute(&self.writer_pool)
        .await?;
        Ok(())
    }

    async fn outbox_summary(&self) -> Result<OutboxSummary, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM outbox WHERE state = 'pending'), \
                    (SELECT COUNT(*) FROM outbox WHERE state = 'dead'), \
                    (SELECT MIN(created_at) FROM outbox WHERE state = 'pending')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(OutboxSummary {
            pending: row.try_get(0)?,
            dead: row.try_get(1)?,
            oldest_pending_at: row.try_get(2)?,
        })
    }

    async fn dead_messages(&self, limit: u32) -> Result<Vec<DeadMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, event, destination, submission_id, attempts, last_error, created_at, \
             next_attempt_at FROM outbox WHERE state = 'dead' \
             ORDER BY next_attempt_at DESC, id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let submission: Option<String> = row.try_get("submission_id")?;
                Ok(DeadMessage {
                    id: row.try_get("id")?,
                    event: row.try_get("event")?,
                    destination: row.try_get("destination")?,
                    submission: submission.and_then(|s| Uuid::parse_str(&s).ok()),
                    attempts: row.try_get("attempts")?,
                    last_error: row.try_get("last_error")?,
                    created_at: row.try_get("created_at")?,
                    failed_at: row.try_get("next_attempt_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn retry_message(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, \
             claimed_by = NULL, claimed_until = NULL WHERE id = ? AND state = 'dead'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.writer_pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn discard_message(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM outbox WHERE id = ? AND state = 'dead'")
            .bind(id)
            .execute(&self.writer_pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
