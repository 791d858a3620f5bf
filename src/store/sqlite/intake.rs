//! SQLite: writing submissions (called by the group-commit writer) and reading them back.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{MIGRATOR, SqliteStore};
use crate::domain::outbox::NewMessage;
use crate::store::shared::writer_queue::write_through;
use crate::store::{
    AttachmentRow, ContactRow, IdempotencyRecord, InsertOutcome, IntakeStore, StoreError,
    StoredResponse, SubmissionRow, TABLES, TableCounts, TermsRecord,
};

pub(super) async fn stored_response(
    conn: &mut SqliteConnection,
    key_hash: &str,
) -> Result<Option<StoredResponse>, sqlx::Error> {
    sqlx::query_as("SELECT response, content_sha256 FROM idempotency_keys WHERE key_hash = ?")
        .bind(key_hash)
        .fetch_optional(conn)
        .await
}

/// Inserts submissions with all their rows (but their idempotency keys, written with the inbox
/// row): one multi-row statement per table, however many submissions there are (the indexer
/// moves whole batches from the inbox through this).
pub(super) async fn insert_rows(
    conn: &mut SqliteConnection,
    batch: &[&SubmissionRow],
) -> Result<(), sqlx::Error> {
    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT INTO submissions (id, received_at, kind, status, summary, message, rating, \
         webapp_version, server_version, browser_brand, browser_version, screen_width, \
         screen_height, page_url, labels, assignee, duplicate_of, fingerprint) ",
    );
    qb.push_values(batch, |mut b, row| {
        b.push_bind(row.id.to_string())
            .push_bind(row.received_at)
            .push_bind(row.kind)
            .push_bind(row.status)
            .push_bind(row.summary.clone())
            .push_bind(row.message.clone())
            .push_bind(row.rating)
            .push_bind(row.webapp_version.clone())
            .push_bind(row.server_version.clone())
            .push_bind(row.browser_brand.clone())
            .push_bind(row.browser_version.clone())
            .push_bind(row.screen_width)
            .push_bind(row.screen_height)
            .push_bind(row.page_url.clone())
            .push_bind(labels_json(&row.labels))
            .push_bind(row.assignee.clone())
            .push_bind(row.duplicate_of.map(|id| id.to_string()))
            .push_bind(row.fingerprint.clone());
    });
    qb.build().execute(&mut *conn).await?;

    let mut qb = QueryBuilder::<Sqlite>::new(
        "INSERT INTO terms_acceptances (submission_id, terms_version, terms_sha256, widget, \
         button, accepted_at) ",
    );
    qb.push_values(batch, |mut b, row| {
        let terms = &row.terms;
        b.push_bind(row.id.to_string())
            .push_bind(terms.version.clone())
            .push_bind(terms.sha256.clone())
            .push_bind(terms.widget.clone())
            .push_bind(terms.button.clone())
            .push_bind(terms.accepted_at);
    });
    qb.build().execute(&mut *conn).await?;

    let attachments: Vec<_> = batch
        .iter()
        .flat_map(|row| row.attachments.iter().map(move |a| (row.id, a)))
        .collect();
    if !attachments.is_empty() {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO attachments (submission_id, position, object_key, filename, \
             content_type, size, sha256) ",
        );
        qb.push_values(attachments, |mut b, (id, a)| {
            b.push_bind(id.to_string())
                .push_bind(a.position)
                .push_bind(a.object_key.clone())
                .push_bind(a.filename.clone())
                .push_bind(a.content_type.clone())
                .push_bind(a.size)
                .push_bind(a.sha256.clone());
        });
        qb.build().execute(&mut *conn).await?;
    }

    let contacts: Vec<_> = batch
        .iter()
        .filter_map(|row| row.contact.as_ref().map(|c| (row.id, c)))
        .collect();
    if !contacts.is_empty() {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO contacts (submission_id, blind_index, sealed, key_id) ",
        );
        qb.push_values(contacts, |mut b, (id, c)| {
            b.push_bind(id.to_string())
                .push_bind(c.blind_index.clone())
                .push_bind(c.sealed.clone())
                .push_bind(c.key_id.clone());
        });
        qb.build().execute(&mut *conn).await?;
    }

    Ok(())
}

pub(super) fn labels_json(labels: &[String]) -> String {
    serde_json::to_string(labels).expect("strings serialise")
}

pub(super) fn labels_from_json(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(super) fn uuid_column(row: &SqliteRow, column: &str) -> Result<Uuid, sqlx::Error> {
    let text: String = row.try_get(column)?;
    Uuid::parse_str(&text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn submission_from_row(row: &SqliteRow) -> Result<SubmissionRow, sqlx::Error> {
    let duplicate_of: Option<String> = row.try_get("duplicate_of")?;
    Ok(SubmissionRow {
        id: uuid_column(row, "id")?,
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
        labels: labels_from_json(row.try_get("labels")?),
        assignee: row.try_get("assignee")?,
        duplicate_of: duplicate_of.and_then(|d| Uuid::parse_str(&d).ok()),
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
impl IntakeStore for SqliteStore {
    /// Migrates under an exclusive file lock beside the database, so that processes starting
    /// together (two replicas, or `migrate` during `serve`) do not both apply a migration.
    async fn migrate(&self) -> Result<(), StoreError> {
        let lock = match &self.file {
            Some(file) => {
                let mut name = file.clone().into_os_string();
                name.push(".migrate-lock");
                let lock = std::fs::File::create(name).map_err(sqlx::Error::Io)?;
                let lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
                    .await
                    .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
                    .map_err(sqlx::Error::Io)?;
                Some(lock)
            }
            None => None,
        };
        let outcome = MIGRATOR.run(&self.writer_pool).await;
        drop(lock);
        outcome?;
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
        write_through(&self.queue, row, idempotency, outbox).await
    }

    async fn idempotent_response(
        &self,
        key_hash: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<StoredResponse>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT response, content_sha256 FROM idempotency_keys \
             WHERE key_hash = ? AND created_at >= ?",
        )
        .bind(key_hash)
        .bind(not_before)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn settle(&self) -> Result<(), StoreError> {
        self.settle_inbox().await
    }

    async fn submission(&self, id: Uuid) -> Result<Option<SubmissionRow>, StoreError> {
        self.settle_inbox().await?;
        let id_text = id.to_string();
        let Some(row) = sqlx::query(
            "SELECT s.*, t.terms_version, t.terms_sha256, t.widget, t.button, t.accepted_at \
             FROM submissions s JOIN terms_acceptances t ON t.submission_id = s.id WHERE s.id = ?",
        )
        .bind(&id_text)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let mut submission = submission_from_row(&row)?;
        submission.attachments = sqlx::query(
            "SELECT position, object_key, filename, content_type, size, sha256 FROM attachments \
             WHERE submission_id = ? ORDER BY position",
        )
        .bind(&id_text)
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
        submission.contact =
            sqlx::query("SELECT blind_index, sealed, key_id FROM contacts WHERE submission_id = ?")
                .bind(&id_text)
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
        self.settle_inbox().await?;
        let keys_json = serde_json::to_string(keys).expect("strings serialise");
        let found: Vec<String> = sqlx::query_scalar(
            "SELECT object_key FROM attachments WHERE object_key IN (SELECT value FROM json_each(?))",
        )
        .bind(keys_json)
        .fetch_all(&self.pool)
        .await?;
        Ok(found.into_iter().collect())
    }

    async fn prune_idempotency_keys(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < ?")
            .bind(older_than)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn refresh_planner_statistics(&self) -> Result<(), StoreError> {
        self.settle_inbox().await?;
        super::statistics::refresh(&self.pool).await
    }

    async fn table_counts(&self) -> Result<TableCounts, StoreError> {
        self.settle_inbox().await?;
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
        let queue = self.queue.lock().expect("queue lock").take();
        drop(queue);
        let settles = self.settles.lock().expect("settle lock").take();
        drop(settles);
        let writer = self.writer.lock().expect("writer lock").take();
        if let Some(writer) = writer {
            let _ = writer.await;
        }
        self.pool.close().await;
        self.writer_pool.close().await;
    }
}
