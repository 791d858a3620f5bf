//! The queue's filters as SQL, written once for both backends: one `AND` clause per set filter,
//! only fixed SQL text and bound values, matching as [`matching`] says. The two filters whose
//! SQL differs by backend (a label: JSON on SQLite, an array on PostgreSQL; text: FTS5 against
//! `tsvector`) are appended by each backend after these.

use chrono::{DateTime, Utc};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::store::{QueueFilter, matching};

/// Appends the filters both backends write alike; `with_status` false leaves the status out
/// (for counts per status).
pub(in crate::store) fn push_common_filters<DB>(
    qb: &mut QueryBuilder<DB>,
    filter: &QueueFilter,
    with_status: bool,
) where
    DB: Database,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    DateTime<Utc>: for<'t> Encode<'t, DB> + Type<DB>,
{
    if let Some(kind) = &filter.kind {
        qb.push(" AND s.kind = ").push_bind(kind.clone());
    }
    if let Some(assignee) = &filter.assignee {
        // The expression of the index `submissions_by_assignee`.
        qb.push(" AND lower(s.assignee) = ")
            .push_bind(assignee.to_lowercase());
    }
    for (column, value) in [
        ("s.webapp_version", &filter.webapp_version),
        ("s.server_version", &filter.server_version),
    ] {
        if let Some(value) = value {
            qb.push(format!(" AND ({column} = "))
                .push_bind(value.clone())
                .push(format!(" OR {column} LIKE "))
                .push_bind(matching::version_prefix(value))
                .push(" ESCAPE '\\')");
        }
    }
    if let Some(browser) = &filter.browser {
        match matching::browser_brands(browser).as_deref() {
            Some([brand]) => {
                qb.push(" AND s.browser_brand = ")
                    .push_bind((*brand).to_owned());
            }
            Some(brands) => {
                qb.push(" AND s.browser_brand IN (");
                let mut list = qb.separated(", ");
                for brand in brands {
                    list.push_bind((*brand).to_owned());
                }
                qb.push(")");
            }
            None => {
                qb.push(" AND (' ' || lower(s.browser_brand) || ' ') LIKE ")
                    .push_bind(matching::browser_family(browser))
                    .push(" ESCAPE '\\'");
            }
        }
    }
    if let (true, Some(status)) = (with_status, &filter.status) {
        qb.push(" AND s.status = ").push_bind(status.clone());
    }
    if filter.exclude_spam && with_status {
        qb.push(" AND s.status <> 'spam'");
    }
    if let Some(from) = filter.received_from {
        qb.push(" AND s.received_at >= ").push_bind(from);
    }
    if let Some(before) = filter.received_before {
        qb.push(" AND s.received_at < ").push_bind(before);
    }
}
