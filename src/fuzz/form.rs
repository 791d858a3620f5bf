//! Fuzz target for `Submission::parse`: it never panics; every error names a known field (or
//! the unknown field that was sent) with a stable snake_case code; generated valid forms are
//! accepted; and an accepted submission is within the contract's limits and parses back to
//! itself when its values are sent again.

use proptest::prelude::*;

use super::{config, corpus_lines, text_input};
use crate::domain::{Browser, ContactEmail, RawForm, RawValue, Submission, Terms};

/// The text fields of the contract (and the widget's spam signals): the parser's own list.
const FIELDS: &[&str] = crate::domain::TEXT_FIELDS;

/// Every code a field error may carry. A new code is a contract change: add it here too.
const CODES: &[&str] = &[
    "unknown_field",
    "duplicate",
    "required",
    "invalid_type",
    "too_long",
    "invalid",
    "empty",
    "out_of_range",
    "not_allowed",
    "terms_outdated",
    "must_be_true",
];

const TERMS_VERSION: &str = "2026-11-01";

pub(super) fn terms() -> Terms {
    Terms::new(TERMS_VERSION, "the terms")
}

pub(super) fn browser() -> Browser {
    Browser {
        brand: "Firefox".into(),
        version: Some("128.0".into()),
    }
}

/// `name=value` lines of the corpus, as `(name, value)`.
fn seed_pairs() -> Vec<(String, String)> {
    corpus_lines("form")
        .into_iter()
        .filter_map(|line| {
            let (name, value) = line.split_once('=')?;
            Some((
                name.to_owned(),
                value.replace("\\r", "\r").replace("\\n", "\n"),
            ))
        })
        .collect()
}

fn raw_value() -> impl Strategy<Value = RawValue> {
    let values: Vec<String> = seed_pairs().into_iter().map(|(_, v)| v).collect();
    prop_oneof![
        6 => text_input(values, 80).prop_map(RawValue::Text),
        1 => any::<bool>().prop_map(RawValue::Bool),
        1 => prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|n| n.to_string()),
            (1u8..=5).prop_map(|n| n.to_string()),
        ]
        .prop_map(RawValue::Number),
        1 => Just(RawValue::WrongType),
        1 => Just(RawValue::Oversized),
    ]
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(FIELDS).prop_map(str::to_owned),
        1 => "[a-z_]{0,16}",
        1 => any::<String>(),
    ]
}

/// Any form at all: seed pairs, known fields with odd values, unknown and repeated names.
fn any_form() -> impl Strategy<Value = Vec<(String, RawValue)>> {
    let pairs: Vec<(String, RawValue)> = seed_pairs()
        .into_iter()
        .map(|(name, value)| (name, RawValue::Text(value)))
        .collect();
    let field = prop_oneof![
        2 => proptest::sample::select(pairs),
        3 => (field_name(), raw_value()),
    ];
    proptest::collection::vec(field, 0..24)
}

pub(super) fn to_raw(pairs: &[(String, RawValue)]) -> RawForm {
    let mut raw = RawForm::default();
    for (name, value) in pairs {
        raw.push(name.clone(), value.clone());
    }
    raw
}

/// Free text with at least one visible character, some of it long or with `\r\n` breaks.
fn visible_text(max_chars: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (
            "[ \t\r\n]{0,3}",
            "[a-zA-Z0-9é€😀.,!?]",
            "[\\PC\r\n]{0,60}",
            "[ \t\r\n]{0,3}"
        )
            .prop_map(|(a, b, c, d)| format!("{a}{b}{c}{d}")),
        1 => (1..=max_chars).prop_map(|n| "é".repeat(n)),
    ]
}

fn version_label() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,3}\\.[0-9]{1,3}(\\.[0-9]{1,3})?(-rc[0-9])?",
        "[!-~]{1,64}"
    ]
}

fn page_url() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("http"), Just("https"), Just("HTTPS")],
        prop_oneof![
            Just("mail.example.org".to_owned()),
            Just("[::1]:8443".to_owned()),
            Just("bücher.example".to_owned()),
            "[a-z]{1,20}\\.[a-z]{2,6}",
        ],
        "(/[a-zA-Z0-9._~é -]{0,20}){0,5}",
        "(\\?[a-z0-9=&]{0,20})?(#[a-z0-9-]{0,20})?",
        prop_oneof![Just(""), Just("ann:secret@")],
    )
        .prop_map(|(scheme, host, path, rest, userinfo)| {
            format!("{scheme}://{userinfo}{host}{path}{rest}")
        })
}

fn contact_email() -> impl Strategy<Value = String> {
    "[a-z0-9._%+-]{1,30}@[a-z0-9-]{1,20}\\.[a-z]{2,8}"
        .prop_filter("a plausible address the contract accepts", |e| {
            matches!(ContactEmail::parse(e), Ok(Some(_)))
        })
}

/// A form that satisfies every rule, with its optional fields present or not, in any order.
pub(super) fn valid_form() -> impl Strategy<Value = Vec<(String, RawValue)>> {
    let kind = proptest::sample::select(&["bug", "feature", "feedback"][..]);
    let optional = |s: BoxedStrategy<String>| proptest::option::of(s);
    (
        kind,
        visible_text(10_000),
        (
            optional("\\PC{0,200}".boxed()),
            1u8..=5,
            any::<bool>(),
            version_label(),
            version_label(),
            (1u16..=16_384, 1u16..=16_384),
            page_url(),
        ),
        (
            any::<bool>(),
            optional(
                proptest::sample::select(&["submit", "send"][..])
                    .prop_map(str::to_owned)
                    .boxed(),
            ),
            optional("[\\p{L}\\p{N} .'-]{0,200}".boxed()),
            optional(contact_email().boxed()),
            optional(Just(String::new()).boxed()),
            optional((0u64..=86_400_000).prop_map(|n| n.to_string()).boxed()),
        ),
    )
        .prop_flat_map(
            |(
                kind,
                message,
                (summary, rating, with_rating, webapp, server, (w, h), url),
                (bool_terms, button, name, email, website, form_ms),
            )| {
                let mut pairs: Vec<(String, RawValue)> = vec![
                    ("kind".into(), RawValue::Text(kind.into())),
                    ("message".into(), RawValue::Text(message)),
                    ("webapp_version".into(), RawValue::Text(webapp)),
                    ("server_version".into(), RawValue::Text(server)),
                    (
                        "screen_resolution".into(),
                        RawValue::Text(format!("{w}x{h}")),
                    ),
                    ("url".into(), RawValue::Text(url)),
                    ("terms_version".into(), RawValue::Text(TERMS_VERSION.into())),
                    (
                        "terms_accepted".into(),
                        if bool_terms {
                            RawValue::Bool(true)
                        } else {
                            RawValue::Text("true".into())
                        },
                    ),
                ];
                if kind == "feedback" && with_rating {
                    pairs.push(("rating".into(), RawValue::Text(rating.to_string())));
                }
                let optional = [
                    ("summary", summary),
                    ("button", button),
                    ("contact_name", name),
                    ("contact_email", email),
                    ("website", website),
                    ("form_ms", form_ms),
                ];
                for (field, value) in optional {
                    if let Some(value) = value {
                        pairs.push((field.into(), RawValue::Text(value)));
                    }
                }
                Just(pairs).prop_shuffle()
            },
        )
}

/// The limits the contract sets on an accepted submission.
fn assert_within_limits(s: &Submission) {
    let chars = |t: &str| t.chars().count();
    let trimmed = |t: &str| t.trim() == t;
    let message = s.message.as_str();
    assert!((1..=10_000).contains(&chars(message)) && trimmed(message));
    assert!(!message.contains('\r'), "line breaks are normalised");
    if let Some(summary) = &s.summary {
        assert!((1..=200).contains(&chars(summary.as_str())) && trimmed(summary.as_str()));
    }
    for label in [&s.environment.webapp_version, &s.environment.server_version] {
        let label = label.as_str();
        assert!((1..=64).contains(&chars(label)) && !label.chars().any(char::is_control));
    }
    let screen = s.environment.screen;
    assert!((1..=16_384).contains(&screen.width) && (1..=16_384).contains(&screen.height));
    let url = url::Url::parse(s.environment.page_url.as_str()).expect("a stored URL parses");
    assert!(matches!(url.scheme(), "http" | "https") && url.host_str().is_some());
    assert!(url.query().is_none() && url.fragment().is_none());
    assert!(url.username().is_empty() && url.password().is_none());
    if let Some(rating) = s.rating {
        assert!((1..=5).contains(&rating.get()));
        assert_eq!(
            s.kind.as_str(),
            "feedback",
            "a rating only with kind=feedback"
        );
    }
    if let Some(contact) = &s.contact {
        assert!(contact.name.is_some() || contact.email.is_some());
        if let Some(name) = &contact.name {
            let name = name.as_str();
            assert!((1..=200).contains(&chars(name)) && !name.chars().any(char::is_control));
        }
        if let Some(email) = &contact.email {
            assert!(email.as_str().len() <= 254);
        }
    }
    assert!(s.spam_signals.fill_ms.is_none_or(|ms| ms <= 86_400_000));
}

/// The accepted values, sent again as a form.
fn resent(s: &Submission) -> RawForm {
    let mut raw = RawForm::default();
    let mut text = |name: &str, value: &str| raw.push(name, RawValue::Text(value.to_owned()));
    text("kind", s.kind.as_str());
    text("message", s.message.as_str());
    if let Some(summary) = &s.summary {
        text("summary", summary.as_str());
    }
    if let Some(rating) = s.rating {
        text("rating", &rating.get().to_string());
    }
    let env = &s.environment;
    text("webapp_version", env.webapp_version.as_str());
    text("server_version", env.server_version.as_str());
    text(
        "screen_resolution",
        &format!("{}x{}", env.screen.width, env.screen.height),
    );
    text("url", env.page_url.as_str());
    text("terms_version", TERMS_VERSION);
    text("terms_accepted", "true");
    text("button", s.button.as_str());
    if let Some(contact) = &s.contact {
        if let Some(name) = &contact.name {
            text("contact_name", name.as_str());
        }
        if let Some(email) = &contact.email {
            text("contact_email", email.as_str());
        }
    }
    raw
}

pub(super) fn assert_same(a: &Submission, b: &Submission) {
    assert_eq!(a.kind, b.kind);
    assert_eq!(a.message, b.message);
    assert_eq!(a.summary, b.summary);
    assert_eq!(a.rating, b.rating);
    assert_eq!(a.button, b.button);
    let (ea, eb) = (&a.environment, &b.environment);
    assert_eq!(ea.webapp_version, eb.webapp_version);
    assert_eq!(ea.server_version, eb.server_version);
    assert_eq!(ea.screen, eb.screen);
    assert_eq!(ea.page_url, eb.page_url);
    let contact = |s: &Submission| {
        s.contact
            .as_ref()
            .map(|c| (c.name.clone(), c.email.clone()))
    };
    assert_eq!(contact(a), contact(b));
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_form_is_answered_with_known_fields_and_codes(pairs in any_form()) {
        let sent: Vec<&str> = pairs.iter().map(|(name, _)| name.as_str()).collect();
        match Submission::parse(&to_raw(&pairs), &terms(), browser()) {
            Ok(submission) => assert_within_limits(&submission),
            Err(errors) => {
                prop_assert!(!errors.0.is_empty(), "a refusal lists at least one field");
                for error in &errors.0 {
                    prop_assert!(CODES.contains(&error.code), "unknown code {:?}", error.code);
                    let known = FIELDS.contains(&error.field.as_str());
                    let unknown_sent = error.code == "unknown_field" && sent.contains(&error.field.as_str());
                    prop_assert!(known || unknown_sent, "error names {:?}", error.field);
                    prop_assert!(!error.message.is_empty());
                }
                prop_assert!(["unknown_field", "terms_outdated", "validation_failed"].contains(&errors.code()));
            }
        }
    }

    #[test]
    fn valid_forms_are_accepted_within_limits_and_round_trip(pairs in valid_form()) {
        for (name, value) in &pairs {
            if let RawValue::Text(text) = value {
                prop_assert!(text.len() <= RawForm::max_bytes(name), "max_bytes refuses a valid {name}");
            }
        }
        let submission = Submission::parse(&to_raw(&pairs), &terms(), browser())
            .map_err(|e| TestCaseError::fail(format!("refused: {:?}", e.0)))?;
        assert_within_limits(&submission);
        let again = Submission::parse(&resent(&submission), &terms(), browser())
            .map_err(|e| TestCaseError::fail(format!("its own values refused: {:?}", e.0)))?;
        assert_same(&submission, &again);
    }
}
