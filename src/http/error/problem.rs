//! The problem+json body, and what each [`ApiError`] is called and tells the client: its status,
//! stable `code`, title, detail and failing fields.

use axum::http::StatusCode;
use serde::Serialize;

use super::{ApiError, retry_secs};
use crate::domain::{FieldError, ValidationErrors};

/// RFC 9457 problem details, with a stable `code` and every failing field.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub(super) kind: String,
    pub(super) title: &'a str,
    pub(super) status: u16,
    pub(super) detail: String,
    pub(super) code: &'static str,
    pub(super) errors: Vec<FieldError>,
}
impl ApiError {
    pub(super) fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Self::MalformedBody(_) => (StatusCode::BAD_REQUEST, "malformed_body", "Malformed body"),
            Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", "Too large"),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            Self::UnsupportedEncoding => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported content encoding",
            ),
            Self::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency key reused",
            ),
            Self::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded", "Too busy"),
            Self::AttachmentTypeNotAllowed => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "attachment_type_not_allowed",
                "Attachment type not allowed",
            ),
            Self::Validation(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                errors.code(),
                "Invalid submission",
            ),
            Self::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
            ),
            Self::StorageUnavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "Storage unavailable",
            ),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            Self::NoContact => (StatusCode::CONFLICT, "no_contact", "No contact address"),
            Self::MailDisabled => (StatusCode::CONFLICT, "mail_disabled", "E-mail is off"),
            Self::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "Authentication required",
            ),
            Self::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Self::OriginNotAllowed => (
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "Origin not allowed",
            ),
            Self::CsrfFailed => (StatusCode::FORBIDDEN, "csrf_failed", "Forbidden"),
            Self::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
            ),
            Self::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "Request timeout",
            ),
            Self::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    pub(super) fn detail_and_errors(self) -> (String, Vec<FieldError>) {
        match self {
            Self::MalformedBody(why) => (
                format!("The request body could not be read: {why}."),
                vec![],
            ),
            Self::TooLarge(error) => (
                format!(
                    "The request is too large: {} {}.",
                    error.field, error.message
                ),
                vec![error],
            ),
            Self::UnsupportedMediaType => (
                "Send application/json, or multipart/form-data with attachments.".into(),
                vec![],
            ),
            Self::UnsupportedEncoding => (
                "The body's Content-Encoding is not supported; send it uncompressed.".into(),
                vec![],
            ),
            Self::IdempotencyKeyReused => (
                "This Idempotency-Key was used for a different submission; use a new key.".into(),
                vec![FieldError::new(
                    "Idempotency-Key",
                    "idempotency_key_reused",
                    "was already used for other content",
                )],
            ),
            Self::Overloaded => (
                "The service is busy receiving other requests; retry shortly.".into(),
                vec![],
            ),
            Self::AttachmentTypeNotAllowed => (
                "Attachments may be PNG, JPEG, GIF, WebP, PDF or UTF-8 plain text.".into(),
                vec![FieldError::new(
                    "attachment",
                    "attachment_type_not_allowed",
                    "must be PNG, JPEG, GIF, WebP, PDF or UTF-8 plain text",
                )],
            ),
            Self::Validation(ValidationErrors(errors)) => (
                format!("{} field(s) failed validation.", errors.len()),
                errors,
            ),
            Self::RateLimited(wait) => (
                format!(
                    "Too many submissions from this client; retry in {} s.",
                    retry_secs(&wait)
                ),
                vec![],
            ),
            Self::StorageUnavailable(_) => ("Storage is unavailable; retry later.".into(), vec![]),
            Self::Conflict(_) => (
                "This conflicts with something that already exists.".into(),
                vec![],
            ),
            Self::NotFound => ("Nothing is here.".into(), vec![]),
            Self::NoContact => (
                "This submission has no e-mail address to write to (none was given, or it was erased).".into(),
                vec![],
            ),
            Self::MailDisabled => (
                "No SMTP relay is configured, so nothing can be e-mailed.".into(),
                vec![],
            ),
            Self::Unauthorized => (
                "Log in, or send Authorization: Bearer <token>.".into(),
                vec![],
            ),
            Self::Forbidden => ("Your role does not allow this.".into(), vec![]),
            Self::OriginNotAllowed => (
                "Feedback is accepted from the WebApp's own pages only.".into(),
                vec![],
            ),
            Self::CsrfFailed => (
                "The form is stale; reload the page and try again.".into(),
                vec![],
            ),
            Self::MethodNotAllowed => ("This route does not take that method.".into(), vec![]),
            Self::Timeout => ("The request took too long to arrive.".into(), vec![]),
            Self::Internal(_) => ("Something went wrong on our side.".into(), vec![]),
        }
    }
}
