//! One newtype per field of `POST /api/v1/feedback`; each `parse` enforces the contract's rule.

use serde::Serialize;

/// A failing field, as listed in the `errors` array of a problem+json body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            code,
            message: message.into(),
        }
    }
}

type FieldResult<T> = Result<T, (&'static str, String)>;

fn char_len(s: &str) -> usize {
    s.chars().count()
}

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

super::triage::named!(Kind);

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

/// `WIDTHxHEIGHT`, each side 1–16384 pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenResolution {
    pub width: u16,
    pub height: u16,
}

impl ScreenResolution {
    pub const MAX_SIDE: u16 = 16_384;

    pub fn parse(raw: &str) -> FieldResult<Self> {
        let invalid = || {
            (
                "invalid",
                "must be WIDTHxHEIGHT, each from 1 to 16384".to_owned(),
            )
        };
        let (w, h) = raw.trim().split_once('x').ok_or_else(invalid)?;
        let side = |s: &str| -> Option<u16> {
            if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            s.parse::<u16>()
                .ok()
                .filter(|n| (1..=Self::MAX_SIDE).contains(n))
        };
        match (side(w), side(h)) {
            (Some(width), Some(height)) => Ok(Self { width, height }),
            _ => Err(invalid()),
        }
    }
}

/// The page the WebApp is used from, stripped of query, fragment and credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageUrl(String);

impl PageUrl {
    pub const MAX_LEN: usize = 2048;

    pub fn parse(raw: &str) -> FieldResult<Self> {
        let trimmed = raw.trim();
        if trimmed.len() > Self::MAX_LEN {
            return Err(("too_long", format!("at most {} characters", Self::MAX_LEN)));
        }
        let invalid = || {
            (
                "invalid",
                "must be an absolute http or https URL".to_owned(),
            )
        };
        let mut url = url::Url::parse(trimmed).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid());
        }
        url.set_query(None);
        url.set_fragment(None);
        // Credentials in a URL are nothing the terms disclose; drop them too.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        // Percent-encoding and IDNA can make the stored form longer than what was sent: the
        // limit is on what is kept.
        let stored: String = url.into();
        if stored.len() > Self::MAX_LEN {
            return Err(("too_long", format!("at most {} characters", Self::MAX_LEN)));
        }
        Ok(Self(stored))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

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
    fn screen_resolution_bounds() {
        assert_eq!(
            ScreenResolution::parse("1920x1080"),
            Ok(ScreenResolution {
                width: 1920,
                height: 1080
            })
        );
        assert!(ScreenResolution::parse("16384x1").is_ok());
        for bad in [
            "0x10",
            "16385x10",
            "1920*1080",
            "x",
            "+1x1",
            "1920x",
            "99999x1",
        ] {
            assert!(ScreenResolution::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_url_drops_query_fragment_and_credentials() {
        let url = PageUrl::parse("https://u:p@mail.example.org/app/inbox?token=x#msg-1").unwrap();
        assert_eq!(url.as_str(), "https://mail.example.org/app/inbox");
        assert!(PageUrl::parse("ftp://example.org/").is_err());
        assert!(PageUrl::parse("/relative").is_err());
        assert!(PageUrl::parse(&format!("https://e.org/{}", "a".repeat(2048))).is_err());
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
