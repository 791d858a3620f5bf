//! PostgreSQL: one transaction per submission from a connection pool. Concurrent commits
//! already share WAL flushes inside PostgreSQL, so no batching is needed here. Migrations take
//! PostgreSQL's advisory lock, so replicas starting together migrate once.

mod duplicates;
mod intake;
mod mail;
mod outbox;
mod privacy;
mod staff;
mod stats;
mod triage;

use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::StoreError;

const MAX_CONNECTIONS: u32 = 16;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }
}

impl PostgresStore {
    /// A write transaction; rows it must keep are locked by its statements (`FOR UPDATE`).
    pub(super) async fn write_tx(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }
}
