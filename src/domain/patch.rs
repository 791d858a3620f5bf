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
const ADD_AND_REMOVE_RULE: &str = "cannot be added and removed at once";
const LABELS_AND_ONE_RULE: &str = "cannot be given with labels, which replaces them all";

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
    /// A label taken away from those there, if it is one of them (bulk actions).
    pub remove_label: Option<String>,
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
    /// The JSON API's body: `status`, `labels` (an array, replacing them), `add_label` and
    /// `remove_label` (one label each, not with `labels`), `assignee` and `duplicate_of`
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
                ("add_label", Value::String(raw)) => patch.set_add_label(raw, &mut errors),
                ("remove_label", Value::String(raw)) => patch.set_remove_label(raw, &mut errors),
                ("assignee", Value::Null) => patch.assignee = Some(None),
                ("assignee", Value::String(raw)) => patch.set_assignee(raw, &mut errors),
                ("duplicate_of", Value::Null) => patch.duplicate_of = Some(None),
                ("duplicate_of", Value::String(raw)) => patch.set_duplicate_of(raw, &mut errors),
                (
                    "status" | "labels" | "add_label" | "remove_label" | "assignee"
                    | "duplicate_of",
                    _,
                ) => {
                    errors.fail(field, "invalid_type", "has the wrong type");
                }
                _ => errors.fail(field, "unknown_field", "cannot be changed"),
            }
        }
        patch.check_label_changes(&mut errors);
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

    /// The triage view's bulk form: `status`, `label` (added), `remove_label` and `assignee`;
    /// a blank field is left as it is. A value that is not blank must be valid.
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
        if let Some(raw) = given("remove_label") {
            patch.set_remove_label(raw, &mut errors);
        }
        if let Some(raw) = given("assignee") {
            patch.set_assignee(raw, &mut errors);
        }
        patch.check_label_changes(&mut errors);
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
        if let Some(label) = &self.remove_label {
            parts.push(format!("-label={label}"));
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

    fn set_add_label(&mut self, raw: &str, errors: &mut Errors) {
        match parse_label(raw) {
            Some(label) => self.add_label = Some(label),
            None => errors.fail("add_label", "invalid", LABEL_RULE),
        }
    }

    fn set_remove_label(&mut self, raw: &str, errors: &mut Errors) {
        match parse_label(raw) {
            Some(label) => self.remove_label = Some(label),
            None => errors.fail("remove_label", "invalid", LABEL_RULE),
        }
    }

    /// One label added and removed at once, or either beside `labels`, is ambiguous.
    fn check_label_changes(&self, errors: &mut Errors) {
        if self.add_label.is_some() && self.add_label == self.remove_label {
            errors.fail("remove_label", "conflict", ADD_AND_REMOVE_RULE);
        }
        if self.labels.is_some() {
            for (field, given) in [
                ("add_label", &self.add_label),
                ("remove_label", &self.remove_label),
            ] {
                if given.is_some() {
                    errors.fail(field, "conflict", LABELS_AND_ONE_RULE);
                }
            }
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
#[path = "patch_tests.rs"]
mod tests;
