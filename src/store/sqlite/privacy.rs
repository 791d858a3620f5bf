//! SQLite: finding a person's submissions, erasing them, retention, the deletion queue, leases.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::SqliteStore;
use super::triage::insert_audit_row;
use crate::store::{AuditEntry, EraseScope, Erased, PrivacyStore, StoreError};

fn ids_json(ids: &[Uuid]) -> String {
    serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
        .expect("strings serialise")
}

fn parse_ids(ids: Vec<String>) -> Vec<Uuid> {
    ids.iter()
        .filter_map(|id| Uuid::parse_str(id).ok())
        .collect()
}

#[async_trait]
impl PrivacyStore for SqliteStore {
    async fn submissions_for(&self, blind_index: &str) -> Result<Vec<Uuid>, StoreError> {
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
        audit: &AuditEntry,
    ) -> Result<Erased, StoreError> {
        let ids_json = ids_json(ids);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        insert_audit_row(&mut tx, audit).await?;
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
        }
        tx.commit().await?;
        Ok(erased)
    }

    async fn received_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
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
