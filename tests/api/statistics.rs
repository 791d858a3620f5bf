//! The query planner's statistics on SQLite: housekeeping analyzes every index of the
//! submissions once there are some, then again only after a large change in their number.
//! On PostgreSQL autovacuum keeps them and the store's call does nothing, so there is nothing
//! to test there: the test returns at once when the suite runs on PostgreSQL.

use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

use crate::helpers::{TestApp, spawn_app_with};

/// The row count each analyzed index of the submissions was last analyzed at, and how many
/// indexes the table has.
async fn analyzed_counts(conn: &mut SqliteConnection) -> (Vec<i64>, i64) {
    let stats: Vec<String> =
        sqlx::query_scalar("SELECT stat FROM sqlite_stat1 WHERE tbl = 'submissions'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default(); // no sqlite_stat1 table yet: nothing analyzed
    let indexes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pragma_index_list('submissions')")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let rows = stats
        .iter()
        .map(|stat| stat.split(' ').next().unwrap().parse().unwrap())
        .collect();
    (rows, indexes)
}

async fn submit(app: &TestApp, count: usize) {
    for _ in 0..count {
        app.submit(&app.valid_json()).await;
    }
}

#[tokio::test]
async fn sqlite_analyzes_every_index_once_there_are_submissions_then_after_large_changes() {
    // Housekeeping runs the same refresh: let its first pass (at start) finish and the next be
    // an hour away, so that only the test's calls analyze.
    let app = spawn_app_with(|s| s.sweep_interval_secs = 3600).await;
    let started = std::time::Instant::now();
    while app.state.metrics.housekeeping_last_pass.get() == 0.0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no first pass"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let store = app.state.store.as_ref();
    let url = app.state.settings.database_url();
    if !url.starts_with("sqlite:") {
        eprintln!("not SQLite: the planner's statistics are autovacuum's, nothing to test");
        return;
    }
    let mut conn = SqliteConnection::connect(&url).await.unwrap();

    store.refresh_planner_statistics().await.unwrap();
    let (analyzed, indexes) = analyzed_counts(&mut conn).await;
    assert!(analyzed.is_empty(), "nothing to analyze yet: {analyzed:?}");
    assert!(indexes > 1, "the queue's indexes exist");

    submit(&app, 4).await;
    store.refresh_planner_statistics().await.unwrap();
    let (analyzed, _) = analyzed_counts(&mut conn).await;
    assert_eq!(analyzed, vec![4; usize::try_from(indexes).unwrap()]);

    // Growing by less than half leaves the statistics as they are…
    submit(&app, 1).await;
    store.refresh_planner_statistics().await.unwrap();
    assert_eq!(analyzed_counts(&mut conn).await.0, analyzed);

    // …growing by more than half since they were gathered does not.
    submit(&app, 2).await;
    store.refresh_planner_statistics().await.unwrap();
    let (analyzed, _) = analyzed_counts(&mut conn).await;
    assert_eq!(analyzed, vec![7; usize::try_from(indexes).unwrap()]);
}
