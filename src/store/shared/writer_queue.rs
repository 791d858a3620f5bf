//! The queue in front of a backend's intake writer task(s): what a request hands over, and how
//! it waits for the answer. Both backends acknowledge a submission only once their writer has
//! committed it, so the request side is the same; only the writers differ.

use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

use crate::domain::outbox::NewMessage;
use crate::store::{IdempotencyRecord, InsertOutcome, StoreError, SubmissionRow};

/// One submission waiting for its writer.
pub(in crate::store) struct WriteJob {
    pub row: SubmissionRow,
    pub idempotency: Option<IdempotencyRecord>,
    /// The submission's notifications, written in the same transaction as its inbox row.
    pub outbox: Vec<NewMessage>,
    pub reply: oneshot::Sender<Result<InsertOutcome, StoreError>>,
}

/// The sending side; `None` once the store is closed.
pub(in crate::store) type WriterQueue = Mutex<Option<mpsc::Sender<WriteJob>>>;

/// Queues a submission for the writer and waits until it is committed (or refused).
pub(in crate::store) async fn write_through(
    queue: &WriterQueue,
    row: SubmissionRow,
    idempotency: Option<IdempotencyRecord>,
    outbox: Vec<NewMessage>,
) -> Result<InsertOutcome, StoreError> {
    let queue = queue
        .lock()
        .expect("queue lock")
        .clone()
        .ok_or(StoreError::WriterGone)?;
    let (reply, outcome) = oneshot::channel();
    queue
        .send(WriteJob {
            row,
            idempotency,
            outbox,
            reply,
        })
        .await
        .map_err(|_| StoreError::WriterGone)?;
    outcome.await.map_err(|_| StoreError::WriterGone)?
}
