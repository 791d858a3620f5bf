//! The stats query (counts per day, kind, version, browser or status in a time range, spam
//! left out), written once for both backends. Whole buckets of the range (hours, or days when
//! versions or browsers are asked for) are read from the counts the database keeps
//! (`submission_hourly_counts`, `submission_daily_counts`, migration `20261201000500`); the
//! parts that cut a bucket (the range's edges, and team days that do not begin on a bucket's
//! edge) are counted from `submissions` itself. Only the calendar day, in the team's offset,
//! of a time or a bucket is written by each backend.
//!
//! This file holds the reading of the rows and the adding up of both parts; `plan` splits a
//! range between the kept counts and the submissions, `query` writes the two queries.

mod plan;
mod query;

use std::collections::BTreeMap;

use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::store::{MAX_STATS_ROWS, StatsQuery, StatsRow};

pub(in crate::store) use plan::{DAILY, HOURLY, plan};
pub(in crate::store) use query::{direct_query, kept_query};

/// The groups of [`direct_query`]'s or [`kept_query`]'s rows: `dimensions` keys, then the
/// count.
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

/// The kept and the counted groups added up, in the order of their keys, groups of no
/// submission left out (the total is always one row), at most [`MAX_STATS_ROWS`].
pub(in crate::store) fn merge(query: &StatsQuery, parts: Vec<StatsRow>) -> Vec<StatsRow> {
    let mut groups: BTreeMap<Vec<String>, i64> = BTreeMap::new();
    if query.by.is_empty() {
        groups.insert(Vec::new(), 0);
    }
    for row in parts {
        *groups.entry(row.keys).or_default() += row.count;
    }
    groups
        .into_iter()
        .filter(|(keys, count)| *count != 0 || keys.is_empty())
        .take(MAX_STATS_ROWS as usize)
        .map(|(keys, count)| StatsRow { keys, count })
        .collect()
}

#[cfg(test)]
mod tests;
