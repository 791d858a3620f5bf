//! `POST /api/v1/internal/feedback/{id}/replies {"body"}`: e-mail the submitter about their
//! feedback. Only translates: `notify::replies` stores, queues and audits it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use serde_json::Value;
use utoipa::{IntoResponses, ToSchema};

use super::{json_object, parse_id};
use crate::domain::Role;
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::http::openapi::{InternalProblems, Invalid, MalformedBody, NotFound, Problem};
use crate::notify::replies::{self, ReplyError};
use crate::state::AppState;
use crate::triage::desk::ReplyView;

/// A reply to the submitter.
#[derive(ToSchema)]
#[expect(dead_code, reason = "describes a body that the handler parses by hand")]
pub struct ReplyBody {
    /// Trimmed; 1 to 5,000 characters.
    #[schema(min_length = 1, max_length = 5000)]
    body: String,
}

/// `409 no_contact` (no address was given, or it was erased) or `409 mail_disabled` (no
/// SMTP relay configured): nothing is stored or queued.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "No address to write to (`no_contact`), or e-mail is off (`mail_disabled`); nothing stored",
    content_type = "application/problem+json"
)]
#[expect(dead_code, reason = "documents problem+json")]
pub struct NoContact(Problem);

impl From<ReplyError> for ApiError {
    fn from(error: ReplyError) -> Self {
        match error {
            ReplyError::NotFound => Self::NotFound,
            ReplyError::NoContact => Self::NoContact,
            ReplyError::MailDisabled => Self::MailDisabled,
            ReplyError::Invalid(errors) => Self::Validation(errors),
            ReplyError::Store(error) => Self::storage(error),
        }
    }
}

#[utoipa::path(post, path = "/api/v1/internal/feedback/{id}/replies", tag = "internal", security(("bearer" = [])),
    params(("id" = String, Path, description = "Submission id")),
    request_body(content = ReplyBody, content_type = "application/json"),
    responses((status = 201, description = "The reply, kept with the submission and queued for e-mail (with the submission's reference); audited as a use of the contact details", body = ReplyView),
        MalformedBody,
        NotFound,
        NoContact,
        Invalid,
        InternalProblems))]
pub async fn add_reply(
    auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let staff = auth.require(Role::Triager)?;
    let id = parse_id(&id)?;
    let map = json_object(&body)?;
    let text = match map.get("body") {
        Some(Value::String(text)) => text.as_str(),
        Some(_) => {
            return Err(ApiError::Validation(crate::domain::ValidationErrors(vec![
                crate::domain::FieldError::new("body", "invalid_type", "must be a string"),
            ])));
        }
        None => "",
    };
    let reply = replies::send(state.store.as_ref(), &state.settings, staff, id, text).await?;
    Ok((StatusCode::CREATED, Json(ReplyView::from(reply))).into_response())
}
