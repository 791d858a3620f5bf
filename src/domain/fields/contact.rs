//! The optional contact fields (name and e-mail address to reply to), and the e-mail
//! normalisation the blind index is computed over.

use super::{FieldResult, char_len};

/// Optional name to reply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactName(String);

impl ContactName {
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
        if trimmed.chars().any(char::is_control) {
            return Err(("invalid", "must hold printable characters only".into()));
        }
        Ok(Some(Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Optional e-mail address to reply to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEmail(String);

impl ContactEmail {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> FieldResult<Option<Self>> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(("too_long", format!("at most {} characters", Self::MAX_LEN)));
        }
        let valid = email_address::EmailAddress::parse_with_options(
            trimmed,
            email_address::Options::default().without_display_text(),
        )
        .is_ok_and(|addr| addr.domain().contains('.') || addr.domain() == "localhost");
        if !valid {
            return Err(("invalid", "must be a valid e-mail address".into()));
        }
        Ok(Some(Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form the blind index is computed over: trimmed and lower-cased.
    pub fn normalized(&self) -> String {
        normalize_email(&self.0)
    }
}

/// Normalises an address the way the blind index expects it.
pub fn normalize_email(raw: &str) -> String {
    raw.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_validated_and_normalized() {
        let email = ContactEmail::parse(" Ann.Example@Mail.ORG ")
            .unwrap()
            .unwrap();
        assert_eq!(email.normalized(), "ann.example@mail.org");
        assert!(ContactEmail::parse("").unwrap().is_none());
        assert!(ContactEmail::parse("not-an-address").is_err());
        assert!(ContactEmail::parse("Ann <ann@example.org>").is_err());
    }
}
