//! The admins' outbox page: how many notifications wait and for how long, and the dead ones
//! with a Retry and a Discard button each (POST forms with the CSRF token, then
//! POST-redirect-GET, so a reload never repeats an action).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;

use super::pages::{FormFields, check_csrf, csrf_of, page, staff_ctx};
use crate::domain::Role;
use crate::http::auth::ViewStaff;
use crate::http::error::ApiError;
use crate::notify::admin;
use crate::staff::Staff;
use crate::state::AppState;

fn require_admin(staff: &Staff) -> Result<(), ApiError> {
    if staff.role.includes(Role::Admin) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

pub async fn outbox_page(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
) -> Result<Response, ApiError> {
    require_admin(&staff)?;
    let overview = admin::overview(state.store.as_ref())
        .await
        .map_err(ApiError::storage)?;
    page(
        &state,
        "outbox.html",
        context! {
            staff => staff_ctx(&staff), csrf => csrf_of(&staff), outbox => overview,
            shown => admin::DEAD_SHOWN,
        },
    )
}

/// `retry` or `discard` one dead message, then back to the page.
pub async fn outbox_action(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_admin(&staff)?;
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let store = state.store.as_ref();
    let done = match form.get("action") {
        Some("retry") => admin::retry(store, id).await,
        Some("discard") => admin::discard(store, id).await,
        _ => return Err(ApiError::NotFound),
    }
    .map_err(ApiError::storage)?;
    if done && form.get("action") == Some("retry") {
        state.outbox_written(1);
    }
    // Already retried or discarded (another admin, a double click): the page shows the state.
    Ok(Redirect::to("/triage/outbox").into_response())
}
