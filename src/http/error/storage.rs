//! [`ApiError::storage`]: a failure of the database or the object store, sorted by what it
//! means for the client (retry later, a conflict, or a bug not worth a retry).

use super::ApiError;
use crate::store::StoreError;

impl ApiError {
    /// A failure of the database or the object store, by what it means for the client: the
    /// dependency is unavailable (down, hung, overloaded, a transient conflict between
    /// transactions) → `503` with `Retry-After`; a uniqueness conflict → `409`; anything else
    /// (a decode error, a bug in a query, a row naming a missing object) → `500`, since a
    /// retry would fail the same way and must not be invited.
    pub fn storage(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        match StorageFailure::of(&error) {
            StorageFailure::Unavailable => Self::StorageUnavailable(error),
            StorageFailure::Conflict => Self::Conflict(error),
            StorageFailure::Bug => Self::Internal(error),
        }
    }
}

/// What a storage failure means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StorageFailure {
    Unavailable,
    Conflict,
    Bug,
}

impl StorageFailure {
    /// Classifies by the first database or object-store error in the chain.
    fn of(error: &anyhow::Error) -> Self {
        for cause in error.chain() {
            if let Some(store) = cause.downcast_ref::<StoreError>() {
                return match store {
                    StoreError::Database(db) => Self::of_sqlx(db),
                    StoreError::Migrate(_) => Self::Bug,
                    StoreError::WriterGone | StoreError::Timeout(_) => Self::Unavailable,
                    StoreError::Conflict(_) => Self::Conflict,
                };
            }
            if let Some(db) = cause.downcast_ref::<sqlx::Error>() {
                return Self::of_sqlx(db);
            }
            if let Some(objects) = cause.downcast_ref::<object_store::Error>() {
                return match objects {
                    object_store::Error::NotFound { .. }
                    | object_store::Error::InvalidPath { .. }
                    | object_store::Error::NotSupported { .. }
                    | object_store::Error::NotImplemented { .. }
                    | object_store::Error::UnknownConfigurationKey { .. } => Self::Bug,
                    _ => Self::Unavailable,
                };
            }
        }
        Self::Bug
    }

    fn of_sqlx(error: &sqlx::Error) -> Self {
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Self::Unavailable,
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // SQLite: BUSY (5), LOCKED (6), FULL (13), IOERR (10) and their extended codes.
                // PostgreSQL: connection (08), serialization and deadlock (40001, 40P01),
                // resources (53), operator intervention (57: shutdown, query cancelled).
                let sqlite_transient =
                    matches!(code.parse::<u32>().map(|c| c & 0xff), Ok(5 | 6 | 10 | 13));
                let postgres_transient = code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57")
                    || code == "40001"
                    || code == "40P01";
                if sqlite_transient || postgres_transient {
                    Self::Unavailable
                } else {
                    Self::Bug
                }
            }
            _ => Self::Bug,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn status_of(error: impl Into<anyhow::Error>) -> u16 {
        ApiError::storage(error).parts().0.as_u16()
    }

    #[test]
    fn storage_failures_map_by_meaning_not_all_to_503() {
        assert_eq!(status_of(sqlx::Error::PoolTimedOut), 503);
        assert_eq!(
            status_of(StoreError::Database(sqlx::Error::PoolClosed)),
            503
        );
        assert_eq!(status_of(StoreError::WriterGone), 503);
        assert_eq!(status_of(StoreError::Timeout(Duration::from_secs(5))), 503);
        assert_eq!(status_of(StoreError::Conflict("that name")), 409);
        assert_eq!(
            status_of(sqlx::Error::ColumnNotFound("no_such_column".into())),
            500,
            "a bug in a query is not worth a retry"
        );
        assert_eq!(status_of(sqlx::Error::RowNotFound), 500);
        let hung: object_store::Error =
            crate::blobs::DeadlineExceeded(Duration::from_secs(1)).into();
        assert_eq!(status_of(hung), 503);
        let missing = object_store::Error::NotFound {
            path: "attachments/x".into(),
            source: "gone".into(),
        };
        assert_eq!(status_of(missing), 500);
        assert_eq!(
            status_of(anyhow::Error::new(StoreError::WriterGone).context("storing")),
            503,
            "found anywhere in the chain"
        );
    }

    #[tokio::test]
    async fn database_errors_from_a_real_database_are_classified() {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let bug = sqlx::query("SELECT no_such_column FROM no_such_table")
            .execute(&mut db)
            .await
            .unwrap_err();
        assert_eq!(status_of(bug), 500);
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .execute(&mut db)
            .await
            .unwrap();
        let insert = "INSERT INTO t VALUES ('a')";
        sqlx::query(insert).execute(&mut db).await.unwrap();
        let duplicate = sqlx::query(insert).execute(&mut db).await.unwrap_err();
        assert_eq!(status_of(duplicate), 409);
    }
}
