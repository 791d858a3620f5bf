//! The two stats queries, written once for both backends with `QueryBuilder`: counting the
//! submissions themselves, and adding up the kept counts; each backend gives only its
//! expression for a calendar day.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::plan::StatsPlan;
use crate::store::{StatsDimension, StatsQuery};

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
        plan.kept.versions()
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
