//! Persistence behind one trait, with a SQLite and a PostgreSQL implementation and one
//! migrations folder per backend (`migrations/sqlite`, `migrations/postgres`).
//!
//! A submission, its terms record, its attachment rows, its sealed contact and its idempotency
//! key are written in one transaction. On SQLite, concurrent submissions share one commit
//! (see [`sqlite`]): one fsync for many requests, which is what lets a durable intake keep up.

mod postgres;
mod sqlite;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database writer has stopped")]
    WriterGone,
}

/// The terms-acceptance record kept with every submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsRecord {
    pub version: String,
    pub sha256: String,
    /// The entry point whose button was clicked (the submission's kind).
    pub widget: String,
    pub button: String,
    pub accepted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRow {
    pub position: i32,
    pub object_key: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    pub blind_index: Option<String>,
    pub sealed: Vec<u8>,
    pub key_id: String,
}

/// A submission as stored, written by intake and read back by staff tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionRow {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: String,
    pub status: String,
    pub summary: Option<String>,
    pub message: String,
    pub rating: Option<i16>,
    pub webapp_version: String,
    pub server_version: String,
    pub browser_brand: String,
    pub browser_version: Option<String>,
    pub screen_width: i32,
    pub screen_height: i32,
    pub page_url: String,
    pub terms: TermsRecord,
    pub attachments: Vec<AttachmentRow>,
    pub contact: Option<ContactRow>,
}

/// The first response to an `Idempotency-Key`, kept to answer retries.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    /// SHA-256 of the client's key: the key itself is not stored.
    pub key_hash: String,
    pub response: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    Inserted,
    /// Another request with the same idempotency key committed first; its response.
    Replayed(String),
}

/// Row counts per table, for readiness reports and tests.
pub type TableCounts = Vec<(&'static str, i64)>;

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    async fn migrate(&self) -> Result<(), StoreError>;
    async fn ping(&self) -> Result<(), StoreError>;
    async fn insert_submission(
        &self,
        row: SubmissionRow,
        idempotency: Option<IdempotencyRecord>,
    ) -> Result<InsertOutcome, StoreError>;
    async fn idempotent_response(
        &self,
        key_hash: &str,
        not_before: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError>;
    async fn submission(&self, id: Uuid) -> Result<Option<SubmissionRow>, StoreError>;
    /// Which of `keys` an attachment row still references.
    async fn referenced_objects(&self, keys: &[String]) -> Result<HashSet<String>, StoreError>;
    async fn prune_idempotency_keys(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError>;
    async fn table_counts(&self) -> Result<TableCounts, StoreError>;
    /// Stops background writers after the work in flight, so nothing acknowledged is lost.
    async fn close(&self);
}

/// Tables in the order their counts are reported.
pub const TABLES: [&str; 5] = [
    "submissions",
    "terms_acceptances",
    "attachments",
    "contacts",
    "idempotency_keys",
];

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
