//! SQLite: likely duplicates, by fingerprint (the same words) and by similar text through
//! the FTS5 index (`bm25` ranking of an OR of word prefixes). Kept apart from the queue and
//! triage changes (`triage.rs`), which are about one submission's state, not its neighbours.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::SqliteStore;
use super::intake::uuid_column;
use crate::store::{DuplicatesStore, StoreError, TextMatch};

#[async_trait]
impl DuplicatesStore for SqliteStore {
    async fn fingerprint_counts(
        &self,
        fingerprints: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.settle_inbox().await?;
        let rows = sqlx::query(
            "SELECT fingerprint, COUNT(*) FROM submissions \
             WHERE fingerprint IN (SELECT value FROM json_each(?)) GROUP BY fingerprint HAVING COUNT(*) > 1",
        )
        .bind(serde_json::to_string(fingerprints).expect("strings serialise"))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    async fn likely_duplicates(
        &self,
        submission: Uuid,
        fingerprint: &str,
        limit: u32,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.settle_inbox().await?;
        let rows = sqlx::query(
            "SELECT id FROM submissions WHERE fingerprint = ? AND id <> ? \
             ORDER BY received_at DESC LIMIT ?",
        )
        .bind(fingerprint)
        .bind(submission.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| uuid_column(r, "id"))
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)
    }

    async fn similar_text(
        &self,
        submission: Uuid,
        terms: &[String],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TextMatch>, StoreError> {
        self.settle_inbox().await?;
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        // Each term is letters and digits only, quoted all the same: never FTS syntax.
        let query = terms
            .iter()
            .map(|t| format!("\"{}\"*", t.replace('"', "")))
            .collect::<Vec<_>>()
            .join(" OR ");
        let rows = sqlx::query(
            "SELECT s.id, s.summary, s.message FROM submissions_text \
             JOIN submissions s ON s.rowid = submissions_text.rowid \
             WHERE submissions_text MATCH ? AND s.id <> ? AND s.status <> 'spam' \
             AND s.received_at >= ? AND s.received_at < ? \
             ORDER BY submissions_text.rank LIMIT ?",
        )
        .bind(query)
        .bind(submission.to_string())
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TextMatch {
                    id: uuid_column(r, "id")?,
                    summary: r.try_get("summary")?,
                    message: r.try_get("message")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
