//! The queue page: the inbox by default, pills (assigned to me, new since my last visit, saved
//! views), filters whose choices come from the data, chips, pages in both directions. Its forms
//! are in `actions`.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::{Value, context};
use serde::Serialize;
use uuid::Uuid;

use super::format::status_name;
use super::pages::{csrf_of, page, staff_ctx};
use super::view_query::{ALL_BUT_SPAM, Flash, ViewQuery};
use crate::domain::Status;
use crate::http::auth::ViewStaff;
use crate::http::error::ApiError;
use crate::http::internal::ItemView;
use crate::http::internal::query::{QueueRequest, encode_cursor};
use crate::staff::Staff;
use crate::state::AppState;
use crate::store::{QueueCursor, QueueItem};

/// The assignee value that removes the assignee.
pub const NOBODY: &str = "-";

/// A queue row with the links that keep the view.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    item: ItemView,
    href: String,
    brand: String,
    browser_href: String,
    version_href: String,
    assignee_href: Option<String>,
    labels: Vec<(String, String)>,
    selected: bool,
    /// Received after the end of the staff member's previous visit.
    unseen: bool,
    /// Other submissions with the same words (likely duplicates).
    similar: i64,
}

/// The store's request for a view: its filters with the view's status rules.
pub(super) fn request_for(state: &AppState, view: &ViewQuery) -> Result<QueueRequest, ApiError> {
    let (query, exclude_spam) = view.to_list_query(state.settings.team_time_zone);
    let mut request = query.parse().map_err(ApiError::Validation)?;
    request.filter.exclude_spam = exclude_spam;
    Ok(request)
}

pub(super) fn cursor_of(item: &QueueItem) -> QueueCursor {
    QueueCursor {
        received_at: item.received_at,
        id: item.id,
    }
}

fn problem_text(error: &ApiError) -> Option<String> {
    match error {
        ApiError::Validation(errors) => Some(
            errors
                .0
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => None,
    }
}

fn counted(list: &[(String, i64)]) -> Vec<Value> {
    list.iter()
        .map(|(value, n)| context! { value => value, count => n })
        .collect()
}

/// Which rows are ticked when the page is shown.
pub(super) enum Selection<'a> {
    These(&'a [Uuid]),
    /// "Select all on this page".
    Page,
}

/// A visit to the queue ends after this long without a queue page.
const VISIT_GAP_MINUTES: i64 = 30;

/// Renders the queue for `view`, with a message and the submissions still selected.
pub(super) async fn render(
    state: &AppState,
    staff: &Staff,
    view: &ViewQuery,
    flash: Flash,
    selection: Selection<'_>,
) -> Result<Response, ApiError> {
    let mut error = flash.error;
    let last_visit = state
        .store
        .record_queue_visit(
            &staff.name,
            chrono::Utc::now(),
            chrono::Duration::minutes(VISIT_GAP_MINUTES),
        )
        .await
        .map_err(ApiError::storage)?;
    let mut rows = Vec::new();
    let (mut older_href, mut newer_href, mut counts) = (None, None, Vec::new());
    match request_for(state, view) {
        Err(refused) => error = problem_text(&refused).or(error),
        Ok(request) => {
            let store = state.store.as_ref();
            let items = match (view.is_newer_page(), request.cursor) {
                (true, Some(cursor)) => store
                    .queue_page_newer(&request.filter, cursor, request.limit)
                    .await
                    .map_err(ApiError::storage)?,
                (_, cursor) => store
                    .queue_page(&request.filter, cursor, request.limit)
                    .await
                    .map_err(ApiError::storage)?,
            };
            let full = items.len() == request.limit as usize;
            let more_older = if view.is_newer_page() {
                !items.is_empty()
            } else {
                full
            };
            let more_newer = if view.is_newer_page() {
                full
            } else {
                request.cursor.is_some()
            };
            if let (true, Some(last)) = (more_older, items.last()) {
                older_href = Some(
                    view.with("cursor", &encode_cursor(cursor_of(last)))
                        .href("/triage"),
                );
            }
            if let (true, Some(first)) = (more_newer, items.first()) {
                newer_href = Some(
                    view.with("newer", &encode_cursor(cursor_of(first)))
                        .href("/triage"),
                );
            }
            counts = state
                .status_counts
                .get(store, &request.filter)
                .await
                .map_err(ApiError::storage)?;
            let fingerprints: Vec<String> =
                items.iter().filter_map(|i| i.fingerprint.clone()).collect();
            let shared: HashMap<String, i64> = if fingerprints.is_empty() {
                HashMap::new()
            } else {
                store
                    .fingerprint_counts(&fingerprints)
                    .await
                    .map_err(ApiError::storage)?
                    .into_iter()
                    .collect()
            };
            rows = items
                .into_iter()
                .map(|item| {
                    let unseen = last_visit.is_some_and(|at| item.received_at > at);
                    let similar = item
                        .fingerprint
                        .as_ref()
                        .and_then(|f| shared.get(f))
                        .map_or(0, |n| n - 1);
                    let mut row = row(view, item, &selection, unseen);
                    row.similar = similar;
                    row
                })
                .collect();
        }
    }
    let status_pills: Vec<Value> = Status::ALL
        .iter()
        .map(|status| {
            let count = counts
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, n)| *n);
            context! {
                name => status_name(status.as_str().to_owned()), count => count,
                href => view.with("status", status.as_str()).href("/triage"),
                current => view.status() == status.as_str(),
            }
        })
        .collect();
    let matching: i64 = match view.status() {
        ALL_BUT_SPAM => counts
            .iter()
            .filter(|(s, _)| s != "spam")
            .map(|(_, n)| n)
            .sum(),
        status => counts
            .iter()
            .filter(|(s, _)| s == status)
            .map(|(_, n)| n)
            .sum(),
    };
    let mine = ViewQuery::default()
        .with("status", ALL_BUT_SPAM)
        .with("assignee", &staff.name);
    let facets = state
        .status_counts
        .facets(state.store.as_ref())
        .await
        .map_err(ApiError::storage)?;
    let staff_names = state.store.staff_names().await.map_err(ApiError::storage)?;
    let saved: Vec<Value> = state
        .store
        .saved_views(&staff.name)
        .await
        .map_err(ApiError::storage)?
        .into_iter()
        .map(|(name, query)| {
            let href = ViewQuery::parse(Some(&query)).href("/triage");
            context! { current => query == view.first_page().encoded(), name => name, href => href }
        })
        .collect();
    let filters: Vec<(&str, Option<&str>)> = [
        "kind",
        "status",
        "assignee",
        "label",
        "browser",
        "webapp_version",
        "server_version",
        "from",
        "to",
        "q",
    ]
    .into_iter()
    .map(|name| (name, view.get(name)))
    .collect();
    let filters: std::collections::BTreeMap<&str, Option<&str>> = filters.into_iter().collect();
    page(
        state,
        "queue.html",
        context! {
            staff => staff_ctx(staff), csrf => csrf_of(staff), q => filters,
            status => view.status(), view => view.encoded(),
            items => rows, status_pills => status_pills, matching => matching,
            inbox_href => "/triage", inbox_current => view.encoded().is_empty(),
            mine_href => mine.href("/triage"),
            since_href => last_visit.map(|at| ViewQuery::default().with("status", ALL_BUT_SPAM).with("since", &at.to_rfc3339()).href("/triage")),
            since_current => view.get("since").is_some(),
            mine_current => view.get("assignee") == Some(staff.name.as_str()),
            all_href => view.with("status", ALL_BUT_SPAM).href("/triage"),
            statuses => Status::ALL.iter().map(|s| context! { value => s.as_str(), name => status_name(s.as_str().to_owned()) }).collect::<Vec<_>>(),
            browsers => counted(&facets.browsers), webapp_versions => counted(&facets.webapp_versions),
            server_versions => counted(&facets.server_versions), labels => counted(&facets.labels),
            assignees => counted(&facets.assignees), staff_names => staff_names,
            older_href => older_href, newer_href => newer_href, nobody => NOBODY,
            notice => flash.notice, error => error, saved => saved,
            save_view => view.first_page().encoded(),
            selected_count => match selection { Selection::These(ids) => ids.len(), Selection::Page => 0 },
            select_page_href => format!("{}{}select=page", view.href("/triage"), if view.encoded().is_empty() { '?' } else { '&' }),
            unselect_href => view.href("/triage"),
        },
    )
}

fn row(view: &ViewQuery, item: QueueItem, selection: &Selection<'_>, unseen: bool) -> Row {
    let href = view.href(&format!("/triage/feedback/{}", item.id));
    let browser_href = view.with("browser", &item.browser_brand).href("/triage");
    let version_href = view
        .with("webapp_version", &item.webapp_version)
        .href("/triage");
    let assignee_href = item
        .assignee
        .as_ref()
        .map(|a| view.with("assignee", a).href("/triage"));
    let labels = item
        .labels
        .iter()
        .map(|l| (l.clone(), view.with("label", l).href("/triage")))
        .collect();
    let selected = match selection {
        Selection::These(ids) => ids.contains(&item.id),
        Selection::Page => true,
    };
    let brand = item.browser_brand.clone();
    Row {
        item: ItemView::from(item),
        href,
        brand,
        browser_href,
        version_href,
        assignee_href,
        labels,
        selected,
        unseen,
        similar: 0,
    }
}

pub async fn queue(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let view = ViewQuery::parse(raw.as_deref());
    let whole_page = url::form_urlencoded::parse(raw.as_deref().unwrap_or_default().as_bytes())
        .any(|(name, value)| name == "select" && value == "page");
    let selection = if whole_page {
        Selection::Page
    } else {
        Selection::These(&[])
    };
    render(
        &state,
        &staff,
        &view,
        Flash::parse(raw.as_deref()),
        selection,
    )
    .await
}

/// A staff member's exact name, whatever the case it was typed in; `None` if there is none.
pub(super) async fn staff_named(state: &AppState, typed: &str) -> Result<Option<String>, ApiError> {
    let names = state.store.staff_names().await.map_err(ApiError::storage)?;
    Ok(names
        .into_iter()
        .find(|n| n.eq_ignore_ascii_case(typed.trim())))
}

/// A redirect to `path` carrying a one-time message.
pub(super) fn redirect_with(path: &str, key: &str, message: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(key, message)
        .finish();
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{query}")).into_response()
}
