//! A person's requests to the webmaster: review (export) and removal (erase), found through
//! the blind index of their address, never by decrypting every row. Plus retention, and the
//! job that deletes the objects of removed submissions until none is left.
//!
//! Erasure survives a crash: the rows go, the objects to delete are queued and the audit entry
//! is written in one transaction; [`delete_pending_objects`] then deletes the objects and runs
//! again on every housekeeping pass (and at start), so an interrupted erasure is completed.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{ContactVault, OpenedContact};
use crate::blobs::Blobs;
use crate::domain::fields::normalize_email;
use crate::store::{AuditEntry, EraseScope, Erased, Store, StoreError, SubmissionRow};

/// Objects deleted per query of the queue.
const DELETIONS_PER_PASS: u32 = 500;
/// Submissions removed per retention transaction.
const RETENTION_BATCH: u32 = 500;

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("stored contact details could not be opened")]
    Open(#[from] super::OpenError),
}

/// Everything stored about one address, as one document to send to the person.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Export {
    pub generated_at: DateTime<Utc>,
    pub note: &'static str,
    pub submissions: Vec<ExportedSubmission>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExportedSubmission {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: String,
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
}

/// What an erasure did, for the webmaster's answer to the person.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ErasureReport {
    pub scope: &'static str,
    pub submissions: Vec<Uuid>,
    pub contacts_removed: u64,
    pub submissions_removed: u64,
    pub objects_queued: u64,
    pub objects_deleted: usize,
}

fn exported(row: SubmissionRow, contact: OpenedContact) -> ExportedSubmission {
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
        attachments: row
            .attachments
            .iter()
            .map(|a| serde_json::json!({
                "filename": a.filename, "size": a.size, "sha256": a.sha256, "content_type": a.content_type,
            }))
            .collect(),
        contact,
    }
}

/// The submissions tied to an address, with their blind index.
pub async fn find(
    store: &dyn Store,
    vault: &ContactVault,
    email: &str,
) -> Result<(String, Vec<Uuid>), StoreError> {
    let blind_index = vault.blind_index(&normalize_email(email));
    let ids = store.submissions_for(&blind_index).await?;
    Ok((blind_index, ids))
}

fn audit(actor: &str, action: &str, blind_index: &str, ids: &[Uuid]) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        submission_id: None,
        blind_index: Some(blind_index.to_owned()),
        detail: Some(format!(
            "submissions: {}",
            ids.iter()
                .map(Uuid::to_string)
                .collect::<Vec<_>>()
                .join(",")
        )),
    }
}

/// Everything stored about an address; the export is written to the audit log.
pub async fn export(
    store: &dyn Store,
    vault: &ContactVault,
    email: &str,
    actor: &str,
) -> Result<Export, PrivacyError> {
    let (blind_index, ids) = find(store, vault, email).await?;
    let mut submissions = Vec::with_capacity(ids.len());
    for id in &ids {
        let Some(row) = store.submission(*id).await? else {
            continue;
        };
        let Some(sealed) = &row.contact else { continue };
        let contact = vault.open(*id, &sealed.sealed)?;
        submissions.push(exported(row, contact));
    }
    store
        .insert_audit(&audit(actor, "privacy_export", &blind_index, &ids))
        .await?;
    Ok(Export {
        generated_at: Utc::now(),
        note: "Every submission stored with this e-mail address, with the environment and terms \
               record kept with it. Files are listed by name, size and SHA-256.",
        submissions,
    })
}

/// Removes the contact details (or, with `Everything`, the submissions and their objects)
/// tied to an address, then deletes what objects it can right away.
pub async fn erase(
    store: &dyn Store,
    blobs: &Blobs,
    vault: &ContactVault,
    email: &str,
    scope: EraseScope,
    actor: &str,
) -> Result<ErasureReport, PrivacyError> {
    let (blind_index, ids) = find(store, vault, email).await?;
    let action = match scope {
        EraseScope::Contact => "privacy_erase_contact",
        EraseScope::Everything => "privacy_erase_everything",
    };
    let erased = store
        .erase(&ids, scope, &audit(actor, action, &blind_index, &ids))
        .await?;
    let objects_deleted = match delete_pending_objects(store, blobs).await {
        Ok(n) => n,
        Err(error) => {
            tracing::warn!(error = ?error, "object deletion deferred to the housekeeping job");
            0
        }
    };
    Ok(report(scope, erased, objects_deleted))
}

fn report(scope: EraseScope, erased: Erased, objects_deleted: usize) -> ErasureReport {
    ErasureReport {
        scope: match scope {
            EraseScope::Contact => "contact",
            EraseScope::Everything => "everything",
        },
        submissions: erased.submissions,
        contacts_removed: erased.contacts_removed,
        submissions_removed: erased.submissions_removed,
        objects_queued: erased.objects_queued,
        objects_deleted,
    }
}

/// Deletes queued objects; each is dropped from the queue only once it is gone.
pub async fn delete_pending_objects(store: &dyn Store, blobs: &Blobs) -> anyhow::Result<usize> {
    let mut deleted = 0;
    loop {
        let keys = store.pending_deletions(DELETIONS_PER_PASS).await?;
        if keys.is_empty() {
            return Ok(deleted);
        }
        for key in &keys {
            blobs.delete(key).await?;
        }
        store.deletions_done(&keys).await?;
        deleted += keys.len();
    }
}

/// Retention: removes submissions older than `keep_days`, and contact details older than
/// `keep_contact_days` (0 keeps forever). Returns (submissions, contacts) removed.
pub async fn apply_retention(
    store: &dyn Store,
    keep_days: u32,
    keep_contact_days: u32,
) -> Result<(u64, u64), StoreError> {
    let mut removed = (0, 0);
    if keep_contact_days > 0 {
        let before = Utc::now() - chrono::Duration::days(i64::from(keep_contact_days));
        loop {
            let ids = store
                .contacts_received_before(before, RETENTION_BATCH)
                .await?;
            if ids.is_empty() {
                break;
            }
            let entry = retention_audit("retention_contacts", &ids);
            removed.1 += store
                .erase(&ids, EraseScope::Contact, &entry)
                .await?
                .contacts_removed;
        }
    }
    if keep_days > 0 {
        let before = Utc::now() - chrono::Duration::days(i64::from(keep_days));
        loop {
            let ids = store.received_before(before, RETENTION_BATCH).await?;
            if ids.is_empty() {
                break;
            }
            let entry = retention_audit("retention_submissions", &ids);
            removed.0 += store
                .erase(&ids, EraseScope::Everything, &entry)
                .await?
                .submissions_removed;
        }
    }
    Ok(removed)
}

fn retention_audit(action: &str, ids: &[Uuid]) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: "retention".to_owned(),
        action: action.to_owned(),
        submission_id: None,
        blind_index: None,
        detail: Some(format!("{} submissions", ids.len())),
    }
}
