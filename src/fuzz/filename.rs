//! Fuzz target for `attachments::sanitize_filename`: the result is never empty, at most 255
//! characters, holds no path separator, control or reserved character, does not start with a
//! dot or whitespace, and sanitising it again changes nothing.

use proptest::prelude::*;

use super::{config, corpus_lines, text_input};
use crate::attachments::sanitize_filename;

const RESERVED: &[char] = &['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

fn assert_safe(raw: &str, name: &str) {
    assert!(!name.is_empty(), "{raw:?} gave an empty name");
    assert!(
        name.chars().count() <= 255,
        "{raw:?} gave {} characters",
        name.chars().count()
    );
    assert!(
        !name
            .chars()
            .any(|c| c.is_control() || RESERVED.contains(&c)),
        "{raw:?} gave {name:?}"
    );
    assert_eq!(name.trim(), name, "{raw:?} gave {name:?}");
}

fn file_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => text_input(corpus_lines("filename"), 300),
        // Names made only of what the sanitiser strips, trims or cuts.
        1 => "[ ./\\\\.\t\u{85}\u{a0}\u{3000}a]{0,12}",
        1 => (0usize..600, "[a-zé ]{1,3}").prop_map(|(n, s)| s.repeat(n)),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn sanitised_names_are_safe(raw in file_name()) {
        let name = sanitize_filename(&raw);
        assert_safe(&raw, &name);
    }

    #[test]
    fn sanitising_twice_changes_nothing(raw in file_name()) {
        let name = sanitize_filename(&raw);
        prop_assert!(!name.starts_with('.'), "{:?} gave a hidden name {:?}", raw, name);
        prop_assert_eq!(sanitize_filename(&name), name);
    }
}

/// The smallest case the fuzzer found: a dot, a space, a dot.
#[test]
fn dot_space_dot_is_sanitised_once_and_for_all() {
    let once = sanitize_filename(". .x");
    assert_eq!(sanitize_filename(&once), once);
    assert!(!once.starts_with('.'));
}

#[test]
fn every_seed_name_is_safe() {
    for raw in corpus_lines("filename") {
        assert_safe(&raw, &sanitize_filename(&raw));
    }
}
