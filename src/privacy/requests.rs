//! A person's requests to the webmaster: review (export) and removal (erase), found through
//! the blind index of their address, never by decrypting every row. Plus retention, and the
//! job that deletes the objects of removed submissions until none is left.
//!
//! The audit log gets who did what and when, with counts and a random receipt, never the
//! address, its blind index or the ids found (docs/AUDIT.md).
//!
//! Erasure survives a crash: the rows go, the objects to delete are queued and the audit entry
//! is written in one transaction; [`delete_pending_objects`] then deletes the objects and runs
//! again on every housekeeping pass (and at start), so an interrupted erasure is completed.

use crate::domain::{Kind, Status};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::ContactVault;
use super::redact::contact_terms;
use crate::blobs::Blobs;
use crate::domain::fields::normalize_email;
use crate::store::{AuditEntry, EraseScope, Store, StoreError};

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

pub use super::export::{Export, export};

/// What an erasure did, for the webmaster's answer to the person. `receipt` is random and
/// is the only thing the audit entry shares with this report (besides the counts): the
/// webmaster can quote it back, and nothing in it names the person.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ErasureReport {
    pub receipt: String,
    pub scope: &'static str,
    pub submissions: Vec<Uuid>,
    pub contacts_removed: u64,
    pub submissions_removed: u64,
    pub objects_queued: u64,
    pub objects_deleted: usize,
    pub texts_redacted: u64,
}

/// One submission as the webmaster sees it before deciding what to erase.
#[derive(Debug, Serialize)]
pub struct PreviewItem {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: Kind,
    pub status: Status,
    pub summary: Option<String>,
    /// The first characters of the message.
    pub excerpt: String,
    pub files: Vec<String>,
}

/// Characters of the message a preview shows.
const EXCERPT_CHARS: usize = 120;

/// The submissions tied to an address (newest first), found through its blind index.
pub async fn find(
    store: &dyn Store,
    vault: &ContactVault,
    email: &str,
) -> Result<Vec<Uuid>, StoreError> {
    let mut ids = Vec::new();
    for blind_index in vault.blind_indexes(&normalize_email(email)) {
        for id in store.submissions_for(&blind_index).await? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// An audit entry with a count and nothing that names the person.
pub(super) fn audit_counts(actor: &str, action: &str, submissions: usize) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        submission_id: None,
        detail: Some(format!("submissions={submissions}")),
    }
}

/// What is tied to an address, for the webmaster to check before an erasure; audited
/// (`privacy_find`, with the count only).
pub async fn preview(
    store: &dyn Store,
    vault: &ContactVault,
    email: &str,
    actor: &str,
) -> Result<Vec<PreviewItem>, PrivacyError> {
    let ids = find(store, vault, email).await?;
    let mut items = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(row) = store.submission(id).await? else {
            continue;
        };
        items.push(PreviewItem {
            id,
            received_at: row.received_at,
            kind: row.kind,
            status: row.status,
            summary: row.summary,
            excerpt: row.message.chars().take(EXCERPT_CHARS).collect(),
            files: row.attachments.into_iter().map(|a| a.filename).collect(),
        });
    }
    store
        .insert_audit(&audit_counts(actor, "privacy_find", items.len()))
        .await?;
    Ok(items)
}

/// The name and address to redact: the one the webmaster typed and those of each contact.
async fn redaction_terms(
    store: &dyn Store,
    vault: &ContactVault,
    email: &str,
    ids: &[Uuid],
) -> Result<Vec<String>, StoreError> {
    let mut terms = vec![email.trim().to_owned()];
    for id in ids {
        let Some(row) = store.submission(*id).await? else {
            continue;
        };
        let Some(sealed) = row.contact else { continue };
        if let Ok(opened) = vault.open(*id, &sealed.sealed) {
            terms.extend(contact_terms(
                opened.name.as_deref(),
                opened.email.as_deref(),
            ));
        }
    }
    terms.sort();
    terms.dedup();
    Ok(terms)
}

/// Removes the contact details (or, with `Everything`, the submissions and their objects)
/// tied to an address, redacts the name and address where staff wrote them, then deletes
/// what objects it can right away and scrubs the database of the erased text.
pub async fn erase(
    store: &dyn Store,
    blobs: &Blobs,
    vault: &ContactVault,
    email: &str,
    scope: EraseScope,
    actor: &str,
) -> Result<ErasureReport, PrivacyError> {
    let ids = find(store, vault, email).await?;
    let terms = redaction_terms(store, vault, email, &ids).await?;
    let action = match scope {
        EraseScope::Contact => "privacy_erase_contact",
        EraseScope::Everything => "privacy_erase_everything",
    };
    let receipt = Uuid::new_v4().simple().to_string();
    let entry = AuditEntry {
        at: Utc::now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        submission_id: None,
        detail: Some(format!("receipt={receipt}")),
    };
    let erased = store.erase(&ids, scope, &terms, &entry, &[]).await?;
    let objects_deleted = match delete_pending_objects(store, blobs).await {
        Ok(n) => n,
        Err(error) => {
            tracing::warn!(error = ?error, "object deletion deferred to the housekeeping job");
            0
        }
    };
    let changed = erased.contacts_removed + erased.submissions_removed + erased.texts_redacted;
    if changed > 0
        && let Err(error) = store.scrub_erased().await
    {
        tracing::warn!(error = ?error, "scrubbing the database after an erasure failed");
    }
    Ok(ErasureReport {
        receipt,
        scope: match scope {
            EraseScope::Contact => "contact",
            EraseScope::Everything => "everything",
        },
        submissions: erased.submissions,
        contacts_removed: erased.contacts_removed,
        submissions_removed: erased.submissions_removed,
        objects_queued: erased.objects_queued,
        objects_deleted,
        texts_redacted: erased.texts_redacted,
    })
}

/// An erasure as the audit log recorded it, found by its receipt.
#[derive(Debug, Serialize)]
pub struct ErasureRecord {
    pub receipt: String,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub scope: &'static str,
    /// The counts recorded (`submissions`, `contacts_removed`, …), in order.
    pub counts: Vec<(String, String)>,
}

/// The recorded erasure with this receipt (32 hex digits), if any.
pub async fn erasure_record(
    store: &dyn Store,
    receipt: &str,
) -> Result<Option<ErasureRecord>, StoreError> {
    if receipt.len() != 32 || !receipt.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let Some(entry) = store.erasure_record(receipt).await? else {
        return Ok(None);
    };
    let counts = entry
        .detail
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| *key != "receipt")
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ok(Some(ErasureRecord {
        receipt: receipt.to_owned(),
        at: entry.at,
        actor: entry.actor,
        scope: if entry.action == "privacy_erase_everything" {
            "everything"
        } else {
            "contact"
        },
        counts,
    }))
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
            let entry = retention_audit("retention_contacts");
            removed.1 += store
                .erase(&ids, EraseScope::Contact, &[], &entry, &[])
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
            let entry = retention_audit("retention_submissions");
            removed.0 += store
                .erase(&ids, EraseScope::Everything, &[], &entry, &[])
                .await?
                .submissions_removed;
        }
    }
    if removed != (0, 0) {
        store.scrub_erased().await?;
    }
    Ok(removed)
}

fn retention_audit(action: &str) -> AuditEntry {
    AuditEntry {
        at: Utc::now(),
        actor: "retention".to_owned(),
        action: action.to_owned(),
        submission_id: None,
        detail: None,
    }
}
