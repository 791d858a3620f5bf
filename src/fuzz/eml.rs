//! Fuzz target for the sender of a removal e-mail (`cli::privacy::sender_in`, behind `privacy erase
//! --eml`): it never panics on any bytes, and an address it returns is a valid e-mail address
//! (by the same rule as `contact_email`), so an erasure never looks up a malformed one.

use proptest::prelude::*;

use super::{config, corpus, mutated};
use crate::cli::privacy::sender_in;
use crate::domain::ContactEmail;

/// Messages: mutated real removal e-mails, headers built around odd `From:` values, random bytes.
fn message() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => mutated(corpus("eml"), 8).prop_map(|(_, bytes)| bytes),
        3 => (
            prop_oneof![
                "[ -~]{0,80}",
                "\\PC{0,40}",
                Just("=?utf-8?B?QW5uIEV4YW1wbGU=?= <ann@example.org>".to_owned()),
                Just("undisclosed-recipients:;".to_owned()),
                Just("\"a@b\" <>".to_owned()),
            ],
            "(\r\n[ \t][ -~]{0,20})?",
            "(Reply-To: [ -~]{0,30}\r\n)?",
        )
            .prop_map(|(from, folded, extra)| {
                format!("{extra}From: {from}{folded}\r\nSubject: remove me\r\n\r\nPlease remove my data.\r\n")
                    .into_bytes()
            }),
        1 => proptest::collection::vec(any::<u8>(), 0..1024),
    ]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn any_message_is_read_without_panicking(bytes in message()) {
        let _ = sender_in(&bytes);
    }

    #[test]
        fn a_returned_sender_is_a_valid_address(bytes in message()) {
        if let Ok(sender) = sender_in(&bytes) {
            prop_assert!(
                matches!(ContactEmail::parse(&sender), Ok(Some(_))),
                "{:?} is no address", sender
            );
        }
    }
}

#[test]
fn every_seed_names_a_valid_sender() {
    for seed in corpus("eml") {
        let sender = sender_in(&seed).expect("a seed names its sender");
        assert!(
            matches!(ContactEmail::parse(&sender), Ok(Some(_))),
            "{sender:?}"
        );
    }
}

/// The smallest cases the fuzzer found: a `From:` whose "address" is none.
#[test]
fn a_from_without_a_valid_address_is_refused() {
    let messages = ["From: a@b@c\r\n\r\nx", "From: \"a@b\" <>\r\n\t@\r\n\r\nx"];
    let taken: Vec<_> = messages
        .iter()
        .filter_map(|m| sender_in(m.as_bytes()).ok().map(|sender| (m, sender)))
        .collect();
    assert!(taken.is_empty(), "taken as senders: {taken:?}");
}
