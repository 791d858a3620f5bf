//! Where each part of a stats query's range is counted: whole buckets from the counts the
//! database keeps, the rest (the range's edges, buckets cut by a team day) from the
//! submissions.

use chrono::{DateTime, Utc};

use crate::store::{StatsDimension, StatsQuery};

pub(super) const DAY_SECS: i64 = 86_400;

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
