//! The webmaster's privacy page: find (audited), preview, export or erase what is tied to an
//! e-mail address. The address travels in form bodies only, never in a URL. Export is its own
//! form, never blocked by the removal's checks; removal asks for the scope explicitly, warns
//! that contact-only makes a later full erasure impossible, needs the address typed back for
//! everything, and answers with a redirect to its receipt (POST-redirect-GET), so a reload
//! shows the result again instead of erasing again.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Deserialize;

use super::pages::{FormFields, check_csrf, csrf_of, page, require_webmaster, staff_ctx};
use crate::domain::ContactEmail;
use crate::http::auth::ViewStaff;
use crate::http::error::ApiError;
use crate::http::internal::privacy::{zip_error, zip_response};
use crate::privacy::export_zip::export_zip;
use crate::privacy::requests::{self, PreviewItem, PrivacyError};
use crate::state::AppState;
use crate::store::EraseScope;

#[derive(Debug, Deserialize)]
pub struct ReceiptQuery {
    receipt: Option<String>,
}

fn failed(error: PrivacyError) -> ApiError {
    match error {
        PrivacyError::Store(e) => ApiError::storage(e),
        PrivacyError::Open(e) => ApiError::Internal(e.into()),
    }
}

/// The blank page, or (after an erasure) the erasure's record, found by its receipt.
pub async fn privacy_page(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Query(query): Query<ReceiptQuery>,
) -> Result<Response, ApiError> {
    require_webmaster(&staff)?;
    let record = match query.receipt.as_deref() {
        Some(receipt) => requests::erasure_record(state.store.as_ref(), receipt)
            .await
            .map_err(ApiError::storage)?,
        None => None,
    };
    page(
        &state,
        "privacy.html",
        context! {
            staff => staff_ctx(&staff), csrf => csrf_of(&staff), found => (), record => record,
            unknown_receipt => query.receipt.is_some() && record.is_none(),
        },
    )
}

/// What the erase form asks for before anything is removed; `Err` is the message to show.
fn erase_scope(form: &FormFields, email: &str) -> Result<EraseScope, &'static str> {
    let scope = match form.get("scope") {
        Some("contact") => EraseScope::Contact,
        Some("everything") => EraseScope::Everything,
        _ => return Err("Choose what to remove: the contact details or everything."),
    };
    if form.get("confirm") != Some("yes") {
        return Err("Confirm that you checked the request comes from this address.");
    }
    let typed = form.get("typed_email").unwrap_or_default().trim();
    if scope == EraseScope::Everything && !typed.eq_ignore_ascii_case(email) {
        return Err("To remove everything, type the address again exactly.");
    }
    Ok(scope)
}

/// Find, export or erase what is tied to an address; the address travels in the form body only.
pub async fn privacy_action(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_webmaster(&staff)?;
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let email = form.get("email").unwrap_or_default().trim().to_owned();
    let render = |found: Option<Vec<PreviewItem>>, error: Option<&str>| {
        page(
            &state,
            "privacy.html",
            context! {
                staff => staff_ctx(&staff), csrf => csrf_of(&staff), email => email,
                found => found, error => error,
            },
        )
    };
    if !matches!(ContactEmail::parse(&email), Ok(Some(_))) {
        return render(None, Some("Enter a valid e-mail address."));
    }
    let store = state.store.as_ref();
    let actor = staff.actor();
    match form.get("action").unwrap_or("find") {
        "export" => {
            let archive = export_zip(store, &state.blobs, &state.vault, &email, &actor)
                .await
                .map_err(zip_error)?;
            zip_response(archive)
        }
        "erase" => match erase_scope(&form, &email) {
            Ok(scope) => {
                let report =
                    requests::erase(store, &state.blobs, &state.vault, &email, scope, &actor)
                        .await
                        .map_err(failed)?;
                Ok(
                    Redirect::to(&format!("/triage/privacy?receipt={}", report.receipt))
                        .into_response(),
                )
            }
            Err(message) => {
                let found = requests::preview(store, &state.vault, &email, &actor)
                    .await
                    .map_err(failed)?;
                render(Some(found), Some(message))
            }
        },
        _ => {
            let found = requests::preview(store, &state.vault, &email, &actor)
                .await
                .map_err(failed)?;
            render(Some(found), None)
        }
    }
}
