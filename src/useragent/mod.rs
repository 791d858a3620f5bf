//! Browser brand and version from a `User-Agent`, with the uap-core rules vendored beside
//! this file (`regexes.yaml`, Apache-2.0, see `UAP-CORE-LICENSE`).
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
/// Longer agents are parsed every time rather than kept.
const MAX_CACHED_AGENT_BYTES: usize = 512;

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
    if ua.len() > MAX_CACHED_AGENT_BYTES {
        return parse(ua);
    }
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

fn parse(ua: &str) -> Browser {
    let parsed = PARSER.parse_user_agent(ua);
    let clip = |s: &str| s.chars().take(MAX_LABEL_CHARS).collect::<String>();
    let version = parsed
        .major
        .as_deref()
        .map(|major| match parsed.minor.as_deref() {
            Some(minor) => clip(&format!("{major}.{minor}")),
            None => clip(major),
        });
    Browser {
        brand: clip(&parsed.family),
        version,
    }
}

fn other() -> Browser {
    Browser {
        brand: "Other".to_owned(),
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
}
