//! The webmaster's privacy page: find, export or erase what is tied to an e-mail address.
//! The address travels in form bodies only, never in a URL.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use uuid::Uuid;

use super::pages::{FormFields, check_csrf, csrf_of, page, require_webmaster, staff_ctx};
use crate::app::AppState;
use crate::domain::ContactEmail;
use crate::http::auth::ViewStaff;
use crate::http::error::ApiError;
use crate::privacy::requests;
use crate::store::EraseScope;

pub async fn privacy_page(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
) -> Result<Response, ApiError> {
    require_webmaster(&staff)?;
    page(
        &state,
        "privacy.html",
        context! {
            staff => staff_ctx(&staff), csrf => csrf_of(&staff), found => (),
        },
    )
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
    let render =
        |found: Option<Vec<Uuid>>, report: Option<requests::ErasureReport>, error: Option<&str>| {
            page(
                &state,
                "privacy.html",
                context! {
                    staff => staff_ctx(&staff), csrf => csrf_of(&staff), email => email,
                    found => found, report => report, error => error,
                },
            )
        };
    if !matches!(ContactEmail::parse(&email), Ok(Some(_))) {
        return render(None, None, Some("Enter a valid e-mail address."));
    }
    let store = state.store.as_ref();
    let actor = staff.actor();
    let failed = |e: requests::PrivacyError| match e {
        requests::PrivacyError::Store(e) => ApiError::storage(e),
        requests::PrivacyError::Open(e) => ApiError::Internal(e.into()),
    };
    match form.get("action").unwrap_or("find") {
        "export" => {
            let export = requests::export(store, &state.vault, &email, &actor)
                .await
                .map_err(failed)?;
            let json =
                serde_json::to_string_pretty(&export).map_err(|e| ApiError::Internal(e.into()))?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_static("attachment; filename=\"feedbackd-export.json\""),
                    ),
                    (
                        header::CACHE_CONTROL,
                        HeaderValue::from_static("private, no-store"),
                    ),
                ],
                json,
            )
                .into_response())
        }
        action @ ("erase_contact" | "erase_everything") => {
            if form.get("confirm") != Some("yes") {
                return render(None, None, Some("Confirm that you checked the request."));
            }
            let scope = if action == "erase_contact" {
                EraseScope::Contact
            } else {
                EraseScope::Everything
            };
            let report = requests::erase(store, &state.blobs, &state.vault, &email, scope, &actor)
                .await
                .map_err(failed)?;
            render(None, Some(report), None)
        }
        _ => {
            let found = requests::find(store, &state.vault, &email)
                .await
                .map_err(ApiError::storage)?;
            render(Some(found), None, None)
        }
    }
}
