//! One submission in the view: reading it with previous/next within the queue view it was
//! opened from (kept in its query string, with the way back to the same page), triage changes
//! ("Save" and "Save & next"), spam / not spam, and private notes.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use minijinja::context;
use uuid::Uuid;

use super::format::status_name;
use super::pages::{FormFields, check_csrf, csrf_of, page, parse_id, staff_ctx};
use super::queue::{NOBODY, redirect_with, request_for, staff_named};
use super::view_query::{Flash, ViewQuery};
use crate::domain::{Status, TriagePatch, ValidationErrors};
use crate::http::auth::ViewStaff;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::QueueCursor;
use crate::triage::desk::{self, DeskError};

/// The submissions before and after `here` in `view` (its filters, not its page): links.
async fn neighbours(
    state: &AppState,
    view: &ViewQuery,
    here: QueueCursor,
) -> Result<(Option<String>, Option<String>), ApiError> {
    let Ok(request) = request_for(state, &view.first_page()) else {
        return Ok((None, None));
    };
    let store = state.store.as_ref();
    let newer = store
        .queue_page_newer(&request.filter, here, 1)
        .await
        .map_err(ApiError::storage)?;
    let older = store
        .queue_page(&request.filter, Some(here), 1)
        .await
        .map_err(ApiError::storage)?;
    let link = |id: Uuid| view.href(&format!("/triage/feedback/{id}"));
    Ok((
        newer.first().map(|i| link(i.id)),
        older.first().map(|i| link(i.id)),
    ))
}

pub async fn detail(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let view = ViewQuery::parse(raw.as_deref());
    let flash = Flash::parse(raw.as_deref());
    let id = parse_id(&id)?;
    let detail = desk::load(&state.desk(), &staff, id).await?;
    let here = QueueCursor {
        received_at: detail.received_at,
        id,
    };
    let (previous_href, next_href) = neighbours(&state, &view, here).await?;
    let contact_erased_at = match detail.contact {
        Some(_) => None,
        None => state
            .store
            .contact_erased_at(id)
            .await
            .map_err(ApiError::storage)?,
    };
    let staff_names = state.store.staff_names().await.map_err(ApiError::storage)?;
    let mut duplicates = Vec::new();
    for other in &detail.likely_duplicates {
        let Ok(row) = desk::submission(&state.desk(), *other).await else {
            continue;
        };
        let title = row
            .summary
            .clone()
            .unwrap_or_else(|| row.message.chars().take(80).collect());
        duplicates.push(context! {
            id => row.id, href => view.href(&format!("/triage/feedback/{}", row.id)), title => title,
            received_at => row.received_at, status => row.status,
            already => row.duplicate_of == Some(id),
            similar => detail.similar_text.contains(other),
        });
    }
    let statuses: Vec<_> = Status::ALL
        .iter()
        .map(|s| context! { value => s.as_str(), name => status_name(s.as_str().to_owned()) })
        .collect();
    page(
        &state,
        "detail.html",
        context! {
            staff => staff_ctx(&staff), csrf => csrf_of(&staff), s => detail, statuses => statuses,
            view => view.encoded(), back_href => view.href("/triage"),
            previous_href => previous_href, next_href => next_href,
            staff_names => staff_names, nobody => NOBODY, contact_erased_at => contact_erased_at,
            duplicates => duplicates,
            notice => flash.notice, error => flash.error,
        },
    )
}

/// The failing fields of a change as one line for the page.
pub(super) fn messages(errors: &ValidationErrors) -> String {
    errors
        .0
        .iter()
        .map(|e| format!("{} {}", e.field.replace('_', "-"), e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The patch a triage form asks for, or what is wrong with it: the one patch parser of
/// `domain`, with the assignee taken only from the staff who exist.
async fn form_patch(state: &AppState, form: &FormFields) -> Result<TriagePatch, String> {
    let parsed =
        TriagePatch::from_form(|name| (name != "assignee").then(|| form.get(name)).flatten());
    let mut problems = Vec::new();
    let mut patch = parsed.unwrap_or_else(|errors| {
        problems.push(messages(&errors));
        TriagePatch::default()
    });
    if let Some(assignee) = form.get("assignee") {
        match assignee.trim() {
            "" | NOBODY => patch.assignee = Some(None),
            typed => match staff_named(state, typed).await {
                Ok(Some(name)) => patch.assignee = Some(Some(name)),
                Ok(None) => problems.push(format!("no staff member is called “{typed}”")),
                Err(_) => problems.push("staff names could not be read".to_owned()),
            },
        }
    }
    if problems.is_empty() {
        Ok(patch)
    } else {
        Err(problems.join("; "))
    }
}

/// The triage form: status, labels (comma-separated), assignee, duplicate-of; then the same
/// submission again, or with `then=next` the next one in the view it was opened from.
pub async fn update(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let id = parse_id(&id)?;
    let row = desk::submission(&state.desk(), id).await?;
    let view = ViewQuery::parse(form.get("view"));
    let here = view.href(&format!("/triage/feedback/{id}"));
    let patch = match form_patch(&state, &form).await {
        Ok(patch) => patch,
        Err(message) => return Ok(redirect_with(&here, "error", &message)),
    };
    match desk::apply(&state.desk(), &staff, &[id], &patch).await {
        Ok(()) => {}
        Err(DeskError::Invalid(errors)) => {
            return Ok(redirect_with(&here, "error", &messages(&errors)));
        }
        Err(other) => return Err(other.into()),
    }
    let saved = match patch.status {
        Some(Status::Spam) => "Marked as spam.",
        Some(Status::New) if row.status == Status::Spam => "Marked as not spam: back in the inbox.",
        _ => "Saved.",
    };
    if form.get("then") == Some("next") {
        let position = QueueCursor {
            received_at: row.received_at,
            id,
        };
        return Ok(match neighbours(&state, &view, position).await?.1 {
            Some(next) => redirect_with(&next, "notice", saved),
            None => redirect_with(
                &view.href("/triage"),
                "notice",
                &format!("{saved} That was the last one in this view."),
            ),
        });
    }
    Ok(redirect_with(&here, "notice", saved))
}

/// A form posted from a submission's page: its fields (CSRF checked), the submission, and the
/// way back to that page within the same queue view.
pub(super) fn submission_form(
    staff: &crate::staff::Staff,
    body: &[u8],
    id: &str,
) -> Result<(FormFields, Uuid, String), ApiError> {
    let form = FormFields::parse(body);
    check_csrf(staff, &form)?;
    let id = parse_id(id)?;
    let here = ViewQuery::parse(form.get("view")).href(&format!("/triage/feedback/{id}"));
    Ok((form, id, here))
}

pub async fn add_note(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (form, id, here) = submission_form(&staff, &body, &id)?;
    match desk::add_note(
        &state.desk(),
        &staff,
        id,
        form.get("body").unwrap_or_default(),
    )
    .await
    {
        Ok(_) => Ok(redirect_with(&here, "notice", "Note added.")),
        Err(DeskError::Invalid(_)) => Ok(redirect_with(
            &here,
            "error",
            "A note must be 1 to 10,000 characters.",
        )),
        Err(other) => Err(other.into()),
    }
}

/// "Mark these as duplicates of this one": each ticked submission gets status `duplicate` and
/// this one as its original.
pub async fn mark_duplicates(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (form, id, here) = submission_form(&staff, &body, &id)?;
    let ids: Vec<Uuid> = form
        .all("ids")
        .filter_map(|raw| Uuid::parse_str(raw).ok())
        .filter(|other| *other != id)
        .collect();
    if ids.is_empty() {
        return Ok(redirect_with(
            &here,
            "error",
            "Tick at least one likely duplicate.",
        ));
    }
    let patch = TriagePatch {
        status: Some(Status::Duplicate),
        duplicate_of: Some(Some(id)),
        ..TriagePatch::default()
    };
    match desk::apply(&state.desk(), &staff, &ids, &patch).await {
        Ok(()) => {}
        Err(DeskError::Invalid(errors)) => {
            return Ok(redirect_with(&here, "error", &messages(&errors)));
        }
        Err(other) => return Err(other.into()),
    }
    let notice = format!(
        "Marked {} submission{} as duplicate{} of this one.",
        ids.len(),
        if ids.len() == 1 { "" } else { "s" },
        if ids.len() == 1 { "" } else { "s" },
    );
    Ok(redirect_with(&here, "notice", &notice))
}
