//! The one error type at the HTTP boundary. Every refusal is an RFC 9457 problem+json body
//! with a stable `code`; 5xx causes are logged once, with their chain, and shown generically.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::{FieldError, ValidationErrors};

/// The problem code of a response, read by the metrics middleware.
#[derive(Debug, Clone, Copy)]
pub struct ProblemCode(pub &'static str);

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("malformed body: {0}")]
    MalformedBody(&'static str),
    #[error("request too large")]
    TooLarge(FieldError),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("unsupported content encoding")]
    UnsupportedEncoding,
    #[error("idempotency key reused with other content")]
    IdempotencyKeyReused,
    #[error("too many requests in flight")]
    Overloaded,
    #[error("attachment type not allowed")]
    AttachmentTypeNotAllowed,
    #[error("validation failed")]
    Validation(ValidationErrors),
    #[error("rate limited")]
    RateLimited(Duration),
    #[error("storage unavailable")]
    StorageUnavailable(#[source] anyhow::Error),
    #[error("not found")]
    NotFound,
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("origin not allowed")]
    OriginNotAllowed,
    #[error("CSRF token missing or wrong")]
    CsrfFailed,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request timed out")]
    Timeout,
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// Seconds a client is asked to wait after a 503.
const STORAGE_RETRY_AFTER_SECS: u64 = 5;
/// Seconds a client is asked to wait when the intake memory budget is spent.
const OVERLOADED_RETRY_AFTER_SECS: u64 = 2;

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'static str,
    errors: Vec<FieldError>,
}

impl ApiError {
    pub fn storage(error: impl Into<anyhow::Error>) -> Self {
        Self::StorageUnavailable(error.into())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
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
            Self::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
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

    fn detail_and_errors(self) -> (String, Vec<FieldError>) {
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
            Self::NotFound => ("Nothing is here.".into(), vec![]),
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

/// Whole seconds to wait, rounded up and at least 1: `Retry-After: 0` would invite an
/// immediate retry that is refused again.
fn retry_secs(wait: &Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title) = self.parts();
        match &self {
            Self::StorageUnavailable(cause) | Self::Internal(cause) => {
                tracing::error!(code, error = ?cause, "request failed");
            }
            _ => {}
        }
        let retry_after = match &self {
            Self::RateLimited(wait) => Some(retry_secs(wait)),
            Self::StorageUnavailable(_) => Some(STORAGE_RETRY_AFTER_SECS),
            Self::Overloaded => Some(OVERLOADED_RETRY_AFTER_SECS),
            _ => None,
        };
        let (detail, errors) = self.detail_and_errors();
        let problem = Problem {
            kind: format!("urn:feedbackd:problem:{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            errors,
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if code == "unauthorized" {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response.extensions_mut().insert(ProblemCode(code));
        response
    }
}

/// Turns the bare error responses of the router and layers (unknown route, wrong method,
/// timeout) into problem+json, so that every refusal has the same shape.
pub async fn problem_for_bare_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    if response.extensions().get::<ProblemCode>().is_some() {
        return response;
    }
    let replacement = match response.status() {
        StatusCode::NOT_FOUND => ApiError::NotFound,
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::REQUEST_TIMEOUT => ApiError::Timeout,
        _ => return response,
    };
    let mut problem = replacement.into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        problem.headers_mut().insert(header::ALLOW, allow.clone());
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        assert_eq!(retry_secs(&Duration::ZERO), 1);
        assert_eq!(retry_secs(&Duration::from_millis(1)), 1);
        assert_eq!(retry_secs(&Duration::from_millis(1001)), 2);
        assert_eq!(retry_secs(&Duration::from_secs(3)), 3);
    }
}
