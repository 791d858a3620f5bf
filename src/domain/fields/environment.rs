//! The environment the widget reports: the screen resolution and the page's URL.

use super::FieldResult;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
