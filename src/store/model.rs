//! The rows the store reads and writes: plain data, no behaviour.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use crate::domain::TriagePatch;
use crate::domain::{Kind, MAX_LABELS, Role, Status};

/// The terms-acceptance record kept with every submission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TermsRecord {
    pub version: String,
    pub sha256: String,
    /// The entry point whose button was clicked (the submission's kind).
    pub widget: String,
    pub button: String,
    pub accepted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentRow {
    pub position: i32,
    pub object_key: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContactRow {
    pub blind_index: Option<String>,
    pub sealed: Vec<u8>,
    pub key_id: String,
}

/// A submission as stored, written by intake and read back by staff tools.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SubmissionRow {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: Kind,
    pub status: Status,
    pub summary: Option<String>,
    pub message: String,
    pub rating: Option<i16>,
    pub webapp_version: String,
    pub server_version: String,
    pub browser_brand: String,
    pub browser_version: Option<String>,
    pub screen_width: i32,
    pub screen_height: i32,
    pub page_url: String,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
    pub duplicate_of: Option<Uuid>,
    /// Normalised-text fingerprint shared by likely duplicates.
    pub fingerprint: Option<String>,
    pub terms: TermsRecord,
    pub attachments: Vec<AttachmentRow>,
    pub contact: Option<ContactRow>,
}

/// The first response to an `Idempotency-Key`, kept to answer retries.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    /// SHA-256 of the client's key: the key itself is not stored.
    pub key_hash: String,
    pub response: String,
    /// SHA-256 of the submission's content, so a key replays only the same content.
    pub content_sha256: String,
}

/// What a stored idempotency key answers.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredResponse {
    pub response: String,
    /// `None` for keys stored before content was recorded: those replay whatever comes.
    pub content_sha256: Option<String>,
}

impl StoredResponse {
    /// Whether a request with this content may be answered with the stored response.
    pub fn answers(&self, content_sha256: &str) -> bool {
        self.content_sha256
            .as_deref()
            .is_none_or(|stored| stored == content_sha256)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted,
    /// Another request with the same idempotency key committed first; what it stored.
    Replayed(StoredResponse),
}

/// Row counts per table, for tests and operators.
pub type TableCounts = Vec<(&'static str, i64)>;

/// Which submissions a queue page shows. Every field narrows; `None` means any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct QueueFilter {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub label: Option<String>,
    pub assignee: Option<String>,
    pub webapp_version: Option<String>,
    pub server_version: Option<String>,
    pub browser: Option<String>,
    pub received_from: Option<DateTime<Utc>>,
    pub received_before: Option<DateTime<Utc>>,
    /// Words that must all occur in the summary or message.
    pub text: Option<String>,
    /// Leaves out submissions whose status is `spam` (the triage view's default).
    pub exclude_spam: bool,
}

impl QueueFilter {
    /// Whether the database keeps this filter's counts per status as they change: it narrows
    /// by kind at most (its status aside, as counts are per status), so
    /// [`TriageStore::status_counts`](super::TriageStore::status_counts) reads a few kept rows
    /// instead of counting every match.
    pub fn counts_are_kept(&self) -> bool {
        let Self {
            kind: _,
            status: _,
            label,
            assignee,
            webapp_version,
            server_version,
            browser,
            received_from,
            received_before,
            text,
            exclude_spam: _,
        } = self;
        label.is_none()
            && assignee.is_none()
            && webapp_version.is_none()
            && server_version.is_none()
            && browser.is_none()
            && received_from.is_none()
            && received_before.is_none()
            && text.is_none()
    }
}

/// Which of the filters' choices [`TriageStore::facets`](super::TriageStore::facets) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacetScope {
    All,
    /// Labels and assignees only, what a triage change can change (browsers and versions are
    /// set at intake); the others are left empty.
    Triage,
}

/// What occurs among recent submissions, with counts: the filters' choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub browsers: Vec<(String, i64)>,
    pub webapp_versions: Vec<(String, i64)>,
    pub server_versions: Vec<(String, i64)>,
    pub labels: Vec<(String, i64)>,
    pub assignees: Vec<(String, i64)>,
}

/// The position after the last item of a page (newest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCursor {
    pub received_at: DateTime<Utc>,
    pub id: Uuid,
}

/// One line of the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueItem {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: Kind,
    pub status: Status,
    pub summary: Option<String>,
    pub excerpt: String,
    pub rating: Option<i16>,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
    pub browser_brand: String,
    pub browser_version: Option<String>,
    pub webapp_version: String,
    pub server_version: String,
    pub attachment_count: i64,
    pub has_contact: bool,
    /// Shared by likely duplicates.
    pub fingerprint: Option<String>,
}

/// Why a triage change was refused as a whole; nothing was changed and nothing audited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageRefusal {
    /// These of the requested ids name no submission (in the order they were asked for).
    Unknown(Vec<Uuid>),
    /// `duplicate_of` names no submission.
    UnknownOriginal,
    /// Adding the label would give these submissions more than [`MAX_LABELS`] labels.
    LabelsFull(Vec<Uuid>),
}

impl TriageRefusal {
    /// The refusal, if any, for a change to `ids` given the labels of the submissions found
    /// among them (locked by the caller's transaction).
    pub(crate) fn check(
        ids: &[Uuid],
        found: &HashMap<Uuid, Vec<String>>,
        patch: &TriagePatch,
    ) -> Option<Self> {
        let unknown: Vec<Uuid> = ids
            .iter()
            .filter(|id| !found.contains_key(id))
            .copied()
            .collect();
        if !unknown.is_empty() {
            return Some(Self::Unknown(unknown));
        }
        let label = patch
            .add_label
            .as_ref()
            .filter(|_| patch.labels.is_none())?;
        // A label removed in the same change makes room for the one added.
        let freed = |labels: &Vec<String>| {
            patch
                .remove_label
                .as_ref()
                .is_some_and(|gone| labels.contains(gone))
        };
        let full: Vec<Uuid> = ids
            .iter()
            .filter(|id| {
                found.get(id).is_some_and(|labels| {
                    labels.len() >= MAX_LABELS && !labels.contains(label) && !freed(labels)
                })
            })
            .copied()
            .collect();
        (!full.is_empty()).then_some(Self::LabelsFull(full))
    }
}

/// `ids` without repeats, in the order first given.
pub(crate) fn distinct_ids(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::with_capacity(ids.len());
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// A submission the search index found for words of another: a candidate near-duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextMatch {
    pub id: Uuid,
    pub summary: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRow {
    pub id: Uuid,
    pub submission_id: Uuid,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One line of the audit log: who did what, when, to which submission. It never holds an
/// address nor any per-person key (no blind index), so it cannot tie submissions to a person
/// (see docs/AUDIT.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub submission_id: Option<Uuid>,
    pub detail: Option<String>,
}

/// Audit actions that disclose or use a submission's contact details (viewing, exporting, replying); an erasure unlinks them from
/// the submission, so what is left of it cannot be grouped by the person who sent it.
pub const CONTACT_ACCESS_ACTIONS: [&str; 3] = ["view_contact", "export_contact", "reply_contact"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecord {
    pub name: String,
    pub role: Role,
    pub password_hash: String,
}

/// A logged-in staff member's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_name: String,
    pub role: Role,
    pub csrf_token: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub revoked: bool,
}

/// What a privacy erasure removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EraseScope {
    /// The contact details only; the feedback stays, anonymous.
    Contact,
    /// The submissions themselves, with everything tied to them and their stored objects.
    Everything,
}

/// What an erasure removed; its objects are queued for deletion in the same transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    pub submissions: Vec<Uuid>,
    pub contacts_removed: u64,
    pub submissions_removed: u64,
    pub objects_queued: u64,
    /// Staff notes and submission texts where the name or address was replaced.
    pub texts_redacted: u64,
}

impl Erased {
    /// Counts only, for the audit entry: never an id.
    pub fn describe(&self) -> String {
        format!(
            "submissions={} contacts_removed={} submissions_removed={} objects_queued={} texts_redacted={}",
            self.submissions.len(),
            self.contacts_removed,
            self.submissions_removed,
            self.objects_queued,
            self.texts_redacted
        )
    }
}

/// What submissions are counted by in [`StatsStore::stats`](super::StatsStore::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsDimension {
    /// The calendar day received, `YYYY-MM-DD`, in the query's offset from UTC.
    Day,
    Kind,
    WebappVersion,
    Browser,
    Status,
}

impl StatsDimension {
    pub const ALL: [Self; 5] = [
        Self::Day,
        Self::Kind,
        Self::WebappVersion,
        Self::Browser,
        Self::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Kind => "kind",
            Self::WebappVersion => "webapp_version",
            Self::Browser => "browser",
            Self::Status => "status",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == raw.trim())
    }
}

/// Counts of submissions received in `[from, to)`, spam left out, grouped by `by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: Vec<StatsDimension>,
    pub kind: Option<String>,
    /// Seconds east of UTC in which days begin (the team's time zone).
    pub offset_secs: i32,
}

/// One group: its values (in the order of `by`) and how many submissions it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsRow {
    pub keys: Vec<String>,
    pub count: i64,
}
