//! The trends page: submissions per day by kind, and bugs by WebApp version × browser, as CSS
//! bars (no script, no inline style: widths are classes in 5 % steps), every count a link to
//! the queue filtered to it. Days are the team's; spam is left out.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use chrono::{Days, Utc};
use minijinja::context;
use serde::Serialize;

use super::pages::{csrf_of, page, staff_ctx};
use super::view_query::{ALL_BUT_SPAM, ViewQuery};
use crate::http::auth::ViewStaff;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::{StatsDimension, StatsQuery};

const KINDS: [&str; 3] = ["bug", "feature", "feedback"];
/// Ranges offered, in days.
const RANGES: [u64; 3] = [7, 30, 90];
const TOP_VERSIONS: usize = 10;
const TOP_BROWSERS: usize = 6;

#[derive(Serialize)]
struct Cell {
    count: i64,
    href: String,
    width: i64,
}

#[derive(Serialize)]
struct Day {
    day: String,
    cells: Vec<Cell>,
    total: i64,
}

/// The width class (0–20, in 5 % steps) of `count` against `max`.
fn width(count: i64, max: i64) -> i64 {
    if count <= 0 || max <= 0 {
        0
    } else {
        (count * 20 / max).max(1)
    }
}

fn queue_link(pairs: &[(&'static str, &str)]) -> String {
    pairs
        .iter()
        .fold(
            ViewQuery::default().with("status", ALL_BUT_SPAM),
            |v, (n, value)| v.with(n, value),
        )
        .href("/triage")
}

pub async fn trends(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let asked = url::form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "days")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let days = asked.filter(|d| RANGES.contains(d)).unwrap_or(30);
    let zone = state.settings.team_time_zone;
    let today = Utc::now().with_timezone(&zone.offset()).date_naive();
    let first = today - Days::new(days - 1);
    let (from_day, to_day) = (first.to_string(), today.to_string());
    let query = |by: Vec<StatsDimension>, kind: Option<&str>| StatsQuery {
        from: zone.start_of(first).to_utc(),
        to: zone.start_of(today + Days::new(1)).to_utc(),
        by,
        kind: kind.map(str::to_owned),
        offset_secs: zone.offset().local_minus_utc(),
    };
    let store = state.store.as_ref();
    let per_day = store
        .stats(&query(
            vec![StatsDimension::Day, StatsDimension::Kind],
            None,
        ))
        .await
        .map_err(ApiError::storage)?;
    let mut counts: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in per_day {
        if let [day, kind] = row.keys.as_slice() {
            counts.insert((day.clone(), kind.clone()), row.count);
        }
    }
    let all_days: Vec<String> = (0..days)
        .map(|n| (first + Days::new(n)).to_string())
        .collect();
    let total_of = |day: &str| -> i64 {
        KINDS
            .iter()
            .map(|k| {
                counts
                    .get(&(day.to_owned(), (*k).to_owned()))
                    .copied()
                    .unwrap_or(0)
            })
            .sum()
    };
    let busiest = all_days.iter().map(|d| total_of(d)).max().unwrap_or(0);
    let day_rows: Vec<Day> = all_days
        .iter()
        .rev()
        .map(|day| Day {
            day: day.clone(),
            cells: KINDS
                .iter()
                .map(|kind| {
                    let count = counts
                        .get(&(day.clone(), (*kind).to_owned()))
                        .copied()
                        .unwrap_or(0);
                    Cell {
                        count,
                        href: queue_link(&[("kind", kind), ("from", day), ("to", day)]),
                        width: width(count, busiest),
                    }
                })
                .collect(),
            total: total_of(day),
        })
        .collect();

    let bugs = store
        .stats(&query(
            vec![StatsDimension::WebappVersion, StatsDimension::Browser],
            Some("bug"),
        ))
        .await
        .map_err(ApiError::storage)?;
    let mut by_version: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_browser: BTreeMap<String, i64> = BTreeMap::new();
    let mut cells: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in bugs {
        if let [version, browser] = row.keys.as_slice() {
            *by_version.entry(version.clone()).or_default() += row.count;
            *by_browser.entry(browser.clone()).or_default() += row.count;
            cells.insert((version.clone(), browser.clone()), row.count);
        }
    }
    let top = |totals: BTreeMap<String, i64>, n: usize| {
        let mut list: Vec<(String, i64)> = totals.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list.truncate(n);
        list
    };
    let versions = top(by_version, TOP_VERSIONS);
    let browsers = top(by_browser, TOP_BROWSERS);
    let most = cells.values().copied().max().unwrap_or(0);
    let matrix: Vec<_> = versions
        .iter()
        .map(|(version, total)| {
            let row: Vec<Cell> = browsers
                .iter()
                .map(|(browser, _)| {
                    let count = cells.get(&(version.clone(), browser.clone())).copied().unwrap_or(0);
                    Cell {
                        count,
                        href: queue_link(&[
                            ("kind", "bug"),
                            ("webapp_version", version),
                            ("browser", browser),
                            ("from", &from_day),
                            ("to", &to_day),
                        ]),
                        width: width(count, most),
                    }
                })
                .collect();
            context! { version => version, total => total, cells => row,
                href => queue_link(&[("kind", "bug"), ("webapp_version", version), ("from", &from_day), ("to", &to_day)]) }
        })
        .collect();
    let ranges: Vec<_> = RANGES
        .iter()
        .map(|d| context! { days => d, href => format!("/triage/trends?days={d}"), current => *d == days })
        .collect();
    page(
        &state,
        "trends.html",
        context! {
            staff => staff_ctx(&staff), csrf => csrf_of(&staff), days => days, ranges => ranges,
            kinds => KINDS, day_rows => day_rows, from_day => from_day, to_day => to_day,
            browsers => browsers.iter().map(|(b, _)| b.clone()).collect::<Vec<_>>(), matrix => matrix,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::width;

    #[test]
    fn bar_widths_step_by_five_percent_and_show_any_count() {
        assert_eq!(width(0, 10), 0);
        assert_eq!(width(1, 1000), 1, "a count is never an empty bar");
        assert_eq!(width(5, 10), 10);
        assert_eq!(width(10, 10), 20);
    }
}
