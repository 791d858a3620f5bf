//! PostgreSQL: writing submissions (the indexer moves them from the inbox through `insert_rows`)
//! and reading them back.

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnection, PgRow, Postgres};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::{MIGRATOR, PostgresStore};
use crate::domain::outbox::NewMessage;
use crate::store::shared::writer_queue::write_through;
use crate::store::{
    AttachmentRow, ContactRow, IdempotencyRecord, InsertOutcome, IntakeStore, StoreError,
    StoredResponse, SubmissionRow, TABLES, TableCounts, TermsRecord,
};

/// Inserts submissions with all their rows (but their idempotency keys, written with the inbox
/// row); the indexer moves whole batches through this.
///
/// The submissions and their terms records go in **one statement with a fixed text**: the
/// columns as arrays, `UNNEST`ed, the terms inserted by a data-modifying CTE. A multi-row
/// `VALUES` list (18 parameters a row) had a different text for every batch size, so PostgreSQL
/// parsed and planned nearly every move afresh, and sqlx cached a prepared statement for each.
/// Attachments and contacts, rarer, keep a multi-row insert.
pub(super) async fn insert_rows(
    conn: &mut PgConnection,
    batch: &[&SubmissionRow],
) -> Result<(), sqlx::Error> {
    let labels = batch
        .iter()
        .map(|row| serde_json::to_string(&row.labels))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| sqlx::Error::Encode(e.into()))?;
    sqlx::query(
        "WITH input AS ( \
           SELECT * FROM UNNEST($1::uuid[], $2::timestamptz[], $3::text[], $4::text[], \
             $5::text[], $6::text[], $7::int2[], $8::text[], $9::text[], $10::text[], \
             $11::text[], $12::int4[], $13::int4[], $14::text[], $15::text[], $16::text[], \
             $17::uuid[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], \
             $23::timestamptz[]) \
           AS i (id, received_at, kind, status, summary, message, rating, webapp_version, \
             server_version, browser_brand, browser_version, screen_width, screen_height, \
             page_url, labels, assignee, duplicate_of, fingerprint, terms_version, \
             terms_sha256, widget, button, accepted_at)), \
         inserted AS ( \
           INSERT INTO submissions (id, received_at, kind, status, summary, message, rating, \
             webapp_version, server_version, browser_brand, browser_version, screen_width, \
             screen_height, page_url, labels, assignee, duplicate_of, fingerprint) \
           SELECT id, received_at, kind, status, summary, message, rating, webapp_version, \
             server_version, browser_brand, browser_version, screen_width, screen_height, \
             page_url, ARRAY(SELECT jsonb_array_elements_text(labels::jsonb)), assignee, \
             duplicate_of, fingerprint \
           FROM input RETURNING id) \
         INSERT INTO terms_acceptances (submission_id, terms_version, terms_sha256, widget, \
           button, accepted_at) \
         SELECT id, terms_version, terms_sha256, widget, button, accepted_at FROM input \
         WHERE id IN (SELECT id FROM inserted)",
    )
    .bind(batch.iter().map(|r| r.id).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.received_at).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.kind.as_str()).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.status.as_str()).collect::<Vec<_>>())
    .bind(
        batch
            .iter()
            .map(|r| r.summary.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(batch.iter().map(|r| r.message.as_str()).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.rating).collect::<Vec<_>>())
    .bind(
        batch
            .iter()
            .map(|r| r.webapp_version.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.server_version.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.browser_brand.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.browser_version.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(batch.iter().map(|r| r.screen_width).collect::<Vec<_>>())
    .bind(batch.iter().map(|r| r.screen_height).collect::<Vec<_>>())
    .bind(
        batch
            .iter()
            .map(|r| r.page_url.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(labels)
    .bind(
        batch
            .iter()
            .map(|r| r.assignee.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(batch.iter().map(|r| r.duplicate_of).collect::<Vec<_>>())
    .bind(
        batch
            .iter()
            .map(|r| r.fingerprint.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.terms.version.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.terms.sha256.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.terms.widget.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.terms.button.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        batch
            .iter()
            .map(|r| r.terms.accepted_at)
            .collect::<Vec<_>>(),
    )
    .execute(&mut *conn)
    .await?;

    let attachments: Vec<_> = batch
        .iter()
        .flat_map(|row| row.attachments.iter().map(move |a| (row.id, a)))
        .collect();
    if !attachments.is_empty() {
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO attachments (submission_id, position, object_key, filename, \
             content_type, size, sha256) ",
        );
        qb.push_values(attachments, |mut b, (id, a)| {
            b.push_bind(id)
                .push_bind(a.position)
                .push_bind(&a.object_key)
                .push_bind(&a.filename)
                .push_bind(&a.content_type)
                .push_bind(a.size)
                .push_bind(&a.sha256);
        });
        qb.build().execute(&mut *conn).await?;
    }

    let contacts: Vec<_> = batch
        .iter()
        .filter_map(|row| row.contact.as_ref().map(|c| (row.id, c)))
        .collect();
    if !contacts.is_empty() {
        let mut qb = QueryBuilder::<Postgres>::new(
            "INSERT INTO contacts (submission_id, blind_index, sealed, key_id) ",
        );
        qb.push_values(contacts, |mut b, (id, c)| {
            b.push_bind(id)
                .push_bind(&c.blind_index)
                .push_bind(&c.sealed)
                .push_bind(&c.key_id);
        });
        qb.build().execute(&mut *conn).await?;
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
        write_through(&self.queue, row, idempotency, outbox).await
    }

    async fn settle(&self) -> Result<(), StoreError> {
        self.settle_inbox().await
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
        self.settle_inbox().await?;
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
        self.settle_inbox().await?;
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

    /// Stops the writers after the batches in flight, then the indexer (whatever it leaves in
    /// the inbox is durable and moved by the next start, or by another replica).
    async fn close(&self) {
        let queue = self.queue.lock().expect("queue lock").take();
        drop(queue);
        let writers: Vec<_> = self.tasks.lock().expect("task lock").drain(..).collect();
        for writer in writers {
            let _ = writer.await;
        }
        self.stop_indexer.notify_one();
        let indexer = self.indexer.lock().expect("indexer lock").take();
        if let Some(indexer) = indexer {
            let _ = indexer.await;
        }
        if let Err(error) = self.settle_inbox().await {
            tracing::warn!(error = ?error, "the intake inbox is left for the next start");
        }
        self.pool.close().await;
    }
}
