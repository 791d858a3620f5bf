//! The OpenAPI 3.1 document of the public and internal API, generated from the handlers'
//! `#[utoipa::path]` annotations and the types below, served at `/api/v1/openapi.json`.
//!
//! Handlers that parse their bodies by hand (to list every failing field at once) describe the
//! body with a schema-only type from this module.

use axum::Json;
use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi, ToSchema};

use crate::state::AppState;

/// A submission sent as JSON (multipart takes the same fields, plus `attachment` files).
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a body that the handler parses by hand")]
pub struct SubmissionBody {
    /// `bug` (Bug Reporter), `feature` (Features Submitter) or `feedback` (Feedback? window).
    #[schema(pattern = "^(bug|feature|feedback)$")]
    kind: String,
    #[schema(max_length = 200)]
    summary: Option<String>,
    #[schema(min_length = 1, max_length = 10000)]
    message: String,
    /// Only with `kind=feedback`.
    #[schema(minimum = 1, maximum = 5)]
    rating: Option<u8>,
    #[schema(min_length = 1, max_length = 64)]
    webapp_version: String,
    #[schema(min_length = 1, max_length = 64)]
    server_version: String,
    /// `WIDTHxHEIGHT`, each 1–16384.
    #[schema(example = "1920x1080")]
    screen_resolution: String,
    /// Absolute http(s) URL; stored without query, fragment and credentials.
    #[schema(max_length = 2048)]
    url: String,
    /// Must be the current terms version (`GET /api/v1/terms`).
    terms_version: String,
    /// Must be `true`.
    terms_accepted: bool,
    /// Defaults to `send` for `feedback`, `submit` otherwise.
    #[schema(pattern = "^(submit|send)$")]
    button: Option<String>,
    #[schema(max_length = 200)]
    contact_name: Option<String>,
    #[schema(max_length = 254)]
    contact_email: Option<String>,
    /// Honeypot of the widget: left empty by people. Used for spam triage, never stored.
    website: Option<String>,
    /// Milliseconds from opening the form to sending it. Used for spam triage, never stored.
    form_ms: Option<u64>,
}

/// A stored attachment as the receipt lists it.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the receipt")]
pub struct ReceiptAttachment {
    filename: String,
    size: u64,
    sha256: String,
    content_type: String,
}

/// Sent once the submission, its terms record and every file are durably stored.
#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the receipt")]
pub struct Receipt {
    id: uuid::Uuid,
    /// RFC 3339.
    received_at: String,
    attachments: Vec<ReceiptAttachment>,
    /// Shown once: withdraws this submission (`POST /api/v1/feedback/{id}/withdraw`).
    withdraw_token: String,
}

/// The withdrawal token from the 201.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a body that the handler parses by hand")]
pub struct WithdrawBody {
    token: String,
}

/// The body of every refusal, as `ApiError` writes it.
pub type Problem = super::error::Problem<'static>;

/// The problems every internal operation may answer, declared once: `responses(…,
/// InternalProblems)` adds 401, 403 and 503.
#[derive(IntoResponses)]
pub enum InternalProblems {
    #[response(
        status = 401,
        description = "No valid bearer token",
        content_type = "application/problem+json"
    )]
    Unauthorized(Problem),
    #[response(
        status = 403,
        description = "The role does not allow this",
        content_type = "application/problem+json"
    )]
    Forbidden(Problem),
    #[response(
        status = 503,
        description = "Storage unavailable (Retry-After)",
        content_type = "application/problem+json"
    )]
    StorageUnavailable(Problem),
}

/// `400 malformed_body`.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "Malformed body",
    content_type = "application/problem+json"
)]
#[expect(dead_code, reason = "documents problem+json")]
pub struct MalformedBody(Problem);

/// `404 not_found`.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such submission",
    content_type = "application/problem+json"
)]
#[expect(dead_code, reason = "documents problem+json")]
pub struct NotFound(Problem);

/// `422`: every failing field listed.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "Invalid parameters or fields",
    content_type = "application/problem+json"
)]
#[expect(dead_code, reason = "documents problem+json")]
pub struct Invalid(Problem);

#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the terms")]
pub struct TermsBody {
    version: String,
    text: String,
    sha256: String,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "documents the limits")]
pub struct LimitsBody {
    max_attachments: usize,
    max_attachment_bytes: u64,
    max_total_attachment_bytes: u64,
    allowed_types: Vec<String>,
}

/// A triage change; `null` clears `assignee` or `duplicate_of`.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a body that the handler parses by hand")]
pub struct TriagePatchBody {
    #[schema(pattern = "^(new|triaged|in_progress|done|wont_fix|duplicate|spam)$")]
    status: Option<String>,
    /// Replaces the labels: each 1–40 characters without commas, trimmed and lower-cased;
    /// repeats are dropped before the cap is counted.
    #[schema(max_items = 20)]
    labels: Option<Vec<String>>,
    assignee: Option<String>,
    duplicate_of: Option<uuid::Uuid>,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a body that the handler parses by hand")]
pub struct NoteBody {
    #[schema(min_length = 1, max_length = 10000)]
    body: String,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a body that the handler parses by hand")]
pub struct PrivacyExportBody {
    email: String,
}

#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a body that the handler parses by hand")]
pub struct PrivacyEraseBody {
    email: String,
    #[schema(pattern = "^(contact|everything)$")]
    scope: String,
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "feedbackd",
        description = "Collects WebApp feedback and keeps it private. Every error is application/problem+json.",
    ),
    paths(
        super::public::terms,
        super::public::limits,
        super::intake::submit,
        super::withdraw::withdraw_api,
        super::internal::list,
        super::internal::show,
        super::internal::update,
        super::internal::add_note,
        super::internal::replies::add_reply,
        super::internal::attachment,
        super::internal::audit_log,
        super::internal::stats::stats,
        super::internal::privacy::export,
        super::internal::privacy::erase,
        super::internal::outbox::show,
        super::internal::outbox::retry,
        super::internal::outbox::discard,
    ),
    components(schemas(
        SubmissionBody, Receipt, ReceiptAttachment, WithdrawBody, Problem, crate::domain::FieldError, TermsBody, LimitsBody,
        TriagePatchBody, NoteBody, PrivacyExportBody, PrivacyEraseBody,
        crate::notify::admin::Overview, crate::store::DeadMessage,
        super::internal::replies::ReplyBody, crate::triage::desk::ReplyView,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "public", description = "Used by the widget"),
        (name = "internal", description = "The product team and the webmaster (bearer token)"),
    )
)]
pub struct ApiDoc;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/v1/openapi.json",
        get(|| async { Json(ApiDoc::openapi()) }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_internal_operation_declares_its_problems() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let paths = doc["paths"].as_object().expect("paths");
        let mut operations = 0;
        for (path, item) in paths
            .iter()
            .filter(|(p, _)| p.starts_with("/api/v1/internal"))
        {
            for (method, operation) in item.as_object().expect("a path item") {
                operations += 1;
                for status in ["401", "403", "503"] {
                    let content = &operation["responses"][status]["content"];
                    assert!(
                        content["application/problem+json"]["schema"]["$ref"]
                            .as_str()
                            .is_some_and(|r| r.ends_with("/Problem")),
                        "{method} {path}: {status} as problem+json"
                    );
                }
            }
        }
        assert!(operations >= 8, "{operations} internal operations");
    }

    #[test]
    fn problems_are_documented_from_the_type_that_writes_them() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serialises");
        let problem = &doc["components"]["schemas"]["Problem"]["properties"];
        for field in ["type", "title", "status", "detail", "code", "errors"] {
            assert!(problem.get(field).is_some(), "Problem.{field}: {problem}");
        }
        assert!(
            problem["errors"]["items"]["$ref"]
                .as_str()
                .is_some_and(|r| r.ends_with("/FieldError")),
            "{problem}"
        );
    }
}
