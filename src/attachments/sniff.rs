//! Deciding a file's type by its content, never by its name or the client's Content-Type.

/// The types the contract allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentType {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
    /// UTF-8 plain text: logs, JSON, HAR.
    Text,
}

/// MIME types of the allowed attachment types, as the limits endpoint lists them.
pub const ALLOWED_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
];

impl AttachmentType {
    /// The type of a file from its first bytes; `None` when it is not an allowed type.
    /// Text is only a first guess here: the whole stream must pass [`Utf8Text`].
    pub fn sniff(head: &[u8]) -> Option<Self> {
        match infer::get(head).map(|t| t.mime_type()) {
            Some("image/png") => Some(Self::Png),
            Some("image/jpeg") => Some(Self::Jpeg),
            Some("image/gif") => Some(Self::Gif),
            Some("image/webp") => Some(Self::Webp),
            Some("application/pdf") => Some(Self::Pdf),
            // Markup and scripts a browser or shell would run are refused even as text.
            Some("text/html" | "text/xml" | "text/x-shellscript") => None,
            // Other signatures are refused, unless the head is text: two bytes such as `MZ` or
            // `BM` start executables and bitmaps, and log lines too; a real executable or
            // bitmap holds control bytes within its first kilobyte.
            Some(_) | None => {
                let mut check = Utf8Text::default();
                // The head may end inside a character; only the bytes seen must be valid so far.
                check.feed(head).ok().map(|()| Self::Text)
            }
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Pdf => "application/pdf",
            Self::Text => "text/plain; charset=utf-8",
        }
    }
}

/// Validates a byte stream as UTF-8 text chunk by chunk: no invalid sequence and no control
/// bytes beyond tab, line breaks, form feed and escape (coloured logs).
#[derive(Debug, Default)]
pub struct Utf8Text {
    carry: [u8; 4],
    carry_len: usize,
}

fn is_text_byte(b: u8) -> bool {
    b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0c | 0x1b)
}

fn sequence_len(first: u8) -> Option<usize> {
    match first {
        0xc2..=0xdf => Some(2),
        0xe0..=0xef => Some(3),
        0xf0..=0xf4 => Some(4),
        _ => None,
    }
}

impl Utf8Text {
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<(), ()> {
        if self.carry_len > 0 {
            let need = sequence_len(self.carry[0]).ok_or(())?;
            let take = (need - self.carry_len).min(chunk.len());
            self.carry[self.carry_len..self.carry_len + take].copy_from_slice(&chunk[..take]);
            self.carry_len += take;
            chunk = &chunk[take..];
            if self.carry_len < need {
                return Ok(());
            }
            std::str::from_utf8(&self.carry[..need]).map_err(|_| ())?;
            self.carry_len = 0;
        }
        if !chunk.iter().copied().all(is_text_byte) {
            return Err(());
        }
        match std::str::from_utf8(chunk) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let rest = &chunk[e.valid_up_to()..];
                self.carry[..rest.len()].copy_from_slice(rest);
                self.carry_len = rest.len();
                Ok(())
            }
            Err(_) => Err(()),
        }
    }

    /// The stream ended: a character cut in half is not text.
    pub fn finish(&self) -> Result<(), ()> {
        if self.carry_len == 0 { Ok(()) } else { Err(()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG_HEAD: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn types_by_content() {
        assert_eq!(AttachmentType::sniff(PNG_HEAD), Some(AttachmentType::Png));
        assert_eq!(
            AttachmentType::sniff(b"%PDF-1.7\n"),
            Some(AttachmentType::Pdf)
        );
        assert_eq!(
            AttachmentType::sniff(b"{\"log\": \"ok\"}\n"),
            Some(AttachmentType::Text)
        );
        assert_eq!(
            AttachmentType::sniff(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"),
            None
        );
        assert_eq!(AttachmentType::sniff(b"MZ\x90\0\x03\0\0\0"), None);
        assert_eq!(AttachmentType::sniff(b"abc\0def"), None);
    }

    #[test]
    fn utf8_split_across_chunks() {
        let text = "größe: 😀 ok".as_bytes();
        for split in 0..text.len() {
            let mut check = Utf8Text::default();
            check.feed(&text[..split]).unwrap();
            check.feed(&text[split..]).unwrap();
            check.finish().unwrap();
        }
        let mut cut = Utf8Text::default();
        cut.feed(&"😀".as_bytes()[..2]).unwrap();
        assert!(cut.finish().is_err());
        assert!(Utf8Text::default().feed(b"\xff\xfe").is_err());
    }
}
