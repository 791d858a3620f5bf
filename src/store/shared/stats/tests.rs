//! The plan of a stats query's range, and the adding up of its parts.

use chrono::{DateTime, TimeZone, Utc};

use super::merge;
use super::plan::{DAILY, DAY_SECS, HOURLY, plan};
use crate::store::{StatsDimension, StatsQuery, StatsRow};

fn query(from: DateTime<Utc>, to: DateTime<Utc>, by: &[StatsDimension], offset: i32) -> StatsQuery {
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
