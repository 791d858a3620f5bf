//! PostgreSQL: likely duplicates, by fingerprint (the same words) and by similar text through
//! the `tsvector` index (`ts_rank` of an OR of word prefixes). Kept apart from the queue and
//! triage changes (`triage.rs`), which are about one submission's state, not its neighbours.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

use super::PostgresStore;
use crate::store::{DuplicatesStore, StoreError, TextMatch};

#[async_trait]
impl DuplicatesStore for PostgresStore {
    async fn fingerprint_counts(
        &self,
        fingerprints: &[String],
    ) -> Result<Vec<(String, i64)>, StoreError> {
        self.settle_inbox().await?;
        let rows = sqlx::query(
            "SELECT fingerprint, COUNT(*) FROM submissions \
             WHERE fingerprint = ANY($1) GROUP BY fingerprint HAVING COUNT(*) > 1",
        )
        .bind(fingerprints.to_vec())
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
        Ok(sqlx::query_scalar(
            "SELECT id FROM submissions WHERE fingerprint = $1 AND id <> $2 \
             ORDER BY received_at DESC LIMIT $3",
        )
        .bind(fingerprint)
        .bind(submission)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
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
        // Each term is letters and digits only: `word:*` is a prefix, never other syntax.
        let query = terms
            .iter()
            .map(|t| format!("{}:*", t.replace(|c: char| !c.is_alphanumeric(), "")))
            .collect::<Vec<_>>()
            .join(" | ");
        let rows = sqlx::query(
            "SELECT s.id, s.summary, s.message FROM submissions s, \
             to_tsquery('simple', $1) q \
             WHERE s.search @@ q AND s.id <> $2 AND s.status <> 'spam' \
             AND s.received_at >= $3 AND s.received_at < $4 \
             ORDER BY ts_rank(s.search, q) DESC, s.received_at DESC LIMIT $5",
        )
        .bind(query)
        .bind(submission)
        .bind(from)
        .bind(to)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TextMatch {
                    id: r.try_get("id")?,
                    summary: r.try_get("summary")?,
                    message: r.try_get("message")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}
