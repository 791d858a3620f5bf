//! The queue's query string (`kind`, `status`, `q`, `label`, `assignee`, versions, `browser`,
//! `from`, `to`, `cursor`, `limit`), parsed with every failing parameter listed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{FieldError, Kind, Status, ValidationErrors, parse_label};
use crate::store::{MAX_PAGE, QueueCursor, QueueFilter};

pub const DEFAULT_PAGE: u32 = 50;

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub kind: Option<String>,
    pub status: Option<String>,
    pub q: Option<String>,
    pub label: Option<String>,
    pub assignee: Option<String>,
    pub webapp_version: Option<String>,
    pub server_version: Option<String>,
    pub browser: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<String>,
}

/// A parsed queue request.
#[derive(Debug, Clone)]
pub struct QueueRequest {
    pub filter: QueueFilter,
    pub cursor: Option<QueueCursor>,
    pub limit: u32,
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// `2026-11-29` (midnight UTC) or an RFC 3339 time.
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

pub fn encode_cursor(cursor: QueueCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", cursor.received_at.to_rfc3339(), cursor.id))
}

fn decode_cursor(raw: &str) -> Option<QueueCursor> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(raw).ok()?).ok()?;
    let (at, id) = text.split_once('|')?;
    Some(QueueCursor {
        received_at: DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
        id: Uuid::parse_str(id).ok()?,
    })
}

impl ListQuery {
    pub fn parse(&self) -> Result<QueueRequest, ValidationErrors> {
        let mut errors = Vec::new();
        let mut fail = |field: &str, code: &'static str, message: &str| {
            errors.push(FieldError::new(field, code, message));
        };
        let kind = present(&self.kind);
        if kind.as_deref().is_some_and(|k| Kind::parse(k).is_err()) {
            fail("kind", "invalid", "must be bug, feature or feedback");
        }
        let status = present(&self.status);
        if status
            .as_deref()
            .is_some_and(|s| Status::parse(s).is_none())
        {
            fail("status", "invalid", "is not a known status");
        }
        let label = present(&self.label);
        let label = match label.as_deref().map(parse_label) {
            Some(None) => {
                fail("label", "invalid", "is not a valid label");
                None
            }
            other => other.flatten(),
        };
        let mut time = |field: &str, value: &Option<String>| match present(value) {
            None => None,
            Some(raw) => parse_time(&raw).or_else(|| {
                fail(field, "invalid", "must be YYYY-MM-DD or an RFC 3339 time");
                None
            }),
        };
        let received_from = time("from", &self.from);
        let received_before = time("to", &self.to);
        let cursor = match present(&self.cursor) {
            None => None,
            Some(raw) => decode_cursor(&raw).or_else(|| {
                fail("cursor", "invalid", "is not a cursor this service gave out");
                None
            }),
        };
        let limit = match present(&self.limit) {
            None => DEFAULT_PAGE,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n @ 1..=MAX_PAGE) => n,
                _ => {
                    fail("limit", "out_of_range", "must be from 1 to 200");
                    DEFAULT_PAGE
                }
            },
        };
        if !errors.is_empty() {
            return Err(ValidationErrors(errors));
        }
        Ok(QueueRequest {
            filter: QueueFilter {
                kind,
                status,
                label,
                assignee: present(&self.assignee),
                webapp_version: present(&self.webapp_version),
                server_version: present(&self.server_version),
                browser: present(&self.browser),
                received_from,
                received_before,
                text: present(&self.q),
                exclude_spam: false,
            },
            cursor,
            limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let cursor = QueueCursor {
            received_at: Utc::now(),
            id: Uuid::now_v7(),
        };
        assert_eq!(decode_cursor(&encode_cursor(cursor)), Some(cursor));
        assert_eq!(decode_cursor("garbage"), None);
    }

    #[test]
    fn bad_parameters_are_all_listed() {
        let query = ListQuery {
            kind: Some("x".into()),
            status: Some("closed".into()),
            from: Some("yesterday".into()),
            limit: Some("500".into()),
            ..ListQuery::default()
        };
        let errors = query.parse().unwrap_err().0;
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["kind", "status", "from", "limit"]);
    }
}
