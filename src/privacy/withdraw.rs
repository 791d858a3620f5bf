//! Self-service withdrawal: the submitter removes their own submission with the token from the
//! 201, without writing to anyone. The token is derived from the submission id with a server
//! key (see [`ContactVault::withdraw_token`]), so no token or hash of it is stored anywhere —
//! not even in the replayed idempotent response — and it works once: afterwards the
//! submission is gone and the answer is the same `not_found` as for an unknown id.

use chrono::Utc;
use uuid::Uuid;

use super::ContactVault;
use super::redact::contact_terms;
use super::requests::{PrivacyError, delete_pending_objects};
use crate::blobs::Blobs;
use crate::domain::outbox::{Event, Notifier};
use crate::store::{AuditEntry, EraseScope, Store};

/// The intake's 201 body with the submission's `withdraw_token` added (computed, never stored).
pub fn with_token(vault: &ContactVault, receipt: &str) -> String {
    let Ok(mut body) = serde_json::from_str::<serde_json::Value>(receipt) else {
        return receipt.to_owned();
    };
    let Some(id) = body["id"].as_str().and_then(|id| Uuid::parse_str(id).ok()) else {
        return receipt.to_owned();
    };
    body["withdraw_token"] = serde_json::Value::String(vault.withdraw_token(id));
    body.to_string()
}

/// Removes the submission (terms record, attachments and their objects, contact details) if
/// `token` is its withdrawal token; `false` for an unknown id or a wrong token alike. The
/// withdrawal is audited without the token, and the address, if any, is redacted wherever
/// staff quoted it. Its notifications (`submission.withdrawn`) are written in the same
/// transaction, in place of any the submission still had waiting.
pub async fn withdraw(
    store: &dyn Store,
    blobs: &Blobs,
    vault: &ContactVault,
    notify: &dyn Notifier,
    id: Uuid,
    token: &str,
) -> Result<bool, PrivacyError> {
    if !vault.withdraw_token_matches(id, token) {
        return Ok(false);
    }
    let Some(row) = store.submission(id).await? else {
        return Ok(false);
    };
    let terms = row
        .contact
        .and_then(|sealed| vault.open(id, &sealed.sealed).ok())
        .map(|c| contact_terms(c.name.as_deref(), c.email.as_deref()))
        .unwrap_or_default();
    let entry = AuditEntry {
        at: Utc::now(),
        actor: "submitter".to_owned(),
        action: "withdraw".to_owned(),
        submission_id: None,
        detail: None,
    };
    let nothing = serde_json::json!({});
    let messages = notify
        .for_event(Event::SubmissionWithdrawn, &nothing)
        .messages(id, row.kind.as_str());
    let erased = store
        .erase(&[id], EraseScope::Everything, &terms, &entry, &messages)
        .await?;
    if erased.submissions_removed == 0 {
        return Ok(false);
    }
    if let Err(error) = delete_pending_objects(store, blobs).await {
        tracing::warn!(error = ?error, "object deletion deferred to the housekeeping job");
    }
    if let Err(error) = store.scrub_erased().await {
        tracing::warn!(error = ?error, "scrubbing the database after a withdrawal failed");
    }
    Ok(true)
}
