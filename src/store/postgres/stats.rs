//! PostgreSQL: counts of submissions per day, kind, version, browser or status, for the trends
//! page and the stats API (`store::shared::stats` with this backend's day), and each staff
//! member's queue visits and saved views (`store::shared::personal`).

use async_trait::async_trait;
use sqlx::postgres::Postgres;

use super::PostgresStore;
use crate::store::shared::personal::personal_queue_store;
use crate::store::shared::stats::{
    DAILY, HOURLY, direct_query, kept_query, merge, plan, stats_rows,
};
use crate::store::{StatsQuery, StatsRow, StatsStore, StoreError};

#[async_trait]
impl StatsStore for PostgresStore {
    async fn stats(&self, query: &StatsQuery) -> Result<Vec<StatsRow>, StoreError> {
        self.settle_inbox().await?;
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

    async fn fold_kept_counts(&self) -> Result<u64, StoreError> {
        let mut removed = 0;
        for kept in [&HOURLY, &DAILY] {
            let (table, bucket, secs) = (kept.table, kept.bucket, kept.secs);
            let keys = if kept.versions() {
                "kind, status, webapp_version, browser_brand"
            } else {
                "kind, status"
            };
            // Past buckets only (the current and the last one still take intake's upserts).
            // The slots' sum moves to slot 0 in one statement, so readers never see it twice
            // or not at all; rows at zero go in a second one (the first cannot both delete
            // and update a slot-0 row).
            let folded: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "WITH folded AS (DELETE FROM {table} \
                   WHERE {bucket} < submissions_bucket(now(), {secs}) - 1 AND slot <> 0 \
                   RETURNING {bucket}, {keys}, n), \
                 written AS (INSERT INTO {table} AS c ({bucket}, {keys}, slot, n) \
                   SELECT {bucket}, {keys}, 0, SUM(n) FROM folded \
                   GROUP BY {bucket}, {keys} ORDER BY {bucket}, {keys} \
                   ON CONFLICT ({bucket}, {keys}, slot) DO UPDATE SET n = c.n + EXCLUDED.n) \
                 SELECT COUNT(*) FROM folded"
            )))
            .fetch_one(&self.pool)
            .await?;
            let zeros = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DELETE FROM {table} \
                 WHERE {bucket} < submissions_bucket(now(), {secs}) - 1 AND slot = 0 AND n = 0"
            )))
            .execute(&self.pool)
            .await?;
            removed += u64::try_from(folded).unwrap_or(0) + zeros.rows_affected();
        }
        Ok(removed)
    }
}

personal_queue_store!(PostgresStore, ["$1", "$2", "$3", "$4"]);
