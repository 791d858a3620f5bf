//! The one error type at the HTTP boundary. Every refusal is an RFC 9457 problem+json body
//! with a stable `code`; 5xx causes are logged once, with their chain, and shown generically.
//!
//! This file holds the error type and how it becomes a response; `problem` says what each
//! error is called and tells the client, and `storage` sorts database and object-store
//! failures into unavailable, conflict or bug.

mod problem;
mod storage;

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::admission::memory::BudgetSpent;
use crate::domain::{FieldError, ValidationErrors};

pub use problem::Problem;

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
    #[error("conflict")]
    Conflict(#[source] anyhow::Error),
    #[error("not found")]
    NotFound,
    /// A reply to a submission that has no address to write to.
    #[error("no contact address")]
    NoContact,
    /// Mail asked for while no SMTP relay is configured.
    #[error("e-mail is not configured")]
    MailDisabled,
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

impl From<BudgetSpent> for ApiError {
    fn from(_: BudgetSpent) -> Self {
        Self::Overloaded
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
            Self::StorageUnavailable(cause) | Self::Internal(cause) | Self::Conflict(cause) => {
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
