//! The private queue's trait groups: pages, triage state, notes and the audit log; likely
//! duplicates; the counts of the trends page. Kept apart from `mod.rs` so the root of the
//! store holds only what ties the groups together.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    AuditEntry, FacetScope, Facets, NoteRow, QueueCursor, QueueFilter, QueueItem, StatsQuery,
    StatsRow, StoreError, TextMatch, TriagePatch, TriageRefusal,
};
use crate::domain::outbox::EventMessages;

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
/// How many of the newest submissions the filters' choices are drawn from (written as a literal
/// into each backend's queries).
pub const FACET_SAMPLE: u32 = 5_000;

/// Most groups one stats query returns.
pub const MAX_STATS_ROWS: u32 = 10_000;
