//! The collector `parse` reads fields through: one field at a time, by the JSON type it must
//! have, recording every failure instead of stopping at the first.

use super::{FieldError, RawForm, RawValue};

/// The JSON type a field's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expect {
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

pub(super) struct Collector<'a> {
    pub(super) raw: &'a RawForm,
    pub(super) errors: Vec<FieldError>,
}

impl Collector<'_> {
    pub(super) fn fail(&mut self, field: &str, code: &'static str, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// The text of a field: `None` when absent; an error is recorded for a value of another
    /// JSON type than `expect` allows (a multipart form sends every value as text).
    pub(super) fn value(&mut self, field: &str, expect: Expect) -> Option<String> {
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

    pub(super) fn text(&mut self, field: &str) -> Option<String> {
        self.value(field, Expect::Text)
    }

    pub(super) fn required<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, (&'static str, String)>,
    ) -> Option<T> {
        self.required_as(field, Expect::Text, parse)
    }

    pub(super) fn required_as<T>(
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

    pub(super) fn optional<T>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<Option<T>, (&'static str, String)>,
    ) -> Option<T> {
        let text = self.text(field)?;
        self.apply(field, &text, parse).flatten()
    }

    pub(super) fn apply<T>(
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
