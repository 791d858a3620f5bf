//! The team's time zone as a fixed offset from UTC (`UTC`, `+01:00`, `-05:30`): the triage
//! view shows exact times and reads dates in it. A fixed offset does not follow daylight
//! saving time; a team that needs both halves of the year picks the one it works in most.

use std::fmt;

use chrono::{FixedOffset, NaiveDate};
use serde::{Deserialize, Deserializer};

/// A fixed offset from UTC, written as `UTC` or `±HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamTimeZone(FixedOffset);

impl Default for TeamTimeZone {
    fn default() -> Self {
        Self(FixedOffset::east_opt(0).expect("zero is a valid offset"))
    }
}

impl TeamTimeZone {
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("utc") || raw.eq_ignore_ascii_case("z") {
            return Some(Self::default());
        }
        let raw = raw
            .strip_prefix("UTC")
            .or_else(|| raw.strip_prefix("utc"))
            .unwrap_or(raw);
        let (sign, rest) = match raw.as_bytes().first()? {
            b'+' => (1, &raw[1..]),
            b'-' => (-1, &raw[1..]),
            _ => return None,
        };
        let (hours, minutes) = rest.split_once(':').unwrap_or((rest, "00"));
        let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
        if hours > 14 || !(0..60).contains(&minutes) || minutes % 15 != 0 {
            return None;
        }
        FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60)).map(Self)
    }

    pub fn offset(self) -> FixedOffset {
        self.0
    }

    /// `2026-11-28 13:12:51 UTC+01:00`: a time in this zone, to the second, naming the zone
    /// (for lists such as the CLI's audit log, where the order of events within a minute matters).
    pub fn to_the_second(self, at: chrono::DateTime<chrono::Utc>) -> String {
        format!(
            "{} {self}",
            at.with_timezone(&self.0).format("%Y-%m-%d %H:%M:%S")
        )
    }

    /// The start of a calendar day in this zone.
    pub fn start_of(self, day: NaiveDate) -> chrono::DateTime<FixedOffset> {
        day.and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_local_timezone(self.0)
            .single()
            .expect("a fixed offset has no gaps")
    }
}

impl fmt::Display for TeamTimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.local_minus_utc();
        if secs == 0 {
            return f.write_str("UTC");
        }
        let sign = if secs < 0 { '-' } else { '+' };
        let secs = secs.abs();
        write!(f, "UTC{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
    }
}

impl<'de> Deserialize<'de> for TeamTimeZone {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(de)?;
        Self::parse(&raw).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "team_time_zone must be UTC or an offset like +01:00, not {raw:?}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_and_print() {
        for (raw, shown) in [
            ("UTC", "UTC"),
            ("+01:00", "UTC+01:00"),
            ("-05:30", "UTC-05:30"),
            ("UTC+2", "UTC+02:00"),
        ] {
            assert_eq!(
                TeamTimeZone::parse(raw).unwrap().to_string(),
                shown,
                "{raw}"
            );
        }
        for bad in ["Europe/Berlin", "+25:00", "+01:07", "", "1"] {
            assert_eq!(TeamTimeZone::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn times_are_written_to_the_second_in_the_zone() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-28T12:12:51.449057777Z")
            .unwrap()
            .to_utc();
        let zone = TeamTimeZone::parse("+01:00").unwrap();
        assert_eq!(zone.to_the_second(at), "2026-11-28 13:12:51 UTC+01:00");
        assert_eq!(
            TeamTimeZone::default().to_the_second(at),
            "2026-11-28 12:12:51 UTC"
        );
    }
}
