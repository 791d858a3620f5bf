//! The stats query (counts per day, kind, version, browser or status in a time range, spam
//! left out), written once for both backends; only the calendar day of a time in the team's
//! offset is written by each backend (SQLite's `date()` against PostgreSQL's `to_char`).

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Type};

use crate::store::{MAX_STATS_ROWS, StatsDimension, StatsQuery, StatsRow};

/// `SELECT <by…>, COUNT(*) … GROUP BY … ORDER BY …`; `day` appends the backend's expression
/// for the day a submission was received, in `query.offset_secs`.
pub(in crate::store) fn stats_query<DB>(
    query: &StatsQuery,
    day: impl Fn(&mut QueryBuilder<DB>),
) -> QueryBuilder<DB>
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    DateTime<Utc>: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new("SELECT ");
    for (i, dimension) in query.by.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        match dimension {
            StatsDimension::Day => day(&mut qb),
            StatsDimension::Kind => {
                qb.push("s.kind");
            }
            StatsDimension::WebappVersion => {
                qb.push("s.webapp_version");
            }
            StatsDimension::Browser => {
                qb.push("s.browser_brand");
            }
            StatsDimension::Status => {
                qb.push("s.status");
            }
        }
    }
    qb.push(if query.by.is_empty() {
        "COUNT(*)"
    } else {
        ", COUNT(*)"
    });
    qb.push(" FROM submissions s WHERE s.status <> 'spam' AND s.received_at >= ")
        .push_bind(query.from)
        .push(" AND s.received_at < ")
        .push_bind(query.to);
    if let Some(kind) = &query.kind {
        qb.push(" AND s.kind = ").push_bind(kind.clone());
    }
    let positions: Vec<String> = (1..=query.by.len()).map(|n| n.to_string()).collect();
    if !positions.is_empty() {
        let positions = positions.join(", ");
        qb.push(format!(" GROUP BY {positions} ORDER BY {positions}"));
    }
    qb.push(format!(" LIMIT {MAX_STATS_ROWS}"));
    qb
}

/// The groups of [`stats_query`]'s rows: `dimensions` keys, then the count.
pub(in crate::store) fn stats_rows<R>(
    rows: &[R],
    dimensions: usize,
) -> Result<Vec<StatsRow>, sqlx::Error>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
    rows.iter()
        .map(|row| {
            let keys = (0..dimensions)
                .map(|i| row.try_get::<String, _>(i))
                .collect::<Result<_, _>>()?;
            Ok(StatsRow {
                keys,
                count: row.try_get(dimensions)?,
            })
        })
        .collect()
}
