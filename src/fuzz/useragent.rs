//! Fuzz target for `useragent::detect`: it never panics, on arbitrary and very long agents
//! alike; the brand is never empty; brand and version are at most 64 characters; the same
//! agent always maps to the same browser (cached or not); a missing or blank agent is `Other`.

use proptest::prelude::*;

use super::{config, corpus_lines, text_input};
use crate::useragent::detect;

/// The longest agent a test case builds: the 64 KiB of issue 10, and then some.
const LONG_AGENT_BYTES: usize = 80 * 1024;

/// Words that tell an operating system or a device, which the terms do not disclose.
const OS_OR_DEVICE: &[&str] = &[
    "iOS", "Mobile", "Android", "Windows", "Mac", "Linux", "iPhone", "iPad", "Tablet", "WebView",
];

/// Agents: mutated real ones, random text, and real ones padded out to tens of kilobytes.
fn agent() -> impl Strategy<Value = String> {
    let seeds = corpus_lines("useragent");
    prop_oneof![
        8 => text_input(seeds.clone(), 300),
        1 => (proptest::sample::select(seeds), 0usize..LONG_AGENT_BYTES, "[ -~]{1,8}")
            .prop_map(|(seed, len, filler)| {
                let mut agent = seed;
                while agent.len() < len {
                    agent.push_str(&filler);
                }
                agent
            }),
    ]
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn no_brand_names_an_os_or_device(agent in agent()) {
        let brand = detect(Some(&agent)).brand;
        prop_assert!(
            !OS_OR_DEVICE.iter().any(|word| brand.contains(word)),
            "{:?} gave {:?}", agent, brand
        );
    }

    #[test]
    fn any_agent_maps_to_a_bounded_non_empty_brand(agent in agent()) {
        let browser = detect(Some(&agent));
        prop_assert!(!browser.brand.trim().is_empty(), "empty brand for {agent:?}");
        prop_assert!(browser.brand.chars().count() <= 64);
        if let Some(version) = &browser.version {
            prop_assert!(!version.is_empty() && version.chars().count() <= 64);
        }
        // A second call may come from the cache; it must say the same.
        prop_assert_eq!(detect(Some(&agent)), browser);
        if agent.trim().is_empty() {
            prop_assert_eq!(detect(Some(&agent)).brand, "Other");
        }
    }
}

#[test]
fn every_seed_agent_is_a_known_browser() {
    for agent in corpus_lines("useragent") {
        let browser = detect(Some(&agent));
        assert_ne!(browser.brand, "Other", "{agent}");
        assert!(browser.version.is_some(), "{agent}");
    }
}

/// The smallest cases: Chrome and Firefox on an iPhone, Chrome on Android, Safari on an iPhone.
#[test]
fn mobile_browsers_map_to_their_canonical_brand() {
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)";
    for (agent, brand) in [
        (format!("{iphone} CriOS/142.0.7444.77 Mobile/15E148 Safari/604.1"), "Chrome"),
        (format!("{iphone} FxiOS/145.0 Mobile/15E148 Safari/605.1.15"), "Firefox"),
        (format!("{iphone} Version/26.1 Mobile/15E148 Safari/604.1"), "Safari"),
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36".to_owned(),
            "Chrome",
        ),
    ] {
        assert_eq!(detect(Some(&agent)).brand, brand, "{agent}");
    }
}
