//! The outbox's side of the store: claiming due messages for a worker, recording each outcome,
//! and what admins see and do (the dead messages, retry, discard). Messages are written by the
//! changes that cause them (`insert_outbox_messages` of each backend, in their transactions).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;
use crate::domain::outbox::Message;

/// What the admin view shows of the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OutboxSummary {
    /// Messages waiting for (another) delivery attempt.
    pub pending: i64,
    /// Messages that failed for good and wait for an admin.
    pub dead: i64,
    /// When the oldest pending message was written.
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// A message that will not be tried again unless an admin retries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DeadMessage {
    pub id: i64,
    pub event: String,
    pub destination: String,
    pub submission: Option<Uuid>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the last attempt failed.
    pub failed_at: DateTime<Utc>,
}

/// A failed attempt: what went wrong and when to try again (`None`: never, the message is dead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub error: String,
    pub retry_at: Option<DateTime<Utc>>,
}

/// Draining the outbox, from any number of workers (replicas) at once.
#[async_trait]
pub trait OutboxStore {
    /// Claims at most `limit` pending messages due at `now` for `worker` until `until`: none
    /// claimed by a live claim of another worker, and none while an older message for the same
    /// destination and submission is still pending (delivery in order). Oldest first.
    async fn claim_outbox(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
    /// The message was delivered: it is deleted.
    async fn outbox_delivered(&self, id: i64) -> Result<(), StoreError>;
    /// The attempt failed: attempts + 1, the error kept, the claim released, and the message
    /// due again at `failure.retry_at` or dead. Only while `worker` still holds the claim.
    async fn outbox_failed(
        &self,
        id: i64,
        worker: &str,
        failure: &Failure,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Gives up the claims `worker` holds on `ids` (shutting down), leaving them due at once.
    async fn release_outbox(&self, worker: &str, ids: &[i64]) -> Result<(), StoreError>;
    async fn outbox_summary(&self) -> Result<OutboxSummary, StoreError>;
    /// Dead messages, most recently failed first.
    async fn dead_messages(&self, limit: u32) -> Result<Vec<DeadMessage>, StoreError>;
    /// A dead message becomes pending, due at `now`, with its attempts reset; false if there
    /// is no such dead message.
    async fn retry_message(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;
    /// Deletes a dead message; false if there is no such dead message.
    async fn discard_message(&self, id: i64) -> Result<bool, StoreError>;
}

/// One outbox row to write: the columns, from a [`NewMessage`] or a mail
/// [`OutboxEntry`](crate::store::mail::OutboxEntry). Both backends write these.
pub(crate) struct OutboxColumns<'a> {
    pub event: &'a str,
    pub submission: Option<uuid::Uuid>,
    pub destination: String,
    pub payload: &'a serde_json::Value,
}

impl<'a> OutboxColumns<'a> {
    pub fn of_messages(messages: &'a [crate::domain::outbox::NewMessage]) -> Vec<Self> {
        messages
            .iter()
            .map(|m| Self {
                event: m.event.as_str(),
                submission: m.submission,
                destination: m.destination.to_column(),
                payload: &m.payload,
            })
            .collect()
    }

    pub fn of_entries(entries: &'a [crate::store::mail::OutboxEntry]) -> Vec<Self> {
        entries
            .iter()
            .map(|e| Self {
                event: &e.event,
                submission: e.submission,
                destination: e.destination.clone(),
                payload: &e.payload,
            })
            .collect()
    }
}
