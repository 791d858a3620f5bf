//! The stats query (counts per day, kind, version, browser or status in a time range, spam
//! left out), written once for both backends. Whole buckets of the range (hours, or days when
//! versions or browsers are asked for) are read from the counts the database keeps
//! (`submission_hourly_counts`, `submission_daily_counts`, migration `20261201000500`); the
//! parts that cut a bucket (the range's edges, and team days that do not begin on a bucket's
//! edge) are counted from `submissions` itself. Only the calendar day, in the team's offset,
//! of a time or a bucket is written by each backend.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Database, Decode, Encode, QueryBuilder, Row, Type};

use crate::store::{MAX_STATS_ROWS, StatsDimension, StatsQuery, StatsRow};

const DAY_SECS: i64 = 86_400;

/// A table of counts kept by triggers, per bucket of `secs` seconds since 1970 (UTC).
#[derive(Debug, PartialEq, Eq)]
pub(in crate::store) struct KeptCounts {
    pub table: &'static str,
    /// The bucket's column: whole `secs` since 1970.
    pub bucket: &'static str,
    pub secs: i64,
    /// Whether it holds the WebApp version and browser (or only kind and status).
    versions: bool,
}

/// Per hour, kind and status.
pub(in crate::store) const HOURLY: KeptCounts = KeptCounts {
    table: "submission_hourly_counts",
    bucket: "hour",
    secs: 3_600,
    versions: false,
};

/// Per day (UTC), kind, status, WebApp version and browser.
pub(in crate::store) const DAILY: KeptCounts = KeptCounts {
    table: "submission_daily_counts",
    bucket: "day",
    secs: DAY_SECS,
    versions: true,
};

impl KeptCounts {
    /// Whether it holds the WebApp version and browser (or only kind and status).
    pub fn versions(&self) -> bool {
        self.versions
    }
}

/// Where each part of a query's range is counted.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::store) struct StatsPlan {
    pub kept: &'static KeptCounts,
    /// Runs of whole buckets read from `kept`: `[first, end)` bucket numbers.
    pub buckets: Vec<(i64, i64)>,
    /// The rest of the range, `[from, to)` times counted from `submissions`.
    pub direct: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Splits `query`'s range: buckets that lie wholly inside it (and, when counting per day,
/// wholly inside one day of `query.offset_secs`) come from the kept counts, the rest from the
/// submissions.
pub(in crate::store) fn plan(query: &StatsQuery) -> StatsPlan {
    let kept = if query
        .by
        .iter()
        .any(|d| matches!(d, StatsDimension::WebappVersion | StatsDimension::Browser))
    {
        &DAILY
    } else {
        &HOURLY
    };
    let s = kept.secs;
    let (from, to) = (query.from, query.to);
    let mut plan = StatsPlan {
        kept,
        buckets: Vec::new(),
        direct: Vec::new(),
    };
    if from >= to {
        return plan;
    }
    let offset = i64::from(query.offset_secs);
    let by_day = query.by.contains(&StatsDimension::Day);
    let whole_day = |b: i64| {
        !by_day
            || (b * s + offset).div_euclid(DAY_SECS)
                == ((b + 1) * s - 1 + offset).div_euclid(DAY_SECS)
    };
    let from_secs = from.timestamp() + i64::from(from.timestamp_subsec_nanos() > 0);
    let first = from_secs.div_euclid(s) + i64::from(from_secs.rem_euclid(s) > 0);
    let end = to.timestamp().div_euclid(s);
    let mut cursor = from;
    let mut b = first;
    while b < end {
        if !whole_day(b) {
            b += 1;
            continue;
        }
        let run = b;
        while b < end && whole_day(b) {
            b += 1;
        }
        if at(run * s) > cursor {
            plan.direct.push((cursor, at(run * s)));
        }
        plan.buckets.push((run, b));
        cursor = at(b * s);
    }
    if cursor < to {
        plan.direct.push((cursor, to));
    }
    plan
}

fn push_dimensions<DB: Database>(
    qb: &mut QueryBuilder<DB>,
    query: &StatsQuery,
    day: impl Fn(&mut QueryBuilder<DB>),
    alias: &str,
) {
    for dimension in &query.by {
        let column = match dimension {
            StatsDimension::Day => {
                day(qb);
                qb.push(", ");
                continue;
            }
            StatsDimension::Kind => "kind",
            StatsDimension::WebappVersion => "webapp_version",
            StatsDimension::Browser => "browser_brand",
            StatsDimension::Status => "status",
        };
        qb.push(format!("{alias}.{column}, "));
    }
}

fn push_group_by<DB: Database>(qb: &mut QueryBuilder<DB>, query: &StatsQuery) {
    let positions: Vec<String> = (1..=query.by.len()).map(|n| n.to_string()).collect();
    if !positions.is_empty() {
        qb.push(format!(" GROUP BY {}", positions.join(", ")));
    }
}

/// `SELECT <by…>, COUNT(*) FROM submissions … GROUP BY …` over the `windows` of the range;
/// `day` appends the backend's expression for the day a submission (`s`) was received, in
/// `query.offset_secs`.
pub(in crate::store) fn direct_query<DB>(
    query: &StatsQuery,
    windows: &[(DateTime<Utc>, DateTime<Utc>)],
    day: impl Fn(&mut QueryBuilder<DB>),
) -> QueryBuilder<DB>
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    DateTime<Utc>: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut qb = QueryBuilder::<DB>::new("SELECT ");
    push_dimensions(&mut qb, query, day, "s");
    qb.push("COUNT(*) FROM submissions s WHERE s.status <> 'spam' AND (");
    for (i, (from, to)) in windows.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push("(s.received_at >= ")
            .push_bind(*from)
            .push(" AND s.received_at < ")
            .push_bind(*to)
            .push(")");
    }
    qb.push(")");
    if let Some(kind) = &query.kind {
        qb.push(" AND s.kind = ").push_bind(kind.clone());
    }
    push_group_by(&mut qb, query);
    qb
}

/// `SELECT <by…>, SUM(n) FROM <kept table> … GROUP BY …` over the plan's whole buckets;
/// `day` appends the backend's expression for the day a bucket (`c.<bucket>`, of `secs`
/// seconds) begins in, in `query.offset_secs`.
pub(in crate::store) fn kept_query<DB>(
    query: &StatsQuery,
    plan: &StatsPlan,
    day: impl Fn(&mut QueryBuilder<DB>),
) -> QueryBuilder<DB>
where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
{
    debug_assert!(
        plan.kept.versions
            || !query
                .by
                .iter()
                .any(|d| matches!(d, StatsDimension::WebappVersion | StatsDimension::Browser))
    );
    let (table, bucket) = (plan.kept.table, plan.kept.bucket);
    let mut qb = QueryBuilder::<DB>::new("SELECT ");
    push_dimensions(&mut qb, query, day, "c");
    qb.push(format!(
        "CAST(COALESCE(SUM(c.n), 0) AS BIGINT) FROM {table} c WHERE c.status <> 'spam' AND ("
    ));
    for (i, (first, end)) in plan.buckets.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push(format!("(c.{bucket} >= "))
            .push_bind(*first)
            .push(format!(" AND c.{bucket} < "))
            .push_bind(*end)
            .push(")");
    }
    qb.push(")");
    if let Some(kind) = &query.kind {
        qb.push(" AND c.kind = ").push_bind(kind.clone());
    }
    push_group_by(&mut qb, query);
    qb
}

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
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn query(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        by: &[StatsDimension],
        offset: i32,
    ) -> StatsQuery {
        StatsQuery {
            from,
            to,
            by: by.to_vec(),
            kind: None,
            offset_secs: offset,
        }
    }

    fn t(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
    }

    fn hour(at: DateTime<Utc>) -> i64 {
        at.timestamp() / 3600
    }

    #[test]
    fn whole_hours_are_kept_and_the_edges_counted() {
        let plan = plan(&query(
            t(1, 10, 30),
            t(3, 8, 15),
            &[StatsDimension::Day],
            7200,
        ));
        assert_eq!(plan.kept, &HOURLY);
        assert_eq!(plan.buckets, vec![(hour(t(1, 11, 0)), hour(t(3, 8, 0)))]);
        assert_eq!(
            plan.direct,
            vec![(t(1, 10, 30), t(1, 11, 0)), (t(3, 8, 0), t(3, 8, 15))]
        );
    }

    #[test]
    fn aligned_ranges_read_only_kept_counts() {
        let plan = plan(&query(t(1, 0, 0), t(4, 0, 0), &[StatsDimension::Kind], 0));
        assert_eq!(plan.buckets, vec![(hour(t(1, 0, 0)), hour(t(4, 0, 0)))]);
        assert!(plan.direct.is_empty());
        // A fraction of a second past the edge leaves the first hour to the submissions.
        let from = t(1, 0, 0) + chrono::Duration::nanoseconds(1);
        let plan = super::plan(&query(from, t(4, 0, 0), &[], 0));
        assert_eq!(plan.buckets, vec![(hour(t(1, 1, 0)), hour(t(4, 0, 0)))]);
        assert_eq!(plan.direct, vec![(from, t(1, 1, 0))]);
    }

    #[test]
    fn days_of_an_offset_of_half_hours_cut_their_hours() {
        // +05:30: every day begins at 18:30 UTC, inside an hour counted directly.
        let plan = plan(&query(
            t(1, 0, 0),
            t(3, 0, 0),
            &[StatsDimension::Day],
            19_800,
        ));
        assert_eq!(
            plan.buckets,
            vec![
                (hour(t(1, 0, 0)), hour(t(1, 18, 0))),
                (hour(t(1, 19, 0)), hour(t(2, 18, 0))),
                (hour(t(2, 19, 0)), hour(t(3, 0, 0)))
            ]
        );
        assert_eq!(
            plan.direct,
            vec![(t(1, 18, 0), t(1, 19, 0)), (t(2, 18, 0), t(2, 19, 0))]
        );
        // Without days, no cut.
        let plan = super::plan(&query(
            t(1, 0, 0),
            t(3, 0, 0),
            &[StatsDimension::Kind],
            19_800,
        ));
        assert_eq!(plan.buckets.len(), 1);
    }

    #[test]
    fn versions_are_read_per_utc_day() {
        let by = [StatsDimension::WebappVersion, StatsDimension::Browser];
        let plan = plan(&query(t(1, 6, 0), t(4, 6, 0), &by, 3600));
        assert_eq!(plan.kept, &DAILY);
        assert_eq!(
            plan.buckets,
            vec![(
                t(2, 0, 0).timestamp() / DAY_SECS,
                t(4, 0, 0).timestamp() / DAY_SECS
            )]
        );
        assert_eq!(
            plan.direct,
            vec![(t(1, 6, 0), t(2, 0, 0)), (t(4, 0, 0), t(4, 6, 0))]
        );
        // Days of another offset than UTC's cut every UTC day: all is counted directly.
        let mut by_day = by.to_vec();
        by_day.push(StatsDimension::Day);
        let plan = super::plan(&query(t(1, 6, 0), t(4, 6, 0), &by_day, 3600));
        assert!(plan.buckets.is_empty());
        assert_eq!(plan.direct, vec![(t(1, 6, 0), t(4, 6, 0))]);
    }

    #[test]
    fn a_range_inside_one_bucket_is_counted_directly() {
        let plan = plan(&query(t(1, 6, 10), t(1, 6, 50), &[], 0));
        assert!(plan.buckets.is_empty());
        assert_eq!(plan.direct, vec![(t(1, 6, 10), t(1, 6, 50))]);
    }

    #[test]
    fn merged_groups_add_up_in_key_order_without_empty_ones() {
        let row = |k: &str, count| StatsRow {
            keys: vec![k.to_owned()],
            count,
        };
        let q = query(t(1, 0, 0), t(2, 0, 0), &[StatsDimension::Kind], 0);
        let merged = merge(
            &q,
            vec![row("feature", 2), row("bug", 0), row("feature", 1)],
        );
        assert_eq!(merged, vec![row("feature", 3)]);
        let total = merge(&query(t(1, 0, 0), t(2, 0, 0), &[], 0), Vec::new());
        assert_eq!(
            total,
            vec![StatsRow {
                keys: Vec::new(),
                count: 0
            }]
        );
    }
}
