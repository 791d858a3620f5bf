//! Plain SQL against the test's own database (SQLite file or PostgreSQL), to check what is
//! physically stored rather than what the service chooses to show.

use sqlx::{Column, Connection, Row};

use crate::helpers::{TestApp, spawn_app_with};

/// The app and the URL of the database it uses.
pub async fn spawn_with_db() -> (TestApp, String) {
    let mut url = String::new();
    let app = spawn_app_with(|settings| url = settings.database_url()).await;
    (app, url)
}

pub fn is_sqlite(url: &str) -> bool {
    url.starts_with("sqlite:")
}

/// Runs one or more statements.
pub async fn execute(url: &str, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    if is_sqlite(url) {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
}

/// Every row of a query whose columns are all text (cast them), `None` for NULL.
pub async fn rows(url: &str, sql: &str) -> Vec<Vec<(String, Option<String>)>> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    macro_rules! collect {
        ($conn:ty) => {{
            let mut conn = <$conn>::connect(url).await.unwrap();
            let found = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
            let out = found
                .iter()
                .map(|row| {
                    row.columns()
                        .iter()
                        .map(|c| {
                            (
                                c.name().to_owned(),
                                row.try_get::<Option<String>, _>(c.ordinal()).unwrap(),
                            )
                        })
                        .collect()
                })
                .collect();
            conn.close().await.unwrap();
            out
        }};
    }
    if is_sqlite(url) {
        collect!(sqlx::SqliteConnection)
    } else {
        collect!(sqlx::PgConnection)
    }
}
