//! SQLite: counts of submissions per day, kind, version, browser or status, for the trends
//! page and the stats API (`store::shared::stats` with this backend's day), and each staff
//! member's queue visits and saved views (`store::shared::personal`).

use async_trait::async_trait;
use sqlx::sqlite::Sqlite;

use super::SqliteStore;
use crate::store::shared::personal::personal_queue_store;
use crate::store::shared::stats::{direct_query, kept_query, merge, plan, stats_rows};
use crate::store::{StatsQuery, StatsRow, StatsStore, StoreError};

#[async_trait]
impl StatsStore for SqliteStore {
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
        self.settle_inbox().await?;
        let plan = plan(query);
        let offset = query.offset_secs;
        let mut parts = Vec::new();
        if !plan.buckets.is_empty() {
            let (bucket, secs) = (plan.kept.bucket, plan.kept.secs);
            let mut qb = kept_query::<Sqlite>(query, &plan, |qb| {
                qb.push(format!("date(c.{bucket} * {secs} + {offset}, 'unixepoch')"));
            });
            let rows = qb.build().fetch_all(&self.pool).await?;
            parts.extend(stats_rows(&rows, query.by.len())?);
        }
        if !plan.direct.is_empty() {
            // The whole seconds of the (UTC) text: `date()` of the whole text may round a
            // fraction up into the next day.
            let mut qb = direct_query::<Sqlite>(query, &plan.direct, |qb| {
                qb.push("date(substr(s.received_at, 1, 19), ")
                    .push_bind(format!("{offset:+} seconds"))
                    .push(")");
            });
            let rows = qb.build().fetch_all(&self.pool).await?;
            parts.extend(stats_rows(&rows, query.by.len())?);
        }
        Ok(merge(query, parts))
    }

    async fn fold_kept_counts(&self) -> Result<u64, StoreError> {
        // One row per group already (no slots); rows at zero are left: a few bytes each.
        Ok(0)
    }
}

personal_queue_store!(SqliteStore, ["?", "?", "?", "?"]);
