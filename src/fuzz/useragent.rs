//! Fuzz target for `useragent::detect`: it never panics, on arbitrary and very long agents
//! alike; the brand is never empty; brand and version are at most 64 characters; the same
//! agent always maps to the same browser (cached or not); a missing or blank agent is `Other`.

use proptest::prelude::*;

use super::{config, corpus_lines, text_input};
use crate::useragent::detect;

/// The longest agent a test case builds: the 64 KiB of issue 10, and then some.
const LONG_AGENT_BYTES: usize = 80 * 1024;

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
