//! SQLite: finding a person's submissions, erasing them, retention, the deletion queue, leases.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;
use uuid::Uuid;

use super::SqliteStore;
use super::triage::insert_audit_row;
use crate::domain::outbox::NewMessage;
use crate::domain::redact::redact;
use crate::store::{
    AuditEntry, CONTACT_ACCESS_ACTIONS, ContactRow, EraseScope, Erased, PrivacyStore, StoreError,
};

/// Tries of a WAL truncation that readers keep busy.
const CHECKPOINT_TRIES: u32 = 20;

fn ids_json(ids: &[Uuid]) -> String {
    serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .expect("strings serialise")
}

fn parse_ids(ids: Vec<String>) -> Vec<Uuid> {
    ids.iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}

fn access_actions() -> String {
    serde_json::to_string(&CONTACT_ACCESS_ACTIONS).expect("strings serialise")
}

/// Replaces the name and address in the notes and (for a contact erasure) the texts of the
/// submissions, and the address in any other staff note. Returns how many texts changed.
async fn redact_texts(
    tx: &mut SqliteConnection,
    ids_json: &str,
    terms: &[String],
    with_submission_texts: bool,
) -> Result<u64, sqlx::Error> {
    if terms.is_empty() {
        return Ok(0);
    }
    let mut changed = 0;
    let own: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, body FROM staff_notes WHERE submission_id IN (SELECT value FROM json_each(?))",
    )
    .bind(ids_json)
    .fetch_all(&mut *tx)
    .await?;
    let mut notes: Vec<(String, String, Vec<String>)> = own
        .into_iter()
        .map(|(id, body)| (id, body, terms.to_vec()))
        .collect();
    for address in terms.iter().filter(|t| t.contains('@')) {
        let quoting: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, body FROM staff_notes WHERE instr(lower(body), lower(?)) > 0 \
             AND submission_id NOT IN (SELECT value FROM json_each(?))",
        )
        .bind(address)
        .bind(ids_json)
        .fetch_all(&mut *tx)
        .await?;
        notes.extend(
            quoting
                .into_iter()
                .map(|(id, body)| (id, body, vec![address.clone()])),
        );
    }
    for (id, body, terms) in notes {
        if let Some(body) = redact(&body, &terms) {
            sqlx::query("UPDATE staff_notes SET body = ? WHERE id = ?")
                .bind(body)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
    }
    if with_submission_texts {
        let texts: Vec<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT id, summary, message FROM submissions \
             WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(ids_json)
        .fetch_all(&mut *tx)
        .await?;
        for (id, summary, message) in texts {
            let new_summary = summary.as_deref().and_then(|s| redact(s, terms));
            let new_message = redact(&message, terms);
            if new_summary.is_none() && new_message.is_none() {
                continue;
            }
            // The full-text index follows through the update trigger.
            sqlx::query("UPDATE submissions SET summary = ?, message = ? WHERE id = ?")
                .bind(new_summary.or(summary))
                .bind(new_message.unwrap_or(message))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
        // Replies are written to the person and may greet or quote them.
        changed += super::mail::redact_replies(tx, ids_json, terms).await?;
    }
    Ok(changed)
}

#[async_trait]
impl PrivacyStore for SqliteStore {
    async fn submissions_for(&self, blind_index: &str) -> Result<Vec<Uuid>, StoreError> {
        self.settle_inbox().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT c.submission_id FROM contacts c JOIN submissions s ON s.id = c.submission_id \
             WHERE c.blind_index = ? ORDER BY s.received_at DESC",
        )
        .bind(blind_index)
        .fetch_all(&self.pool)
        .await?;
        Ok(parse_ids(ids))
    }

    async fn erase(
        &self,
        ids: &[Uuid],
        scope: EraseScope,
        redact: &[String],
        audit: &AuditEntry,
        outbox: &[NewMessage],
    ) -> Result<Erased, StoreError> {
        self.settle_inbox().await?;
        let ids_json = ids_json(ids);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "UPDATE submissions SET contact_erased_at = ? WHERE id IN (SELECT value FROM json_each(?)) \
             AND EXISTS (SELECT 1 FROM contacts c WHERE c.submission_id = submissions.id)",
        )
        .bind(Utc::now())
        .bind(&ids_json)
        .execute(&mut *tx)
        .await?;
        let contacts_removed = sqlx::query(
            "DELETE FROM contacts WHERE submission_id IN (SELECT value FROM json_each(?))",
        )
        .bind(&ids_json)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let mut erased = Erased {
            submissions: ids.to_vec(),
            contacts_removed,
            ..Erased::default()
        };
        erased.texts_redacted =
            redact_texts(&mut tx, &ids_json, redact, scope == EraseScope::Contact).await?;
        sqlx::query(
            "UPDATE audit_log SET submission_id = NULL \
             WHERE submission_id IN (SELECT value FROM json_each(?)) \
             AND action IN (SELECT value FROM json_each(?))",
        )
        .bind(&ids_json)
        .bind(access_actions())
        .execute(&mut *tx)
        .await?;
        if scope == EraseScope::Everything {
            erased.objects_queued = sqlx::query(
                "INSERT OR IGNORE INTO pending_deletions (object_key, reason, created_at) \
                 SELECT object_key, ?, ? FROM attachments \
                 WHERE submission_id IN (SELECT value FROM json_each(?))",
            )
            .bind(&audit.action)
            .bind(Utc::now())
            .bind(&ids_json)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            erased.submissions_removed =
                sqlx::query("DELETE FROM submissions WHERE id IN (SELECT value FROM json_each(?))")
                    .bind(&ids_json)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            // Nothing linkable stays: the removed submissions' messages go with them, and
            // only what the caller asks (a withdrawal's event) is written instead.
            super::outbox::purge_outbox(&mut tx, &ids_json).await?;
            if erased.submissions_removed > 0 {
                super::outbox::insert_outbox_messages(&mut tx, outbox).await?;
            }
        }
        let mut entry = audit.clone();
        entry.detail = Some(match &audit.detail {
            Some(detail) => format!("{detail} {}", erased.describe()),
            None => erased.describe(),
        });
        insert_audit_row(&mut tx, &entry).await?;
        tx.commit().await?;
        Ok(erased)
    }

    async fn scrub_erased(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        for _ in 0..CHECKPOINT_TRIES {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut *conn)
                .await?;
            if busy == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tracing::warn!("the WAL could not be truncated after an erasure: readers kept it busy");
        Ok(())
    }

    async fn contacts_to_reseal(
        &self,
        key_id: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(Uuid, ContactRow)>, StoreError> {
        self.settle_inbox().await?;
        let rows: Vec<(String, Option<String>, Vec<u8>, String)> = sqlx::query_as(
            "SELECT submission_id, blind_index, sealed, key_id FROM contacts \
             WHERE key_id <> ? AND submission_id > ? ORDER BY submission_id LIMIT ?",
        )
        .bind(key_id)
        .bind(after.map(|id| id.to_string()).unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, blind_index, sealed, key_id)| {
                let id = Uuid::parse_str(&id).ok()?;
                Some((
                    id,
                    ContactRow {
                        blind_index,
                        sealed,
                        key_id,
                    },
                ))
            })
            .collect())
    }

    async fn reseal_contact(
        &self,
        submission_id: Uuid,
        old_key_id: &str,
        sealed: &ContactRow,
    ) -> Result<bool, StoreError> {
        self.settle_inbox().await?;
        let done = sqlx::query(
            "UPDATE contacts SET sealed = ?, blind_index = ?, key_id = ? \
             WHERE submission_id = ? AND key_id = ?",
        )
        .bind(&sealed.sealed)
        .bind(&sealed.blind_index)
        .bind(&sealed.key_id)
        .bind(submission_id.to_string())
        .bind(old_key_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn erasure_record(&self, receipt: &str) -> Result<Option<AuditEntry>, StoreError> {
        let row: Option<(DateTime<Utc>, String, String, Option<String>)> = sqlx::query_as(
            "SELECT at, actor, action, detail FROM audit_log \
             WHERE action IN ('privacy_erase_contact', 'privacy_erase_everything') \
             AND detail LIKE ? ORDER BY id DESC LIMIT 1",
        )
        .bind(format!("receipt={receipt} %"))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(at, actor, action, detail)| AuditEntry {
            at,
            actor,
            action,
            submission_id: None,
            detail,
        }))
    }

    async fn contact_access(&self, ids: &[Uuid]) -> Result<Vec<AuditEntry>, StoreError> {
        self.settle_inbox().await?;
        let rows: Vec<(
            DateTime<Utc>,
            String,
            String,
            Option<String>,
            Option<String>,
        )> = sqlx::query_as(
            "SELECT at, actor, action, submission_id, detail FROM audit_log \
                 WHERE submission_id IN (SELECT value FROM json_each(?)) \
                 AND action IN (SELECT value FROM json_each(?)) ORDER BY id",
        )
        .bind(ids_json(ids))
        .bind(access_actions())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, submission, detail)| AuditEntry {
                at,
                actor,
                action,
                submission_id: submission.and_then(|s| Uuid::parse_str(&s).ok()),
                detail,
            })
            .collect())
    }

    async fn received_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.settle_inbox().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM submissions WHERE received_at < ? ORDER BY received_at LIMIT ?",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(parse_ids(ids))
    }

    async fn contacts_received_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.settle_inbox().await?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT c.submission_id FROM contacts c JOIN submissions s ON s.id = c.submission_id \
             WHERE s.received_at < ? ORDER BY s.received_at LIMIT ?",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(parse_ids(ids))
    }

    async fn pending_deletions(&self, limit: u32) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT object_key FROM pending_deletions ORDER BY created_at LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn deletions_done(&self, keys: &[String]) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM pending_deletions WHERE object_key IN (SELECT value FROM json_each(?))",
        )
        .bind(serde_json::to_string(keys).expect("strings serialise"))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let taken = sqlx::query(
            "INSERT INTO job_leases (name, holder, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < ?",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .bind(Utc::now())
        .execute(&self.pool)
        .await?;
        Ok(taken.rows_affected() > 0)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM job_leases WHERE name = ? AND holder = ?")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
