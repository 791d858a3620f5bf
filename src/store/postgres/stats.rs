//! PostgreSQL: counts of submissions per day, kind, version, browser or status, for the trends
//! page and the stats API (`store::shared::stats` with this backend's day), and each staff
//! member's queue visits and saved views (`store::shared::personal`).

use async_trait::async_trait;
use sqlx::postgres::Postgres;

use super::PostgresStore;
use crate::store::shared::personal::personal_queue_store;
use crate::store::shared::stats::{stats_query, stats_rows};
use crate::store::{StatsQuery, StatsRow, StatsStore, StoreError};

#[async_trait]
impl StatsStore for PostgresStore {
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
        self.settle_inbox().await?;
        let mut qb = stats_query::<Postgres>(query, |qb| {
            qb.push("to_char(s.received_at AT TIME ZONE 'UTC' + ")
                .push_bind(query.offset_secs)
                .push("::int * interval '1 second', 'YYYY-MM-DD')");
        });
        let rows = qb.build().fetch_all(&self.pool).await?;
        Ok(stats_rows(&rows, query.by.len())?)
    }
}

personal_queue_store!(PostgresStore, ["$1", "$2", "$3", "$4"]);
