//! Fuzz target for `PageUrl::parse`, the one field whose stored form differs from what was
//! sent: it never panics, an accepted URL is stored as an absolute http(s) URL without query,
//! fragment or credentials, and the stored URL is within the same 2048-character limit it was
//! accepted under, so it parses again to itself.

use proptest::prelude::*;

use super::config;
use crate::domain::PageUrl;

/// URLs up to and a little past the limit, with characters that percent-encoding or IDNA expand.
fn long_url() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("https"), Just("http")],
        prop_oneof![
            Just("mail.example.org".to_owned()),
            "[a-zäöü]{1,30}\\.example",
        ],
        "[a-zé €\"<>{}|^`/%]{0,700}",
        0usize..4,
    )
        .prop_map(|(scheme, host, path, repeat)| {
            format!("{scheme}://{host}/{}", path.repeat(repeat))
        })
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn accepted_urls_are_stored_without_query_fragment_or_credentials(raw in long_url()) {
        if let Ok(url) = PageUrl::parse(&raw) {
            let stored = url::Url::parse(url.as_str()).expect("a stored URL parses");
            prop_assert!(matches!(stored.scheme(), "http" | "https"));
            prop_assert!(stored.query().is_none() && stored.fragment().is_none());
            prop_assert!(stored.username().is_empty() && stored.password().is_none());
        }
    }

    #[test]
    fn accepted_urls_are_stored_within_their_limit(raw in long_url()) {
        if let Ok(url) = PageUrl::parse(&raw) {
            prop_assert!(url.as_str().len() <= PageUrl::MAX_LEN, "{} bytes stored", url.as_str().len());
            prop_assert_eq!(PageUrl::parse(url.as_str()).ok(), Some(url));
        }
    }
}

/// The smallest kind of case: 1,000 `é` fit in 2,048 bytes, and would be stored as 6,000;
/// they are refused as too long instead.
#[test]
fn stored_page_url_stays_within_its_limit() {
    let raw = format!("https://example.org/{}", "é".repeat(1000));
    assert!(raw.len() <= PageUrl::MAX_LEN);
    assert_eq!(PageUrl::parse(&raw).map_err(|e| e.0), Err("too_long"));
    let fits = format!("https://example.org/{}", "é".repeat(300));
    let url = PageUrl::parse(&fits).expect("accepted");
    assert!(url.as_str().len() <= PageUrl::MAX_LEN);
}
