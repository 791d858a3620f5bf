//! The triage desk: one submission as staff see it, and the changes they make to it. Used by
//! the JSON API and the triage view alike; every view of contact details is written to the
//! audit log first, and every change is applied with its audit rows in one transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StatusCounts;
use crate::domain::outbox::{Event, Notifier};
use crate::domain::{FieldError, Kind, MAX_LABELS, Status, TriagePatch, ValidationErrors};
use crate::privacy::{ContactVault, OpenedContact};
use crate::staff::Staff;
use crate::store::{
    AuditEntry, NoteRow, ReplyRow, Store, StoreError, SubmissionRow, TriageRefusal,
};

/// Likely duplicates listed with a submission.
const DUPLICATES_SHOWN: u32 = 20;
/// Longest private note.
pub const MAX_NOTE_CHARS: usize = 10_000;
const DUPLICATE_OF_RULE: &str = "must name another existing submission";

/// What the desk works with: the store, the keys that open contact details, and the cache of
/// counts that a change makes stale. Borrowed from the application state for one request.
#[derive(Debug, Clone, Copy)]
pub struct Desk<'a> {
    pub store: &'a dyn Store,
    pub vault: &'a ContactVault,
    pub status_counts: &'a StatusCounts,
    /// Who hears about triage changes (written in the change's transaction)…
    pub notify: &'a dyn Notifier,
    /// …and the outbox worker to wake when they were.
    pub outbox_wake: &'a tokio::sync::Notify,
}

/// Why the desk did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// The one submission asked for does not exist.
    #[error("no such submission")]
    NotFound,
    /// Some of the selected submissions do not exist; nothing was changed.
    #[error("{} selected submission(s) do not exist", .0.len())]
    Unknown(Vec<Uuid>),
    #[error("invalid change")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &str, message: impl Into<String>) -> DeskError {
    DeskError::Invalid(ValidationErrors(vec![FieldError::new(
        field, "invalid", message,
    )]))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: Kind,
    pub status: Status,
    pub summary: Option<String>,
    pub message: String,
    pub rating: Option<i16>,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
    pub duplicate_of: Option<Uuid>,
    pub environment: EnvironmentView,
    pub terms: TermsView,
    pub attachments: Vec<AttachmentView>,
    pub contact: Option<OpenedContact>,
    pub notes: Vec<NoteView>,
    /// What staff e-mailed to the submitter about it, oldest first.
    pub replies: Vec<ReplyView>,
    pub likely_duplicates: Vec<Uuid>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnvironmentView {
    pub webapp_version: String,
    pub server_version: String,
    pub browser: BrowserView,
    pub screen_resolution: String,
    pub url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BrowserView {
    pub brand: String,
    pub version: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TermsView {
    pub version: String,
    pub sha256: String,
    pub widget: String,
    pub button: String,
    pub accepted_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    pub n: i32,
    pub filename: String,
    pub size: i64,
    pub sha256: String,
    pub content_type: String,
    pub is_image: bool,
}

/// A reply e-mailed to the submitter, as staff see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplyView {
    pub id: Uuid,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<ReplyRow> for ReplyView {
    fn from(row: ReplyRow) -> Self {
        Self {
            id: row.id,
            author: row.author,
            body: row.body,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn audit(
    desk: &Desk<'_>,
    staff: &Staff,
    action: &str,
    submission: Option<Uuid>,
    detail: Option<String>,
) -> Result<(), DeskError> {
    let entry = AuditEntry {
        at: Utc::now(),
        actor: staff.actor(),
        action: action.to_owned(),
        submission_id: submission,
        detail,
    };
    Ok(desk.store.insert_audit(&entry).await?)
}

/// The stored submission, or [`DeskError::NotFound`].
pub async fn submission(desk: &Desk<'_>, id: Uuid) -> Result<SubmissionRow, DeskError> {
    desk.store.submission(id).await?.ok_or(DeskError::NotFound)
}

/// Loads a submission for a staff member, opening (and auditing) its contact details.
pub async fn load(desk: &Desk<'_>, staff: &Staff, id: Uuid) -> Result<Detail, DeskError> {
    let row = submission(desk, id).await?;
    let contact = match &row.contact {
        None => None,
        Some(sealed) => {
            audit(desk, staff, "view_contact", Some(id), None).await?;
            match desk.vault.open(id, &sealed.sealed) {
                Ok(opened) => Some(opened),
                Err(error) => {
                    // Sealed with another key (a lost or rotated key): the rest is still shown.
                    tracing::warn!(submission = %id, key_id = %sealed.key_id, error = %error, "contact details cannot be opened");
                    None
                }
            }
        }
    };
    let notes = desk.store.notes(id).await?;
    let replies = desk.store.replies(id).await?;
    let likely_duplicates = match &row.fingerprint {
        Some(fp) => {
            desk.store
                .likely_duplicates(id, fp, DUPLICATES_SHOWN)
                .await?
        }
        None => Vec::new(),
    };
    Ok(Detail {
        id: row.id,
        received_at: row.received_at,
        kind: row.kind,
        status: row.status,
        summary: row.summary,
        message: row.message,
        rating: row.rating,
        labels: row.labels,
        assignee: row.assignee,
        duplicate_of: row.duplicate_of,
        environment: EnvironmentView {
            webapp_version: row.webapp_version,
            server_version: row.server_version,
            browser: BrowserView {
                brand: row.browser_brand,
                version: row.browser_version,
            },
            screen_resolution: format!("{}x{}", row.screen_width, row.screen_height),
            url: row.page_url,
        },
        terms: TermsView {
            version: row.terms.version,
            sha256: row.terms.sha256,
            widget: row.terms.widget,
            button: row.terms.button,
            accepted_at: row.terms.accepted_at,
        },
        attachments: row
            .attachments
            .into_iter()
            .map(|a| AttachmentView {
                n: a.position,
                is_image: a.content_type.starts_with("image/"),
                filename: a.filename,
                size: a.size,
                sha256: a.sha256,
                content_type: a.content_type,
            })
            .collect(),
        contact,
        notes: notes
            .into_iter()
            .map(|n| NoteView {
                author: n.author,
                body: n.body,
                created_at: n.created_at,
            })
            .collect(),
        replies: replies.into_iter().map(Into::into).collect(),
        likely_duplicates,
    })
}

/// What a triage change sets, as a `submission.updated` event tells it.
fn changes(patch: &TriagePatch) -> serde_json::Value {
    let mut changes = serde_json::Map::new();
    if let Some(status) = patch.status {
        changes.insert("status".into(), status.as_str().into());
    }
    if let Some(labels) = &patch.labels {
        changes.insert("labels".into(), labels.as_slice().into());
    }
    if let Some(label) = &patch.add_label {
        changes.insert("add_label".into(), label.as_str().into());
    }
    if let Some(assignee) = &patch.assignee {
        changes.insert("assignee".into(), assignee.clone().into());
    }
    if let Some(duplicate_of) = &patch.duplicate_of {
        changes.insert(
            "duplicate_of".into(),
            duplicate_of.map(|id| id.to_string()).into(),
        );
    }
    changes.into()
}

/// Applies a change to the submissions `ids` (repeats count once) in one transaction with
/// one audit row each. All or nothing: when one of them does not exist the answer is
/// [`DeskError::Unknown`] naming them, and a `duplicate_of` that names no other submission, or a
/// label that would exceed the cap, is [`DeskError::Invalid`].
pub async fn apply(
    desk: &Desk<'_>,
    staff: &Staff,
    ids: &[Uuid],
    patch: &TriagePatch,
) -> Result<(), DeskError> {
    if let Some(Some(original)) = patch.duplicate_of
        && ids.contains(&original)
    {
        return Err(invalid("duplicate_of", DUPLICATE_OF_RULE));
    }
    let audit = AuditEntry {
        at: Utc::now(),
        actor: staff.actor(),
        action: "triage".to_owned(),
        submission_id: None,
        detail: Some(patch.describe()),
    };
    let changes = serde_json::json!({ "changes": changes(patch) });
    let messages = desk.notify.for_event(Event::SubmissionUpdated, &changes);
    let outcome = desk
        .store
        .apply_triage(ids, patch, &audit, messages.as_ref())
        .await?;
    match outcome {
        Ok(()) => {
            desk.status_counts.clear();
            desk.outbox_wake.notify_one();
            Ok(())
        }
        Err(TriageRefusal::Unknown(ids)) => Err(DeskError::Unknown(ids)),
        Err(TriageRefusal::UnknownOriginal) => Err(invalid("duplicate_of", DUPLICATE_OF_RULE)),
        Err(TriageRefusal::LabelsFull(ids)) => Err(invalid(
            "label",
            format!(
                "would give {} submission(s) more than {MAX_LABELS} labels: {}",
                ids.len(),
                ids.iter()
                    .map(Uuid::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Adds a private note by this staff member.
pub async fn add_note(
    desk: &Desk<'_>,
    staff: &Staff,
    id: Uuid,
    body: &str,
) -> Result<NoteRow, DeskError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_NOTE_CHARS {
        return Err(invalid("body", "must be 1 to 10,000 characters"));
    }
    submission(desk, id).await?;
    let note = NoteRow {
        id: Uuid::now_v7(),
        submission_id: id,
        author: staff.name.clone(),
        body: body.to_owned(),
        created_at: Utc::now(),
    };
    desk.store.insert_note(&note).await?;
    Ok(note)
}
