//! SQLite: counts of submissions per day, kind, version, browser or status, for the trends
//! page and the stats API (`store::shared::stats` with this backend's day), and each staff
//! member's queue visits and saved views (`store::shared::personal`).

use async_trait::async_trait;
use sqlx::sqlite::Sqlite;

use super::SqliteStore;
use crate::store::shared::personal::personal_queue_store;
use crate::store::shared::stats::{stats_query, stats_rows};
use crate::store::{StatsQuery, StatsRow, StatsStore, StoreError};

#[async_trait]
impl StatsStore for SqliteStore {
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
        self.settle_inbox().await?;
        let mut qb = stats_query::<Sqlite>(query, |qb| {
            qb.push("date(s.received_at, ")
                .push_bind(format!("{:+} seconds", query.offset_secs))
                .push(")");
        });
        let rows = qb.build().fetch_all(&self.pool).await?;
        Ok(stats_rows(&rows, query.by.len())?)
    }
}

personal_queue_store!(SqliteStore, ["?", "?", "?", "?"]);
