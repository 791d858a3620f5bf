//! One newtype per field of `POST /api/v1/feedback`; each `parse` enforces the contract's rule.
//!
//! This file holds what every field shares (the error a failing field reports); the fields
//! themselves are grouped by kind: `choice` (enumerated values, matched exactly), `text`
//! (free text, trimmed and bounded), `environment` (the screen and the page) and `contact`.

mod choice;
mod contact;
mod environment;
mod text;

use serde::Serialize;

pub use choice::{Button, Kind, Rating};
pub use contact::{ContactEmail, ContactName, normalize_email};
pub use environment::{PageUrl, ScreenResolution};
pub use text::{Message, Summary, VersionLabel};

/// A failing field, as listed in the `errors` array of a problem+json body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }
}

/// What a field's `parse` returns: the value, or the failure's code and message.
type FieldResult<T> = Result<T, (&'static str, String)>;

/// Length in characters (the contract's limits count characters, not bytes).
fn char_len(s: &str) -> usize {
    s.chars().count()
}
