//! The submitter's own way back: `POST /api/v1/feedback/{id}/withdraw {"token"}` for the
//! widget, and `GET /withdraw?id=…&token=…`, a small page that asks for confirmation and posts
//! it (`POST /withdraw`, then a redirect to the result, so a reload does not post again).
//! Rate-limited like intake. A wrong or used token is `not_found`, like an unknown id.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::domain::{FieldError, ValidationErrors};
use crate::http::error::ApiError;
use crate::privacy::requests::PrivacyError;
use crate::privacy::withdraw::withdraw;
use crate::state::AppState;

/// The API route (behind the public API's CORS).
pub fn api_router() -> Router<AppState> {
    Router::new().route("/api/v1/feedback/{id}/withdraw", post(withdraw_api))
}

/// The page a withdrawal link opens.
pub fn page_router() -> Router<AppState> {
    Router::new().route("/withdraw", get(withdraw_page).post(withdraw_form))
}

fn rate_limited(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> Result<(), ApiError> {
    match &state.rate_limiter {
        Some(limiter) => limiter
            .check(state.client_keyer.key(headers, peer))
            .map_err(ApiError::RateLimited),
        None => Ok(()),
    }
}

fn failed(error: PrivacyError) -> ApiError {
    match error {
        PrivacyError::Store(e) => ApiError::storage(e),
        PrivacyError::Open(e) => ApiError::Internal(e.into()),
    }
}

async fn withdrawn(state: &AppState, id: Uuid, token: &str) -> Result<bool, ApiError> {
    withdraw(
        state.store.as_ref(),
        &state.blobs,
        &state.vault,
        &state.settings.notify,
        id,
        token,
    )
    .await
    .map_err(failed)
    .inspect(|done| {
        if *done {
            state.outbox_written(state.settings.notify.webhooks.len());
        }
    })
}

#[utoipa::path(post, path = "/api/v1/feedback/{id}/withdraw", tag = "public",
    params(("id" = Uuid, Path, description = "The submission's id from the 201")),
    request_body(content = crate::http::openapi::WithdrawBody, content_type = "application/json"),
    responses((status = 200, description = "The submission, its files and contact details are removed", body = Object),
        (status = 400, description = "Malformed body", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 404, description = "Unknown id, or a wrong or used token", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No token", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited (Retry-After)", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable (Retry-After)", body = crate::http::openapi::Problem, content_type = "application/problem+json")))]
pub async fn withdraw_api(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    rate_limited(&state, &headers, peer)?;
    let body = crate::http::internal::json_object(&body)?;
    let Some(token) = body.get("token").and_then(Value::as_str) else {
        return Err(ApiError::Validation(ValidationErrors(vec![
            FieldError::new("token", "required", "is required"),
        ])));
    };
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::NotFound)?;
    if withdrawn(&state, id, token).await? {
        Ok(Json(json!({ "withdrawn": id })))
    } else {
        Err(ApiError::NotFound)
    }
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    id: Option<String>,
    token: Option<String>,
    done: Option<String>,
}

/// A page of our own: no script, no outside resource; `body` holds only fixed text, a parsed
/// id and a token checked to be hex.
fn page(body: &str) -> Response {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Withdraw your feedback</title></head><body><main>\
         <h1>Withdraw your feedback</h1>{body}</main></body></html>"
    ))
    .into_response()
}

/// The id and token of a link, if both look right.
fn link(id: Option<&str>, token: Option<&str>) -> Option<(Uuid, String)> {
    let id = Uuid::parse_str(id?.trim()).ok()?;
    let token = token?.trim();
    (token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| (id, token.to_ascii_lowercase()))
}

async fn withdraw_page(Query(query): Query<PageQuery>) -> Response {
    if query.done.as_deref() == Some("1") {
        return page(
            "<p role=\"status\">Your feedback has been withdrawn: the message, its files \
                     and your contact details are removed.</p>",
        );
    }
    match link(query.id.as_deref(), query.token.as_deref()) {
        Some((id, token)) => page(&format!(
            "<p>This removes your feedback, its files and your contact details for good.</p>\
             <form method=\"post\" action=\"/withdraw\">\
             <input type=\"hidden\" name=\"id\" value=\"{id}\">\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\
             <button type=\"submit\">Withdraw this feedback</button></form>"
        )),
        None => page("<p role=\"alert\">This withdrawal link is incomplete.</p>"),
    }
}

async fn withdraw_form(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    rate_limited(&state, &headers, peer)?;
    let fields: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some((id, token)) = link(field("id"), field("token")) else {
        return Ok(page(
            "<p role=\"alert\">This withdrawal link is incomplete.</p>",
        ));
    };
    if withdrawn(&state, id, &token).await? {
        Ok(Redirect::to("/withdraw?done=1").into_response())
    } else {
        Ok(page(
            "<p role=\"alert\">Nothing to withdraw: this feedback was already withdrawn or \
             removed, or the link is wrong.</p>",
        ))
    }
}
