//! From the raw fields of a request to a valid [`Submission`], collecting every failing field.
//!
//! This file holds the types on either side: the raw form as it came, and the submission (with
//! its environment and contact) it becomes. The work is in the parts: `collect` reads one field
//! at a time and records what fails, `parse` applies the contract's rules field by field, and
//! `digest` hashes what the person sent.

mod collect;
mod digest;
mod parse;

use super::fields::{
    Button, ContactEmail, ContactName, FieldError, Kind, Message, PageUrl, Rating,
    ScreenResolution, Summary, VersionLabel,
};

/// The text fields a submission may carry; anything else is `unknown_field`.
/// (`attachment` parts are handled by the upload pipeline, never as text.)
pub const TEXT_FIELDS: &[&str] = &[
    "kind",
    "summary",
    "message",
    "rating",
    "webapp_version",
    "server_version",
    "screen_resolution",
    "url",
    "terms_version",
    "terms_accepted",
    "button",
    "contact_name",
    "contact_email",
    "website",
    "form_ms",
];

/// One value as the client sent it, before any rule is applied.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    Text(String),
    Bool(bool),
    /// A JSON number, kept as written.
    Number(String),
    /// A JSON array or object where a scalar belongs.
    WrongType,
    /// A multipart text part larger than any valid value could be; its bytes were not kept.
    Oversized,
}

/// The fields of a request, in the order they came, with nothing validated yet.
#[derive(Debug, Default)]
pub struct RawForm {
    pub(crate) fields: Vec<(String, RawValue)>,
}

impl RawForm {
    pub fn push(&mut self, name: impl Into<String>, value: RawValue) {
        self.fields.push((name.into(), value));
    }

    /// The largest byte size a valid value of `field` can have (4 bytes per character, plus slack).
    pub fn max_bytes(field: &str) -> usize {
        let chars = match field {
            "message" => Message::MAX_CHARS,
            "url" => PageUrl::MAX_LEN,
            "contact_email" => ContactEmail::MAX_LEN,
            _ => 200,
        };
        chars * 4 + 64
    }
}

/// The brand stored for an agent that is missing or names no canonical brand.
pub const OTHER_BRAND: &str = "Other";

/// Every brand the service stores; [`OTHER_BRAND`] for everything else.
pub const CANONICAL_BRANDS: [&str; 12] = [
    "Chrome",
    "Firefox",
    "Safari",
    "Edge",
    "Opera",
    "Samsung Internet",
    "Vivaldi",
    "Brave",
    "Yandex Browser",
    "UC Browser",
    "DuckDuckGo",
    "Internet Explorer",
];

/// The browser as derived from the request's `User-Agent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Browser {
    pub brand: String,
    pub version: Option<String>,
}

/// Exactly the environment the terms disclose.
#[derive(Debug, Clone)]
pub struct Environment {
    pub webapp_version: VersionLabel,
    pub server_version: VersionLabel,
    pub browser: Browser,
    pub screen: ScreenResolution,
    pub page_url: PageUrl,
}

/// Signals the widget sends so that bots can be told from people; used for triage, never stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpamSignals {
    /// The hidden `website` field, which people never see and so never fill, was filled.
    pub honeypot_filled: bool,
    /// Milliseconds between opening the form and clicking its button.
    pub fill_ms: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct Contact {
    pub name: Option<ContactName>,
    pub email: Option<ContactEmail>,
}

/// A submission that satisfies every rule of the contract.
#[derive(Debug, Clone)]
pub struct Submission {
    pub kind: Kind,
    pub summary: Option<Summary>,
    pub message: Message,
    pub rating: Option<Rating>,
    pub environment: Environment,
    pub button: Button,
    pub contact: Option<Contact>,
    pub spam_signals: SpamSignals,
}

/// Every failing field of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    /// The problem's top-level code: an unknown field outranks the rest, and `terms_outdated`
    /// is reported only when it is the one thing wrong, so the widget knows to reload the terms.
    pub fn code(&self) -> &'static str {
        if self.0.iter().any(|e| e.code == "unknown_field") {
            "unknown_field"
        } else if self.0.iter().all(|e| e.code == "terms_outdated") {
            "terms_outdated"
        } else {
            "validation_failed"
        }
    }
}

#[cfg(test)]
mod tests;
