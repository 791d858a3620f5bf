//! A person's review request: everything stored about one address as one document — the
//! submissions with their triage state, the staff notes on them, the files, and who viewed or
//! exported the contact details and when. The export itself is audited.

use crate::domain::Kind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::requests::{PrivacyError, audit_counts, find};
use super::{ContactVault, OpenedContact};
use crate::store::{AuditEntry, Store, SubmissionRow};

/// Everything stored about one address, as one document to send to the person.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Export {
    pub generated_at: DateTime<Utc>,
    pub note: &'static str,
    pub submissions: Vec<ExportedSubmission>,
    /// Who viewed or exported these contact details, and when (oldest first).
    pub contact_access: Vec<ContactAccess>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedSubmission {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: Kind,
    pub summary: Option<String>,
    pub message: String,
    pub rating: Option<i16>,
    #[schema(value_type = Object)]
    pub environment: serde_json::Value,
    #[schema(value_type = Object)]
    pub terms_accepted: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<serde_json::Value>,
    pub contact: OpenedContact,
    /// The product team's triage state.
    #[schema(value_type = Object)]
    pub triage: serde_json::Value,
    pub notes: Vec<ExportedNote>,
    /// What the product team e-mailed to the person about it.
    pub replies: Vec<ExportedNote>,
    /// The attachments' object keys, in the order of `attachments` (for the ZIP; never shown).
    #[serde(skip)]
    pub(crate) object_keys: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedNote {
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactAccess {
    pub at: DateTime<Utc>,
    pub staff: String,
    /// `view_contact` (opened in the queue), `export_contact` (included in an export) or
    /// `reply_contact` (e-mailed a reply).
    pub action: String,
    pub submission: Option<Uuid>,
}

fn exported(
    row: SubmissionRow,
    contact: OpenedContact,
    notes: Vec<ExportedNote>,
) -> ExportedSubmission {
    ExportedSubmission {
        id: row.id,
        received_at: row.received_at,
        kind: row.kind,
        summary: row.summary,
        message: row.message,
        rating: row.rating,
        environment: serde_json::json!({
            "webapp_version": row.webapp_version,
            "server_version": row.server_version,
            "browser": { "brand": row.browser_brand, "version": row.browser_version },
            "screen_resolution": format!("{}x{}", row.screen_width, row.screen_height),
            "url": row.page_url,
        }),
        terms_accepted: serde_json::json!({
            "version": row.terms.version,
            "sha256": row.terms.sha256,
            "widget": row.terms.widget,
            "button": row.terms.button,
            "at": row.terms.accepted_at,
        }),
        object_keys: row.attachments.iter().map(|a| a.object_key.clone()).collect(),
        attachments: row
            .attachments
            .iter()
            .map(|a| serde_json::json!({
                "filename": a.filename, "size": a.size, "sha256": a.sha256, "content_type": a.content_type,
            }))
            .collect(),
        contact,
        triage: serde_json::json!({
            "status": row.status,
            "labels": row.labels,
            "assignee": row.assignee,
            "duplicate_of": row.duplicate_of,
        }),
        notes,
        replies: Vec::new(),
    }
}

/// Everything stored about an address; the export is written to the audit log (a count, and
/// one `export_contact` entry per submission, so a later export shows this one).
pub async fn export(
    store: &dyn Store,
    vault: &ContactVault,
    email: &str,
    actor: &str,
) -> Result<Export, PrivacyError> {
    let ids = find(store, vault, email).await?;
    let mut submissions = Vec::with_capacity(ids.len());
    for id in &ids {
        let Some(row) = store.submission(*id).await? else {
            continue;
        };
        let Some(sealed) = &row.contact else { continue };
        let contact = vault.open(*id, &sealed.sealed)?;
        let notes = store
            .notes(*id)
            .await?
            .into_iter()
            .map(|n| ExportedNote {
                author: n.author,
                body: n.body,
                created_at: n.created_at,
            })
            .collect();
        let replies = store
            .replies(*id)
            .await?
            .into_iter()
            .map(|r| ExportedNote {
                author: r.author,
                body: r.body,
                created_at: r.created_at,
            })
            .collect();
        let mut submission = exported(row, contact, notes);
        submission.replies = replies;
        submissions.push(submission);
    }
    let contact_access = store
        .contact_access(&ids)
        .await?
        .into_iter()
        .map(|e| ContactAccess {
            at: e.at,
            staff: e.actor,
            action: e.action,
            submission: e.submission_id,
        })
        .collect();
    store
        .insert_audit(&audit_counts(actor, "privacy_export", ids.len()))
        .await?;
    for id in &ids {
        store
            .insert_audit(&AuditEntry {
                at: Utc::now(),
                actor: actor.to_owned(),
                action: "export_contact".to_owned(),
                submission_id: Some(*id),
                detail: None,
            })
            .await?;
    }
    Ok(Export {
        generated_at: Utc::now(),
        note: "Every submission stored with this e-mail address: the environment and terms \
               record kept with it, its triage state, the product team's notes and replies, files by \
               name, size and SHA-256, and who viewed or exported these contact details.",
        submissions,
        contact_access,
    })
}
