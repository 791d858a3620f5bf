//! The daily digest's schedule: once a day at `mail.digest_hour` in the team's time zone, a
//! housekeeping pass (under its lease, so one replica) queues one digest message per staff
//! member who chose "daily digest" for a kind. Each message is written with that person's
//! "last digest" time in one transaction, so a crash neither skips nor doubles a day; the
//! e-mail channel lists the submissions of the period at delivery.

use chrono::{DateTime, Duration, Utc};

use super::mail::intake::mail_enabled;
use super::{Destination, Event, NewMessage};
use crate::config::Settings;
use crate::domain::TeamTimeZone;
use crate::store::mail::OutboxEntry;
use crate::store::{Store, StoreError};

/// The latest digest time at or before `now`: today's `hour` in `zone`, or yesterday's.
pub fn due_at(now: DateTime<Utc>, zone: TeamTimeZone, hour: u32) -> DateTime<Utc> {
    let local_day = now.with_timezone(&zone.offset()).date_naive();
    let today = zone.start_of(local_day) + Duration::hours(i64::from(hour.min(23)));
    let today = today.with_timezone(&Utc);
    if today <= now {
        today
    } else {
        today - Duration::days(1)
    }
}

/// One staff member's digest message for `(since, until]`.
pub fn digest_message(user: &str, since: DateTime<Utc>, until: DateTime<Utc>) -> OutboxEntry {
    OutboxEntry::from(&NewMessage {
        event: Event::Digest,
        submission: None,
        destination: Destination::StaffDigest(user.to_owned()),
        payload: serde_json::json!({ "since": since, "until": until }),
    })
}

/// Queues the digests due at `now`; how many. Nothing while e-mail is off.
pub async fn queue_due(
    store: &dyn Store,
    settings: &Settings,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if !mail_enabled(settings) {
        return Ok(0);
    }
    let due = due_at(now, settings.team_time_zone, settings.mail.digest_hour);
    store.queue_digests(due, now, &digest_message).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn the_digest_is_due_at_the_hour_in_the_team_zone() {
        let utc = TeamTimeZone::default();
        assert_eq!(
            due_at(at("2026-12-01T09:00:00Z"), utc, 8),
            at("2026-12-01T08:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-12-01T08:00:00Z"), utc, 8),
            at("2026-12-01T08:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-12-01T07:59:00Z"), utc, 8),
            at("2026-11-30T08:00:00Z")
        );
        let cet = TeamTimeZone::parse("+01:00").unwrap();
        assert_eq!(
            due_at(at("2026-12-01T07:30:00Z"), cet, 8),
            at("2026-12-01T07:00:00Z")
        );
        assert_eq!(
            due_at(at("2026-12-01T06:30:00Z"), cet, 8),
            at("2026-11-30T07:00:00Z")
        );
        // Just after midnight UTC, but still the previous day in a zone behind it.
        let est = TeamTimeZone::parse("-05:00").unwrap();
        assert_eq!(
            due_at(at("2026-12-01T02:00:00Z"), est, 8),
            at("2026-11-30T13:00:00Z")
        );
    }
}
