//! [`Submission::content_sha256`]: the digest that tells a retry of the same submission from a
//! new one.

use super::{ContactEmail, ContactName, Submission, Summary};

impl Submission {
    /// SHA-256 over what the person sent: every field as parsed (so the same content sent
    /// again digests the same) and each attachment's content hash and display name, in order.
    /// Spam signals and the environment derived from headers are left out: a retry may differ
    /// there and is still the same submission.
    pub fn content_sha256<'a>(
        &self,
        attachments: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        let mut field = |name: &str, value: Option<&str>| {
            // Length-prefixed, so no two different forms can produce the same byte stream.
            for part in [name, value.unwrap_or("\u{0}absent")] {
                hasher.update((part.len() as u64).to_be_bytes());
                hasher.update(part.as_bytes());
            }
        };
        let env = &self.environment;
        let rating = self.rating.map(|r| r.get().to_string());
        let screen = format!("{}x{}", env.screen.width, env.screen.height);
        field("kind", Some(self.kind.as_str()));
        field("summary", self.summary.as_ref().map(Summary::as_str));
        field("message", Some(self.message.as_str()));
        field("rating", rating.as_deref());
        field("webapp_version", Some(env.webapp_version.as_str()));
        field("server_version", Some(env.server_version.as_str()));
        field("screen_resolution", Some(&screen));
        field("url", Some(env.page_url.as_str()));
        field("button", Some(self.button.as_str()));
        let contact = self.contact.as_ref();
        field(
            "contact_name",
            contact
                .and_then(|c| c.name.as_ref())
                .map(ContactName::as_str),
        );
        field(
            "contact_email",
            contact
                .and_then(|c| c.email.as_ref())
                .map(ContactEmail::as_str),
        );
        for (sha256, filename) in attachments {
            field("attachment", Some(sha256));
            field("filename", Some(filename));
        }
        hex::encode(hasher.finalize())
    }
}
