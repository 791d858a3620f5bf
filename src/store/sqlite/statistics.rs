//! The query planner's statistics for SQLite (`sqlite_stat1`), refreshed by the housekeeping
//! pass.
//!
//! SQLite gathers no statistics by itself, and without them every index looks alike to
//! its planner: among a million submissions it walked all Firefox rows (18 %) to find an
//! old release (4 %), 300–425 ms instead of 1–4. `PRAGMA optimize` is no help here: it
//! samples about 2,000 entries of each index, all with the same leading value in these
//! indexes, and so rated a version as broad as a kind. The submissions' indexes are
//! therefore analyzed in full when they never were or the number of submissions has grown
//! by half or shrunk by a third since. `ANALYZE` holds the write lock while it reads, and
//! from a cold disk that took about 5 s an index at 1,000,000 rows, all that time stalling
//! intake. So every index is first read through without any lock, which brings its pages
//! into memory, and only then analyzed: 0.04–0.25 s of lock an index. A connection plans
//! with the statistics it loaded when it opened, so each reader connection is then told to
//! load them again.

use sqlx::AssertSqlSafe;
use sqlx::sqlite::SqlitePool;

use crate::store::StoreError;

/// Analyzes the submissions' indexes if their statistics are missing or stale.
pub(super) async fn refresh(pool: &SqlitePool) -> Result<(), StoreError> {
    let (rows, has_statistics): (i64, bool) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM submissions), \
         EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1')",
    )
    .fetch_one(pool)
    .await?;
    let analyzed: Option<String> = if has_statistics {
        sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE tbl = 'submissions' LIMIT 1")
            .fetch_optional(pool)
            .await?
    } else {
        None
    };
    // The first number of a `stat` is the table's row count at the time.
    let analyzed_rows = analyzed.and_then(|stat| stat.split(' ').next()?.parse().ok());
    if statistics_are_stale(rows, analyzed_rows) {
        let mut conn = pool.acquire().await?;
        // The first column is NULL for an index on an expression: nothing to read through.
        let indexes: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT l.name, i.name FROM pragma_index_list('submissions') AS l \
             JOIN pragma_index_info(l.name) AS i ON i.seqno = 0 ORDER BY l.name",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (index, first_column) in &indexes {
            if let Some(column) = first_column {
                let read_through = format!(
                    "SELECT SUM({} IS NULL) FROM submissions INDEXED BY {}",
                    quote_identifier(column),
                    quote_identifier(index)
                );
                sqlx::query(AssertSqlSafe(read_through))
                    .execute(&mut *conn)
                    .await?;
            }
        }
        for (index, _) in &indexes {
            let analyze = format!("ANALYZE {}", quote_identifier(index));
            sqlx::query(AssertSqlSafe(analyze))
                .execute(&mut *conn)
                .await?;
        }
        drop(conn);
        // Holding each connection until all have reloaded, so that every one is reached.
        let mut reloaded = Vec::new();
        for _ in 0..pool.options().get_max_connections() {
            let mut conn = pool.acquire().await?;
            sqlx::query("ANALYZE sqlite_schema")
                .execute(&mut *conn)
                .await?;
            reloaded.push(conn);
        }
        tracing::info!(
            rows,
            indexes = indexes.len(),
            "gathered the query planner's statistics"
        );
    }
    Ok(())
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether `rows` submissions call for a new `ANALYZE`, the last one having seen
/// `analyzed_rows` (`None`: never): when there are rows and no statistics, or when their
/// number has grown by half or shrunk by a third since.
fn statistics_are_stale(rows: i64, analyzed_rows: Option<i64>) -> bool {
    match analyzed_rows {
        None => rows > 0,
        Some(then) => 2 * rows > 3 * then || 3 * rows < 2 * then,
    }
}

#[cfg(test)]
mod tests {
    use super::statistics_are_stale;

    #[test]
    fn statistics_are_gathered_once_there_are_rows_then_after_large_changes() {
        assert!(!statistics_are_stale(0, None));
        assert!(statistics_are_stale(1, None));
        assert!(!statistics_are_stale(0, Some(0)));
        assert!(!statistics_are_stale(1_400_000, Some(1_000_000)));
        assert!(statistics_are_stale(1_600_000, Some(1_000_000)));
        assert!(!statistics_are_stale(700_000, Some(1_000_000)));
        assert!(statistics_are_stale(600_000, Some(1_000_000)));
        assert!(statistics_are_stale(0, Some(3)));
    }
}
