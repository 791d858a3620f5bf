//! The filters' choices (`TriageStore::facets`), read alike by both backends: each backend
//! gives its five SQL statements (they differ in placeholders, and in how the labels are
//! unnested), and this runs them and collects the counts.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Pool, Row, Type};

use crate::store::{FacetScope, Facets};

/// A backend's statements for [`facets`]: each counts the values of one column among the
/// newest submissions received since its first parameter, at most its second parameter of them.
pub(in crate::store) struct FacetQueries {
    pub labels: &'static str,
    pub assignees: &'static str,
    pub browsers: &'static str,
    pub webapp_versions: &'static str,
    pub server_versions: &'static str,
}

/// Rows of `(value, count)`, as the facets and the status counts read them.
pub(in crate::store) fn pairs<R, T>(rows: &[R]) -> Result<Vec<(String, T)>, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    T: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect()
}

/// Counts per value of one column among submissions received since `since`.
async fn facet<DB>(
    pool: &Pool<DB>,
    sql: &'static str,
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<(String, i64)>, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    DateTime<Utc>: for<'t> Encode<'t, DB> + Type<DB>,
{
    let rows = sqlx::query(sql)
        .bind(since)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    pairs(&rows)
}

/// The labels and assignees, and with [`FacetScope::All`] the browsers and versions too, as
/// `queries` count them.
pub(in crate::store) async fn facets<DB>(
    pool: &Pool<DB>,
    queries: &FacetQueries,
    since: DateTime<Utc>,
    limit: u32,
    scope: FacetScope,
) -> Result<Facets, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: ColumnIndex<DB::Row>,
    String: for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    DateTime<Utc>: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut facets = Facets {
        labels: facet(pool, queries.labels, since, limit).await?,
        assignees: facet(pool, queries.assignees, since, limit).await?,
        ..Facets::default()
    };
    if scope == FacetScope::All {
        facets.browsers = facet(pool, queries.browsers, since, limit).await?;
        facets.webapp_versions = facet(pool, queries.webapp_versions, since, limit).await?;
        facets.server_versions = facet(pool, queries.server_versions, since, limit).await?;
    }
    Ok(facets)
}
