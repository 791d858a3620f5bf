//! Each staff member's own queue: saved views, and when they last looked at the queue
//! ([`next_visit`] decides what a look changes).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// Each staff member's own queue: when they look at it, and their saved views.
#[async_trait]
pub trait PersonalQueueStore {
    /// The user's saved views, `(name, query string)`, by name.
    async fn saved_views(&self, user: &str) -> Result<Vec<(String, String)>, StoreError>;
    /// Saves (or replaces) a named view.
    async fn save_view(&self, user: &str, name: &str, query: &str) -> Result<(), StoreError>;
    /// Forgets a named view; false if there was none.
    async fn delete_view(&self, user: &str, name: &str) -> Result<bool, StoreError>;
    /// Records a look at the queue at `now` and returns the end of the user's previous visit
    /// (a visit ends after `gap` without a look); `None` on a first visit. Writes at most once
    /// a minute per user.
    async fn record_queue_visit(
        &self,
        user: &str,
        now: DateTime<Utc>,
        gap: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError>;
}

/// The kept times of a staff member's visits: the end of the previous one, and the latest look.
pub type VisitTimes = (Option<DateTime<Utc>>, DateTime<Utc>);

/// What [`PersonalQueueStore::record_queue_visit`] decides from the kept times: the times to keep and
/// the previous visit's end, or `None` when nothing needs writing.
pub fn next_visit(
    kept: Option<VisitTimes>,
    now: DateTime<Utc>,
    gap: chrono::Duration,
) -> (Option<VisitTimes>, Option<DateTime<Utc>>) {
    match kept {
        None => (Some((None, now)), None),
        Some((_, current)) if now - current > gap => (Some((Some(current), now)), Some(current)),
        Some((previous, current)) if now - current > chrono::Duration::minutes(1) => {
            (Some((previous, now)), previous)
        }
        Some((previous, _)) => (None, previous),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visit_ends_after_the_gap() {
        let t0 = Utc::now();
        let gap = chrono::Duration::minutes(30);
        let later = |m: i64| t0 + chrono::Duration::minutes(m);
        assert_eq!(next_visit(None, t0, gap), (Some((None, t0)), None));
        assert_eq!(
            next_visit(Some((None, t0)), later(0), gap),
            (None, None),
            "no write within a minute"
        );
        assert_eq!(
            next_visit(Some((None, t0)), later(5), gap),
            (Some((None, later(5))), None)
        );
        assert_eq!(
            next_visit(Some((None, t0)), later(40), gap),
            (Some((Some(t0), later(40))), Some(t0))
        );
    }
}
