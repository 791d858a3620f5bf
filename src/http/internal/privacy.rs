//! `POST /api/v1/internal/privacy/export` and `…/erase`, for the webmaster role.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use serde_json::{Value, json};

use super::json_object;
use crate::domain::{ContactEmail, FieldError, Role, ValidationErrors};
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::privacy::export_zip::{ExportZip, export_zip};
use crate::privacy::requests::{self, PrivacyError};
use crate::state::AppState;
use crate::store::EraseScope;

fn privacy_error(error: PrivacyError) -> ApiError {
    match error {
        PrivacyError::Store(e) => ApiError::storage(e),
        PrivacyError::Open(e) => ApiError::Internal(e.into()),
    }
}

/// A failed ZIP export: storage errors stay 503, the rest is internal.
pub(crate) fn zip_error(error: anyhow::Error) -> ApiError {
    match error.downcast::<PrivacyError>() {
        Ok(error) => privacy_error(error),
        Err(error) => ApiError::Internal(error),
    }
}

/// The archive as a download with its dated name.
pub(crate) fn zip_response(archive: ExportZip) -> Result<Response, ApiError> {
    let disposition = format!("attachment; filename=\"{}\"", archive.file_name);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|e| ApiError::Internal(e.into()))?,
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        archive.bytes,
    )
        .into_response())
}

fn wants_zip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains("application/zip"))
}

/// The `email` field, validated like the contact address it must match.
fn email(body: &serde_json::Map<String, Value>) -> Result<String, FieldError> {
    match body
        .get("email")
        .and_then(Value::as_str)
        .map(ContactEmail::parse)
    {
        Some(Ok(Some(email))) => Ok(email.as_str().to_owned()),
        Some(Err((code, message))) => Err(FieldError::new("email", code, message)),
        Some(Ok(None)) | None => Err(FieldError::new("email", "required", "is required")),
    }
}

fn check_fields(
    body: &serde_json::Map<String, Value>,
    allowed: &[&str],
    errors: &mut Vec<FieldError>,
) {
    for field in body.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errors.push(FieldError::new(
            field,
            "unknown_field",
            "is not a field of this request",
        ));
    }
}

#[utoipa::path(post, path = "/api/v1/internal/privacy/export", tag = "internal", security(("bearer" = [])),
    request_body(content = crate::http::openapi::PrivacyExportBody, content_type = "application/json"),
    responses((status = 200, description = "Everything stored about the address: JSON, or with `Accept: application/zip` a ZIP (export.json, the files, README.txt) named feedbackd-export-YYYY-MM-DD.zip", body = crate::privacy::requests::Export),
        crate::http::openapi::MalformedBody,
        crate::http::openapi::Invalid,
        crate::http::openapi::InternalProblems))]
pub async fn export(
    auth: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let staff = auth.require(Role::Webmaster)?;
    let body = json_object(&body)?;
    let mut errors = Vec::new();
    check_fields(&body, &["email"], &mut errors);
    let email = email(&body).map_err(|e| errors.push(e));
    let (Ok(email), true) = (email, errors.is_empty()) else {
        return Err(ApiError::Validation(ValidationErrors(errors)));
    };
    if wants_zip(&headers) {
        let archive = export_zip(
            state.store.as_ref(),
            &state.blobs,
            &state.vault,
            &email,
            &staff.actor(),
        )
        .await
        .map_err(zip_error)?;
        return zip_response(archive);
    }
    let export = requests::export(state.store.as_ref(), &state.vault, &email, &staff.actor())
        .await
        .map_err(privacy_error)?;
    Ok(
        Json(serde_json::to_value(export).map_err(|e| ApiError::Internal(e.into()))?)
            .into_response(),
    )
}

#[utoipa::path(post, path = "/api/v1/internal/privacy/erase", tag = "internal", security(("bearer" = [])),
    request_body(content = crate::http::openapi::PrivacyEraseBody, content_type = "application/json"),
    responses((status = 200, description = "What was removed", body = Object),
        crate::http::openapi::MalformedBody,
        crate::http::openapi::Invalid,
        crate::http::openapi::InternalProblems))]
pub async fn erase(
    auth: Authenticated,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let staff = auth.require(Role::Webmaster)?;
    let body = json_object(&body)?;
    let mut errors = Vec::new();
    check_fields(&body, &["email", "scope"], &mut errors);
    let email = email(&body).map_err(|e| errors.push(e));
    let scope = match body.get("scope").and_then(Value::as_str) {
        Some("contact") => Some(EraseScope::Contact),
        Some("everything") => Some(EraseScope::Everything),
        _ => {
            errors.push(FieldError::new(
                "scope",
                "invalid",
                "must be contact or everything",
            ));
            None
        }
    };
    let (Ok(email), Some(scope), true) = (email, scope, errors.is_empty()) else {
        return Err(ApiError::Validation(ValidationErrors(errors)));
    };
    let report = requests::erase(
        state.store.as_ref(),
        &state.blobs,
        &state.vault,
        &email,
        scope,
        &staff.actor(),
    )
    .await
    .map_err(privacy_error)?;
    Ok(Json(json!({ "removed": report })))
}
