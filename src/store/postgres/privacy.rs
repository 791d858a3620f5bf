//! PostgreSQL: finding a person's submissions, erasing them, retention, the deletion queue, leases.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::PostgresStore;
use super::triage::insert_audit_row;
use crate::domain::outbox::NewMessage;
use crate::domain::redact::redact;
use crate::store::{
    AuditEntry, CONTACT_ACCESS_ACTIONS, ContactRow, EraseScope, Erased, PrivacyStore, StoreError,
};

/// Every table an erasure deletes from or rewrites; vacuumed after it.
const ERASED_TABLES: &str = "VACUUM submissions, terms_acceptances, attachments, contacts, \
     staff_notes, idempotency_keys, audit_log, pending_deletions, outbox";

/// Replaces the name and address in the notes and (for a contact erasure) the texts of the
/// submissions, and the address in any other staff note. Returns how many texts changed.
async fn redact_texts(
    tx: &mut PgConnection,
    ids: &[Uuid],
    terms: &[String],
    with_submission_texts: bool,
) -> Result<u64, sqlx::Error> {
    if terms.is_empty() {
        return Ok(0);
    }
    let mut changed = 0;
    let own: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, body FROM staff_notes WHERE submission_id = ANY($1)")
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
    let mut notes: Vec<(Uuid, String, Vec<String>)> = own
        .into_iter()
        .map(|(id, body)| (id, body, terms.to_vec()))
        .collect();
    for address in terms.iter().filter(|t| t.contains('@')) {
        let quoting: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT id, body FROM staff_notes WHERE strpos(lower(body), lower($1)) > 0 \
             AND NOT (submission_id = ANY($2))",
        )
        .bind(address)
        .bind(ids)
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
            sqlx::query("UPDATE staff_notes SET body = $1 WHERE id = $2")
                .bind(body)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
    }
    if with_submission_texts {
        let texts: Vec<(Uuid, Option<String>, String)> =
            sqlx::query_as("SELECT id, summary, message FROM submissions WHERE id = ANY($1)")
                .bind(ids)
                .fetch_all(&mut *tx)
                .await?;
        for (id, summary, message) in texts {
            let new_summary = summary.as_deref().and_then(|s| redact(s, terms));
            let new_message = redact(&message, terms);
            if new_summary.is_none() && new_message.is_none() {
                continue;
            }
            sqlx::query("UPDATE submissions SET summary = $1, message = $2 WHERE id = $3")
                .bind(new_summary.or(summary))
                .bind(new_message.unwrap_or(message))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            changed += 1;
        }
        // Replies are written to the person and may greet or quote them.
        changed += super::mail::redact_replies(tx, ids, terms).await?;
    }
    Ok(changed)
}

#[async_trait]
impl PrivacyStore for PostgresStore {
    async fn submissions_for(&self, blind_index: &str) -> Result<Vec<Uuid>, StoreError> {
        self.settle_inbox().await?;
        Ok(sqlx::query_scalar(
            "SELECT c.submission_id FROM contacts c JOIN submissions s ON s.id = c.submission_id \
             WHERE c.blind_index = $1 ORDER BY s.received_at DESC",
        )
        .bind(blind_index)
        .fetch_all(&self.pool)
        .await?)
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
        let ids = ids.to_vec();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE submissions SET contact_erased_at = now() WHERE id = ANY($1) \
             AND EXISTS (SELECT 1 FROM contacts c WHERE c.submission_id = submissions.id)",
        )
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
        let contacts_removed = sqlx::query("DELETE FROM contacts WHERE submission_id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let mut erased = Erased {
            submissions: ids.clone(),
            contacts_removed,
            ..Erased::default()
        };
        erased.texts_redacted =
            redact_texts(&mut tx, &ids, redact, scope == EraseScope::Contact).await?;
        sqlx::query(
            "UPDATE audit_log SET submission_id = NULL \
             WHERE submission_id = ANY($1) AND action = ANY($2)",
        )
        .bind(&ids)
        .bind(&CONTACT_ACCESS_ACTIONS[..])
        .execute(&mut *tx)
        .await?;
        if scope == EraseScope::Everything {
            erased.objects_queued = sqlx::query(
                "INSERT INTO pending_deletions (object_key, reason, created_at) \
                 SELECT object_key, $1, $2 FROM attachments WHERE submission_id = ANY($3) \
                 ON CONFLICT (object_key) DO NOTHING",
            )
            .bind(&audit.action)
            .bind(Utc::now())
            .bind(&ids)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            erased.submissions_removed = sqlx::query("DELETE FROM submissions WHERE id = ANY($1)")
                .bind(&ids)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Nothing linkable stays: the removed submissions' messages go with them, and
            // only what the caller asks (a withdrawal's event) is written instead.
            super::outbox::purge_outbox(&mut tx, &ids).await?;
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
        // Outside any transaction (VACUUM refuses one), as one simple-protocol statement.
        sqlx::raw_sql(ERASED_TABLES).execute(&self.pool).await?;
        Ok(())
    }

    async fn contacts_to_reseal(
        &self,
        key_id: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<(Uuid, ContactRow)>, StoreError> {
        self.settle_inbox().await?;
        let rows: Vec<(Uuid, Option<String>, Vec<u8>, String)> = sqlx::query_as(
            "SELECT submission_id, blind_index, sealed, key_id FROM contacts \
             WHERE key_id <> $1 AND submission_id > $2 ORDER BY submission_id LIMIT $3",
        )
        .bind(key_id)
        .bind(after.unwrap_or(Uuid::nil()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, blind_index, sealed, key_id)| {
                (
                    id,
                    ContactRow {
                        blind_index,
                        sealed,
                        key_id,
                    },
                )
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
            "UPDATE contacts SET sealed = $1, blind_index = $2, key_id = $3 \
             WHERE submission_id = $4 AND key_id = $5",
        )
        .bind(&sealed.sealed)
        .bind(&sealed.blind_index)
        .bind(&sealed.key_id)
        .bind(submission_id)
        .bind(old_key_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn erasure_record(&self, receipt: &str) -> Result<Option<AuditEntry>, StoreError> {
        let row: Option<(DateTime<Utc>, String, String, Option<String>)> = sqlx::query_as(
            "SELECT at, actor, action, detail FROM audit_log \
             WHERE action IN ('privacy_erase_contact', 'privacy_erase_everything') \
             AND detail LIKE $1 ORDER BY id DESC LIMIT 1",
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
        let rows: Vec<(DateTime<Utc>, String, String, Option<Uuid>, Option<String>)> =
            sqlx::query_as(
                "SELECT at, actor, action, submission_id, detail FROM audit_log \
                 WHERE submission_id = ANY($1) AND action = ANY($2) ORDER BY id",
            )
            .bind(ids)
            .bind(&CONTACT_ACCESS_ACTIONS[..])
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, submission_id, detail)| AuditEntry {
                at,
                actor,
                action,
                submission_id,
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
        Ok(sqlx::query_scalar(
            "SELECT id FROM submissions WHERE received_at < $1 ORDER BY received_at LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn contacts_received_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.settle_inbox().await?;
        Ok(sqlx::query_scalar(
            "SELECT c.submission_id FROM contacts c JOIN submissions s ON s.id = c.submission_id \
             WHERE s.received_at < $1 ORDER BY s.received_at LIMIT $2",
        )
        .bind(before)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn pending_deletions(&self, limit: u32) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT object_key FROM pending_deletions ORDER BY created_at LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    async fn deletions_done(&self, keys: &[String]) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM pending_deletions WHERE object_key = ANY($1)")
            .bind(keys)
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
            "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < now()",
        )
        .bind(name)
        .bind(holder)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(taken.rows_affected() > 0)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM job_leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
