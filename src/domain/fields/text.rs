//! The free-text fields: summary, message and the version labels, trimmed and bounded.

use super::{FieldResult, char_len};

/// Optional one-line summary; blank means absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary(String);

impl Summary {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> FieldResult<Option<Self>> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if char_len(trimmed) > Self::MAX_CHARS {
            return Err((
                "too_long",
                format!("at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Some(Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The feedback text itself: required, trimmed, 1 to 10,000 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message(String);

/// Line breaks as `\n`, however the client sent them (multipart forms send `\r\n`).
fn normalize_line_breaks(raw: &str) -> String {
    raw.replace("\r\n", "\n").replace('\r', "\n")
}

impl Message {
    pub const MAX_CHARS: usize = 10_000;

    pub fn parse(raw: &str) -> FieldResult<Self> {
        let normalized = normalize_line_breaks(raw);
        let trimmed = normalized.trim();
        if trimmed.is_empty() {
            return Err(("empty", "must not be empty".into()));
        }
        if char_len(trimmed) > Self::MAX_CHARS {
            return Err((
                "too_long",
                format!("at most {} characters", Self::MAX_CHARS),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}
/// A WebApp or server version: 1–64 printable characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionLabel(String);

impl VersionLabel {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> FieldResult<Self> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(("empty", "must not be empty".into()));
        }
        if char_len(trimmed) > Self::MAX_CHARS {
            return Err((
                "too_long",
                format!("at most {} characters", Self::MAX_CHARS),
            ));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(("invalid", "must hold printable characters only".into()));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_trimmed_and_bounded() {
        assert_eq!(
            Message::parse("  hi \n").map(Message::into_inner),
            Ok("hi".into())
        );
        assert_eq!(Message::parse("   ").unwrap_err().0, "empty");
        assert!(Message::parse(&"é".repeat(10_000)).is_ok());
        assert_eq!(
            Message::parse(&"é".repeat(10_001)).unwrap_err().0,
            "too_long"
        );
    }

    #[test]
    fn versions_are_printable_and_bounded() {
        assert!(VersionLabel::parse("6.4.2-rc1").is_ok());
        assert_eq!(VersionLabel::parse("a\u{7}b").unwrap_err().0, "invalid");
        assert_eq!(
            VersionLabel::parse(&"1".repeat(65)).unwrap_err().0,
            "too_long"
        );
    }
}
