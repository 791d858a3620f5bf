//! A deadline on every database operation: [`DeadlineStore`] wraps a [`Store`] and turns an
//! operation that has not finished in time into [`StoreError::Timeout`] (503 at the boundary).
//!
//! A database that accepts connections and never answers (a partition, a frozen server) would
//! otherwise hold each request until the client gives up. Only migrations, shutdown, the
//! planner's statistics and the scrub after an erasure (vacuum, checkpoint: housekeeping work
//! that may legitimately take long) are left unbounded.
//! Dropping an operation mid-way rolls its transaction back, except a commit already sent:
//! for that one the outcome is unknown, which is why intake leaves a timed-out submission's
//! objects to the orphan sweeper instead of deleting what a row may reference.

use crate::domain::Role;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;
use crate::domain::outbox::{EventMessages, Message, NewMessage};

/// A [`Store`] whose operations each finish within `limit` or fail with a timeout.
#[derive(Debug)]
pub struct DeadlineStore {
    inner: Arc<dyn Store>,
    limit: Duration,
}

impl DeadlineStore {
    pub fn new(inner: Arc<dyn Store>, limit: Duration) -> Self {
        Self { inner, limit }
    }

    async fn bounded<T>(
        &self,
        operation: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::time::timeout(self.limit, operation)
            .await
            .unwrap_or(Err(StoreError::Timeout(self.limit)))
    }
}

/// Implements a store trait for [`DeadlineStore`]: `bounded` methods under the deadline,
/// `unbounded` ones passed through.
macro_rules! with_deadlines {
    (impl $trait:ident {
        $( bounded fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*
        $( unbounded fn $uname:ident(&self) $(-> $uret:ty)?; )*
    }) => {
        #[async_trait]
        impl $trait for DeadlineStore {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    self.bounded(self.inner.$name($($arg),*)).await
                }
            )*
            $(
                async fn $uname(&self) $(-> $uret)? {
                    self.inner.$uname().await
                }
            )*
        }
    };
}

with_deadlines! {
    impl IntakeStore {
        bounded fn ping(&self) -> Result<(), StoreError>;
        bounded fn insert_submission(&self, row: SubmissionRow, idempotency: Option<IdempotencyRecord>, outbox: Vec<NewMessage>) -> Result<InsertOutcome, StoreError>;
        bounded fn idempotent_response(&self, key_hash: &str, not_before: DateTime<Utc>) -> Result<Option<StoredResponse>, StoreError>;
        bounded fn settle(&self) -> Result<(), StoreError>;
        bounded fn submission(&self, id: Uuid) -> Result<Option<SubmissionRow>, StoreError>;
        bounded fn referenced_objects(&self, keys: &[String]) -> Result<HashSet<String>, StoreError>;
        bounded fn prune_idempotency_keys(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError>;
        bounded fn table_counts(&self) -> Result<TableCounts, StoreError>;
        unbounded fn migrate(&self) -> Result<(), StoreError>;
        unbounded fn refresh_planner_statistics(&self) -> Result<(), StoreError>;
        unbounded fn close(&self);
    }
}

with_deadlines! {
    impl TriageStore {
        bounded fn queue_page(&self, filter: &QueueFilter, cursor: Option<QueueCursor>, limit: u32) -> Result<Vec<QueueItem>, StoreError>;
        bounded fn queue_page_newer(&self, filter: &QueueFilter, cursor: QueueCursor, limit: u32) -> Result<Vec<QueueItem>, StoreError>;
        bounded fn facets(&self, since: DateTime<Utc>, limit: u32, scope: FacetScope) -> Result<Facets, StoreError>;
        bounded fn contact_erased_at(&self, id: Uuid) -> Result<Option<DateTime<Utc>>, StoreError>;
        bounded fn staff_names(&self) -> Result<Vec<String>, StoreError>;
        bounded fn status_counts(&self, filter: &QueueFilter) -> Result<Vec<(String, i64)>, StoreError>;
        bounded fn apply_triage(&self, ids: &[Uuid], patch: &TriagePatch, audit: &AuditEntry, notify: &dyn EventMessages) -> Result<Result<(), TriageRefusal>, StoreError>;
        bounded fn insert_note(&self, note: &NoteRow) -> Result<(), StoreError>;
        bounded fn notes(&self, submission: Uuid) -> Result<Vec<NoteRow>, StoreError>;
        bounded fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
        bounded fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
    }
}

with_deadlines! {
    impl DuplicatesStore {
        bounded fn fingerprint_counts(&self, fingerprints: &[String]) -> Result<Vec<(String, i64)>, StoreError>;
        bounded fn likely_duplicates(&self, submission: Uuid, fingerprint: &str, limit: u32) -> Result<Vec<Uuid>, StoreError>;
        bounded fn similar_text(&self, submission: Uuid, terms: &[String], from: DateTime<Utc>, to: DateTime<Utc>, limit: u32) -> Result<Vec<TextMatch>, StoreError>;
    }
}

with_deadlines! {
    impl StatsStore {
        bounded fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError>;
        unbounded fn fold_kept_counts(&self) -> Result<u64, StoreError>;
    }
}

with_deadlines! {
    impl PersonalQueueStore {
        bounded fn saved_views(&self, user: &str) -> Result<Vec<(String, String)>, StoreError>;
        bounded fn save_view(&self, user: &str, name: &str, query: &str) -> Result<(), StoreError>;
        bounded fn delete_view(&self, user: &str, name: &str) -> Result<bool, StoreError>;
        bounded fn record_queue_visit(&self, user: &str, now: DateTime<Utc>, gap: chrono::Duration) -> Result<Option<DateTime<Utc>>, StoreError>;
    }
}

with_deadlines! {
    impl StaffStore {
        bounded fn count_staff(&self) -> Result<i64, StoreError>;
        bounded fn insert_staff(&self, name: &str, role: Role, password_hash: &str) -> Result<(), StoreError>;
        bounded fn staff(&self, name: &str) -> Result<Option<StaffRecord>, StoreError>;
        bounded fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError>;
        bounded fn insert_session(&self, token_hash: &str, user_name: &str, csrf_token: &str, expires_at: DateTime<Utc>) -> Result<(), StoreError>;
        bounded fn session(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<SessionRecord>, StoreError>;
        bounded fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
        bounded fn insert_token(&self, name: &str, role: Role, token_hash: &str) -> Result<(), StoreError>;
        bounded fn token(&self, token_hash: &str) -> Result<Option<(String, Role)>, StoreError>;
        bounded fn revoke_token(&self, name: &str) -> Result<bool, StoreError>;
        bounded fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
    }
}

with_deadlines! {
    impl PrivacyStore {
        bounded fn submissions_for(&self, blind_index: &str) -> Result<Vec<Uuid>, StoreError>;
        bounded fn erase(&self, ids: &[Uuid], scope: EraseScope, redact: &[String], audit: &AuditEntry, outbox: &[NewMessage]) -> Result<Erased, StoreError>;
        bounded fn contact_access(&self, ids: &[Uuid]) -> Result<Vec<AuditEntry>, StoreError>;
        bounded fn contacts_to_reseal(&self, key_id: &str, after: Option<Uuid>, limit: u32) -> Result<Vec<(Uuid, ContactRow)>, StoreError>;
        bounded fn reseal_contact(&self, submission_id: Uuid, old_key_id: &str, sealed: &ContactRow) -> Result<bool, StoreError>;
        bounded fn erasure_record(&self, receipt: &str) -> Result<Option<AuditEntry>, StoreError>;
        bounded fn received_before(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, StoreError>;
        bounded fn contacts_received_before(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<Uuid>, StoreError>;
        bounded fn pending_deletions(&self, limit: u32) -> Result<Vec<String>, StoreError>;
        bounded fn deletions_done(&self, keys: &[String]) -> Result<(), StoreError>;
        bounded fn try_lease(&self, name: &str, holder: &str, until: DateTime<Utc>) -> Result<bool, StoreError>;
        bounded fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
        unbounded fn scrub_erased(&self) -> Result<(), StoreError>;
    }
}

with_deadlines! {
    impl OutboxStore {
        bounded fn claim_outbox(&self, worker: &str, now: DateTime<Utc>, until: DateTime<Utc>, limit: u32) -> Result<Vec<Message>, StoreError>;
        bounded fn outbox_delivered(&self, id: i64) -> Result<(), StoreError>;
        bounded fn outbox_failed(&self, id: i64, worker: &str, failure: &Failure, now: DateTime<Utc>) -> Result<(), StoreError>;
        bounded fn release_outbox(&self, worker: &str, ids: &[i64]) -> Result<(), StoreError>;
        bounded fn outbox_summary(&self) -> Result<OutboxSummary, StoreError>;
        bounded fn dead_messages(&self, limit: u32) -> Result<Vec<DeadMessage>, StoreError>;
        bounded fn retry_message(&self, id: i64, now: DateTime<Utc>) -> Result<bool, StoreError>;
        bounded fn discard_message(&self, id: i64) -> Result<bool, StoreError>;
    }
}

with_deadlines! {
    impl MailStore {
        bounded fn insert_reply(&self, reply: &mail::ReplyRow, message: &mail::OutboxEntry, audit: &AuditEntry) -> Result<mail::ReplyOutcome, StoreError>;
        bounded fn replies(&self, submission: Uuid) -> Result<Vec<mail::ReplyRow>, StoreError>;
        bounded fn reply(&self, id: Uuid) -> Result<Option<mail::ReplyRow>, StoreError>;
        bounded fn mail_preferences(&self, user: &str) -> Result<mail::MailPreferences, StoreError>;
        bounded fn set_mail_preferences(&self, user: &str, preferences: &mail::MailPreferences) -> Result<bool, StoreError>;
        bounded fn subscribers(&self, kind: &str, mode: mail::SubscriptionMode) -> Result<Vec<(String, String)>, StoreError>;
        bounded fn queue_digests(&self, due: DateTime<Utc>, now: DateTime<Utc>, message: &mail::DigestMessage) -> Result<u64, StoreError>;
        bounded fn digest_items(&self, kinds: &[String], since: DateTime<Utc>, until: DateTime<Utc>, limit: u32) -> Result<(Vec<mail::DigestItem>, i64), StoreError>;
    }
}
