//! PostgreSQL: finding a person's submissions, erasing them, retention, the deletion queue, leases.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::PostgresStore;
use super::triage::insert_audit_row;
use crate::store::{AuditEntry, EraseScope, Erased, PrivacyStore, StoreError};

#[async_trait]
impl PrivacyStore for PostgresStore {
    async fn submissions_for(&self, blind_index: &str) -> Result<Vec<Uuid>, StoreError> {
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
        audit: &AuditEntry,
    ) -> Result<Erased, StoreError> {
        let ids = ids.to_vec();
        let mut tx = self.pool.begin().await?;
        insert_audit_row(&mut tx, audit).await?;
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
        }
        tx.commit().await?;
        Ok(erased)
    }

    async fn received_before(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
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
