//! Reading a submission's body, JSON or multipart, into a [`RawForm`] plus stored attachments.
//!
//! Every read is bounded: a JSON body by [`JSON_BODY_LIMIT`], a multipart text part by the
//! largest valid value of its field (read with a `limit + 1` cap, the rest drained unkept), and
//! the whole multipart body by the attachment budget plus [`TEXT_ALLOWANCE`].

use std::error::Error as StdError;

use axum::body::Body;
use bytes::Bytes;
use futures::{Stream, StreamExt};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use uuid::Uuid;

use super::error::ApiError;
use crate::attachments::{
    self, AttachmentError, Budget, LimitReason, Limits, Staged, StoredAttachment,
};
use crate::domain::{FieldError, RawForm, RawValue, ValidationErrors};

/// Largest JSON body: a 10,000-character message fully `\u`-escaped, with room for the rest.
pub const JSON_BODY_LIMIT: usize = 128 * 1024;
/// Room for text parts and multipart framing on top of the attachment budget.
pub const TEXT_ALLOWANCE: u64 = 256 * 1024;
/// Most parts one multipart body may hold.
const MAX_PARTS: usize = 64;

/// What a body held: its text fields and the attachments already streamed to storage.
#[derive(Debug, Default)]
pub struct Received {
    pub form: RawForm,
    pub attachments: Vec<StoredAttachment>,
}

pub fn too_large(code: &'static str, message: String) -> ApiError {
    ApiError::TooLarge(FieldError::new("attachment", code, message))
}

pub fn body_too_large() -> ApiError {
    ApiError::TooLarge(FieldError::new(
        "body",
        "body_too_large",
        "exceeds the largest accepted body",
    ))
}

/// Whether a read error was a body limit, however deeply it is wrapped.
fn is_length_limit(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<LengthLimitError>() {
            return true;
        }
        if let Some(multer::Error::StreamReadFailed(inner)) = e.downcast_ref::<multer::Error>() {
            return is_length_limit(inner.as_ref());
        }
        current = e.source();
    }
    false
}

fn read_error(error: &(dyn StdError + 'static)) -> ApiError {
    if is_length_limit(error) {
        body_too_large()
    } else {
        ApiError::MalformedBody("the body ended early or is not valid multipart")
    }
}

pub async fn read_json(body: Body) -> Result<Received, ApiError> {
    let bytes = Limited::new(body, JSON_BODY_LIMIT)
        .collect()
        .await
        .map_err(|e| read_error(e.as_ref()))?
        .to_bytes();
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::MalformedBody("it is not valid JSON"))?;
    let serde_json::Value::Object(map) = value else {
        return Err(ApiError::MalformedBody("it is not a JSON object"));
    };
    let mut form = RawForm::default();
    for (name, value) in map {
        let raw = match value {
            serde_json::Value::Null => continue,
            serde_json::Value::String(s) => RawValue::Text(s),
            serde_json::Value::Bool(b) => RawValue::Bool(b),
            serde_json::Value::Number(n) => RawValue::Number(n.to_string()),
            serde_json::Value::Array(_) | serde_json::Value::Object(_) => RawValue::WrongType,
        };
        form.push(name, raw);
    }
    Ok(Received {
        form,
        attachments: Vec::new(),
    })
}

pub async fn read_multipart(
    body: Body,
    boundary: String,
    limits: Limits,
    submission: Uuid,
    staged: &mut Staged,
) -> Result<Received, ApiError> {
    let body_limit = limits
        .max_total_attachment_bytes
        .saturating_add(TEXT_ALLOWANCE);
    let stream =
        Limited::new(body, usize::try_from(body_limit).unwrap_or(usize::MAX)).into_data_stream();
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut received = Received::default();
    let mut budget = Budget::new(limits);
    let mut parts = 0;
    while let Some(field) = multipart.next_field().await.map_err(|e| read_error(&e))? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(body_too_large());
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == "attachment" {
            let filename = field.file_name().map(str::to_owned);
            match attachments::receive(field, filename.as_deref(), submission, &mut budget, staged)
                .await
            {
                Ok(Some(stored)) => received.attachments.push(stored),
                Ok(None) => {}
                Err(error) => return Err(attachment_error(error, limits)),
            }
        } else {
            let value = read_text_part(field, RawForm::max_bytes(&name)).await?;
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
        AttachmentError::Read(e) => read_error(e.as_ref()),
        AttachmentError::Storage(e) => ApiError::storage(e),
    }
}
