//! Contact details at rest: sealed with an AEAD the moment they are parsed, and findable only
//! through a keyed blind index of the normalised e-mail address.
//!
//! Owns the keys: from configuration, or (embedded default) from a key file created with mode
//! 0600 on first run; and, in [`requests`], a person's review and removal requests and retention.

mod export;
pub mod export_zip;
pub mod files;
mod keys;
pub use crate::domain::redact;
pub mod requests;
pub mod rotation;
pub mod withdraw;

pub use keys::ContactKeys;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

use crate::domain::Contact;

const NONCE_LEN: usize = 24;

/// Contact details as stored: ciphertext (nonce first) and the blind index of the address.
#[derive(Debug, Clone)]
pub struct SealedContact {
    pub blind_index: Option<String>,
    pub sealed: Vec<u8>,
    pub key_id: String,
}

/// The plaintext inside a sealed contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OpenedContact {
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("contact details cannot be opened with the configured key")]
pub struct OpenError;

/// Seals, opens and indexes contact details with the service's keys.
pub struct ContactVault {
    cipher: XChaCha20Poly1305,
    blind_key: [u8; 32],
    key_id: String,
    /// During a key rotation: the keys before, to open and find what is not re-sealed yet.
    previous: Option<Box<ContactVault>>,
}

impl std::fmt::Debug for ContactVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContactVault")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl ContactVault {
    pub fn new(keys: &ContactKeys) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(keys.seal_key().into()),
            blind_key: *keys.blind_index_key(),
            key_id: keys.key_id(),
            previous: keys.previous().map(|p| Box::new(Self::new(p))),
        }
    }

    /// The id of the key new contacts are sealed with.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Encrypts the contact, bound to its submission id so a ciphertext cannot be moved.
    pub fn seal(&self, submission_id: Uuid, contact: &Contact) -> SealedContact {
        let plain = OpenedContact {
            name: contact.name.as_ref().map(|n| n.as_str().to_owned()),
            email: contact.email.as_ref().map(|e| e.as_str().to_owned()),
        };
        self.seal_opened(submission_id, &plain)
    }

    /// Seals already opened details under the current keys (key rotation).
    pub fn seal_opened(&self, submission_id: Uuid, plain: &OpenedContact) -> SealedContact {
        let msg = serde_json::to_vec(&plain).expect("contact serialises");
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &msg,
                    aad: submission_id.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption cannot fail for in-memory input");
        let mut sealed = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        SealedContact {
            blind_index: plain
                .email
                .as_deref()
                .map(|e| self.blind_index(&crate::domain::fields::normalize_email(e))),
            sealed,
            key_id: self.key_id.clone(),
        }
    }

    /// Opens with the current keys, else (during a rotation) with the previous ones.
    pub fn open(&self, submission_id: Uuid, sealed: &[u8]) -> Result<OpenedContact, OpenError> {
        match (
            self.open_with_current(submission_id, sealed),
            &self.previous,
        ) {
            (Err(_), Some(previous)) => previous.open(submission_id, sealed),
            (opened, _) => opened,
        }
    }

    fn open_with_current(
        &self,
        submission_id: Uuid,
        sealed: &[u8],
    ) -> Result<OpenedContact, OpenError> {
        if sealed.len() < NONCE_LEN {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: submission_id.as_bytes(),
                },
            )
            .map_err(|_| OpenError)?;
        serde_json::from_slice(&plain).map_err(|_| OpenError)
    }

    /// The submitter's withdrawal token for a submission: an HMAC of its id under the
    /// blind-index key (domain-separated), hex encoded. Derived, so nothing is stored.
    pub fn withdraw_token(&self, submission_id: Uuid) -> String {
        hex::encode(self.withdraw_mac(submission_id).finalize().into_bytes())
    }

    /// Whether `token` is the withdrawal token of `submission_id` (constant-time), under the
    /// current keys or, during a rotation, the previous ones.
    pub fn withdraw_token_matches(&self, submission_id: Uuid, token: &str) -> bool {
        let current = match hex::decode(token.trim()) {
            Ok(bytes) => self
                .withdraw_mac(submission_id)
                .verify_slice(&bytes)
                .is_ok(),
            Err(_) => false,
        };
        current
            || self
                .previous
                .as_ref()
                .is_some_and(|p| p.withdraw_token_matches(submission_id, token))
    }

    /// The blind indexes an address may be stored under: the current key's, and during a
    /// rotation the previous key's.
    pub fn blind_indexes(&self, normalized_email: &str) -> Vec<String> {
        let mut indexes = vec![self.blind_index(normalized_email)];
        if let Some(previous) = &self.previous {
            indexes.extend(previous.blind_indexes(normalized_email));
        }
        indexes
    }

    fn withdraw_mac(&self, submission_id: Uuid) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.blind_key).expect("any key length");
        mac.update(b"feedbackd withdraw token\0");
        mac.update(submission_id.as_bytes());
        mac
    }

    /// HMAC-SHA-256 of an already normalised address, hex encoded.
    pub fn blind_index(&self, normalized_email: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.blind_key).expect("any key length");
        mac.update(normalized_email.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactEmail, ContactName};

    #[test]
    fn seal_open_roundtrip_and_binding() {
        let vault = ContactVault::new(&ContactKeys::generate());
        let contact = Contact {
            name: ContactName::parse("Ann").unwrap(),
            email: ContactEmail::parse("Ann@Example.org").unwrap(),
        };
        let id = Uuid::now_v7();
        let sealed = vault.seal(id, &contact);
        assert!(!String::from_utf8_lossy(&sealed.sealed).contains("Example"));
        let opened = vault.open(id, &sealed.sealed).unwrap();
        assert_eq!(opened.email.as_deref(), Some("Ann@Example.org"));
        assert!(
            vault.open(Uuid::now_v7(), &sealed.sealed).is_err(),
            "bound to its id"
        );
        assert_eq!(
            sealed.blind_index,
            Some(vault.blind_index("ann@example.org"))
        );
    }

    #[test]
    fn the_previous_keys_open_find_and_verify_during_a_rotation() {
        let old = ContactKeys::generate();
        let old_vault = ContactVault::new(&old);
        let id = Uuid::now_v7();
        let contact = Contact {
            name: None,
            email: ContactEmail::parse("pat@example.org").unwrap(),
        };
        let sealed = old_vault.seal(id, &contact);
        let token = old_vault.withdraw_token(id);

        let rotating = ContactVault::new(&ContactKeys::generate().with_previous(old.clone()));
        assert_ne!(rotating.key_id(), old_vault.key_id());
        assert_eq!(
            rotating.open(id, &sealed.sealed).unwrap().email.as_deref(),
            Some("pat@example.org")
        );
        let indexes = rotating.blind_indexes("pat@example.org");
        assert_eq!(indexes.len(), 2);
        assert_eq!(Some(&indexes[1]), sealed.blind_index.as_ref());
        assert!(rotating.withdraw_token_matches(id, &token));
        let resealed = rotating.seal_opened(id, &rotating.open(id, &sealed.sealed).unwrap());
        assert_eq!(resealed.key_id, rotating.key_id());
        assert_eq!(resealed.blind_index.as_ref(), Some(&indexes[0]));

        let done = ContactVault::new(&ContactKeys::generate());
        assert!(
            done.open(id, &sealed.sealed).is_err(),
            "without the old keys: unreadable"
        );
        assert!(!done.withdraw_token_matches(id, &token));
    }
}
