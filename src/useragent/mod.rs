//! Browser brand and version from a `User-Agent`, with the uap-core rules vendored beside
//! this file (`regexes.yaml`, Apache-2.0, see `UAP-CORE-LICENSE`).
//!
//! The uap-core family is then mapped to a canonical brand ([`canonical_brand`]): the terms
//! disclose the browser's brand, never the operating system or device, and families such as
//! `Chrome Mobile iOS`, `Firefox iOS` or `Mobile Safari` name both. Anything not on the list
//! (in-app browsers, stock OS browsers, bots, unknown agents) is `Other`, without a version.
//!
//! Building the parser compiles hundreds of regexes (tenths of a second in release, seconds in
//! debug), so it is built once per process and shared. Only the user-agent rules are compiled:
//! the terms disclose no OS or device, so those rules are never even loaded.
//!
//! Matching an agent against the rules takes tens of microseconds, and the agents a WebApp sees
//! are few, so results are kept in a small in-memory cache (never stored, never logged).

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use uaparser::{Parser, UserAgentParser};

use crate::domain::Browser;

static RULES: &[u8] = include_bytes!("regexes.yaml");

/// Longest brand or version kept; uap-core families are far shorter.
const MAX_LABEL_CHARS: usize = 64;
/// Distinct agents remembered; the cache starts over when full.
const CACHE_ENTRIES: usize = 4096;
/// Agents are cut to this many bytes (on a character boundary) before parsing: real agents
/// are far shorter, and a huge header must not cost a regex pass over all of it.
const MAX_AGENT_BYTES: usize = 512;

pub use crate::domain::{CANONICAL_BRANDS, OTHER_BRAND};

static CACHE: LazyLock<Mutex<HashMap<String, Browser>>> =
    LazyLock::new(|| Mutex::new(HashMap::with_capacity(CACHE_ENTRIES)));

static PARSER: LazyLock<UserAgentParser> = LazyLock::new(|| {
    UserAgentParser::builder()
        .with_device(false)
        .with_os(false)
        .with_unicode_support(false)
        .build_from_bytes(RULES)
        .expect("the vendored uap-core rules parse")
});

/// Builds the shared parser now rather than on the first request.
pub fn warm_up() {
    LazyLock::force(&PARSER);
}

/// The browser a `User-Agent` names; a missing or unknown agent is brand `Other`.
pub fn detect(user_agent: Option<&str>) -> Browser {
    let Some(ua) = user_agent.filter(|ua| !ua.trim().is_empty()) else {
        return other();
    };
    let ua = truncate(ua, MAX_AGENT_BYTES);
    if let Some(known) = CACHE.lock().expect("cache lock").get(ua) {
        return known.clone();
    }
    let browser = parse(ua);
    let mut cache = CACHE.lock().expect("cache lock");
    if cache.len() >= CACHE_ENTRIES {
        cache.clear();
    }
    cache.insert(ua.to_owned(), browser.clone());
    browser
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The brand a uap-core family stands for, or `None` when it is not a brand the terms name.
pub fn canonical_brand(family: &str) -> Option<&'static str> {
    let brand = match family {
        "Chrome"
        | "Chrome Mobile"
        | "Chrome Mobile iOS"
        | "Chrome Mobile WebView"
        | "Chrome Frame"
        | "Chromium"
        | "HeadlessChrome" => "Chrome",
        f if f == "Firefox" || f.starts_with("Firefox ") => "Firefox",
        "Safari" | "Mobile Safari" | "Mobile Safari UI/WKWebView" => "Safari",
        "Edge" | "Edge Mobile" => "Edge",
        f if f == "Opera" || f.starts_with("Opera ") => "Opera",
        "DuckDuckGo Mobile" => "DuckDuckGo",
        "IE" | "IE Mobile" | "IE Large Screen" => "Internet Explorer",
        f => return CANONICAL_BRANDS.iter().copied().find(|b| *b == f),
    };
    Some(brand)
}

fn parse(ua: &str) -> Browser {
    let parsed = PARSER.parse_user_agent(ua);
    let Some(brand) = canonical_brand(&parsed.family) else {
        return other();
    };
    let clip = |s: &str| s.chars().take(MAX_LABEL_CHARS).collect::<String>();
    let version = parsed
        .major
        .as_deref()
        .map(|major| match parsed.minor.as_deref() {
            Some(minor) => clip(&format!("{major}.{minor}")),
            None => clip(major),
        });
    Browser {
        brand: brand.to_owned(),
        version,
    }
}

fn other() -> Browser {
    Browser {
        brand: OTHER_BRAND.to_owned(),
        version: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_unknown_agents() {
        let firefox = detect(Some(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ));
        assert_eq!(firefox.brand, "Firefox");
        assert_eq!(firefox.version.as_deref(), Some("128.0"));
        assert_eq!(detect(None).brand, "Other");
        assert_eq!(detect(Some("")).brand, "Other");
        assert_eq!(detect(Some("∞ nothing known ∞")).brand, "Other");
    }

    /// Real agents whose uap-core family names an OS or a device map to the browser alone.
    #[test]
    fn brands_never_reveal_the_os_or_device() {
        let cases = [
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
                "Chrome",
                Some("126.0"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15",
                "Firefox",
                Some("127.0"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240605.024; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.71 Mobile Safari/537.36",
                "Chrome",
                Some("126.0"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
                "Chrome",
                Some("126.0"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
                "Safari",
                Some("17.5"),
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                "Safari",
                Some("17.5"),
            ),
            (
                "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
                "Firefox",
                Some("127.0"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.68",
                "Edge",
                Some("126.0"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.6478.71 Mobile Safari/537.36 EdgA/126.0.2592.80",
                "Edge",
                Some("126.0"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 OPR/111.0.0.0",
                "Opera",
                Some("111.0"),
            ),
            (
                "Opera/9.80 (Android; Opera Mini/7.5.54678/191.249; U; en) Presto/2.12.423 Version/12.16",
                "Opera",
                Some("7.5"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
                "Samsung Internet",
                Some("25.0"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Trident/7.0; rv:11.0) like Gecko",
                "Internet Explorer",
                Some("11.0"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
                "Safari",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 4.4.2; GT-I9505 Build/KOT49H) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
                "Other",
                None,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/470.0.0.37.106;FBBV/123;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/17.5]",
                "Other",
                None,
            ),
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                "Other",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; KFTRWI) AppleWebKit/537.36 (KHTML, like Gecko) Silk/126.3.1 like Chrome/126.0.6478.186 Safari/537.36",
                "Other",
                None,
            ),
        ];
        for (ua, brand, version) in cases {
            let browser = detect(Some(ua));
            assert_eq!(
                (browser.brand.as_str(), browser.version.as_deref()),
                (brand, version),
                "{ua}"
            );
        }
    }

    #[test]
    fn every_stored_brand_is_canonical() {
        for family in [
            "Chrome Mobile iOS",
            "Firefox iOS",
            "Chrome Mobile WebView",
            "Mobile Safari",
            "Opera Mobile",
            "Edge Mobile",
        ] {
            let brand = canonical_brand(family).unwrap();
            assert!(CANONICAL_BRANDS.contains(&brand), "{family}");
            assert!(
                !brand.contains("iOS") && !brand.contains("Mobile"),
                "{family}"
            );
        }
        assert_eq!(canonical_brand("Android"), None);
        assert_eq!(canonical_brand("Operations Dashboard for ArcGIS"), None);
    }

    #[test]
    fn long_agents_are_cut_on_a_character_boundary() {
        let long = format!(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 {}",
            "é".repeat(2000)
        );
        let cut = truncate(&long, MAX_AGENT_BYTES);
        assert!(cut.len() <= MAX_AGENT_BYTES && cut.len() >= MAX_AGENT_BYTES - 1);
        assert!(long.starts_with(cut));
        assert_eq!(detect(Some(&long)).brand, "Firefox");
        assert_eq!(truncate("short", MAX_AGENT_BYTES), "short");
    }
}
