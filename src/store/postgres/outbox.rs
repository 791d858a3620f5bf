//! PostgreSQL: writing messages to the outbox inside the transaction of the change that causes
//! them. (A minimal version on the `mail` branch; the outbox engine's own replaces it.)

use chrono::Utc;
use sqlx::PgConnection;

use crate::store::mail::OutboxEntry;

/// Inserts `messages` as pending, due now, on the caller's transaction.
pub(crate) async fn insert_outbox_messages(
    tx: &mut PgConnection,
    messages: &[OutboxEntry],
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    for message in messages {
        sqlx::query(
            "INSERT INTO outbox (event, submission_id, destination, payload, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
        )
        .bind(&message.event)
        .bind(message.submission)
        .bind(&message.destination)
        .bind(message.payload.to_string())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
