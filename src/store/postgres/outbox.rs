//! PostgreSQL: the outbox, drained by any number of replicas. A claim locks due rows with
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers take different messages without waiting for
//! one another, and stamps them with the worker and a deadline, so a worker that dies leaves
//! its messages to be claimed again once the deadline passes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgRow, Postgres};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::PostgresStore;
use crate::domain::outbox::{Destination, Event, EventMessages, Message, NewMessage};
use crate::store::mail::OutboxEntry;
use crate::store::outbox::OutboxColumns;
use crate::store::{DeadMessage, Failure, OutboxStore, OutboxSummary, StoreError};

/// Writes `messages` (due at once) inside the caller's transaction: one statement, none when
/// there is nothing to write.
pub async fn insert_outbox_messages(
    conn: &mut PgConnection,
    messages: &[NewMessage],
) -> Result<(), sqlx::Error> {
    insert_columns(conn, &OutboxColumns::of_messages(messages)).await
}

/// [`insert_outbox_messages`] for the mail store's entries (the outbox's columns).
pub(crate) async fn insert_outbox_entries(
    conn: &mut PgConnection,
    entries: &[OutboxEntry],
) -> Result<(), sqlx::Error> {
    insert_columns(conn, &OutboxColumns::of_entries(entries)).await
}

async fn insert_columns(
    conn: &mut PgConnection,
    rows: &[OutboxColumns<'_>],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut qb = QueryBuilder::<Postgres>::new(
        "INSERT INTO outbox (event, submission_id, destination, payload, next_attempt_at, \
         created_at) ",
    );
    qb.push_values(rows, |mut b, c| {
        b.push_bind(c.event.to_owned())
            .push_bind(c.submission)
            .push_bind(c.destination.clone())
            .push_bind(sqlx::types::Json(c.payload))
            .push_bind(now)
            .push_bind(now);
    });
    qb.build().execute(conn).await?;
    Ok(())
}

/// Deletes every outbox row of the submissions `ids` inside the caller's transaction: what an
/// erased submission leaves nowhere.
pub(super) async fn purge_outbox(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM outbox WHERE submission_id = ANY($1)")
            .bind(ids)
            .execute(conn)
            .await?
            .rows_affected(),
    )
}

/// The messages a triage change produces for the rows it locked (`id`, `kind`).
pub(super) fn triage_messages(
    rows: &[PgRow],
    notify: &dyn EventMessages,
) -> Result<Vec<NewMessage>, sqlx::Error> {
    let mut messages = Vec::new();
    for row in rows {
        let kind: String = row.try_get("kind")?;
        messages.extend(notify.messages(row.try_get("id")?, &kind));
    }
    Ok(messages)
}

fn decode_error(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("unknown outbox {what}").into())
}

fn message_from_row(row: &PgRow) -> Result<Message, sqlx::Error> {
    let event: String = row.try_get("event")?;
    let destination: String = row.try_get("destination")?;
    let payload: sqlx::types::Json<serde_json::Value> = row.try_get("payload")?;
    let attempts: i32 = row.try_get("attempts")?;
    Ok(Message {
        id: row.try_get("id")?,
        event: Event::parse(&event).ok_or_else(|| decode_error("event"))?,
        submission: row.try_get("submission_id")?,
        destination: Destination::parse(&destination).ok_or_else(|| decode_error("destination"))?,
        payload: payload.0,
        attempts: u32::try_from(attempts).unwrap_or(0),
        created_at: row.try_get("created_at")?,
    })
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn claim_outbox(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        // An older pending message of the same submission and destination holds a newer one
        // back, claimed or not: that is what keeps delivery in order across replicas.
        // The locking CTE is evaluated once (never inlined), so exactly the rows it locked
        // are claimed.
        let rows = sqlx::query(
            "WITH due AS ( \
               SELECT o.id FROM outbox o \
               WHERE o.state = 'pending' AND o.next_attempt_at <= $3 \
                 AND (o.claimed_until IS NULL OR o.claimed_until < $3) \
                 AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.state = 'pending' \
                   AND p.submission_id = o.submission_id AND p.destination = o.destination \
                   AND p.id < o.id) \
               ORDER BY o.id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             UPDATE outbox SET claimed_by = $1, claimed_until = $2 FROM due \
             WHERE outbox.id = due.id \
             RETURNING outbox.id, event, submission_id, destination, payload, attempts, created_at",
        )
        .bind(worker)
        .bind(until)
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut messages = rows
            .iter()
            .map(message_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    async fn outbox_delivered(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM outbox WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
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
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, claimed_by = NULL, \
             claimed_until = NULL, state = $2, next_attempt_at = $3 \
             WHERE id = $4 AND claimed_by = $5 AND state = 'pending'",
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
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn release_outbox(&self, worker: &str, ids: &[i64]) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL \
             WHERE claimed_by = $1 AND id = ANY($2)",
        )
        .bind(worker)
        .bind(ids)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn outbox_summary(&self) -> Result<OutboxSummary, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) FILTER (WHERE state = 'pending'), \
                    COUNT(*) FILTER (WHERE state = 'dead'), \
                    MIN(created_at) FILTER (WHERE state = 'pending') FROM outbox",
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
             ORDER BY next_attempt_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DeadMessage {
                    id: row.try_get("id")?,
                    event: row.try_get("event")?,
                    destination: row.try_get("destination")?,
                    submission: row.try_get("submission_id")?,
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
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, \
             claimed_by = NULL, claimed_until = NULL WHERE id = $2 AND state = 'dead'",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn discard_message(&self, id: i64) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM outbox WHERE id = $1 AND state = 'dead'")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
