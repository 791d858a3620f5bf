//! [`Submission::parse`]: the contract's rules, applied field by field to a raw form.

use super::collect::{Collector, Expect};
use super::{
    Browser, Button, Contact, ContactEmail, ContactName, Environment, Kind, Message, PageUrl,
    Rating, RawForm, ScreenResolution, SpamSignals, Submission, Summary, TEXT_FIELDS,
    ValidationErrors, VersionLabel,
};
use crate::domain::terms::Terms;

/// Longest time a form may plausibly stay open (a day), for `form_ms`.
const MAX_FORM_MS: u64 = 86_400_000;

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
