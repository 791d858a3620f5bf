//! Persistence behind one trait, with a SQLite and a PostgreSQL implementation and one
//! migrations folder per backend (`migrations/sqlite`, `migrations/postgres`).
//!
//! A submission (with its terms record, attachment rows and sealed contact) and its idempotency
//! key are written in one transaction, into a narrow append-only intake inbox; concurrent
//! submissions share one commit (`sqlite::inbox`, `postgres::inbox`): one fsync for many
//! requests, which is what lets a durable intake keep up. An indexer moves inbox rows into the
//! indexed tables in batches, and every read of submissions settles the inbox first. The same
//! behaviour is tested on both backends by the API suite.

mod deadline;
pub mod mail;
pub mod matching;
mod model;
mod outbox;
mod postgres;
mod shared;
mod sqlite;
mod types;

use crate::domain::Role;
use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::outbox::{EventMessages, NewMessage};
pub use deadline::DeadlineStore;
pub use mail::{MailPreferences, MailStore, ReplyOutcome, ReplyRow, SubscriptionMode};
pub use model::*;
pub use outbox::{DeadMessage, Failure, OutboxStore, OutboxSummary};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// How long an idempotency key's first response is kept and replayed.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("the database did not answer within {0:?}")]
    Timeout(std::time::Duration),
}

/// Turns a unique-constraint violation into [`StoreError::Conflict`].
pub(crate) fn conflict_as(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match error.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(error),
    }
}

/// Writing submissions and reading them back.
#[async_trait]
pub trait IntakeStore {
    async fn migrate(&self) -> Result<(), StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    async fn insert_submission(
        &self,
        row: SubmissionRow,
        idempotency: Option<IdempotencyRecord>,
        outbox: Vec<NewMessage>,
    ) -> Result<InsertOutcome, StoreError>;
    async fn idempotent_response(
        &self,
        key_hash: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<StoredResponse>, StoreError>;
    /// Waits until every submission acknowledged so far has left the durable intake inbox for
    /// the indexed tables. The store's own reads of submissions (the queue, search, counts,
    /// privacy, withdrawal, the orphan sweeper) already do this first; it is public for callers
    /// that read the database by other means (tools, tests).
    async fn settle(&self) -> Result<(), StoreError>;
    async fn submission(&self, id: Uuid) -> Result<Option<SubmissionRow>, StoreError>;
    /// Which of `keys` an attachment row still references.
    async fn referenced_objects(&self, keys: &[String]) -> Result<HashSet<String>, StoreError>;
    async fn prune_idempotency_keys(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Keeps the query planner's statistics fresh enough to choose the right index.
    async fn refresh_planner_statistics(&self) -> Result<(), StoreError>;
    async fn table_counts(&self) -> Result<TableCounts, StoreError>;
    /// Stops background writers after the work in flight, so nothing acknowledged is lost.
    async fn close(&self);
}

/// The private queue: pages, triage state, notes, the audit log.
#[async_trait]
pub trait TriageStore {
    /// Newest first, after `cursor`, at most `limit` items.
    async fn queue_page(
        &self,
        filter: &QueueFilter,
        cursor: Option<QueueCursor>,
        limit: u32,
    ) -> Result<Vec<QueueItem>, StoreError>;
    /// Oldest first from just after `cursor`, at most `limit` items, returned newest first:
    /// the page before a page, and the previous submission of a view.
    async fn queue_page_newer(
        &self,
        filter: &QueueFilter,
        cursor: QueueCursor,
        limit: u32,
    ) -> Result<Vec<QueueItem>, StoreError>;
    /// The browsers, versions, labels and assignees among the newest [`FACET_SAMPLE`]
    /// submissions received since `since`, each with its count, most frequent first (at most
    /// `limit` of each): a bounded read however large the table. `scope` says which.
    async fn facets(
        &self,
        since: DateTime<Utc>,
        limit: u32,
        scope: FacetScope,
    ) -> Result<Facets, StoreError>;
    /// When the submission's contact details were erased, if they were.
    async fn contact_erased_at(&self, id: Uuid) -> Result<Option<DateTime<Utc>>, StoreError>;
    /// The names of the staff accounts, in order: who a submission can be assigned to.
    async fn staff_names(&self) -> Result<Vec<String>, StoreError>;
    /// Submissions per status among those the filter (but its status) matches.
    async fn status_counts(&self, filter: &QueueFilter) -> Result<Vec<(String, i64)>, StoreError>;
    /// Applies a patch to every one of `ids` (repeats ignored) and writes one audit row per
    /// submission, copied from `audit`, and the messages `notify` produces for each, in one
    /// transaction: either all of them change or, when the change is refused, none does and
    /// nothing is audited or sent.
    async fn apply_triage(
        &self,
        ids: &[Uuid],
        patch: &TriagePatch,
        audit: &AuditEntry,
        notify: &dyn EventMessages,
    ) -> Result<Result<(), TriageRefusal>, StoreError>;
    async fn insert_note(&self, note: &NoteRow) -> Result<(), StoreError>;
    async fn notes(&self, submission: Uuid) -> Result<Vec<NoteRow>, StoreError>;
    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;
    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
}

/// Likely duplicates: the same words (a fingerprint of the normalised text), or similar text
/// found through the full-text index.
#[async_trait]
pub trait DuplicatesStore {
    /// How many submissions share each of these fingerprints (those shared by one only are left
    /// out).
    async fn fingerprint_counts(
        &self,
        fingerprints: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError>;
    /// Other submissions with the same fingerprint, newest first.
    async fn likely_duplicates(
        &self,
        submission: Uuid,
        fingerprint: &str,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError>;
    /// Other submissions received in `[from, to)`, spam left out, whose summary or message
    /// has a word starting with one of `terms` (plain words, searched as prefixes through the
    /// full-text index), best ranked first: FTS5's `bm25` on SQLite, `ts_rank` on PostgreSQL.
    async fn similar_text(
        &self,
        submission: Uuid,
        terms: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TextMatch>, StoreError>;
}

/// Counts for the trends page and `GET /api/v1/internal/stats`.
#[async_trait]
pub trait StatsStore {
    /// At most [`MAX_STATS_ROWS`] groups, in the order of their keys.
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError>;
    /// Folds the kept counts of hours and days before the last full one into one row per
    /// group (PostgreSQL spreads a group's count over slots written by different connections,
    /// and keeps rows at zero; SQLite has neither), so that reading a range reads one row a
    /// group. Returns how many rows it folded or removed.
    async fn fold_kept_counts(&self) -> Result<u64, StoreError>;
}

/// Each staff member's own queue: when they look at it, and their saved views.
#[async_trait]
pub trait PersonalQueueStore {
    /// The user's saved views, `(name, query string)`, by name.
    async fn saved_views(&self, user: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Saves (or replaces) a named view.
    async fn save_view(&self, user: &str, name: &str, query: &str) -> Result<(), StoreError>;
    /// Forgets a named view; false if there was none.
    async fn delete_view(&self, user: &str, name: &str) -> Result<bool, StoreError>;
    /// Records a look at the queue at `now` and returns the end of the user's previous visit
    /// (a visit ends after `gap` without a look); `None` on a first visit. Writes at most once
    /// a minute per user.
    async fn record_queue_visit(
        &self,
        user: &str,
        now: DateTime<Utc>,
        gap: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
}

/// The kept times of a staff member's visits: the end of the previous one, and the latest look.
pub type VisitTimes = (Option<DateTime<Utc>>, DateTime<Utc>);

/// What [`PersonalQueueStore::record_queue_visit`] decides from the kept times: the times to keep and
/// the previous visit's end, or `None` when nothing needs writing.
pub fn next_visit(
    kept: Option<VisitTimes>,
    now: DateTime<Utc>,
    gap: chrono::Duration,
) -> (Option<VisitTimes>, Option<DateTime<Utc>>) {
    match kept {
        None => (Some((None, now)), None),
        Some((_, current)) if now - current > gap => (Some((Some(current), now)), Some(current)),
        Some((previous, current)) if now - current > chrono::Duration::minutes(1) => {
            (Some((previous, now)), previous)
        }
        Some((previous, _)) => (None, previous),
    }
}

/// How many of the newest submissions the filters' choices are drawn from (written as a literal
/// into each backend's queries).
pub const FACET_SAMPLE: u32 = 5_000;

/// Most groups one stats query returns.
pub const MAX_STATS_ROWS: u32 = 10_000;

/// Staff accounts, sessions and API tokens (secrets are stored as hashes only).
#[async_trait]
pub trait StaffStore {
    async fn count_staff(&self) -> Result<i64, StoreError>;
    async fn insert_staff(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<(), StoreError>;
    async fn staff(&self, name: &str) -> Result<Option<StaffRecord>, StoreError>;
    /// Replaces a password hash and ends the user's sessions; false if there is no such user.
    async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError>;
    async fn insert_session(
        &self,
        token_hash: &str,
        user_name: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    async fn insert_token(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
    ) -> Result<(), StoreError>;
    /// The token's name and role, unless it is unknown or revoked.
    async fn token(&self, token_hash: &str) -> Result<Option<(String, Role)>, StoreError>;
    async fn revoke_token(&self, name: &str) -> Result<bool, StoreError>;
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
}

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

/// Everything the service keeps in its database.
pub trait Store:
    IntakeStore
    + TriageStore
    + DuplicatesStore
    + StatsStore
    + PersonalQueueStore
    + StaffStore
    + PrivacyStore
    + OutboxStore
    + MailStore
    + Send
    + Sync
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: IntakeStore
        + TriageStore
        + DuplicatesStore
        + StatsStore
        + PersonalQueueStore
        + StaffStore
        + PrivacyStore
        + OutboxStore
        + MailStore
        + Send
        + Sync
        + std::fmt::Debug
{
}

/// Tables in the order their counts are reported.
pub const TABLES: [&str; 5] = [
    "submissions",
    "terms_acceptances",
    "attachments",
    "contacts",
    "idempotency_keys",
];

/// Page sizes the queue accepts.
pub const MAX_PAGE: u32 = 200;

/// Opens the database a URL names: `sqlite://…` or `postgres://…`.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        anyhow::bail!("unsupported database URL: use sqlite://… or postgres://…")
    }
}

/// Quotes each word of a search for SQLite FTS5, so user input is never FTS syntax.
pub(crate) fn fts5_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_ends_after_the_gap() {
        let t0 = Utc::now();
        let gap = chrono::Duration::minutes(30);
        let later = |m: i64| t0 + chrono::Duration::minutes(m);
        assert_eq!(next_visit(None, t0, gap), (Some((None, t0)), None));
        assert_eq!(
            next_visit(Some((None, t0)), later(0), gap),
            (None, None),
            "no write within a minute"
        );
        assert_eq!(
            next_visit(Some((None, t0)), later(5), gap),
            (Some((None, later(5))), None)
        );
        assert_eq!(
            next_visit(Some((None, t0)), later(40), gap),
            (Some((Some(t0), later(40))), Some(t0))
        );
    }
}
