//! The form's rules, end to end: from raw fields to a submission or the list of failures.

use super::*;
use crate::domain::Terms;

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
