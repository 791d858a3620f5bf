//! Persistence behind one trait, with a SQLite and a PostgreSQL implementation and one
//! migrations folder per backend (`migrations/sqlite`, `migrations/postgres`).
//!
//! A submission (with its terms record, attachment rows and sealed contact) and its idempotency
//! key are written in one transaction, into a narrow append-only intake inbox; concurrent
//! submissions share one commit (`sqlite::inbox`, `postgres::inbox`): one fsync for many
//! requests, which is what lets a durable intake keep up. An indexer moves inbox rows into the
//! indexed tables in batches, and every read of submissions settles the inbox first. The same
//! behaviour is tested on both backends by the API suite.
//!
//! [`Store`] is the sum of trait groups: intake here, and each other group in a file of its
//! own (`queue`, `personal`, `accounts`, `privacy`, `outbox`, `mail`), re-exported here.

mod accounts;
mod deadline;
pub mod mail;
pub mod matching;
mod model;
mod outbox;
mod personal;
mod postgres;
mod privacy;
mod queue;
mod shared;
mod sqlite;
mod types;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::outbox::NewMessage;
pub use accounts::StaffStore;
pub use deadline::DeadlineStore;
pub use mail::{MailPreferences, MailStore, ReplyOutcome, ReplyRow, SubscriptionMode};
pub use model::*;
pub use outbox::{DeadMessage, Failure, OutboxStore, OutboxSummary};
pub use personal::{PersonalQueueStore, VisitTimes, next_visit};
pub use postgres::PostgresStore;
pub use privacy::PrivacyStore;
pub use queue::{DuplicatesStore, FACET_SAMPLE, MAX_STATS_ROWS, StatsStore, TriageStore};
pub use sqlite::SqliteStore;

/// How long an idempotency key's first response is kept and replayed.
pub const IDEMPOTENCY_WINDOW_HOURS: i64 = 24;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("the database did not answer within {0:?}")]
    Timeout(std::time::Duration),
}

/// Turns a unique-constraint violation into [`StoreError::Conflict`].
pub(crate) fn conflict_as(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match error.as_database_error() {
        Some(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(error),
    }
}

/// Writing submissions and reading them back.
#[async_trait]
pub trait IntakeStore {
    async fn migrate(&self) -> Result<(), StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    async fn insert_submission(
        &self,
        row: SubmissionRow,
        idempotency: Option<IdempotencyRecord>,
        outbox: Vec<NewMessage>,
    ) -> Result<InsertOutcome, StoreError>;
    async fn idempotent_response(
        &self,
        key_hash: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<StoredResponse>, StoreError>;
    /// Waits until every submission acknowledged so far has left the durable intake inbox for
    /// the indexed tables. The store's own reads of submissions (the queue, search, counts,
    /// privacy, withdrawal, the orphan sweeper) already do this first; it is public for callers
    /// that read the database by other means (tools, tests).
    async fn settle(&self) -> Result<(), StoreError>;
    async fn submission(&self, id: Uuid) -> Result<Option<SubmissionRow>, StoreError>;
    /// Which of `keys` an attachment row still references.
    async fn referenced_objects(&self, keys: &[String]) -> Result<HashSet<String>, StoreError>;
    async fn prune_idempotency_keys(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Keeps the query planner's statistics fresh enough to choose the right index.
    async fn refresh_planner_statistics(&self) -> Result<(), StoreError>;
    async fn table_counts(&self) -> Result<TableCounts, StoreError>;
    /// Stops background writers after the work in flight, so nothing acknowledged is lost.
    async fn close(&self);
}
/// Everything the service keeps in its database.
pub trait Store:
    IntakeStore
    + TriageStore
    + DuplicatesStore
    + StatsStore
    + PersonalQueueStore
    + StaffStore
    + PrivacyStore
    + OutboxStore
    + MailStore
    + Send
    + Sync
    + std::fmt::Debug
{
}

impl<T> Store for T where
    T: IntakeStore
        + TriageStore
        + DuplicatesStore
        + StatsStore
        + PersonalQueueStore
        + StaffStore
        + PrivacyStore
        + OutboxStore
        + MailStore
        + Send
        + Sync
        + std::fmt::Debug
{
}

/// Tables in the order their counts are reported.
pub const TABLES: [&str; 5] = [
    "submissions",
    "terms_acceptances",
    "attachments",
    "contacts",
    "idempotency_keys",
];

/// Page sizes the queue accepts.
pub const MAX_PAGE: u32 = 200;

/// Opens the database a URL names: `sqlite://…` or `postgres://…`.
pub async fn connect(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        anyhow::bail!("unsupported database URL: use sqlite://… or postgres://…")
    }
}

/// Quotes each word of a search for SQLite FTS5, so user input is never FTS syntax.
pub(crate) fn fts5_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}
