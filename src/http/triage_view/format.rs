//! How the view writes values for people: relative times with the exact time (in the team's
//! time zone, to the minute) on hover, status names, file sizes. Registered as template filters.

use chrono::{DateTime, Utc};
use minijinja::{Environment, State};

use crate::domain::TeamTimeZone;

/// The context variable holding the team's offset from UTC, in seconds.
pub const ZONE_VAR: &str = "team_offset_secs";

pub fn register(env: &mut Environment<'static>) {
    env.add_filter("ago", ago);
    env.add_filter("exact", exact);
    env.add_filter("day", day);
    env.add_filter("status_name", status_name);
    env.add_filter("size", size);
}

fn parse(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn zone(state: &State) -> TeamTimeZone {
    let secs = state
        .lookup(ZONE_VAR)
        .and_then(|v| i64::try_from(v).ok())
        .unwrap_or(0);
    let sign = if secs < 0 { '-' } else { '+' };
    let secs = secs.abs();
    TeamTimeZone::parse(&format!("{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60))
        .unwrap_or_default()
}

/// `3 minutes ago`, `yesterday`, `5 days ago`, then the date.
pub fn relative(at: DateTime<Utc>, now: DateTime<Utc>, zone: TeamTimeZone) -> String {
    let secs = (now - at).num_seconds();
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match secs {
        ..=-60 => exact_in(at, zone),
        -59..=44 => "just now".to_owned(),
        45..=3599 => plural((secs / 60).max(1), "minute"),
        3600..=86_399 => plural(secs / 3600, "hour"),
        86_400..=172_799 => "yesterday".to_owned(),
        172_800..=2_591_999 => plural(secs / 86_400, "day"),
        _ => at
            .with_timezone(&zone.offset())
            .format("%-d %b %Y")
            .to_string(),
    }
}

/// `2026-11-28 13:12 UTC+01:00`: to the minute, in the team's zone, which it names.
pub fn exact_in(at: DateTime<Utc>, zone: TeamTimeZone) -> String {
    format!(
        "{} {zone}",
        at.with_timezone(&zone.offset()).format("%Y-%m-%d %H:%M")
    )
}

fn ago(state: &State, value: String) -> String {
    parse(&value).map_or(value, |at| relative(at, Utc::now(), zone(state)))
}

fn exact(state: &State, value: String) -> String {
    parse(&value).map_or(value, |at| exact_in(at, zone(state)))
}

/// The calendar day in the team's zone (`2026-11-28`), for date filters.
fn day(state: &State, value: String) -> String {
    parse(&value).map_or(value, |at| {
        at.with_timezone(&zone(state).offset())
            .format("%Y-%m-%d")
            .to_string()
    })
}

/// `in_progress` → `In progress`, `wont_fix` → `Won't fix`.
pub fn status_name(value: String) -> String {
    match value.as_str() {
        "new" => "New",
        "triaged" => "Triaged",
        "in_progress" => "In progress",
        "done" => "Done",
        "wont_fix" => "Won't fix",
        "duplicate" => "Duplicate",
        "spam" => "Spam",
        "all" => "Everything but spam",
        _ => return value,
    }
    .to_owned()
}

/// `512 bytes`, `4.2 KB`, `1.3 MB` (1 KB = 1,000 bytes, as file managers now count).
pub fn size(bytes: i64) -> String {
    let value = bytes as f64;
    match bytes {
        ..1_000 => format!("{bytes} bytes"),
        1_000..1_000_000 => format!("{:.1} KB", value / 1e3),
        _ => format!("{:.1} MB", value / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_people_say_them() {
        let now = DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .to_utc();
        let zone = TeamTimeZone::parse("+01:00").unwrap();
        let at = |s: i64| now - chrono::Duration::seconds(s);
        assert_eq!(relative(at(5), now, zone), "just now");
        assert_eq!(relative(at(60), now, zone), "1 minute ago");
        assert_eq!(relative(at(7200), now, zone), "2 hours ago");
        assert_eq!(relative(at(90_000), now, zone), "yesterday");
        assert_eq!(relative(at(3 * 86_400), now, zone), "3 days ago");
        assert_eq!(relative(at(60 * 86_400), now, zone), "1 Oct 2026");
        let precise = DateTime::parse_from_rfc3339("2026-11-28T12:12:51.449057777Z")
            .unwrap()
            .to_utc();
        assert_eq!(exact_in(precise, zone), "2026-11-28 13:12 UTC+01:00");
    }

    #[test]
    fn sizes_and_statuses_are_readable() {
        assert_eq!(size(999), "999 bytes");
        assert_eq!(size(4_200), "4.2 KB");
        assert_eq!(size(1_300_000), "1.3 MB");
        assert_eq!(status_name("wont_fix".into()), "Won't fix");
        assert_eq!(status_name("in_progress".into()), "In progress");
    }
}
