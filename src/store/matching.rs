//! How the queue's text filters match, the same on both backends: the assignee ignores case,
//! a browser matches its brand family by whole words (`safari` finds `Safari` and
//! `Mobile Safari`), a version matches itself and its patch releases (`7.1` finds `7.1.3`).

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
}
