//! The feedback terms the widget shows and every submission accepts.

use sha2::{Digest, Sha256};

/// The project's own wording of the feedback terms, used unless the operator configures another.
pub const DEFAULT_TERMS_TEXT: &str = "\
By clicking Submit or Send you send this feedback to the team that builds this WebApp, \
under these terms:
1. Your feedback and its attachments are stored, analysed and handled to improve the product.
2. Your feedback is never made public.
3. Your name and e-mail address are optional; if you give them, they are used only to \
communicate with you about this feedback.
4. With your feedback we record exactly this about your environment: the WebApp version, \
the server version, your browser's brand and version, your screen resolution and the URL \
you use the WebApp from. Nothing else about your device is stored: not your IP address, \
not your operating system.
5. Clicking Submit or Send means you accept these terms; we keep a record of which terms you \
accepted, from which form and when.
6. You can ask the webmaster by e-mail to show you the data we hold about you, or to remove it.";

/// The default version label of [`DEFAULT_TERMS_TEXT`].
pub const DEFAULT_TERMS_VERSION: &str = "2026-11-01";

/// A terms text with its version and digest.
#[derive(Debug, Clone)]
pub struct Terms {
    pub version: String,
    pub text: String,
    pub sha256: String,
}

impl Terms {
    pub fn new(version: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let sha256 = hex::encode(Sha256::digest(text.as_bytes()));
        Self {
            version: version.into(),
            text,
            sha256,
        }
    }
}

impl Default for Terms {
    fn default() -> Self {
        Self::new(DEFAULT_TERMS_VERSION, DEFAULT_TERMS_TEXT)
    }
}
