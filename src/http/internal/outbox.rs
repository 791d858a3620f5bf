//! `/api/v1/internal/outbox`: the outbox's state, and retrying or discarding a dead message
//! (admins only). Translation only; the work is `notify::admin`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Json;

use crate::domain::Role;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::http::openapi::{InternalProblems, NotFound};
use crate::notify::admin::{self, Overview};
use crate::state::AppState;

fn message_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/internal/outbox", tag = "internal", security(("bearer" = [])),
    responses((status = 200, description = "Pending and dead counts, the oldest pending message's age, and the dead messages", body = Overview),
        InternalProblems))]
pub(super) async fn show(
    auth: Authenticated,
    State(state): State<AppState>,
) -> Result<Json<Overview>, ApiError> {
    auth.require(Role::Admin)?;
    let overview = admin::overview(state.store.as_ref())
        .await
        .map_err(ApiError::storage)?;
    Ok(Json(overview))
}

#[utoipa::path(post, path = "/api/v1/internal/outbox/{id}/retry", tag = "internal", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The dead message's id")),
    responses((status = 204, description = "The message is pending again, due at once"),
        NotFound, InternalProblems))]
pub(super) async fn retry(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(Role::Admin)?;
    let id = message_id(&id)?;
    match admin::retry(state.store.as_ref(), id).await {
        Ok(true) => {
            state.outbox_written(1);
            Ok(StatusCode::NO_CONTENT)
        }
        Ok(false) => Err(ApiError::NotFound),
        Err(error) => Err(ApiError::storage(error)),
    }
}

#[utoipa::path(delete, path = "/api/v1/internal/outbox/{id}", tag = "internal", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The dead message's id")),
    responses((status = 204, description = "The dead message is gone"),
        NotFound, InternalProblems))]
pub(super) async fn discard(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    auth.require(Role::Admin)?;
    match admin::discard(state.store.as_ref(), message_id(&id)?).await {
        Ok(true) => Ok(StatusCode::NO_CONTENT),
        Ok(false) => Err(ApiError::NotFound),
        Err(error) => Err(ApiError::storage(error)),
    }
}
