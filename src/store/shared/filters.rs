//! The queue's filters as SQL, written once for both backends: one `AND` clause per set filter,
//! only fixed SQL text and bound values, matching as [`matching`] says. The two filters whose
//! SQL differs by backend (a label: JSON on SQLite, an array on PostgreSQL; text: FTS5 against
//! `tsvector`) are appended by each backend after these.

use chrono::{DateTime, Utc};
use sqlx::{Database, Decode, Encode, Executor, IntoArguments, Pool, QueryBuilder, Type};

use crate::store::{QueueFilter, matching};

/// The distinct values of a column, by a loose index scan (one index seek per value, however
/// many rows): the same SQL on both backends.
macro_rules! distinct_values {
    ($column:literal) => {
        concat!(
            "WITH RECURSIVE v(x) AS (SELECT min(",
            $column,
            ") FROM submissions UNION ALL \
             SELECT (SELECT min(",
            $column,
            ") FROM submissions WHERE ",
            $column,
            " > v.x) \
             FROM v WHERE v.x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
        )
    };
}

/// The stored WebApp versions, and the stored server versions.
const WEBAPP_VERSIONS: &str = distinct_values!("webapp_version");
const SERVER_VERSIONS: &str = distinct_values!("server_version");

/// The stored versions the queue's version filters find, as exact values: the typed version
/// and its patch releases (`7.1` finds `7.1`, `7.1.0` and `7.1.3`, not `7.10.0`). Compared with
/// `=` or `IN`, the version indexes serve them; `= ? OR LIKE '7.1.%'` is served by none (a
/// year-old release took 150–320 ms among a million submissions).
#[derive(Debug, Default)]
pub(in crate::store) struct Versions {
    pub webapp: Option<Vec<String>>,
    pub server: Option<Vec<String>>,
}

/// Of the `stored` versions, those `typed` finds.
pub(in crate::store) fn versions_found(typed: &str, stored: Vec<String>) -> Vec<String> {
    let prefix = format!("{}.", typed.trim().trim_end_matches('.'));
    stored
        .into_iter()
        .filter(|v| v == typed || v.starts_with(&prefix))
        .collect()
}

/// The stored versions the filter's version filters find (a few index seeks each).
pub(in crate::store) async fn versions<DB>(
    pool: &Pool<DB>,
    filter: &QueueFilter,
) -> Result<Versions, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    (String,): for<'r> sqlx::FromRow<'r, DB::Row>,
    String: for<'r> Decode<'r, DB> + Type<DB>,
{
    let mut found = Versions::default();
    if let Some(typed) = &filter.webapp_version {
        let stored = sqlx::query_scalar(WEBAPP_VERSIONS).fetch_all(pool).await?;
        found.webapp = Some(versions_found(typed, stored));
    }
    if let Some(typed) = &filter.server_version {
        let stored = sqlx::query_scalar(SERVER_VERSIONS).fetch_all(pool).await?;
        found.server = Some(versions_found(typed, stored));
    }
    Ok(found)
}

/// Appends the filters both backends write alike; `with_status` false leaves the status out
/// (for counts per status). `versions` are the stored versions the version filters find; a
/// version filter not resolved there is matched by pattern.
pub(in crate::store) fn push_common_filters<DB>(
    qb: &mut QueryBuilder<DB>,
    filter: &QueueFilter,
    versions: &Versions,
    with_status: bool,
) where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    DateTime<Utc>: for<'t> Encode<'t, DB> + Type<DB>,
{
    if let Some(kind) = &filter.kind {
        qb.push(" AND s.kind = ").push_bind(kind.clone());
    }
    if let Some(assignee) = &filter.assignee {
        // The expression of the index `submissions_by_assignee`.
        qb.push(" AND lower(s.assignee) = ")
            .push_bind(assignee.to_lowercase());
    }
    for (column, value, found) in [
        ("s.webapp_version", &filter.webapp_version, &versions.webapp),
        ("s.server_version", &filter.server_version, &versions.server),
    ] {
        match (value, found.as_deref()) {
            (None, _) => {}
            (Some(_), Some([])) => {
                qb.push(" AND 1 = 0");
            }
            (Some(_), Some([one])) => {
                qb.push(format!(" AND {column} = ")).push_bind(one.clone());
            }
            (Some(_), Some(many)) => {
                qb.push(format!(" AND {column} IN ("));
                let mut list = qb.separated(", ");
                for version in many {
                    list.push_bind(version.clone());
                }
                qb.push(")");
            }
            (Some(value), None) => {
                qb.push(format!(" AND ({column} = "))
                    .push_bind(value.clone())
                    .push(format!(" OR {column} LIKE "))
                    .push_bind(matching::version_prefix(value))
                    .push(" ESCAPE '\\')");
            }
        }
    }
    if let Some(browser) = &filter.browser {
        match matching::browser_brands(browser).as_deref() {
            Some([brand]) => {
                qb.push(" AND s.browser_brand = ")
                    .push_bind((*brand).to_owned());
            }
            Some(brands) => {
                qb.push(" AND s.browser_brand IN (");
                let mut list = qb.separated(", ");
                for brand in brands {
                    list.push_bind((*brand).to_owned());
                }
                qb.push(")");
            }
            None => {
                qb.push(" AND (' ' || lower(s.browser_brand) || ' ') LIKE ")
                    .push_bind(matching::browser_family(browser))
                    .push(" ESCAPE '\\'");
            }
        }
    }
    if let (true, Some(status)) = (with_status, &filter.status) {
        qb.push(" AND s.status = ").push_bind(status.clone());
    }
    if filter.exclude_spam && with_status {
        qb.push(" AND s.status <> 'spam'");
    }
    if let Some(from) = filter.received_from {
        qb.push(" AND s.received_at >= ").push_bind(from);
    }
    if let Some(before) = filter.received_before {
        qb.push(" AND s.received_at < ").push_bind(before);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_finds_itself_and_its_patch_releases() {
        let stored = ["7.1", "7.1.0", "7.1.3", "7.10.0", "7.2.0", "6.7.1"].map(String::from);
        assert_eq!(
            versions_found("7.1", stored.to_vec()),
            ["7.1", "7.1.0", "7.1.3"]
        );
        assert_eq!(
            versions_found(" 7.1. ", stored.to_vec()),
            ["7.1.0", "7.1.3"]
        );
        assert_eq!(versions_found("7.1.3", stored.to_vec()), ["7.1.3"]);
        assert!(versions_found("8", stored.to_vec()).is_empty());
    }
}
