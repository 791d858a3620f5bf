//! How the queue's text filters match, the same on both backends: the assignee ignores case,
//! a browser matches its brand family by whole words (`safari` finds `Safari` and
//! `Mobile Safari`), a version matches itself and its patch releases (`7.1` finds `7.1.3`).

use crate::domain::{CANONICAL_BRANDS, OTHER_BRAND};

/// `value` with the `LIKE` wildcards escaped (escape character `\`).
fn escaped(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The pattern for `(' ' || lower(brand) || ' ') LIKE ?`.
pub fn browser_family(value: &str) -> String {
    let words: Vec<&str> = value.split_whitespace().collect();
    format!("% {} %", escaped(&words.join(" ").to_lowercase()))
}

/// The stored brands (the canonical ones and `Other`) that hold the typed words, in order and
/// as whole words, ignoring case: the browser filter as exact values, which the browser index
/// serves. `None` when no stored brand matches; the filter then matches the
/// [`browser_family`] pattern, which finds the same among canonical brands and also any other
/// brand a row may hold.
pub fn browser_brands(value: &str) -> Option<Vec<&'static str>> {
    let words: Vec<&str> = value.split_whitespace().collect();
    let typed = format!(" {} ", words.join(" ").to_lowercase());
    let brands: Vec<&'static str> = CANONICAL_BRANDS
        .iter()
        .copied()
        .chain([OTHER_BRAND])
        .filter(|brand| format!(" {} ", brand.to_lowercase()).contains(&typed))
        .collect();
    (!words.is_empty() && !brands.is_empty()).then_some(brands)
}

/// The pattern for `version LIKE ?` that finds the patch releases of `value`.
pub fn version_prefix(value: &str) -> String {
    format!("{}.%", escaped(value.trim().trim_end_matches('.')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_wildcards() {
        assert_eq!(browser_family(" Mobile  SAFARI "), "% mobile safari %");
        assert_eq!(browser_family("a_b%"), "% a\\_b\\% %");
        assert_eq!(version_prefix("7.1"), "7.1.%");
        assert_eq!(version_prefix("7.1."), "7.1.%");
    }

    #[test]
    fn a_browser_filter_names_the_brands_it_finds() {
        assert_eq!(browser_brands(" SAFARI "), Some(vec!["Safari"]));
        assert_eq!(
            browser_brands("internet"),
            Some(vec!["Samsung Internet", "Internet Explorer"])
        );
        assert_eq!(
            browser_brands("samsung  internet"),
            Some(vec!["Samsung Internet"])
        );
        assert_eq!(browser_brands("other"), Some(vec!["Other"]));
        assert_eq!(browser_brands("saf"), None, "whole words only");
        assert_eq!(browser_brands("Mobile Safari"), None);
        assert_eq!(browser_brands(" "), None);
    }
}
