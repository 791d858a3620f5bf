//! A staff member's change to the triage state of submissions, parsed by one set of rules for
//! the JSON API (`PATCH /api/v1/internal/feedback/{id}`) and the triage view's forms.

use serde_json::{Map, Value};
use uuid::Uuid;

use super::fields::FieldError;
use super::form::ValidationErrors;
use super::triage::{Status, parse_label, parse_staff_name};

/// Most labels a submission carries.
pub const MAX_LABELS: usize = 20;

const LABELS_RULE: &str = "must be at most 20 labels of 1 to 40 characters, without commas";
const LABEL_RULE: &str = "must be 1 to 40 characters, without commas";
const STATUS_RULE: &str = "is not a known status";
const ASSIGNEE_RULE: &str = "is not a valid staff name";
const DUPLICATE_RULE: &str = "must be a submission id";

/// A submission's labels: each trimmed and lower-cased, no repeats (the first one kept, in
/// order), at most [`MAX_LABELS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Vec<String>);

impl Labels {
    /// Parses a list of labels; `None` if one is invalid or more than [`MAX_LABELS`] remain
    /// once repeats are dropped.
    pub fn parse<'a>(raw: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut labels: Vec<String> = Vec::new();
        for item in raw {
            let label = parse_label(item)?;
            if !labels.contains(&label) {
                labels.push(label);
            }
        }
        (labels.len() <= MAX_LABELS).then_some(Self(labels))
    }

    /// Parses the comma-separated list of a form field; blank items are skipped.
    pub fn parse_comma_list(raw: &str) -> Option<Self> {
        Self::parse(raw.split(',').filter(|item| !item.trim().is_empty()))
    }

    pub fn as_slice(&self) -> &[String] {
        &self.0
    }
}

/// A change to the triage state of submissions; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriagePatch {
    pub status: Option<Status>,
    /// Replaces the labels.
    pub labels: Option<Labels>,
    /// A label added to those already there (bulk actions); a submission that already has
    /// [`MAX_LABELS`] others cannot take it.
    pub add_label: Option<String>,
    /// `Some(None)` clears the assignee.
    pub assignee: Option<Option<String>>,
    /// `Some(None)` clears the original.
    pub duplicate_of: Option<Option<Uuid>>,
}

/// Collects the failing fields while a patch is parsed.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn fail(&mut self, field: &str, code: &'static str, message: &str) {
        self.0.push(FieldError::new(field, code, message));
    }

    fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(ValidationErrors(self.0))
        }
    }
}

impl TriagePatch {
    /// The JSON API's body: `status`, `labels` (an array), `assignee` and `duplicate_of`
    /// (`null` clears the last two). Every failing field is listed; unknown fields fail.
    pub fn from_json(body: &Map<String, Value>) -> Result<Self, ValidationErrors> {
        let mut patch = Self::default();
        let mut errors = Errors::default();
        for (field, value) in body {
            match (field.as_str(), value) {
                ("status", Value::String(raw)) => patch.set_status(raw, &mut errors),
                ("labels", Value::Array(items)) => {
                    let items: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                    match items.and_then(Labels::parse) {
                        Some(labels) => patch.labels = Some(labels),
                        None => errors.fail("labels", "invalid", LABELS_RULE),
                    }
                }
                ("assignee", Value::Null) => patch.assignee = Some(None),
                ("assignee", Value::String(raw)) => patch.set_assignee(raw, &mut errors),
                ("duplicate_of", Value::Null) => patch.duplicate_of = Some(None),
                ("duplicate_of", Value::String(raw)) => patch.set_duplicate_of(raw, &mut errors),
                ("status" | "labels" | "assignee" | "duplicate_of", _) => {
                    errors.fail(field, "invalid_type", "has the wrong type");
                }
                _ => errors.fail(field, "unknown_field", "cannot be changed"),
            }
        }
        errors.into_result(patch)
    }

    /// The triage view's form for one submission: `status`, `labels` (comma-separated; blank
    /// clears them), `assignee` and `duplicate_of` (blank clears them). Absent fields are left.
    pub fn from_form<'a>(
        field: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, ValidationErrors> {
        let mut patch = Self::default();
        let mut errors = Errors::default();
        if let Some(raw) = field("status") {
            patch.set_status(raw, &mut errors);
        }
        if let Some(raw) = field("labels") {
            match Labels::parse_comma_list(raw) {
                Some(labels) => patch.labels = Some(labels),
                None => errors.fail("labels", "invalid", LABELS_RULE),
            }
        }
        match field("assignee").map(str::trim) {
            None => {}
            Some("") => patch.assignee = Some(None),
            Some(raw) => patch.set_assignee(raw, &mut errors),
        }
        match field("duplicate_of").map(str::trim) {
            None => {}
            Some("") => patch.duplicate_of = Some(None),
            Some(raw) => patch.set_duplicate_of(raw, &mut errors),
        }
        errors.into_result(patch)
    }

    /// The triage view's bulk form: `status`, `label` (added) and `assignee`; a blank field is
    /// left as it is. A value that is not blank must be valid.
    pub fn from_bulk_form<'a>(
        field: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, ValidationErrors> {
        let mut patch = Self::default();
        let mut errors = Errors::default();
        let given = |name: &str| field(name).map(str::trim).filter(|v| !v.is_empty());
        if let Some(raw) = given("status") {
            patch.set_status(raw, &mut errors);
        }
        if let Some(raw) = given("label") {
            match parse_label(raw) {
                Some(label) => patch.add_label = Some(label),
                None => errors.fail("label", "invalid", LABEL_RULE),
            }
        }
        if let Some(raw) = given("assignee") {
            patch.set_assignee(raw, &mut errors);
        }
        errors.into_result(patch)
    }

    /// True when the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// A one-line summary for the audit log, e.g. `status=done +label=ui`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.status {
            parts.push(format!("status={}", status.as_str()));
        }
        if let Some(labels) = &self.labels {
            parts.push(format!("labels={}", labels.as_slice().join(",")));
        }
        if let Some(label) = &self.add_label {
            parts.push(format!("+label={label}"));
        }
        if let Some(assignee) = &self.assignee {
            parts.push(format!("assignee={}", assignee.as_deref().unwrap_or("-")));
        }
        if let Some(duplicate_of) = &self.duplicate_of {
            let original = duplicate_of.map_or_else(|| "-".to_owned(), |d| d.to_string());
            parts.push(format!("duplicate_of={original}"));
        }
        parts.join(" ")
    }

    fn set_status(&mut self, raw: &str, errors: &mut Errors) {
        match Status::parse(raw) {
            Some(status) => self.status = Some(status),
            None => errors.fail("status", "invalid", STATUS_RULE),
        }
    }

    fn set_assignee(&mut self, raw: &str, errors: &mut Errors) {
        match parse_staff_name(raw) {
            Some(name) => self.assignee = Some(Some(name)),
            None => errors.fail("assignee", "invalid", ASSIGNEE_RULE),
        }
    }

    fn set_duplicate_of(&mut self, raw: &str, errors: &mut Errors) {
        match Uuid::parse_str(raw.trim()) {
            Ok(id) => self.duplicate_of = Some(Some(id)),
            Err(_) => errors.fail("duplicate_of", "invalid", DUPLICATE_RULE),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn json_patch(body: Value) -> Result<TriagePatch, ValidationErrors> {
        TriagePatch::from_json(body.as_object().expect("an object"))
    }

    fn form<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    fn failing_fields(errors: &ValidationErrors) -> Vec<(&str, &str)> {
        errors
            .0
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect()
    }

    #[test]
    fn labels_are_trimmed_lowered_and_every_repeat_dropped() {
        let labels = Labels::parse([" UI ", "crash", "ui", "Crash", "ui"]).unwrap();
        assert_eq!(labels.as_slice(), ["ui", "crash"]);
        assert_eq!(
            Labels::parse_comma_list("a, ,b,,A").unwrap().as_slice(),
            ["a", "b"]
        );
        assert_eq!(Labels::parse_comma_list(" ").unwrap(), Labels::default());
    }

    #[test]
    fn labels_have_length_rules_and_a_cap_after_repeats_are_dropped() {
        assert_eq!(Labels::parse([""]), None);
        assert_eq!(Labels::parse(["x".repeat(41).as_str()]), None);
        assert!(Labels::parse(["x".repeat(40).as_str()]).is_some());
        assert_eq!(Labels::parse(["a\u{7}b"]), None);
        let twenty: Vec<String> = (0..20).map(|n| format!("l{n}")).collect();
        let mut with_repeats: Vec<&str> = twenty.iter().map(String::as_str).collect();
        with_repeats.extend(["l0", "L1", " l2 "]);
        assert_eq!(
            Labels::parse(with_repeats.clone())
                .unwrap()
                .as_slice()
                .len(),
            20
        );
        with_repeats.push("l20");
        assert_eq!(Labels::parse(with_repeats), None);
        let list = (0..21)
            .map(|n| format!("l{n}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(Labels::parse_comma_list(&list), None);
    }

    #[test]
    fn json_patch_parses_every_field_and_null_clears() {
        let id = Uuid::now_v7();
        let patch = json_patch(json!({
            "status": "in_progress", "labels": ["UI", "ui", "crash"],
            "assignee": "ann", "duplicate_of": id.to_string(),
        }))
        .unwrap();
        assert_eq!(patch.status, Some(Status::InProgress));
        assert_eq!(patch.labels.unwrap().as_slice(), ["ui", "crash"]);
        assert_eq!(patch.assignee, Some(Some("ann".to_owned())));
        assert_eq!(patch.duplicate_of, Some(Some(id)));
        let cleared = json_patch(json!({"assignee": null, "duplicate_of": null})).unwrap();
        assert_eq!(cleared.assignee, Some(None));
        assert_eq!(cleared.duplicate_of, Some(None));
        assert!(json_patch(json!({})).unwrap().is_empty());
    }

    #[test]
    fn json_patch_lists_every_failing_field() {
        let labels: Vec<String> = (0..21).map(|n| format!("l{n}")).collect();
        let errors = json_patch(json!({
            "status": "closed", "labels": labels, "assignee": "ann example",
            "duplicate_of": 7, "received_at": "now",
        }))
        .unwrap_err();
        let mut fields = failing_fields(&errors);
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                ("assignee", "invalid"),
                ("duplicate_of", "invalid_type"),
                ("labels", "invalid"),
                ("received_at", "unknown_field"),
                ("status", "invalid"),
            ]
        );
        let not_strings = json_patch(json!({"labels": ["ui", 3]})).unwrap_err();
        assert_eq!(failing_fields(&not_strings), [("labels", "invalid")]);
    }

    #[test]
    fn form_patch_follows_the_same_rules_and_blank_clears() {
        let patch = TriagePatch::from_form(form(&[
            ("status", "done"),
            ("labels", "UI, crash, ui"),
            ("assignee", " "),
            ("duplicate_of", ""),
        ]))
        .unwrap();
        assert_eq!(patch.status, Some(Status::Done));
        assert_eq!(patch.labels.unwrap().as_slice(), ["ui", "crash"]);
        assert_eq!(patch.assignee, Some(None));
        assert_eq!(patch.duplicate_of, Some(None));
        assert!(TriagePatch::from_form(form(&[])).unwrap().is_empty());
        let list = (0..21)
            .map(|n| format!("l{n}"))
            .collect::<Vec<_>>()
            .join(",");
        let errors = TriagePatch::from_form(form(&[
            ("status", "closed"),
            ("labels", &list),
            ("duplicate_of", "x"),
        ]))
        .unwrap_err();
        assert_eq!(
            failing_fields(&errors),
            [
                ("status", "invalid"),
                ("labels", "invalid"),
                ("duplicate_of", "invalid")
            ]
        );
    }

    #[test]
    fn bulk_form_adds_one_label_and_leaves_blank_fields() {
        let patch = TriagePatch::from_bulk_form(form(&[
            ("status", ""),
            ("label", " Q4 "),
            ("assignee", ""),
        ]))
        .unwrap();
        assert_eq!(patch.add_label.as_deref(), Some("q4"));
        assert_eq!((patch.status, patch.assignee), (None, None));
        assert!(
            TriagePatch::from_bulk_form(form(&[("status", " ")]))
                .unwrap()
                .is_empty()
        );
        let errors = TriagePatch::from_bulk_form(form(&[
            ("status", "closed"),
            ("label", "a,b"),
            ("assignee", "a b"),
        ]))
        .unwrap_err();
        assert_eq!(
            failing_fields(&errors),
            [
                ("status", "invalid"),
                ("label", "invalid"),
                ("assignee", "invalid")
            ]
        );
    }

    #[test]
    fn describe_names_each_change() {
        let patch = TriagePatch {
            status: Some(Status::Done),
            add_label: Some("q4".to_owned()),
            assignee: Some(None),
            ..TriagePatch::default()
        };
        assert_eq!(patch.describe(), "status=done +label=q4 assignee=-");
    }
}
