//! Reading a submission's body, JSON or multipart, into a [`RawForm`] plus stored attachments.
//!
//! Every read is bounded: a JSON body by [`JSON_BODY_LIMIT`], a multipart text part by the
//! largest valid value of its field (read with a `limit + 1` cap, the rest drained unkept), and
//! the whole multipart body by the attachment budget plus [`TEXT_ALLOWANCE`], and the bytes of
//! a multipart body that are not part contents (preamble, boundaries, part headers) by
//! [`FRAMING_LIMIT`]: a parser looking for a boundary keeps what it has not matched yet, so a
//! body without one would otherwise be held whole. Each file reserves its upload buffer from
//! the process's [`MemoryBudget`] before it is streamed.

use std::error::Error as StdError;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Body;
use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use uuid::Uuid;

use super::error::ApiError;
use crate::admission::memory::{BudgetSpent, MemoryBudget};
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
/// Most bytes of a multipart body outside its parts' contents: the preamble, boundaries and
/// part headers. 64 parts with generous headers take a few KiB.
pub const FRAMING_LIMIT: u64 = 64 * 1024;
/// The multipart parser is fed at most this much at a time, so what it holds while looking
/// for a boundary stays near [`FRAMING_LIMIT`] whatever the size of the network's chunks.
const PIECE: usize = 16 * 1024;

type BoxError = Box<dyn StdError + Send + Sync>;

/// The body is larger than any acceptable one.
#[derive(Debug, thiserror::Error)]
#[error("the body exceeds the largest accepted one")]
struct BodyTooLarge;

/// Too many bytes arrived outside any part's contents.
#[derive(Debug, thiserror::Error)]
#[error("more than {FRAMING_LIMIT} bytes outside the parts of a multipart body")]
struct FramingTooLarge;

/// Counts what a multipart body's parts delivered, against what was fed to the parser.
#[derive(Debug, Clone, Default)]
struct Meter {
    delivered: Arc<AtomicU64>,
    /// Bumped whenever the parser hands out anything: a part, or a chunk of one.
    progress: Arc<AtomicU64>,
}

impl Meter {
    fn delivered(&self, bytes: usize) {
        self.delivered.fetch_add(bytes as u64, Ordering::Relaxed);
        self.progressed();
    }

    fn progressed(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    /// The body, cut into pieces of at most [`PIECE`] bytes and fed to the parser only while
    /// it holds at most [`FRAMING_LIMIT`] bytes it has not delivered as part contents.
    fn feed<S, E>(&self, body: S, limit: u64) -> Fed
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let pieces = body
            .map_err(Into::into)
            .map_ok(|mut chunk| {
                let mut pieces: Vec<Result<Bytes, BoxError>> =
                    Vec::with_capacity(chunk.len().div_ceil(PIECE));
                while chunk.len() > PIECE {
                    pieces.push(Ok(chunk.split_to(PIECE)));
                }
                pieces.push(Ok(chunk));
                futures::stream::iter(pieces)
            })
            .try_flatten();
        Fed {
            pieces: Box::pin(pieces),
            delivered: Arc::clone(&self.delivered),
            progress: Arc::clone(&self.progress),
            fed: 0,
            limit,
            stalled: None,
        }
    }
}

/// Polls in a row that find the window full with no progress (no part, no chunk handed out)
/// before the body counts as framing beyond the limit. After each such poll the parser parses
/// what it holds, so a body it can make sense of progresses within a poll or two.
const STALLS_ALLOWED: u32 = 4;

/// The multipart parser's input. multer reads everything that is ready before it parses, so
/// on a fast connection it would buffer as much as arrives; and with no boundary it keeps
/// everything. While the parser holds a full window, this answers `Pending` (and wakes the
/// task at once, so the parser delivers from its buffer); when several polls in a row bring no
/// progress, what the parser holds is framing, and the body is refused.
struct Fed {
    pieces: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>,
    delivered: Arc<AtomicU64>,
    progress: Arc<AtomicU64>,
    fed: u64,
    /// The largest body accepted, counted piece by piece so that which limit a body crosses
    /// first does not depend on how the network cut it.
    limit: u64,
    /// The progress count when the window was first found full, and polls since.
    stalled: Option<(u64, u32)>,
}

impl Stream for Fed {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let delivered = self.delivered.load(Ordering::Relaxed);
        if self.fed.saturating_sub(delivered) > FRAMING_LIMIT {
            let progress = self.progress.load(Ordering::Relaxed);
            let stalls = match self.stalled {
                Some((at, stalls)) if at == progress => stalls + 1,
                _ => 1,
            };
            if stalls > STALLS_ALLOWED {
                return Poll::Ready(Some(Err(FramingTooLarge.into())));
            }
            self.stalled = Some((progress, stalls));
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.stalled = None;
        let polled = self.pieces.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(piece))) = &polled {
            self.fed += piece.len() as u64;
            if self.fed > self.limit {
                return Poll::Ready(Some(Err(BodyTooLarge.into())));
            }
        }
        polled
    }
}

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
        if e.is::<LengthLimitError>() || e.is::<BodyTooLarge>() {
            return true;
        }
        if let Some(multer::Error::StreamReadFailed(inner)) = e.downcast_ref::<multer::Error>() {
            return is_length_limit(inner.as_ref());
        }
        current = e.source();
    }
    false
}

/// Whether a read error was the framing limit, however deeply it is wrapped.
fn is_framing_limit(error: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<FramingTooLarge>() {
            return true;
        }
        if let Some(multer::Error::StreamReadFailed(inner)) = e.downcast_ref::<multer::Error>() {
            return is_framing_limit(inner.as_ref());
        }
        current = e.source();
    }
    false
}

fn read_error(error: &(dyn StdError + 'static)) -> ApiError {
    if is_length_limit(error) {
        body_too_large()
    } else if is_framing_limit(error) {
        ApiError::MalformedBody(
            "too many bytes outside the parts (no boundary, or oversized part headers)",
        )
    } else {
        ApiError::MalformedBody("the body ended early or is not valid multipart")
    }
}

/// A JSON body as sent: an object keeps every member in order, repeats included, so a field
/// sent twice is refused as a duplicate (like a repeated form field) instead of the last one
/// silently winning.
enum JsonBody {
    Object(Vec<(String, serde_json::Value)>),
    Other,
}

impl<'de> serde::Deserialize<'de> for JsonBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;

        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = JsonBody;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<JsonBody, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    entries.push(entry);
                }
                Ok(JsonBody::Object(entries))
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<JsonBody, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(JsonBody::Other)
            }

            fn visit_bool<E>(self, _: bool) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
            fn visit_unit<E>(self) -> Result<JsonBody, E> {
                Ok(JsonBody::Other)
            }
        }

        deserializer.deserialize_any(Members)
    }
}

pub async fn read_json(body: Body) -> Result<Received, ApiError> {
    let bytes = Limited::new(body, JSON_BODY_LIMIT)
        .collect()
        .await
        .map_err(|e| read_error(e.as_ref()))?
        .to_bytes();
    let value: JsonBody = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::MalformedBody("it is not valid JSON"))?;
    let JsonBody::Object(entries) = value else {
        return Err(ApiError::MalformedBody("it is not a JSON object"));
    };
    let mut form = RawForm::default();
    for (name, value) in entries {
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
