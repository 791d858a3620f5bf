//! SQLite: the queue (keyset pages, newest first, FTS5 text search), triage updates, notes,
//! and the audit log (likely duplicates: `duplicates.rs`).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{Sqlite, SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row};
use uuid::Uuid;

use super::SqliteStore;
use super::intake::{labels_from_json, labels_json, uuid_column};
use crate::domain::outbox::EventMessages;
use crate::store::shared::facets::{FacetQueries, facets, pairs};
use crate::store::shared::filters::{Versions, push_common_filters, versions};
use crate::store::{
    AuditEntry, FacetScope, Facets, NoteRow, QueueCursor, QueueFilter, QueueItem, StoreError,
    TriagePatch, TriageRefusal, TriageStore, distinct_ids, fts5_query,
};

const QUEUE_COLUMNS: &str = "SELECT s.id, s.received_at, s.kind, s.status, s.summary, \
    substr(s.message, 1, 240) AS excerpt, s.rating, s.labels, s.assignee, s.browser_brand, \
    s.browser_version, s.webapp_version, s.server_version, s.fingerprint, \
    (SELECT COUNT(*) FROM attachments a WHERE a.submission_id = s.id) AS attachment_count, \
    EXISTS (SELECT 1 FROM contacts c WHERE c.submission_id = s.id) AS has_contact \
    FROM submissions s WHERE 1 = 1";

/// The filters' choices: the values of each column among the newest 5,000 submissions.
const FACETS: FacetQueries = FacetQueries {
    labels: "SELECT l.value, COUNT(*) FROM (SELECT labels FROM submissions WHERE received_at >= ? ORDER BY received_at DESC LIMIT 5000) s, json_each(s.labels) l GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    assignees: "SELECT s.assignee, COUNT(*) FROM (SELECT assignee FROM submissions WHERE received_at >= ? ORDER BY received_at DESC LIMIT 5000) s WHERE s.assignee IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    browsers: "SELECT s.browser_brand, COUNT(*) FROM (SELECT browser_brand FROM submissions WHERE received_at >= ? ORDER BY received_at DESC LIMIT 5000) s GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?",
    webapp_versions: "SELECT s.webapp_version, COUNT(*) FROM (SELECT webapp_version FROM submissions WHERE received_at >= ? ORDER BY received_at DESC LIMIT 5000) s GROUP BY 1 ORDER BY 1 DESC LIMIT ?",
    server_versions: "SELECT s.server_version, COUNT(*) FROM (SELECT server_version FROM submissions WHERE received_at >= ? ORDER BY received_at DESC LIMIT 5000) s GROUP BY 1 ORDER BY 1 DESC LIMIT ?",
};

/// Appends one `AND` clause per set filter: those both backends share, then the label and
/// the text, as this backend writes them.
fn push_filters(
    qb: &mut QueryBuilder<Sqlite>,
    filter: &QueueFilter,
    versions: &Versions,
    with_status: bool,
) {
    push_common_filters(qb, filter, versions, with_status);
    if let Some(label) = &filter.label {
        qb.push(" AND EXISTS (SELECT 1 FROM json_each(s.labels) WHERE value = ")
            .push_bind(label.clone())
            .push(")");
    }
    if let Some(query) = filter.text.as_deref().and_then(fts5_query) {
        qb.push(
            " AND s.rowid IN (SELECT rowid FROM submissions_text WHERE submissions_text MATCH ",
        )
        .push_bind(query)
        .push(")");
    }
}

/// `labels` with the patch's one label added (unless there) and one removed, in order.
fn push_labels_changed(qb: &mut QueryBuilder<Sqlite>, patch: &TriagePatch) {
    if patch.remove_label.is_some() {
        qb.push("(SELECT json_group_array(value) FROM json_each(");
    }
    match &patch.add_label {
        Some(label) => {
            qb.push("CASE WHEN EXISTS (SELECT 1 FROM json_each(labels) WHERE value = ")
                .push_bind(label.clone())
                .push(") THEN labels ELSE json_insert(labels, '$[#]', ")
                .push_bind(label.clone())
                .push(") END");
        }
        None => {
            qb.push("labels");
        }
    }
    if let Some(gone) = &patch.remove_label {
        qb.push(") WHERE value <> ")
            .push_bind(gone.clone())
            .push(")");
    }
}

fn queue_item(row: &SqliteRow) -> Result<QueueItem, sqlx::Error> {
    Ok(QueueItem {
        id: uuid_column(row, "id")?,
        received_at: row.try_get("received_at")?,
        kind: row.try_get("kind")?,
        status: row.try_get("status")?,
        summary: row.try_get("summary")?,
        excerpt: row.try_get("excerpt")?,
        rating: row.try_get("rating")?,
        labels: labels_from_json(row.try_get("labels")?),
        assignee: row.try_get("assignee")?,
        browser_brand: row.try_get("browser_brand")?,
        browser_version: row.try_get("browser_version")?,
        webapp_version: row.try_get("webapp_version")?,
        server_version: row.try_get("server_version")?,
        attachment_count: row.try_get("attachment_count")?,
        has_contact: row.try_get("has_contact")?,
        fingerprint: row.try_get("fingerprint")?,
    })
}

/// Writes one audit entry on `conn` (inside the caller's transaction, if any).
pub(super) async fn insert_audit_row(
    conn: &mut SqliteConnection,
    entry: &AuditEntry,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, submission_id, detail) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(entry.at)
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(entry.submission_id.map(|id| id.to_string()))
    .bind(&entry.detail)
    .execute(conn)
    .await?;
    Ok(())
}

#[async_trait]
impl TriageStore for SqliteStore {
    async fn queue_page(
        &self,
        filter: &QueueFilter,
        cursor: Option<QueueCursor>,
        limit: u32,
    ) -> Result<Vec<QueueItem>, StoreError> {
        self.settle_inbox().await?;
        let mut qb = QueryBuilder::<Sqlite>::new(QUEUE_COLUMNS);
        push_filters(&mut qb, filter, &versions(&self.pool, filter).await?, true);
        if let Some(cursor) = cursor {
            qb.push(" AND (s.received_at < ")
                .push_bind(cursor.received_at)
                .push(" OR (s.received_at = ")
                .push_bind(cursor.received_at)
                .push(" AND s.id < ")
                .push_bind(cursor.id.to_string())
                .push("))");
        }
        // A literal limit (a number the caller bounded), so the planner knows the page is small.
        qb.push(format!(
            " ORDER BY s.received_at DESC, s.id DESC LIMIT {limit}"
        ));
        let rows = qb.build().fetch_all(&self.pool).await?;
        Ok(rows.iter().map(queue_item).collect::<Result<_, _>>()?)
    }

    async fn queue_page_newer(
        &self,
        filter: &QueueFilter,
        cursor: QueueCursor,
        limit: u32,
    ) -> Result<Vec<QueueItem>, StoreError> {
        self.settle_inbox().await?;
        let mut qb = QueryBuilder::<Sqlite>::new(QUEUE_COLUMNS);
        push_filters(&mut qb, filter, &versions(&self.pool, filter).await?, true);
        qb.push(" AND (s.received_at > ")
            .push_bind(cursor.received_at)
            .push(" OR (s.received_at = ")
            .push_bind(cursor.received_at)
            .push(" AND s.id > ")
            .push_bind(cursor.id.to_string())
            .push("))");
        qb.push(format!(
            " ORDER BY s.received_at ASC, s.id ASC LIMIT {limit}"
        ));
        let rows = qb.build().fetch_all(&self.pool).await?;
        let mut items: Vec<QueueItem> = rows.iter().map(queue_item).collect::<Result<_, _>>()?;
        items.reverse();
        Ok(items)
    }

    async fn facets(
        &self,
        since: DateTime<Utc>,
        limit: u32,
        scope: FacetScope,
    ) -> Result<Facets, StoreError> {
        self.settle_inbox().await?;
        Ok(facets(&self.pool, &FACETS, since, limit, scope).await?)
    }

    async fn contact_erased_at(&self, id: Uuid) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.settle_inbox().await?;
        let at: Option<Option<DateTime<Utc>>> =
            sqlx::query_scalar("SELECT contact_erased_at FROM submissions WHERE id = ?")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(at.flatten())
    }

    async fn staff_names(&self) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query("SELECT name FROM staff_users ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn status_counts(&self, filter: &QueueFilter) -> Result<Vec<(String, i64)>, StoreError> {
        self.settle_inbox().await?;
        if filter.counts_are_kept() {
            let rows = sqlx::query(
                "SELECT status, SUM(n) FROM submission_status_counts \
                 WHERE ?1 IS NULL OR kind = ?1 GROUP BY status HAVING SUM(n) <> 0 ORDER BY status",
            )
            .bind(filter.kind.as_deref())
            .fetch_all(&self.pool)
            .await?;
            return Ok(pairs(&rows)?);
        }
        let mut qb =
            QueryBuilder::<Sqlite>::new("SELECT s.status, COUNT(*) FROM submissions s WHERE 1 = 1");
        push_filters(&mut qb, filter, &versions(&self.pool, filter).await?, false);
        qb.push(" GROUP BY s.status");
        let rows = qb.build().fetch_all(&self.pool).await?;
        Ok(pairs(&rows)?)
    }

    async fn apply_triage(
        &self,
        ids: &[Uuid],
        patch: &TriagePatch,
        audit: &AuditEntry,
        notify: &dyn EventMessages,
    ) -> Result<Result<(), TriageRefusal>, StoreError> {
        self.settle_inbox().await?;
        let ids = distinct_ids(ids);
        let ids_json = serde_json::to_string(&ids.iter().map(Uuid::to_string).collect::<Vec<_>>())
            .expect("strings serialise");
        // The write lock up front: what is checked below cannot change before the update.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let rows = sqlx::query(
            "SELECT id, labels, kind FROM submissions WHERE id IN (SELECT value FROM json_each(?))",
        )
        .bind(&ids_json)
        .fetch_all(&mut *tx)
        .await?;
        let found = rows
            .iter()
            .map(|row| {
                let labels: String = row.try_get("labels")?;
                Ok((uuid_column(row, "id")?, labels_from_json(&labels)))
            })
            .collect::<Result<HashMap<_, _>, sqlx::Error>>()?;
        if let Some(refusal) = TriageRefusal::check(&ids, &found, patch) {
            return Ok(Err(refusal));
        }
        if let Some(Some(original)) = patch.duplicate_of {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM submissions WHERE id = ?)")
                    .bind(original.to_string())
                    .fetch_one(&mut *tx)
                    .await?;
            if !exists {
                return Ok(Err(TriageRefusal::UnknownOriginal));
            }
        }
        let mut qb = QueryBuilder::<Sqlite>::new("UPDATE submissions SET updated_at = ");
        qb.push_bind(Utc::now());
        if let Some(status) = patch.status {
            qb.push(", status = ").push_bind(status.as_str());
        }
        if let Some(labels) = &patch.labels {
            qb.push(", labels = ")
                .push_bind(labels_json(labels.as_slice()));
        } else if patch.add_label.is_some() || patch.remove_label.is_some() {
            qb.push(", labels = ");
            push_labels_changed(&mut qb, patch);
        }
        if let Some(assignee) = &patch.assignee {
            qb.push(", assignee = ").push_bind(assignee.clone());
        }
        if let Some(duplicate_of) = &patch.duplicate_of {
            qb.push(", duplicate_of = ")
                .push_bind(duplicate_of.map(|d| d.to_string()));
        }
        qb.push(" WHERE id IN (SELECT value FROM json_each(")
            .push_bind(ids_json)
            .push("))");
        qb.build().execute(&mut *tx).await?;
        for id in ids {
            let entry = AuditEntry {
                submission_id: Some(id),
                ..audit.clone()
            };
            insert_audit_row(&mut tx, &entry).await?;
        }
        let messages = super::outbox::triage_messages(&rows, notify)?;
        super::outbox::insert_outbox_messages(&mut tx, &messages).await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    async fn insert_note(&self, note: &NoteRow) -> Result<(), StoreError> {
        self.settle_inbox().await?;
        sqlx::query(
            "INSERT INTO staff_notes (id, submission_id, author, body, created_at) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(note.id.to_string())
        .bind(note.submission_id.to_string())
        .bind(&note.author)
        .bind(&note.body)
        .bind(note.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn notes(&self, submission: Uuid) -> Result<Vec<NoteRow>, StoreError> {
        self.settle_inbox().await?;
        let rows = sqlx::query(
            "SELECT id, submission_id, author, body, created_at FROM staff_notes \
             WHERE submission_id = ? ORDER BY created_at",
        )
        .bind(submission.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NoteRow {
                    id: uuid_column(r, "id")?,
                    submission_id: uuid_column(r, "submission_id")?,
                    author: r.try_get("author")?,
                    body: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    async fn insert_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_audit_row(&mut conn, entry).await?;
        Ok(())
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, actor, action, submission_id, detail FROM audit_log \
             ORDER BY id DESC LIMIT ?",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let submission: Option<String> = r.try_get("submission_id")?;
                Ok(AuditEntry {
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    submission_id: submission.and_then(|s| Uuid::parse_str(&s).ok()),
                    detail: r.try_get("detail")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
