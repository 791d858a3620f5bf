//! PostgreSQL: writing submissions and reading them back.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::{PgConnection, PgRow};
use uuid::Uuid;

use super::{MIGRATOR, PostgresStore};
use crate::domain::outbox::NewMessage;
use crate::store::{
    AttachmentRow, ContactRow, IdempotencyRecord, InsertOutcome, IntakeStore, StoreError,
    StoredResponse, SubmissionRow, TABLES, TableCounts, TermsRecord,
};

async fn insert_rows(
    conn: &mut PgConnection,
    row: &SubmissionRow,
    idempotency: Option<&IdempotencyRecord>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO submissions (id, received_at, kind, status, summary, message, rating, \
         webapp_version, server_version, browser_brand, browser_version, screen_width, \
         screen_height, page_url, labels, assignee, duplicate_of, fingerprint) VALUES ($1, $2, $3, \
         $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
    )
    .bind(row.id)
    .bind(row.received_at)
    .bind(row.kind)
    .bind(row.status)
    .bind(&row.summary)
    .bind(&row.message)
    .bind(row.rating)
    .bind(&row.webapp_version)
    .bind(&row.server_version)
    .bind(&row.browser_brand)
    .bind(&row.browser_version)
    .bind(row.screen_width)
    .bind(row.screen_height)
    .bind(&row.page_url)
    .bind(&row.labels)
    .bind(&row.assignee)
    .bind(row.duplicate_of)
    .bind(&row.fingerprint)
    .execute(&mut *conn)
    .await?;
    let terms = &row.terms;
    sqlx::query(
        "INSERT INTO terms_acceptances (submission_id, terms_version, terms_sha256, widget, \
         button, accepted_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id)
    .bind(&terms.version)
    .bind(&terms.sha256)
    .bind(&terms.widget)
    .bind(&terms.button)
    .bind(terms.accepted_at)
    .execute(&mut *conn)
    .await?;
    for a in &row.attachments {
        sqlx::query(
            "INSERT INTO attachments (submission_id, position, object_key, filename, \
             content_type, size, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(row.id)
        .bind(a.position)
        .bind(&a.object_key)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(&a.sha256)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(contact) = &row.contact {
        sqlx::query(
            "INSERT INTO contacts (submission_id, blind_index, sealed, key_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(row.id)
        .bind(&contact.blind_index)
        .bind(&contact.sealed)
        .bind(&contact.key_id)
        .execute(&mut *conn)
        .await?;
    }
    if let Some(idem) = idempotency {
        sqlx::query(
            "INSERT INTO idempotency_keys \
             (key_hash, submission_id, response, content_sha256, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&idem.key_hash)
        .bind(row.id)
        .bind(&idem.response)
        .bind(&idem.content_sha256)
        .bind(row.received_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

fn submission_from_row(row: &PgRow) -> Result<SubmissionRow, sqlx::Error> {
    Ok(SubmissionRow {
        id: row.try_get("id")?,
        received_at: row.try_get("received_at")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        summary: row.try_get("summary")?,
        message: row.try_get("message")?,
        rating: row.try_get("rating")?,
        webapp_version: row.try_get("webapp_version")?,
        server_version: row.try_get("server_version")?,
        browser_brand: row.try_get("browser_brand")?,
        browser_version: row.try_get("browser_version")?,
        screen_width: row.try_get("screen_width")?,
        screen_height: row.try_get("screen_height")?,
        page_url: row.try_get("page_url")?,
        labels: row.try_get("labels")?,
        assignee: row.try_get("assignee")?,
        duplicate_of: row.try_get("duplicate_of")?,
        fingerprint: row.try_get("fingerprint")?,
        terms: TermsRecord {
            version: row.try_get("terms_version")?,
            sha256: row.try_get("terms_sha256")?,
            widget: row.try_get("widget")?,
            button: row.try_get("button")?,
            accepted_at: row.try_get("accepted_at")?,
        },
        attachments: Vec::new(),
        contact: None,
    })
}

#[async_trait]
impl IntakeStore for PostgresStore {
    async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn insert_submission(
        &self,
        row: SubmissionRow,
        idempotency: Option<IdempotencyRecord>,
        outbox: Vec<NewMessage>,
    ) -> Result<InsertOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let written = match insert_rows(&mut tx, &row, idempotency.as_ref()).await {
            Ok(()) => super::outbox::insert_outbox_messages(&mut tx, &outbox).await,
            Err(error) => Err(error),
        };
        match written {
            Ok(()) => {
                tx.commit().await?;
                Ok(InsertOutcome::Inserted)
            }
            Err(error) => {
                tx.rollback().await?;
                let is_conflict = error
                    .as_database_error()
                    .is_some_and(|e| e.is_unique_violation());
                if let (true, Some(idem)) = (is_conflict, &idempotency) {
                    let response: Option<StoredResponse> = sqlx::query_as(
                        "SELECT response, content_sha256 FROM idempotency_keys \
                         WHERE key_hash = $1",
                    )
                    .bind(&idem.key_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                    if let Some(response) = response {
                        return Ok(InsertOutcome::Replayed(response));
                    }
                }
                Err(error.into())
            }
        }
    }

    async fn idempotent_response(
        &self,
        key_hash: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<StoredResponse>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT response, content_sha256 FROM idempotency_keys \
             WHERE key_hash = $1 AND created_at >= $2",
        )
        .bind(key_hash)
        .bind(not_before)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn submission(&self, id: Uuid) -> Result<Option<SubmissionRow>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT s.*, t.terms_version, t.terms_sha256, t.widget, t.button, t.accepted_at \
             FROM submissions s JOIN terms_acceptances t ON t.submission_id = s.id WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut submission = submission_from_row(&row)?;
        submission.attachments = sqlx::query(
            "SELECT position, object_key, filename, content_type, size, sha256 FROM attachments \
             WHERE submission_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(AttachmentRow {
                position: r.try_get("position")?,
                object_key: r.try_get("object_key")?,
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                size: r.try_get("size")?,
                sha256: r.try_get("sha256")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
        submission.contact = sqlx::query(
            "SELECT blind_index, sealed, key_id FROM contacts WHERE submission_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            Ok::<_, sqlx::Error>(ContactRow {
                blind_index: r.try_get("blind_index")?,
                sealed: r.try_get("sealed")?,
                key_id: r.try_get("key_id")?,
            })
        })
        .transpose()?;
        Ok(Some(submission))
    }

    async fn referenced_objects(&self, keys: &[String]) -> Result<HashSet<String>, StoreError> {
        let found: Vec<String> =
            sqlx::query_scalar("SELECT object_key FROM attachments WHERE object_key = ANY($1)")
                .bind(keys)
                .fetch_all(&self.pool)
                .await?;
        Ok(found.into_iter().collect())
    }

    async fn prune_idempotency_keys(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(older_than)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// PostgreSQL's autovacuum keeps the statistics up to date.
    async fn refresh_planner_statistics(&self) -> Result<(), StoreError> {
        Ok(())
    }

    async fn table_counts(&self) -> Result<TableCounts, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM submissions), (SELECT COUNT(*) FROM terms_acceptances), \
             (SELECT COUNT(*) FROM attachments), (SELECT COUNT(*) FROM contacts), \
             (SELECT COUNT(*) FROM idempotency_keys)",
        )
        .fetch_one(&self.pool)
        .await?;
        TABLES
            .iter()
            .enumerate()
            .map(|(i, table)| Ok((*table, row.try_get::<i64, _>(i)?)))
            .collect()
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
