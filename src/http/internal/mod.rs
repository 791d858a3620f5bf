//! The internal JSON API for the product team and the webmaster (`/api/v1/internal/…`):
//! the queue, one submission, triage changes, notes, attachment downloads and the audit log.
//! Every route needs a bearer token or a staff session (401), and a role (403).

pub mod download;
pub(super) mod outbox;
pub(super) mod privacy;
pub mod query;
pub mod replies;
pub mod stats;

use crate::domain::{Kind, Status};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::auth::Authenticated;
use super::error::ApiError;
use super::openapi::{InternalProblems, Invalid, MalformedBody, NotFound};
use crate::domain::{Role, TriagePatch};
use crate::state::AppState;
use crate::store::{QueueCursor, QueueItem};
use crate::triage::desk::{self, DeskError};
use query::{ListQuery, encode_cursor};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/internal/feedback", get(list))
        .route("/api/v1/internal/feedback/{id}", get(show).patch(update))
        .route("/api/v1/internal/feedback/{id}/notes", post(add_note))
        .route(
            "/api/v1/internal/feedback/{id}/replies",
            post(replies::add_reply),
        )
        .route(
            "/api/v1/internal/feedback/{id}/attachments/{n}",
            get(attachment),
        )
        .route("/api/v1/internal/audit", get(audit_log))
        .route("/api/v1/internal/stats", get(stats::stats))
        .route("/api/v1/internal/privacy/export", post(privacy::export))
        .route("/api/v1/internal/privacy/erase", post(privacy::erase))
        .route("/api/v1/internal/outbox", get(outbox::show))
        .route("/api/v1/internal/outbox/{id}/retry", post(outbox::retry))
        .route(
            "/api/v1/internal/outbox/{id}",
            axum::routing::delete(outbox::discard),
        )
}

#[derive(Serialize, utoipa::ToSchema)]
struct Page {
    items: Vec<ItemView>,
    next_cursor: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemView {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: Kind,
    pub status: Status,
    pub summary: Option<String>,
    pub excerpt: String,
    pub rating: Option<i16>,
    pub labels: Vec<String>,
    pub assignee: Option<String>,
    pub browser: String,
    pub webapp_version: String,
    pub server_version: String,
    pub attachments: i64,
    pub has_contact: bool,
}

impl From<QueueItem> for ItemView {
    fn from(item: QueueItem) -> Self {
        let browser = match &item.browser_version {
            Some(v) => format!("{} {v}", item.browser_brand),
            None => item.browser_brand.clone(),
        };
        Self {
            id: item.id,
            received_at: item.received_at,
            kind: item.kind,
            status: item.status,
            summary: item.summary,
            excerpt: item.excerpt,
            rating: item.rating,
            labels: item.labels,
            assignee: item.assignee,
            browser,
            webapp_version: item.webapp_version,
            server_version: item.server_version,
            attachments: item.attachment_count,
            has_contact: item.has_contact,
        }
    }
}

/// One page of the queue and the cursor of the next, if there may be one.
pub async fn queue_page(
    state: &AppState,
    query: &ListQuery,
) -> Result<(Vec<QueueItem>, Option<String>), ApiError> {
    let request = query.parse().map_err(ApiError::Validation)?;
    let items = state
        .store
        .queue_page(&request.filter, request.cursor, request.limit)
        .await
        .map_err(ApiError::storage)?;
    let next = (items.len() == request.limit as usize)
        .then(|| items.last())
        .flatten()
        .map(|last| {
            encode_cursor(QueueCursor {
                received_at: last.received_at,
                id: last.id,
            })
        });
    Ok((items, next))
}

#[utoipa::path(get, path = "/api/v1/internal/feedback", tag = "internal", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, description = "A page of the queue, newest first", body = Page),
        Invalid,
        InternalProblems))]
async fn list(
    auth: Authenticated,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Triager)?;
    let (items, next_cursor) = queue_page(&state, &query).await?;
    let page = Page {
        items: items.into_iter().map(ItemView::from).collect(),
        next_cursor,
    };
    Ok(Json(
        serde_json::to_value(page).map_err(|e| ApiError::Internal(e.into()))?,
    ))
}

/// The desk's errors at the boundary: a submission that does not exist (the one asked for, or
/// any of those selected) is a 404, an invalid change a 422.
impl From<DeskError> for ApiError {
    fn from(error: DeskError) -> Self {
        match error {
            DeskError::NotFound | DeskError::Unknown(_) => Self::NotFound,
            DeskError::Invalid(errors) => Self::Validation(errors),
            DeskError::Store(error) => Self::storage(error),
        }
    }
}

pub(crate) fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/internal/feedback/{id}", tag = "internal", security(("bearer" = [])),
    params(("id" = String, Path, description = "Submission id")),
    responses((status = 200, description = "The submission; viewing its contact details is audited", body = desk::Detail),
        NotFound,
        InternalProblems))]
async fn show(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let staff = auth.require(Role::Triager)?;
    let detail = desk::load(&state.desk(), staff, parse_id(&id)?).await?;
    Ok(Json(detail).into_response())
}

pub(crate) fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::MalformedBody("it is not a JSON object")),
        Err(_) => Err(ApiError::MalformedBody("it is not valid JSON")),
    }
}

#[utoipa::path(patch, path = "/api/v1/internal/feedback/{id}", tag = "internal", security(("bearer" = [])),
    params(("id" = String, Path, description = "Submission id")),
    request_body(content = crate::http::openapi::TriagePatchBody, content_type = "application/json"),
    responses((status = 200, description = "The changed submission", body = desk::Detail),
        MalformedBody,
        NotFound,
        Invalid,
        InternalProblems))]
async fn update(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let staff = auth.require(Role::Triager)?;
    let id = parse_id(&id)?;
    let patch = TriagePatch::from_json(&json_object(&body)?).map_err(ApiError::Validation)?;
    desk::apply(&state.desk(), staff, &[id], &patch).await?;
    let detail = desk::load(&state.desk(), staff, id).await?;
    Ok(Json(detail).into_response())
}

#[utoipa::path(post, path = "/api/v1/internal/feedback/{id}/notes", tag = "internal", security(("bearer" = [])),
    params(("id" = String, Path, description = "Submission id")),
    request_body(content = crate::http::openapi::NoteBody, content_type = "application/json"),
    responses((status = 201, description = "The note", body = desk::NoteView),
        MalformedBody,
        NotFound,
        Invalid,
        InternalProblems))]
async fn add_note(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let staff = auth.require(Role::Triager)?;
    let map = json_object(&body)?;
    let text = map.get("body").and_then(Value::as_str).unwrap_or_default();
    let note = desk::add_note(&state.desk(), staff, parse_id(&id)?, text).await?;
    let view = json!({"id": note.id, "author": note.author, "body": note.body, "created_at": note.created_at});
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[utoipa::path(get, path = "/api/v1/internal/feedback/{id}/attachments/{n}", tag = "internal", security(("bearer" = [])),
    params(("id" = String, Path, description = "Submission id"), ("n" = String, Path, description = "0-based position")),
    responses((status = 200, description = "The file, as a download", content_type = "application/octet-stream"),
        NotFound,
        InternalProblems))]
async fn attachment(
    auth: Authenticated,
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    auth.require(Role::Triager)?;
    let n: i32 = n.parse().map_err(|_| ApiError::NotFound)?;
    download::attachment(&state, parse_id(&id)?, n, false).await
}

#[utoipa::path(get, path = "/api/v1/internal/audit", tag = "internal", security(("bearer" = [])),
    responses((status = 200, description = "The newest audit entries (who did what and when; no address, no per-person key)", body = Object),
        InternalProblems))]
async fn audit_log(
    auth: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Admin)?;
    let entries = state
        .store
        .audit_log(500)
        .await
        .map_err(ApiError::storage)?;
    let entries: Vec<Value> = entries
        .into_iter()
        .map(|e| {
            json!({
                "at": e.at, "actor": e.actor, "action": e.action,
                "submission_id": e.submission_id, "detail": e.detail,
            })
        })
        .collect();
    Ok(Json(json!({ "entries": entries })))
}
