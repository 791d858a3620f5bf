//! SQLite: counts of submissions per day, kind, version, browser or status, for the trends
//! page and the stats API; each staff member's queue visits and saved views. Only fixed SQL
//! fragments; values are bound.

use async_trait::async_trait;
use sqlx::sqlite::Sqlite;
use sqlx::{QueryBuilder, Row};

use super::SqliteStore;
use chrono::{DateTime, Duration, Utc};

use crate::store::{
    MAX_STATS_ROWS, PersonalQueueStore, StatsDimension, StatsQuery, StatsRow, StatsStore,
    StoreError, next_visit,
};

#[async_trait]
impl StatsStore for SqliteStore {
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
        self.settle_inbox().await?;
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
        for (i, dimension) in query.by.iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            match dimension {
                StatsDimension::Day => qb
                    .push("date(s.received_at, ")
                    .push_bind(format!("{:+} seconds", query.offset_secs))
                    .push(")"),
                StatsDimension::Kind => qb.push("s.kind"),
                StatsDimension::WebappVersion => qb.push("s.webapp_version"),
                StatsDimension::Browser => qb.push("s.browser_brand"),
                StatsDimension::Status => qb.push("s.status"),
            };
        }
        qb.push(if query.by.is_empty() {
            "COUNT(*)"
        } else {
            ", COUNT(*)"
        });
        qb.push(" FROM submissions s WHERE s.status <> 'spam' AND s.received_at >= ")
            .push_bind(query.from)
            .push(" AND s.received_at < ")
            .push_bind(query.to);
        if let Some(kind) = &query.kind {
            qb.push(" AND s.kind = ").push_bind(kind.clone());
        }
        let positions: Vec<String> = (1..=query.by.len()).map(|n| n.to_string()).collect();
        if !positions.is_empty() {
            let positions = positions.join(", ");
            qb.push(format!(" GROUP BY {positions} ORDER BY {positions}"));
        }
        qb.push(format!(" LIMIT {MAX_STATS_ROWS}"));
        let rows = qb.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let keys = (0..query.by.len())
                    .map(|i| row.try_get::<String, _>(i))
                    .collect::<Result<_, _>>()?;
                Ok(StatsRow {
                    keys,
                    count: row.try_get(query.by.len())?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}

#[async_trait]
impl PersonalQueueStore for SqliteStore {
    async fn saved_views(&self, user: &str) -> Result<Vec<(String, String)>, StoreError> {
        let rows =
            sqlx::query("SELECT name, query FROM saved_views WHERE user_name = ? ORDER BY name")
                .bind(user)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_, sqlx::Error>>()?)
    }

    async fn save_view(&self, user: &str, name: &str, query: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO saved_views (user_name, name, query, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (user_name, name) DO UPDATE SET query = excluded.query",
        )
        .bind(user)
        .bind(name)
        .bind(query)
        .bind(Utc::now())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_view(&self, user: &str, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM saved_views WHERE user_name = ? AND name = ?")
            .bind(user)
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_queue_visit(
        &self,
        user: &str,
        now: DateTime<Utc>,
        gap: Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        let kept = sqlx::query(
            "SELECT previous_at, current_at FROM staff_queue_visits WHERE user_name = ?",
        )
        .bind(user)
        .fetch_optional(&self.pool)
        .await?
        .map(|row| -> Result<_, sqlx::Error> {
            Ok((row.try_get("previous_at")?, row.try_get("current_at")?))
        })
        .transpose()?;
        let (write, previous) = next_visit(kept, now, gap);
        if let Some((previous_at, current_at)) = write {
            sqlx::query(
                "INSERT INTO staff_queue_visits (user_name, previous_at, current_at) VALUES (?, ?, ?) ON CONFLICT (user_name) DO UPDATE SET previous_at = excluded.previous_at, current_at = excluded.current_at",
            )
            .bind(user)
            .bind(previous_at)
            .bind(current_at)
            .execute(&self.pool)
            .await?;
        }
        Ok(previous)
    }
}
