//! PostgreSQL: counts of submissions per day, kind, version, browser or status, for the trends
//! page and the stats API (`store::shared::stats` with this backend's day), and each staff
//! member's queue visits and saved views (`store::shared::personal`).

use async_trait::async_trait;
use sqlx::postgres::Postgres;

use super::PostgresStore;
use crate::store::shared::personal::personal_queue_store;
use crate::store::shared::stats::{direct_query, kept_query, merge, plan, stats_rows};
use crate::store::{StatsQuery, StatsRow, StatsStore, StoreError};

#[async_trait]
impl StatsStore for PostgresStore {
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
        let plan = plan(query);
        let offset = query.offset_secs;
        let mut parts = Vec::new();
        if !plan.buckets.is_empty() {
            let (bucket, secs) = (plan.kept.bucket, plan.kept.secs);
            let mut qb = kept_query::<Postgres>(query, &plan, |qb| {
                qb.push(format!(
                    "to_char(to_timestamp(c.{bucket} * {secs} + {offset}) AT TIME ZONE 'UTC', \
                     'YYYY-MM-DD')"
                ));
            });
            let rows = qb.build().fetch_all(&self.pool).await?;
            parts.extend(stats_rows(&rows, query.by.len())?);
        }
        if !plan.direct.is_empty() {
            let mut qb = direct_query::<Postgres>(query, &plan.direct, |qb| {
                qb.push("to_char(s.received_at AT TIME ZONE 'UTC' + ")
                    .push_bind(offset)
                    .push("::int * interval '1 second', 'YYYY-MM-DD')");
            });
            let rows = qb.build().fetch_all(&self.pool).await?;
            parts.extend(stats_rows(&rows, query.by.len())?);
        }
        Ok(merge(query, parts))
    }
}

personal_queue_store!(PostgresStore, ["$1", "$2", "$3", "$4"]);
