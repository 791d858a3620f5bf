//! The one error type at the HTTP boundary. Every refusal is an RFC 9457 problem+json body
//! with a stable `code`; 5xx causes are logged once, with their chain, and shown generically.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::admission::memory::BudgetSpent;
use crate::domain::{FieldError, ValidationErrors};
use crate::store::StoreError;

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

/// RFC 9457 problem details, with a stable `code` and every failing field.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem<'a> {
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'static str,
    errors: Vec<FieldError>,
}

impl From<BudgetSpent> for ApiError {
    fn from(_: BudgetSpent) -> Self {
        Self::Overloaded
    }
}

impl ApiError {
    /// A failure of the database or the object store, by what it means for the client: the
    /// dependency is unavailable (down, hung, overloaded, a transient conflict between
    /// transactions) → `503` with `Retry-After`; a uniqueness conflict → `409`; anything else
    /// (a decode error, a bug in a query, a row naming a missing object) → `500`, since a
    /// retry would fail the same way and must not be invited.
    pub fn storage(error: impl Into<anyhow::Error>) -> Self {
        let error = error.into();
        match StorageFailure::of(&error) {
            StorageFailure::Unavailable => Self::StorageUnavailable(error),
            StorageFailure::Conflict => Self::Conflict(error),
            StorageFailure::Bug => Self::Internal(error),
        }
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

/// What a storage failure means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StorageFailure {
    Unavailable,
    Conflict,
    Bug,
}

impl StorageFailure {
    /// Classifies by the first database or object-store error in the chain.
    fn of(error: &anyhow::Error) -> Self {
        for cause in error.chain() {
            if let Some(store) = cause.downcast_ref::<StoreError>() {
                return match store {
                    StoreError::Database(db) => Self::of_sqlx(db),
                    StoreError::Migrate(_) => Self::Bug,
                    StoreError::WriterGone | StoreError::Timeout(_) => Self::Unavailable,
                    StoreError::Conflict(_) => Self::Conflict,
                };
            }
            if let Some(db) = cause.downcast_ref::<sqlx::Error>() {
                return Self::of_sqlx(db);
            }
            if let Some(objects) = cause.downcast_ref::<object_store::Error>() {
                return match objects {
                    object_store::Error::NotFound { .. }
                    | object_store::Error::InvalidPath { .. }
                    | object_store::Error::NotSupported { .. }
                    | object_store::Error::NotImplemented { .. }
                    | object_store::Error::UnknownConfigurationKey { .. } => Self::Bug,
                    _ => Self::Unavailable,
                };
            }
        }
        Self::Bug
    }

    fn of_sqlx(error: &sqlx::Error) -> Self {
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => Self::Unavailable,
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // SQLite: BUSY (5), LOCKED (6), FULL (13), IOERR (10) and their extended codes.
                // PostgreSQL: connection (08), serialization and deadlock (40001, 40P01),
                // resources (53), operator intervention (57: shutdown, query cancelled).
                let sqlite_transient =
                    matches!(code.parse::<u32>().map(|c| c & 0xff), Ok(5 | 6 | 10 | 13));
                let postgres_transient = code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57")
                    || code == "40001"
                    || code == "40P01";
                if sqlite_transient || postgres_transient {
                    Self::Unavailable
                } else {
                    Self::Bug
                }
            }
            _ => Self::Bug,
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

    fn status_of(error: impl Into<anyhow::Error>) -> u16 {
        ApiError::storage(error).parts().0.as_u16()
    }

    #[test]
    fn storage_failures_map_by_meaning_not_all_to_503() {
        assert_eq!(status_of(sqlx::Error::PoolTimedOut), 503);
        assert_eq!(
            status_of(StoreError::Database(sqlx::Error::PoolClosed)),
            503
        );
        assert_eq!(status_of(StoreError::WriterGone), 503);
        assert_eq!(status_of(StoreError::Timeout(Duration::from_secs(5))), 503);
        assert_eq!(status_of(StoreError::Conflict("that name")), 409);
        assert_eq!(
            status_of(sqlx::Error::ColumnNotFound("no_such_column".into())),
            500,
            "a bug in a query is not worth a retry"
        );
        assert_eq!(status_of(sqlx::Error::RowNotFound), 500);
        let hung: object_store::Error =
            crate::blobs::DeadlineExceeded(Duration::from_secs(1)).into();
        assert_eq!(status_of(hung), 503);
        let missing = object_store::Error::NotFound {
            path: "attachments/x".into(),
            source: "gone".into(),
        };
        assert_eq!(status_of(missing), 500);
        assert_eq!(
            status_of(anyhow::Error::new(StoreError::WriterGone).context("storing")),
            503,
            "found anywhere in the chain"
        );
    }

    #[tokio::test]
    async fn database_errors_from_a_real_database_are_classified() {
        use sqlx::Connection;
        let mut db = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        let bug = sqlx::query("SELECT no_such_column FROM no_such_table")
            .execute(&mut db)
            .await
            .unwrap_err();
        assert_eq!(status_of(bug), 500);
        sqlx::query("CREATE TABLE t (k TEXT PRIMARY KEY)")
            .execute(&mut db)
            .await
            .unwrap();
        let insert = "INSERT INTO t VALUES ('a')";
        sqlx::query(insert).execute(&mut db).await.unwrap();
        let duplicate = sqlx::query(insert).execute(&mut db).await.unwrap_err();
        assert_eq!(status_of(duplicate), 409);
    }

    #[test]
    fn retry_after_is_whole_seconds_and_never_zero() {
        assert_eq!(retry_secs(&Duration::ZERO), 1);
        assert_eq!(retry_secs(&Duration::from_millis(1)), 1);
        assert_eq!(retry_secs(&Duration::from_millis(1001)), 2);
        assert_eq!(retry_secs(&Duration::from_secs(3)), 3);
    }
}
