//! Reading a multipart body: text parts into the raw form (each bounded by its field's
//! largest valid value), attachments streamed to storage within the attachment budget.

use axum::body::Body;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use uuid::Uuid;

use super::feed::Meter;
use super::{BoxError, Received, TEXT_ALLOWANCE, body_too_large, read_error, too_large};
use crate::admission::memory::{BudgetSpent, MemoryBudget};
use crate::attachments::{self, AttachmentError, Budget, LimitReason, Limits, Staged};
use crate::domain::{FieldError, RawForm, RawValue, ValidationErrors};
use crate::http::error::ApiError;

/// Most parts one multipart body may hold.
const MAX_PARTS: usize = 64;

pub async fn read_multipart(
    body: Body,
    boundary: String,
    limits: Limits,
    submission: Uuid,
    staged: &mut Staged,
    memory: &MemoryBudget,
    upload_buffer_bytes: u64,
) -> Result<Received, ApiError> {
    let body_limit = limits
        .max_total_attachment_bytes
        .saturating_add(TEXT_ALLOWANCE);
    let meter = Meter::default();
    let fed = meter.feed(body.into_data_stream(), body_limit);
    let mut multipart = multer::Multipart::new(fed, boundary);
    let mut received = Received::default();
    let mut budget = Budget::new(limits);
    let mut parts = 0;
    while let Some(field) = multipart.next_field().await.map_err(|e| read_error(&e))? {
        meter.progressed();
        parts += 1;
        if parts > MAX_PARTS {
            return Err(body_too_large());
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == "attachment" {
            let filename = field.file_name().map(str::to_owned);
            let mut reservation = memory.growing(upload_buffer_bytes);
            let file_meter = meter.clone();
            let counted = field.map(move |chunk| {
                let chunk = chunk.map_err(BoxError::from)?;
                reservation.cover(chunk.len() as u64)?;
                file_meter.delivered(chunk.len());
                Ok::<_, BoxError>(chunk)
            });
            match attachments::receive(
                counted,
                filename.as_deref(),
                submission,
                &mut budget,
                staged,
            )
            .await
            {
                Ok(Some(stored)) => received.attachments.push(stored),
                Ok(None) => {}
                Err(error) => return Err(attachment_error(error, limits)),
            }
        } else {
            let counted = field.inspect_ok(|chunk| meter.delivered(chunk.len()));
            let value = read_text_part(counted, RawForm::max_bytes(&name)).await?;
            received.form.push(name, value);
        }
    }
    Ok(received)
}

/// Reads at most `max_bytes + 1` bytes of a text part; the rest is drained and dropped.
async fn read_text_part<S>(mut part: S, max_bytes: usize) -> Result<RawValue, ApiError>
where
    S: Stream<Item = Result<Bytes, multer::Error>> + Unpin,
{
    let mut kept = Vec::new();
    let mut oversized = false;
    while let Some(chunk) = part.next().await {
        let chunk = chunk.map_err(|e| read_error(&e))?;
        if oversized {
            continue;
        }
        let room = max_bytes + 1 - kept.len();
        kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
        oversized = kept.len() > max_bytes;
    }
    if oversized {
        return Ok(RawValue::Oversized);
    }
    String::from_utf8(kept)
        .map(RawValue::Text)
        .map_err(|_| ApiError::MalformedBody("a text part is not UTF-8"))
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn attachment_error(error: AttachmentError, limits: Limits) -> ApiError {
    match error {
        AttachmentError::Limit(LimitReason::TooManyFiles) => too_large(
            "too_many_files",
            format!("at most {} files", limits.max_attachments),
        ),
        AttachmentError::Limit(LimitReason::FileTooLarge) => too_large(
            "file_too_large",
            format!("each file at most {}", mib(limits.max_attachment_bytes)),
        ),
        AttachmentError::Limit(LimitReason::TotalTooLarge) => too_large(
            "total_too_large",
            format!(
                "all files together at most {}",
                mib(limits.max_total_attachment_bytes)
            ),
        ),
        AttachmentError::TypeNotAllowed => ApiError::AttachmentTypeNotAllowed,
        AttachmentError::Empty => ApiError::Validation(ValidationErrors(vec![FieldError::new(
            "attachment",
            "empty",
            "an attached file is empty",
        )])),
        AttachmentError::Read(e) if e.is::<BudgetSpent>() => ApiError::Overloaded,
        AttachmentError::Read(e) => read_error(e.as_ref()),
        AttachmentError::Storage(e) => ApiError::storage(e),
    }
}
