//! From the raw fields of a request to a valid [`Submission`], collecting every failing field.

use super::fields::{
    Button, ContactEmail, ContactName, FieldError, Kind, Message, PageUrl, Rating,
    ScreenResolution, Summary, VersionLabel,
};
use super::terms::Terms;

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

/// Longest time a form may plausibly stay open (a day), for `form_ms`.
const MAX_FORM_MS: u64 = 86_400_000;

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

/// The JSON type a field's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Text,
    Integer,
    Boolean,
}

impl Expect {
    fn description(self) -> &'static str {
        match self {
            Self::Text => "must be a string",
            Self::Integer => "must be a whole number",
            Self::Boolean => "must be true",
        }
    }
}

struct Collector<'a> {
    raw: &'a RawForm,
    errors: Vec<FieldError>,
}

impl Collector<'_> {
    fn fail(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// The text of a field: `None` when absent; an error is recorded for a value of another
    /// JSON type than `expect` allows (a multipart form sends every value as text).
    fn value(&mut self, field: &str, expect: Expect) -> Option<String> {
        let value = self.raw.fields.iter().find(|(name, _)| name == field)?;
        match (&value.1, expect) {
            (RawValue::Text(s), _) | (RawValue::Number(s), Expect::Integer) => Some(s.clone()),
            (RawValue::Bool(b), Expect::Boolean) => Some(b.to_string()),
            (RawValue::Oversized, _) => {
                self.fail(field, "too_long", "is far longer than allowed");
                None
            }
            (RawValue::Number(_) | RawValue::Bool(_) | RawValue::WrongType, _) => {
                self.fail(field, "invalid_type", expect.description());
                None
            }
        }
    }

    fn text(&mut self, field: &str) -> Option<String> {
        self.value(field, Expect::Text)
    }

    fn required<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, (&'static str, String)>,
    ) -> Option<T> {
        self.required_as(field, Expect::Text, parse)
    }

    fn required_as<T>(
        &mut self,
        field: &str,
        expect: Expect,
        parse: impl FnOnce(&str) -> Result<T, (&'static str, String)>,
    ) -> Option<T> {
        match self.value(field, expect) {
            None if self.errors.iter().any(|e| e.field == field) => None,
            None => {
                self.fail(field, "required", "is required");
                None
            }
            Some(text) => self.apply(field, &text, parse),
        }
    }

    fn optional<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<Option<T>, (&'static str, String)>,
    ) -> Option<T> {
        let text = self.text(field)?;
        self.apply(field, &text, parse).flatten()
    }

    fn apply<T>(
        &mut self,
        field: &str,
        text: &str,
        parse: impl FnOnce(&str) -> Result<T, (&'static str, String)>,
    ) -> Option<T> {
        match parse(text) {
            Ok(v) => Some(v),
            Err((code, message)) => {
                self.fail(field, code, message);
                None
            }
        }
    }
}

impl Submission {
    /// Applies every rule of the contract to `raw`, reporting all failing fields at once.
    pub fn parse(raw: &RawForm, terms: &Terms, browser: Browser) -> Result<Self, ValidationErrors> {
        let mut c = Collector {
            raw,
            errors: Vec::new(),
        };
        for (i, (name, _)) in raw.fields.iter().enumerate() {
            if !TEXT_FIELDS.contains(&name.as_str()) {
                c.fail(name, "unknown_field", "is not a field this service accepts");
            } else if raw.fields[..i].iter().any(|(n, _)| n == name) {
                c.fail(name, "duplicate", "was sent more than once");
            }
        }

        let kind = c.required("kind", Kind::parse);
        let summary = c.optional("summary", Summary::parse);
        let message = c.required("message", Message::parse);
        let rating = match c.value("rating", Expect::Integer).filter(|r| !r.is_empty()) {
            None => None,
            Some(_) if kind.is_some_and(|k| k != Kind::Feedback) => {
                c.fail(
                    "rating",
                    "not_allowed",
                    "is only accepted with kind=feedback",
                );
                None
            }
            Some(text) => c.apply("rating", &text, Rating::parse),
        };
        let webapp_version = c.required("webapp_version", VersionLabel::parse);
        let server_version = c.required("server_version", VersionLabel::parse);
        let screen = c.required("screen_resolution", ScreenResolution::parse);
        let page_url = c.required("url", PageUrl::parse);
        c.required("terms_version", |v| {
            if v.trim() == terms.version {
                Ok(())
            } else {
                Err((
                    "terms_outdated",
                    format!("the current terms are version {}", terms.version),
                ))
            }
        });
        c.required_as("terms_accepted", Expect::Boolean, |v| match v {
            "true" => Ok(()),
            _ => Err(("must_be_true", "the terms must be accepted".to_owned())),
        });
        let button = c.optional("button", |b| Button::parse(b).map(Some));
        let name = c.optional("contact_name", ContactName::parse);
        let email = c.optional("contact_email", ContactEmail::parse);
        let honeypot_filled = c.text("website").is_some_and(|w| !w.trim().is_empty());
        let fill_ms = c
            .value("form_ms", Expect::Integer)
            .and_then(|v| match v.parse::<u64>() {
                Ok(ms) if ms <= MAX_FORM_MS => Some(ms),
                _ => {
                    c.fail(
                        "form_ms",
                        "out_of_range",
                        "must be a whole number of milliseconds",
                    );
                    None
                }
            });

        let errors = c.errors;
        match (
            kind,
            message,
            webapp_version,
            server_version,
            screen,
            page_url,
        ) {
            (
                Some(kind),
                Some(message),
                Some(webapp_version),
                Some(server_version),
                Some(screen),
                Some(page_url),
            ) if errors.is_empty() => {
                let contact =
                    (name.is_some() || email.is_some()).then_some(Contact { name, email });
                Ok(Self {
                    kind,
                    summary,
                    message,
                    rating,
                    environment: Environment {
                        webapp_version,
                        server_version,
                        browser,
                        screen,
                        page_url,
                    },
                    button: button.unwrap_or_else(|| kind.default_button()),
                    contact,
                    spam_signals: SpamSignals {
                        honeypot_filled,
                        fill_ms,
                    },
                })
            }
            _ => Err(ValidationErrors(errors)),
        }
    }
}

impl Submission {
    /// SHA-256 over what the person sent: every field as parsed (so the same content sent
    /// again digests the same) and each attachment's content hash and display name, in order.
    /// Spam signals and the environment derived from headers are left out: a retry may differ
    /// there and is still the same submission.
    pub fn content_sha256<'a>(
        &self,
        attachments: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut field = |name: &str, value: Option<&str>| {
            // Length-prefixed, so no two different forms can produce the same byte stream.
            for part in [name, value.unwrap_or("\u{0}absent")] {
                hasher.update((part.len() as u64).to_be_bytes());
                hasher.update(part.as_bytes());
            }
        };
        let env = &self.environment;
        let rating = self.rating.map(|r| r.get().to_string());
        let screen = format!("{}x{}", env.screen.width, env.screen.height);
        field("kind", Some(self.kind.as_str()));
        field("summary", self.summary.as_ref().map(Summary::as_str));
        field("message", Some(self.message.as_str()));
        field("rating", rating.as_deref());
        field("webapp_version", Some(env.webapp_version.as_str()));
        field("server_version", Some(env.server_version.as_str()));
        field("screen_resolution", Some(&screen));
        field("url", Some(env.page_url.as_str()));
        field("button", Some(self.button.as_str()));
        let contact = self.contact.as_ref();
        field(
            "contact_name",
            contact
                .and_then(|c| c.name.as_ref())
                .map(ContactName::as_str),
        );
        field(
            "contact_email",
            contact
                .and_then(|c| c.email.as_ref())
                .map(ContactEmail::as_str),
        );
        for (sha256, filename) in attachments {
            field("attachment", Some(sha256));
            field("filename", Some(filename));
        }
        hex::encode(hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> RawForm {
        let mut raw = RawForm::default();
        for (k, v) in pairs {
            raw.push(*k, RawValue::Text((*v).to_owned()));
        }
        raw
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("kind", "feedback"),
            ("message", "Great"),
            ("rating", "4"),
            ("webapp_version", "6.4"),
            ("server_version", "9.1"),
            ("screen_resolution", "1920x1080"),
            ("url", "https://mail.example.org/?q=1"),
            ("terms_version", "v1"),
            ("terms_accepted", "true"),
        ]
    }

    fn browser() -> Browser {
        Browser {
            brand: "Firefox".into(),
            version: Some("120.0".into()),
        }
    }

    #[test]
    fn valid_form_parses_with_default_button() {
        let terms = Terms::new("v1", "t");
        let s = Submission::parse(&form(&valid()), &terms, browser()).unwrap();
        assert_eq!(s.button, Button::Send);
        assert_eq!(s.environment.page_url.as_str(), "https://mail.example.org/");
        assert!(s.contact.is_none());
    }

    #[test]
    fn every_failing_field_is_listed() {
        let terms = Terms::new("v1", "t");
        let raw = form(&[("kind", "bug"), ("rating", "3"), ("color", "red")]);
        let err = Submission::parse(&raw, &terms, browser()).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        for expected in [
            ("color", "unknown_field"),
            ("rating", "not_allowed"),
            ("message", "required"),
            ("webapp_version", "required"),
            ("server_version", "required"),
            ("screen_resolution", "required"),
            ("url", "required"),
            ("terms_version", "required"),
            ("terms_accepted", "required"),
        ] {
            assert!(
                fields.contains(&expected),
                "{expected:?} missing from {fields:?}"
            );
        }
        assert_eq!(err.code(), "unknown_field");
    }

    #[test]
    fn json_values_must_have_the_type_of_their_field() {
        let terms = Terms::new("v1", "t");
        let mut raw = form(&valid());
        raw.fields
            .retain(|(n, _)| n != "message" && n != "rating" && n != "terms_accepted");
        raw.push("message", RawValue::Number("123".into()));
        raw.push("rating", RawValue::Number("4".into()));
        raw.push("terms_accepted", RawValue::Bool(true));
        raw.push("summary", RawValue::Bool(true));
        let err = Submission::parse(&raw, &terms, browser()).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            fields,
            [("summary", "invalid_type"), ("message", "invalid_type")]
        );
    }

    #[test]
    fn enumerated_values_are_not_trimmed() {
        let terms = Terms::new("v1", "t");
        for (field, value) in [
            ("kind", " feedback"),
            ("rating", " 3"),
            ("button", "send "),
            ("terms_accepted", " true"),
        ] {
            let mut raw = form(&valid());
            raw.fields.retain(|(n, _)| n != field);
            raw.push(field, RawValue::Text(value.into()));
            let err = Submission::parse(&raw, &terms, browser()).unwrap_err();
            assert!(
                err.0.iter().any(|e| e.field == field),
                "{field}={value:?} was accepted"
            );
        }
    }

    #[test]
    fn content_digest_follows_content_not_spam_signals() {
        let terms = Terms::new("v1", "t");
        let parse =
            |pairs: &[(&str, &str)]| Submission::parse(&form(pairs), &terms, browser()).unwrap();
        let base = parse(&valid());
        let digest = base.content_sha256([("ab", "shot.png")]);
        assert_eq!(digest.len(), 64);
        let mut timed = valid();
        timed.push(("form_ms", "5000"));
        assert_eq!(parse(&timed).content_sha256([("ab", "shot.png")]), digest);
        let mut other = valid();
        other[1] = ("message", "Great!");
        assert_ne!(parse(&other).content_sha256([("ab", "shot.png")]), digest);
        assert_ne!(base.content_sha256([("ab", "other.png")]), digest);
        assert_ne!(base.content_sha256([]), digest);
    }

    #[test]
    fn outdated_terms_alone_are_terms_outdated() {
        let terms = Terms::new("v2", "t");
        let err = Submission::parse(&form(&valid()), &terms, browser()).unwrap_err();
        assert_eq!(err.code(), "terms_outdated");
    }
}
