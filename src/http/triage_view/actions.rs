//! The queue's forms: bulk actions on the selected submissions (a refused one shows the same
//! page again with the selection kept and the reason said; a done one redirects with a result
//! line), and each person's saved views.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use uuid::Uuid;

use super::format::status_name;
use super::pages::{FormFields, check_csrf};
use super::queue::{NOBODY, Selection, cursor_of, redirect_with, render, request_for, staff_named};
use super::submission::messages;
use super::view_query::{Flash, ViewQuery};
use crate::domain::TriagePatch;
use crate::http::auth::ViewStaff;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::MAX_PAGE;
use crate::triage::desk::{self, DeskError};

/// What a bulk form asks for, or why it cannot be done: the one patch parser of `domain`
/// (status, a label to add), with the assignee taken only from the staff who exist.
async fn bulk_patch(
    state: &AppState,
    form: &FormFields,
) -> Result<(TriagePatch, Vec<String>), String> {
    let mut patch =
        TriagePatch::from_bulk_form(|name| (name != "assignee").then(|| form.get(name)).flatten())
            .map_err(|errors| messages(&errors))?;
    let mut said = Vec::new();
    if let Some(status) = patch.status {
        said.push(format!(
            "status {}",
            status_name(status.as_str().to_owned())
        ));
    }
    if let Some(label) = &patch.add_label {
        said.push(format!("label “{label}” added"));
    }
    match form.get("assignee").map(str::trim).unwrap_or_default() {
        "" => {}
        NOBODY => {
            patch.assignee = Some(None);
            said.push("unassigned".to_owned());
        }
        typed => match staff_named(state, typed).await {
            Ok(Some(name)) => {
                said.push(format!("assigned to {name}"));
                patch.assignee = Some(Some(name));
            }
            Ok(None) => {
                return Err(format!(
                    "No staff member is called “{typed}”. Choose one from the list."
                ));
            }
            Err(_) => return Err("Staff names could not be read; try again.".to_owned()),
        },
    }
    if patch.is_empty() {
        return Err("Choose a status, a label or an assignee.".to_owned());
    }
    Ok((patch, said))
}

/// Most submissions one "all matching" bulk action changes.
pub const MAX_MATCHING: usize = 1_000;

/// The ids of every submission the view matches (all its pages), up to [`MAX_MATCHING`].
async fn matching_ids(state: &AppState, view: &ViewQuery) -> Result<Vec<Uuid>, ApiError> {
    let Ok(request) = request_for(state, &view.first_page()) else {
        return Ok(Vec::new());
    };
    let mut ids = Vec::new();
    let mut cursor = None;
    while ids.len() < MAX_MATCHING {
        let page = state
            .store
            .queue_page(&request.filter, cursor, MAX_PAGE)
            .await
            .map_err(ApiError::storage)?;
        ids.extend(page.iter().map(|item| item.id));
        match page.last() {
            Some(last) if page.len() == MAX_PAGE as usize => cursor = Some(cursor_of(last)),
            _ => break,
        }
    }
    ids.truncate(MAX_MATCHING);
    Ok(ids)
}

/// Bulk actions on the selected submissions: status, add a label, assign or unassign.
pub async fn bulk(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let view = ViewQuery::parse(form.get("view"));
    let ids: Vec<Uuid> = if form.get("scope") == Some("matching") {
        matching_ids(&state, &view).await?
    } else {
        form.all("ids")
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect()
    };
    let refuse = |message: String| {
        let flash = Flash {
            notice: None,
            error: Some(message),
        };
        (flash, ids.clone())
    };
    let outcome = if ids.is_empty() {
        Err(refuse("Select at least one submission.".to_owned()))
    } else {
        bulk_patch(&state, &form).await.map_err(&refuse)
    };
    // All or nothing: an unknown or invalid selection changes none of them.
    let outcome = match outcome {
        Ok((patch, said)) => match desk::apply(&state.desk(), &staff, &ids, &patch).await {
            Ok(()) => Ok(said),
            Err(DeskError::Unknown(unknown)) => {
                let unknown: Vec<String> = unknown.iter().map(Uuid::to_string).collect();
                Err(refuse(format!(
                    "Nothing was changed: no submission {}.",
                    unknown.join(", ")
                )))
            }
            Err(DeskError::Invalid(errors)) => Err(refuse(format!(
                "Nothing was changed: {}.",
                messages(&errors)
            ))),
            Err(other) => return Err(other.into()),
        },
        Err(refused) => Err(refused),
    };
    let said = match outcome {
        Ok(said) => said,
        Err((flash, selected)) => {
            let selection = Selection::These(&selected);
            let mut response = render(&state, &staff, &view, flash, selection).await?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(response);
        }
    };
    let ids: std::collections::HashSet<&Uuid> = ids.iter().collect();
    let notice = format!(
        "Updated {} submission{}: {}.",
        ids.len(),
        if ids.len() == 1 { "" } else { "s" },
        said.join(", ")
    );
    Ok(redirect_with(&view.href("/triage"), "notice", &notice))
}

/// Longest name of a saved view, in characters.
const MAX_VIEW_NAME: usize = 40;

/// Saves the current view under a name (`action=save`), or forgets one (`action=delete`).
pub async fn saved_view(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let view = ViewQuery::parse(form.get("view")).first_page();
    let name = form.get("name").unwrap_or_default().trim().to_owned();
    let back = view.href("/triage");
    if name.is_empty() || name.chars().count() > MAX_VIEW_NAME {
        return Ok(redirect_with(
            &back,
            "error",
            "A view's name is 1 to 40 characters.",
        ));
    }
    let store = state.store.as_ref();
    if form.get("action") == Some("delete") {
        store
            .delete_view(&staff.name, &name)
            .await
            .map_err(ApiError::storage)?;
        return Ok(redirect_with(
            "/triage",
            "notice",
            &format!("Forgot the view “{name}”."),
        ));
    }
    store
        .save_view(&staff.name, &name, &view.encoded())
        .await
        .map_err(ApiError::storage)?;
    Ok(redirect_with(
        &back,
        "notice",
        &format!("Saved this view as “{name}”."),
    ))
}
