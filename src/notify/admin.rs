//! What admins see of the outbox and what they may do with a dead message: the JSON API and
//! the triage view both call these, so the two cannot disagree.

use chrono::Utc;
use serde::Serialize;

use crate::store::{DeadMessage, Store, StoreError};

/// Dead messages listed at most.
pub const DEAD_SHOWN: u32 = 200;

/// The outbox as an admin sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub pending: i64,
    pub dead: i64,
    pub oldest_pending_at: Option<chrono::DateTime<Utc>>,
    /// Seconds since the oldest pending message was written (0 when none is pending).
    pub oldest_pending_age_seconds: i64,
    /// The most recently failed dead messages first, at most [`DEAD_SHOWN`].
    pub dead_messages: Vec<DeadMessage>,
}

pub async fn overview(store: &dyn Store) -> Result<Overview, StoreError> {
    let summary = store.outbox_summary().await?;
    let dead_messages = store.dead_messages(DEAD_SHOWN).await?;
    Ok(Overview {
        pending: summary.pending,
        dead: summary.dead,
        oldest_pending_at: summary.oldest_pending_at,
        oldest_pending_age_seconds: summary
            .oldest_pending_at
            .map_or(0, |at| (Utc::now() - at).num_seconds().max(0)),
        dead_messages,
    })
}

/// Sends a dead message again, at once and with a fresh retry schedule; false if there is no
/// such dead message.
pub async fn retry(store: &dyn Store, id: i64) -> Result<bool, StoreError> {
    store.retry_message(id, Utc::now()).await
}

/// Forgets a dead message; false if there is no such dead message.
pub async fn discard(store: &dyn Store, id: i64) -> Result<bool, StoreError> {
    store.discard_message(id).await
}
