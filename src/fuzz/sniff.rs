//! Fuzz target for deciding an attachment's type by content: `AttachmentType::sniff` never
//! panics, and the streaming UTF-8 text check (`Utf8Text`) gives the same verdict as checking
//! the whole file at once, wherever the upload is cut into chunks.

use proptest::prelude::*;
use proptest::sample::Index;

use super::{config, corpus, mutated};
use crate::attachments::sniff::{AttachmentType, Utf8Text};

/// The verdict on a whole file: valid UTF-8 without control bytes other than tab, line breaks,
/// form feed and escape.
fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok()
        && bytes
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b))
}

fn streamed(bytes: &[u8], cuts: &[Index]) -> bool {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.push(bytes.len());
    at.sort_unstable();
    let mut check = Utf8Text::default();
    let mut start = 0;
    for cut in at {
        if check.feed(&bytes[start..cut]).is_err() {
            return false;
        }
        start = cut;
    }
    check.finish().is_ok()
}

/// Starts of text files that other formats' signatures resemble.
const TEXT_STARTS: &[&str] = &[
    "<?xml ", "<html>", "#!", "MZ", "BM", "ID3", "%!PS", "GIF87a", "%PDF",
];

/// File contents: text with multi-byte characters, text that starts like another format, the
/// multipart seeds' bytes, random bytes.
fn content() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => (proptest::sample::select(TEXT_STARTS), "[a-z0-9 \n]{0,32}")
            .prop_map(|(start, rest)| format!("{start}{rest}").into_bytes()),
        3 => "[a-zé€😀\t\r\n\u{1b}\u{80}-\u{9f} ]{0,64}".prop_map(String::into_bytes),
        3 => mutated(corpus("multipart"), 6).prop_map(|(_, bytes)| bytes),
        2 => ("[a-zé€😀 ]{0,32}", proptest::collection::vec(any::<u8>(), 0..4), "[a-zé€😀 ]{0,32}")
            .prop_map(|(a, mid, b)| [a.into_bytes(), mid, b.into_bytes()].concat()),
        1 => proptest::collection::vec(any::<u8>(), 0..256),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn text_check_is_blind_to_chunking(
        bytes in content(),
        cuts in proptest::collection::vec(any::<Index>(), 0..12),
    ) {
        let whole = is_text(&bytes);
        prop_assert_eq!(streamed(&bytes, &cuts), whole, "cut at {:?}", cuts);
        // One byte at a time: the hardest case for the carried partial character.
        let mut check = Utf8Text::default();
        let bytewise = bytes.iter().all(|b| check.feed(std::slice::from_ref(b)).is_ok())
            && check.finish().is_ok();
        prop_assert_eq!(bytewise, whole);
    }

    #[test]
    fn sniffing_any_head_is_safe(bytes in content()) {
        let head = &bytes[..bytes.len().min(1024)];
        if AttachmentType::sniff(head) == Some(AttachmentType::Text) {
            let mut check = Utf8Text::default();
            prop_assert!(check.feed(head).is_ok(), "a head that is not text sniffed as text");
        }
    }

    #[test]
    fn utf8_text_is_an_allowed_type_unless_markup_or_a_script(bytes in content()) {
        let head = &bytes[..bytes.len().min(1024)];
        let active = matches!(
            infer::get(head).map(|t| t.mime_type()),
            Some("text/html" | "text/xml" | "text/x-shellscript")
        );
        if is_text(&bytes) && !bytes.is_empty() && !active {
            prop_assert!(AttachmentType::sniff(head).is_some(), "{:?} refused", String::from_utf8_lossy(head));
        }
    }
}
/// The smallest cases: UTF-8 text whose first bytes look like another format's magic is
/// text; markup and scripts stay refused by design (DECISIONS.md, Attachments).
#[test]
fn text_that_starts_like_another_format_is_still_text() {
    for text in [
        "MZ-1234 failed to sync\n",
        "BM: build 42 done\n",
        "ID3 tags missing\n",
    ] {
        assert_eq!(
            AttachmentType::sniff(text.as_bytes()),
            Some(AttachmentType::Text),
            "{text:?}"
        );
    }
    for active in [
        "<?xml version=\"1.0\"?><log/>",
        "<html><body>saved page</body></html>",
        "#!/bin/sh\necho hi\n",
    ] {
        assert_eq!(AttachmentType::sniff(active.as_bytes()), None, "{active:?}");
    }
}
