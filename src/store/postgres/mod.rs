//! PostgreSQL: a connection pool; intake through batching writer tasks into a narrow inbox and a
//! background indexer (see `inbox`). Migrations take PostgreSQL's advisory lock, so replicas
//! starting together migrate once.

mod duplicates;
mod inbox;
mod intake;
mod mail;
mod outbox;
mod privacy;
mod staff;
mod stats;
mod triage;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use super::StoreError;
use crate::store::shared::writer_queue::WriterQueue;

const MAX_CONNECTIONS: u32 = 16;
/// Requests that may wait for a writer before senders wait too.
const QUEUE_DEPTH: usize = 1024;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pool: PgPool,
    queue: WriterQueue,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    indexer: Mutex<Option<JoinHandle<()>>>,
    stop_indexer: Arc<Notify>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresStore")
    }
}

impl PostgresStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        let wake = Arc::new(Notify::new());
        let stop_indexer = Arc::new(Notify::new());
        let tasks = (0..inbox::WRITERS)
            .map(|_| tokio::spawn(inbox::writer(pool.clone(), rx.clone(), wake.clone())))
            .collect();
        let indexer = tokio::spawn(inbox::indexer(pool.clone(), wake, stop_indexer.clone()));
        Ok(Self {
            pool,
            queue: Mutex::new(Some(tx)),
            tasks: Mutex::new(tasks),
            indexer: Mutex::new(Some(indexer)),
            stop_indexer,
        })
    }

    /// Waits until every submission acknowledged so far (by any replica) is in the indexed
    /// tables: one read when the inbox is empty.
    pub(super) async fn settle_inbox(&self) -> Result<(), StoreError> {
        inbox::settle(&self.pool).await
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
