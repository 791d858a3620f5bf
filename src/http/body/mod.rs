//! Reading a submission's body, JSON or multipart, into a [`RawForm`] plus stored attachments.
//!
//! Every read is bounded: a JSON body by [`JSON_BODY_LIMIT`], a multipart text part by the
//! largest valid value of its field (read with a `limit + 1` cap, the rest drained unkept), and
//! the whole multipart body by the attachment budget plus [`TEXT_ALLOWANCE`], and the bytes of
//! a multipart body that are not part contents (preamble, boundaries, part headers) by
//! [`FRAMING_LIMIT`]: a parser looking for a boundary keeps what it has not matched yet, so a
//! body without one would otherwise be held whole. Each file reserves its upload buffer from
//! the process's [`MemoryBudget`](crate::admission::memory::MemoryBudget) before it is
//! streamed.
//!
//! This file holds the limits, what a body yields, and how a failed read is reported; `json`
//! reads a JSON body, `multipart` a multipart one (text parts and attachments), and `feed`
//! meters what the multipart parser is fed.

mod feed;
mod json;
mod multipart;

use std::error::Error as StdError;

use http_body_util::LengthLimitError;

use super::error::ApiError;
use crate::attachments::StoredAttachment;
use crate::domain::{FieldError, RawForm};
use feed::{BodyTooLarge, FramingTooLarge};

pub use json::read_json;
pub use multipart::read_multipart;

/// Largest JSON body: a 10,000-character message fully `\u`-escaped, with room for the rest.
pub const JSON_BODY_LIMIT: usize = 128 * 1024;
/// Room for text parts and multipart framing on top of the attachment budget.
pub const TEXT_ALLOWANCE: u64 = 256 * 1024;
/// Most bytes of a multipart body outside its parts' contents: the preamble, boundaries and
/// part headers. 64 parts with generous headers take a few KiB.
pub const FRAMING_LIMIT: u64 = 64 * 1024;

type BoxError = Box<dyn StdError + Send + Sync>;

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
