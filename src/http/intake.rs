//! `POST /api/v1/feedback`: from request to a durable submission, or to a refusal that leaves
//! nothing stored.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{Duration, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::body::{self, Received, TEXT_ALLOWANCE};
use super::error::ApiError;
use crate::attachments::{Staged, StoredAttachment};
use crate::domain::{FieldError, Submission, ValidationErrors};
use crate::notify::{self, Event};
use crate::state::AppState;
use crate::store::IDEMPOTENCY_WINDOW_HOURS;
use crate::store::{
    AttachmentRow, ContactRow, IdempotencyRecord, InsertOutcome, StoreError, StoredResponse,
    SubmissionRow, TermsRecord,
};
use crate::{triage, useragent};

/// Longest `Idempotency-Key` accepted.
const IDEMPOTENCY_KEY_MAX: usize = 128;
/// Memory a request holds while its body is read, besides upload buffers: hyper's read buffer
/// (64 KiB) and the multipart window or a JSON body (at most 128 KiB).
const REQUEST_READ_BYTES: u64 = 64 * 1024 + body::JSON_BODY_LIMIT as u64;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/feedback", post(submit))
}

#[derive(Serialize)]
struct Receipt<'a> {
    id: Uuid,
    received_at: String,
    attachments: &'a [StoredAttachment],
}

#[utoipa::path(post, path = "/api/v1/feedback", tag = "public",
    request_body(description = "JSON, or multipart/form-data with `attachment` file parts",
        content((crate::http::openapi::SubmissionBody = "application/json"),
                (crate::http::openapi::SubmissionBody = "multipart/form-data"))),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key within 24 hours return the first response")),
    responses(
        (status = 201, description = "Stored durably", body = crate::http::openapi::Receipt),
        (status = 400, description = "Malformed body", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 408, description = "The upload took too long", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "A browser posted from an origin that is not the WebApp's", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, description = "Too many or too large files", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Unsupported body or attachment type", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters or fields, or an Idempotency-Key reused for other content", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Rate limited (Retry-After)", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable, or too busy to read another body (Retry-After)", body = crate::http::openapi::Problem, content_type = "application/problem+json")
    ))]
async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    check_origin(&state.settings.allowed_origins, &headers)?;
    if let Some(limiter) = &state.rate_limiter {
        limiter
            .check(state.client_keyer.key(&headers, peer))
            .map_err(ApiError::RateLimited)?;
    }
    let idempotency_key = idempotency_key_hash(&headers)?;
    // A key seen before is answered only once the body shows the same content was sent.
    let earlier = match &idempotency_key {
        Some(key_hash) => {
            let not_before = Utc::now() - Duration::hours(IDEMPOTENCY_WINDOW_HOURS);
            let earlier = state.store.idempotent_response(key_hash, not_before).await;
            earlier.map_err(ApiError::storage)?
        }
        None => None,
    };

    // What reading the body may hold besides its files' upload buffers (which each file
    // reserves as its bytes arrive): the connection's read buffer and the parser's window, or
    // a whole JSON body.
    let _reading = state.memory.reserve(REQUEST_READ_BYTES)?;
    let mut staged = Staged::new(state.blobs.clone());
    let outcome = accept(
        &state,
        &headers,
        body,
        idempotency_key,
        earlier,
        &mut staged,
    )
    .await;
    match outcome {
        Ok(Accepted::Stored(response)) => {
            staged.commit();
            Ok(response)
        }
        Ok(Accepted::Replayed(response)) => {
            staged.discard().await;
            Ok(replay(&state, response))
        }
        Err(error) => {
            staged.discard().await;
            Err(error)
        }
    }
}

enum Accepted {
    Stored(Response),
    Replayed(String),
}

/// The stored answer to a reused key, if the content is the same; refused otherwise.
fn replay_of(earlier: StoredResponse, content_sha256: &str) -> Result<Accepted, ApiError> {
    if earlier.answers(content_sha256) {
        Ok(Accepted::Replayed(earlier.response))
    } else {
        Err(ApiError::IdempotencyKeyReused)
    }
}

async fn accept(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    idempotency_key: Option<String>,
    earlier: Option<StoredResponse>,
    staged: &mut Staged,
) -> Result<Accepted, ApiError> {
    let id = Uuid::now_v7();
    let Received { form, attachments } = read_body(state, headers, body, id, staged).await?;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    let submission = Submission::parse(&form, &state.terms, useragent::detect(user_agent))
        .map_err(ApiError::Validation)?;
    let content_sha256 = submission.content_sha256(
        attachments
            .iter()
            .map(|a| (a.sha256.as_str(), a.filename.as_str())),
    );
    if let Some(earlier) = earlier {
        return replay_of(earlier, &content_sha256);
    }

    let received_at = Utc::now();
    let receipt = serde_json::to_string(&Receipt {
        id,
        received_at: received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        attachments: &attachments,
    })
    .map_err(|e| ApiError::Internal(e.into()))?;
    let kind = submission.kind;
    let stored_bytes: u64 = attachments.iter().map(|a| a.size).sum();
    let row = submission_row(state, id, received_at, submission, &attachments);
    let idempotency = idempotency_key.map(|key_hash| IdempotencyRecord {
        key_hash,
        response: receipt.clone(),
        content_sha256: content_sha256.clone(),
    });

    let mut outbox = notify::fan_out(
        Event::SubmissionCreated,
        &state.settings.notify,
        id,
        kind.as_str(),
        &serde_json::json!({}),
    );
    // Staff "at once" and the submitter's acknowledgement, when mail is on.
    outbox.extend(notify::mail::intake_messages(&state.settings, &row));
    let messages = outbox.len();
    staged.commit_started();
    match state
        .store
        .insert_submission(row, idempotency, outbox)
        .await
    {
        Ok(InsertOutcome::Inserted) => {
            state.outbox_written(messages);
            state
                .metrics
                .submissions_accepted
                .with_label_values(&[kind.as_str()])
                .inc();
            state.metrics.attachment_bytes.inc_by(stored_bytes);
            tracing::info!(submission = %id, kind = kind.as_str(), attachments = attachments.len(), "submission stored");
            Ok(Accepted::Stored(created(state, receipt)))
        }
        Ok(InsertOutcome::Replayed(earlier)) => replay_of(earlier, &content_sha256),
        Err(error @ StoreError::Timeout(_)) => {
            staged.leave_to_sweeper();
            Err(ApiError::storage(error))
        }
        Err(error) => Err(ApiError::storage(error)),
    }
}

async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    id: Uuid,
    staged: &mut Staged,
) -> Result<Received, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    // A body in an encoding we do not decode would be parsed as if it were plain.
    let encoded = headers
        .get_all(header::CONTENT_ENCODING)
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .any(|coding| !coding.trim().eq_ignore_ascii_case("identity"));
    if encoded {
        return Err(ApiError::UnsupportedEncoding);
    }
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match essence.as_str() {
        "application/json" => {
            if declared_length.is_some_and(|len| len > body::JSON_BODY_LIMIT as u64) {
                return Err(body::body_too_large());
            }
            body::read_json(body).await
        }
        "multipart/form-data" => {
            let limit = state
                .limits
                .max_total_attachment_bytes
                .saturating_add(TEXT_ALLOWANCE);
            if declared_length.is_some_and(|len| len > limit) {
                return Err(body::body_too_large());
            }
            let boundary = multer::parse_boundary(content_type)
                .map_err(|_| ApiError::MalformedBody("the multipart boundary is missing"))?;
            let upload_buffer = state.blobs.upload_buffer_bytes();
            body::read_multipart(
                body,
                boundary,
                state.limits,
                id,
                staged,
                &state.memory,
                upload_buffer,
            )
            .await
        }
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

fn submission_row(
    state: &AppState,
    id: Uuid,
    received_at: chrono::DateTime<Utc>,
    submission: Submission,
    attachments: &[StoredAttachment],
) -> SubmissionRow {
    let verdict = triage::triage(
        &submission,
        &state.settings.triage_rules,
        state.settings.spam_policy(),
    );
    let env = submission.environment;
    let contact = submission.contact.as_ref().map(|c| {
        let sealed = state.vault.seal(id, c);
        ContactRow {
            blind_index: sealed.blind_index,
            sealed: sealed.sealed,
            key_id: sealed.key_id,
        }
    });
    SubmissionRow {
        id,
        received_at,
        kind: submission.kind,
        status: verdict.status,
        summary: submission.summary.map(|s| s.into_inner()),
        message: submission.message.into_inner(),
        rating: submission.rating.map(|r| i16::from(r.get())),
        webapp_version: env.webapp_version.as_str().to_owned(),
        server_version: env.server_version.as_str().to_owned(),
        browser_brand: env.browser.brand,
        browser_version: env.browser.version,
        screen_width: i32::from(env.screen.width),
        screen_height: i32::from(env.screen.height),
        page_url: env.page_url.as_str().to_owned(),
        labels: verdict.labels,
        assignee: verdict.assignee,
        duplicate_of: None,
        fingerprint: Some(verdict.fingerprint),
        terms: TermsRecord {
            version: state.terms.version.clone(),
            sha256: state.terms.sha256.clone(),
            widget: submission.kind.as_str().to_owned(),
            button: submission.button.as_str().to_owned(),
            accepted_at: received_at,
        },
        attachments: attachments
            .iter()
            .enumerate()
            .map(|(i, a)| AttachmentRow {
                position: i32::try_from(i).unwrap_or(i32::MAX),
                object_key: a.object_key.clone(),
                filename: a.filename.clone(),
                content_type: a.content_type.to_owned(),
                size: i64::try_from(a.size).unwrap_or(i64::MAX),
                sha256: a.sha256.clone(),
            })
            .collect(),
        contact,
    }
}

/// A browser names the page's origin on every POST. CORS alone only hides the answer from
/// other sites; their forms could still post. So a request with an `Origin` must come from a
/// configured WebApp origin or from this service itself (the demo page). Clients that are not
/// browsers send no `Origin` and are not affected.
fn check_origin(allowed: &[String], headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default().trim_end_matches('/');
    if allowed.iter().any(|o| o == origin) {
        return Ok(());
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.split_once("://").map(|(_, rest)| rest);
    match (origin_host, host) {
        (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(ApiError::OriginNotAllowed),
    }
}

/// SHA-256 of the `Idempotency-Key` header, if one was sent and is well formed.
fn idempotency_key_hash(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty()
        || key.len() > IDEMPOTENCY_KEY_MAX
        || !key.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(ApiError::Validation(ValidationErrors(vec![
            FieldError::new(
                "Idempotency-Key",
                "invalid",
                "must be 1 to 128 visible ASCII characters",
            ),
        ])));
    }
    Ok(Some(hex::encode(Sha256::digest(key.as_bytes()))))
}

/// The 201, with the withdrawal token added to the stored receipt (computed, never stored).
fn created(state: &AppState, receipt: String) -> Response {
    let receipt = crate::privacy::withdraw::with_token(&state.vault, &receipt);
    (
        StatusCode::CREATED,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        receipt,
    )
        .into_response()
}

fn replay(state: &AppState, receipt: String) -> Response {
    let mut response = created(state, receipt);
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
