//! One submission as staff see it, and the changes they make to it. Shared by the JSON API
//! and the triage view; every view of contact details is written to the audit log first.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::app::AppState;
use crate::domain::{FieldError, Status, ValidationErrors, parse_label, parse_staff_name};
use crate::http::error::ApiError;
use crate::privacy::OpenedContact;
use crate::staff::Staff;
use crate::store::{AuditEntry, NoteRow, SubmissionRow, TriagePatch};

/// Likely duplicates listed with a submission.
const DUPLICATES_SHOWN: u32 = 20;
/// Longest private note.
pub const MAX_NOTE_CHARS: usize = 10_000;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Detail {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: String,
    pub status: String,
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

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub async fn audit(
    state: &AppState,
    staff: &Staff,
    action: &str,
    submission: Option<Uuid>,
    detail: Option<String>,
) -> Result<(), ApiError> {
    let entry = AuditEntry {
        at: Utc::now(),
        actor: staff.actor(),
        action: action.to_owned(),
        submission_id: submission,
        detail,
    };
    state
        .store
        .insert_audit(&entry)
        .await
        .map_err(ApiError::storage)
}

pub async fn submission(state: &AppState, id: Uuid) -> Result<SubmissionRow, ApiError> {
    state
        .store
        .submission(id)
        .await
        .map_err(ApiError::storage)?
        .ok_or(ApiError::NotFound)
}

/// Loads a submission for a staff member, opening (and auditing) its contact details.
pub async fn load(state: &AppState, staff: &Staff, id: Uuid) -> Result<Detail, ApiError> {
    let row = submission(state, id).await?;
    let contact = match &row.contact {
        None => None,
        Some(sealed) => {
            audit(state, staff, "view_contact", Some(id), None).await?;
            match state.vault.open(id, &sealed.sealed) {
                Ok(opened) => Some(opened),
                Err(error) => {
                    // Sealed with another key (a lost or rotated key): the rest is still shown.
                    tracing::warn!(submission = %id, key_id = %sealed.key_id, error = %error, "contact details cannot be opened");
                    None
                }
            }
        }
    };
    let notes = state.store.notes(id).await.map_err(ApiError::storage)?;
    let likely_duplicates = match &row.fingerprint {
        Some(fp) => state
            .store
            .likely_duplicates(id, fp, DUPLICATES_SHOWN)
            .await
            .map_err(ApiError::storage)?,
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
        likely_duplicates,
    })
}

/// Parses a triage change: `status`, `labels`, `assignee` and `duplicate_of`; `null` clears the
/// last two. Every failing field is listed.
pub fn parse_patch(body: &Map<String, Value>) -> Result<TriagePatch, ValidationErrors> {
    let mut patch = TriagePatch::default();
    let mut errors = Vec::new();
    for (field, value) in body {
        let mut fail = |code: &'static str, message: &str| {
            errors.push(FieldError::new(field, code, message));
        };
        match (field.as_str(), value) {
            ("status", Value::String(s)) => match Status::parse(s) {
                Some(status) => patch.status = Some(status.as_str().to_owned()),
                None => fail("invalid", "is not a known status"),
            },
            ("labels", Value::Array(items)) => {
                let labels: Option<Vec<String>> = items
                    .iter()
                    .map(|v| v.as_str().and_then(parse_label))
                    .collect();
                match labels {
                    Some(mut labels) if labels.len() <= 20 => {
                        labels.dedup();
                        patch.labels = Some(labels);
                    }
                    _ => fail("invalid", "must be at most 20 labels of 1 to 40 characters"),
                }
            }
            ("assignee", Value::Null) => patch.assignee = Some(None),
            ("assignee", Value::String(s)) => match parse_staff_name(s) {
                Some(name) => patch.assignee = Some(Some(name)),
                None => fail("invalid", "is not a valid staff name"),
            },
            ("duplicate_of", Value::Null) => patch.duplicate_of = Some(None),
            ("duplicate_of", Value::String(s)) => match Uuid::parse_str(s) {
                Ok(id) => patch.duplicate_of = Some(Some(id)),
                Err(_) => fail("invalid", "must be a submission id"),
            },
            ("status" | "labels" | "assignee" | "duplicate_of", _) => {
                fail("invalid_type", "has the wrong type")
            }
            _ => fail("unknown_field", "cannot be changed"),
        }
    }
    if errors.is_empty() {
        Ok(patch)
    } else {
        Err(ValidationErrors(errors))
    }
}

/// Applies a change to submissions; 404 if any does not exist, 422 for a bad `duplicate_of`.
pub async fn apply(
    state: &AppState,
    staff: &Staff,
    ids: &[Uuid],
    patch: &TriagePatch,
) -> Result<(), ApiError> {
    if let Some(Some(original)) = patch.duplicate_of {
        let invalid = ids.contains(&original)
            || state
                .store
                .submission(original)
                .await
                .map_err(ApiError::storage)?
                .is_none();
        if invalid {
            return Err(ApiError::Validation(ValidationErrors(vec![
                FieldError::new(
                    "duplicate_of",
                    "invalid",
                    "must name another existing submission",
                ),
            ])));
        }
    }
    let updated = state
        .store
        .update_triage(ids, patch)
        .await
        .map_err(ApiError::storage)?;
    state.status_counts.clear();
    if updated < ids.len() as u64 {
        return Err(ApiError::NotFound);
    }
    let summary = describe(patch);
    for id in ids {
        audit(state, staff, "triage", Some(*id), Some(summary.clone())).await?;
    }
    Ok(())
}

fn describe(patch: &TriagePatch) -> String {
    let mut parts = Vec::new();
    if let Some(status) = &patch.status {
        parts.push(format!("status={status}"));
    }
    if let Some(labels) = &patch.labels {
        parts.push(format!("labels={}", labels.join(",")));
    }
    if let Some(label) = &patch.add_label {
        parts.push(format!("+label={label}"));
    }
    if let Some(assignee) = &patch.assignee {
        parts.push(format!("assignee={}", assignee.as_deref().unwrap_or("-")));
    }
    if let Some(duplicate_of) = &patch.duplicate_of {
        parts.push(format!(
            "duplicate_of={}",
            duplicate_of.map_or("-".to_owned(), |d| d.to_string())
        ));
    }
    parts.join(" ")
}

/// Adds a private note by this staff member.
pub async fn add_note(
    state: &AppState,
    staff: &Staff,
    id: Uuid,
    body: &str,
) -> Result<NoteRow, ApiError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_NOTE_CHARS {
        return Err(ApiError::Validation(ValidationErrors(vec![
            FieldError::new("body", "invalid", "must be 1 to 10,000 characters"),
        ])));
    }
    submission(state, id).await?;
    let note = NoteRow {
        id: Uuid::now_v7(),
        submission_id: id,
        author: staff.name.clone(),
        body: body.to_owned(),
        created_at: Utc::now(),
    };
    state
        .store
        .insert_note(&note)
        .await
        .map_err(ApiError::storage)?;
    Ok(note)
}
