//! SQLite: writing messages to the outbox inside the transaction of the change that causes
//! them. (A minimal version on the `mail` branch; the outbox engine's own replaces it.)

use chrono::Utc;
use sqlx::SqliteConnection;

use crate::store::mail::OutboxEntry;

/// Inserts `messages` as pending, due now, on the caller's transaction.
pub(crate) async fn insert_outbox_messages(
    tx: &mut SqliteConnection,
    messages: &[OutboxEntry],
) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    for message in messages {
        sqlx::query(
            "INSERT INTO outbox (event, submission_id, destination, payload, next_attempt_at, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&message.event)
        .bind(message.submission.map(|id| id.to_string()))
        .bind(&message.destination)
        .bind(message.payload.to_string())
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
