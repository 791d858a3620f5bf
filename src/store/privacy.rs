//! The privacy trait group: review and erasure of a person's data, re-sealing contacts,
//! retention, the object-deletion queue and the leases that keep those jobs single.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AuditEntry, ContactRow, EraseScope, Erased, StoreError};
use crate::domain::outbox::NewMessage;

/// Review and removal of a person's data, retention, and the object-deletion queue.
#[async_trait]
pub trait PrivacyStore {
    /// Submissions whose contact details carry this blind index, newest first.
    async fn submissions_for(&self, blind_index: &str) -> Result<Vec<Uuid>, StoreError>;
    /// Erases `ids` in one transaction with its audit entry (whose detail gets the counts
    /// appended); objects of removed submissions are queued in `pending_deletions` in that
    /// same transaction. Every whole-word occurrence of `redact` (the person's name and
    /// address) is replaced in the notes and texts of `ids`, and addresses among them in any
    /// staff note; contact views of `ids` in the audit log are unlinked from the submission.
    /// Erasing everything also deletes their outbox messages, then writes `outbox` (a
    /// withdrawal's own event), in the same transaction.
    async fn erase(
        &self,
        ids: &[Uuid],
        scope: EraseScope,
        redact: &[String],
        audit: &AuditEntry,
        outbox: &[NewMessage],
    ) -> Result<Erased, StoreError>;
    /// Leaves no physical trace of what was erased: on SQLite merges the full-text index and
    /// truncates the WAL (with `secure_delete` on, freed pages are already zeroed); on
    /// PostgreSQL vacuums the tables erasure touches.
    async fn scrub_erased(&self) -> Result<(), StoreError>;
    /// Who viewed or exported the contact details of `ids`, and when, oldest first.
    async fn contact_access(&self, ids: &[Uuid]) -> Result<Vec<AuditEntry>, StoreError>;
    /// Contacts sealed under another key than `key_id`, by submission id after `after`.
    async fn contacts_to_reseal(
        &self,
        key_id: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(Uuid, ContactRow)>, StoreError>;
    /// Replaces a contact's ciphertext and index, unless it changed since it was read (its key
    /// id is no longer `old_key_id`); true if replaced.
    async fn reseal_contact(
        &self,
        submission_id: Uuid,
        old_key_id: &str,
        sealed: &ContactRow,
    ) -> Result<bool, StoreError>;
    /// The audit entry of the erasure with this receipt.
    async fn erasure_record(&self, receipt: &str) -> Result<Option<AuditEntry>, StoreError>;
    /// Submissions received before `before` (retention), oldest first.
    async fn received_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Submissions received before `before` that still have contact details.
    async fn contacts_received_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError>;
    async fn pending_deletions(&self, limit: u32) -> Result<Vec<String>, StoreError>;
    async fn deletions_done(&self, keys: &[String]) -> Result<(), StoreError>;
    /// Takes or renews the named lease for `holder` unless another holder's is still valid.
    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Gives the lease up, if `holder` holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}
