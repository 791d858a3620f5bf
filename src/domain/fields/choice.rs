//! The enumerated fields (`kind`, `button`) and the rating: exact values, never trimmed.

use super::FieldResult;

/// Which entry point the submission came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema, serde::Deserialize)]
// Read back from the intake inbox by the names `named!` writes.
#[serde(rename_all = "snake_case")]
#[schema(rename_all = "snake_case")]
pub enum Kind {
    Bug,
    Feature,
    Feedback,
}

impl Kind {
    /// Exactly `bug`, `feature` or `feedback`: enumerated values are never trimmed.
    pub fn parse(raw: &str) -> FieldResult<Self> {
        match raw {
            "bug" => Ok(Self::Bug),
            "feature" => Ok(Self::Feature),
            "feedback" => Ok(Self::Feedback),
            _ => Err(("invalid", "must be one of bug, feature, feedback".into())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bug => "bug",
            Self::Feature => "feature",
            Self::Feedback => "feedback",
        }
    }

    /// The button each widget shows, used when the client does not say which was clicked.
    pub fn default_button(self) -> Button {
        match self {
            Self::Feedback => Button::Send,
            Self::Bug | Self::Feature => Button::Submit,
        }
    }
}

crate::domain::triage::named!(Kind);

/// The button whose click accepted the terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Submit,
    Send,
}

impl Button {
    /// Exactly `submit` or `send`.
    pub fn parse(raw: &str) -> FieldResult<Self> {
        match raw {
            "submit" => Ok(Self::Submit),
            "send" => Ok(Self::Send),
            _ => Err(("invalid", "must be submit or send".into())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submit => "submit",
            Self::Send => "send",
        }
    }
}
/// A 1–5 rating, only meaningful for the Feedback? window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating(u8);

impl Rating {
    /// Exactly one digit from 1 to 5 (a JSON number, or its text in a multipart form).
    pub fn parse(raw: &str) -> FieldResult<Self> {
        match raw.as_bytes() {
            [digit @ b'1'..=b'5'] => Ok(Self(digit - b'0')),
            _ => Err(("out_of_range", "must be an integer from 1 to 5".into())),
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_only_one_to_five() {
        assert_eq!(Rating::parse("5").map(Rating::get), Ok(5));
        for bad in ["0", "6", "2.5", "x", "-1", " 3", "3 ", "03", "+3", "3.0"] {
            assert!(Rating::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn enumerated_values_are_matched_exactly() {
        assert_eq!(Kind::parse("bug"), Ok(Kind::Bug));
        for bad in [" bug", "bug ", "Bug", "BUG", "bug\n"] {
            assert!(Kind::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Button::parse("send"), Ok(Button::Send));
        for bad in [" send", "Send", "submit\t"] {
            assert!(Button::parse(bad).is_err(), "{bad:?}");
        }
    }
}
