//! The queue as a person asked for it, read from the query string (the first of repeated
//! names wins, unknown names and the one-time `notice`/`error` are ignored), and the links
//! that keep it: a filter chip, a status, the next page, a submission and the way back.
//!
//! Statuses in the view: none is the inbox (`new`), `all` is everything but spam, and spam
//! shows only when asked for by name. Dates are calendar days in the team's time zone, both
//! ends included.

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::TeamTimeZone;
use crate::http::internal::query::ListQuery;

/// The status value that means every status but spam.
pub const ALL_BUT_SPAM: &str = "all";

/// The view's parameters, in the order they are written back into links.
const NAMES: [&str; 14] = [
    "status",
    "kind",
    "assignee",
    "label",
    "browser",
    "webapp_version",
    "server_version",
    "from",
    "to",
    "since",
    "q",
    "limit",
    "cursor",
    "newer",
];

#[derive(Debug, Clone, Default, Serialize)]
pub struct ViewQuery {
    pairs: Vec<(&'static str, String)>,
}

/// The one-time message carried by a redirect.
#[derive(Debug, Clone, Default)]
pub struct Flash {
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Flash {
    pub fn parse(raw: Option<&str>) -> Self {
        let mut flash = Self::default();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            match name.as_ref() {
                "notice" if flash.notice.is_none() => flash.notice = Some(value.into_owned()),
                "error" if flash.error.is_none() => flash.error = Some(value.into_owned()),
                _ => {}
            }
        }
        flash
    }
}

impl ViewQuery {
    pub fn parse(raw: Option<&str>) -> Self {
        let mut pairs: Vec<(&'static str, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
            let value = value.trim();
            let Some(known) = NAMES.iter().find(|n| **n == name) else {
                continue;
            };
            if !value.is_empty() && !pairs.iter().any(|(n, _)| n == known) {
                pairs.push((known, value.to_owned()));
            }
        }
        pairs.sort_by_key(|(n, _)| NAMES.iter().position(|k| k == n));
        Self { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The status as shown: `new` (the inbox) when none is chosen.
    pub fn status(&self) -> &str {
        self.get("status").unwrap_or("new")
    }

    /// The same view with one parameter set (or removed when `value` is empty), on its first page.
    pub fn with(&self, name: &'static str, value: &str) -> Self {
        let mut pairs: Vec<(&'static str, String)> = self
            .pairs
            .iter()
            .filter(|(n, _)| *n != name && *n != "cursor" && *n != "newer")
            .cloned()
            .collect();
        if !value.is_empty() {
            pairs.push((name, value.to_owned()));
        }
        pairs.sort_by_key(|(n, _)| NAMES.iter().position(|k| k == n));
        Self { pairs }
    }

    /// The same view without its page position: where "previous" and "next" are looked up.
    pub fn first_page(&self) -> Self {
        self.with("cursor", "")
    }

    /// `status=new&browser=safari`, or empty.
    pub fn encoded(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(self.pairs.iter().map(|(n, v)| (*n, v.as_str())))
            .finish()
    }

    /// A path with this view as its query string.
    pub fn href(&self, path: &str) -> String {
        let encoded = self.encoded();
        if encoded.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{encoded}")
        }
    }

    /// The queue's own query, for the store: the view's status rules, and calendar days in the
    /// team's zone turned into times (the `to` day included).
    pub fn to_list_query(&self, zone: TeamTimeZone) -> (ListQuery, bool) {
        let owned = |name: &str| self.get(name).map(str::to_owned);
        let (status, exclude_spam) = match self.status() {
            ALL_BUT_SPAM => (None, true),
            other => (Some(other.to_owned()), false),
        };
        let day = |name: &str, after: u64| {
            self.get(name).map(|raw| {
                NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_or_else(
                    |_| raw.to_owned(),
                    |d| zone.start_of(d + chrono::Days::new(after)).to_rfc3339(),
                )
            })
        };
        let query = ListQuery {
            kind: owned("kind"),
            status,
            q: owned("q"),
            label: owned("label"),
            assignee: owned("assignee"),
            webapp_version: owned("webapp_version"),
            server_version: owned("server_version"),
            browser: owned("browser"),
            from: day("from", 0).or_else(|| owned("since")),
            to: day("to", 1),
            cursor: owned("cursor").or_else(|| owned("newer")),
            limit: owned("limit"),
        };
        (query, exclude_spam)
    }

    /// Whether the page is one reached through "newer" (before the cursor, not after it).
    pub fn is_newer_page(&self) -> bool {
        self.get("newer").is_some() && self.get("cursor").is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_unknown_names_do_not_break_the_view() {
        let view = ViewQuery::parse(Some(
            "notice=Updated&notice=Updated&browser=safari&browser=x&status=&zzz=1",
        ));
        assert_eq!(view.encoded(), "browser=safari");
        assert_eq!(view.status(), "new");
        let flash = Flash::parse(Some("notice=a&notice=b"));
        assert_eq!(flash.notice.as_deref(), Some("a"));
    }

    #[test]
    fn the_to_day_is_included_in_the_team_zone() {
        let zone = TeamTimeZone::parse("+01:00").unwrap();
        let view = ViewQuery::parse(Some("from=2026-11-28&to=2026-11-28&status=all"));
        let (query, exclude_spam) = view.to_list_query(zone);
        assert_eq!(query.from.as_deref(), Some("2026-11-28T00:00:00+01:00"));
        assert_eq!(query.to.as_deref(), Some("2026-11-29T00:00:00+01:00"));
        assert!(exclude_spam && query.status.is_none());
    }
}
