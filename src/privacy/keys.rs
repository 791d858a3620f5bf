//! The two 32-byte keys behind contact sealing and the blind index.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// The sealing key and the blind-index key, and during a rotation the pair before them
/// (still able to open and find what `keys rotate` has not re-sealed yet). Never printed.
#[derive(Clone)]
pub struct ContactKeys {
    seal: [u8; 32],
    blind_index: [u8; 32],
    previous: Option<Box<ContactKeys>>,
}

impl std::fmt::Debug for ContactKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContactKeys(..)")
    }
}

fn decode_key(name: &str, value: &SecretString) -> anyhow::Result<[u8; 32]> {
    let bytes = STANDARD
        .decode(value.expose_secret().trim())
        .with_context(|| format!("{name} is not valid base64"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow::anyhow!("{name} must decode to exactly 32 bytes"))
}

impl ContactKeys {
    pub fn generate() -> Self {
        let mut seal = [0u8; 32];
        let mut blind_index = [0u8; 32];
        OsRng.fill_bytes(&mut seal);
        OsRng.fill_bytes(&mut blind_index);
        Self {
            seal,
            blind_index,
            previous: None,
        }
    }

    /// A pair from raw bytes, without a previous pair.
    pub fn from_bytes(seal: [u8; 32], blind_index: [u8; 32]) -> Self {
        Self {
            seal,
            blind_index,
            previous: None,
        }
    }

    /// Both keys from configuration, as base64 of 32 bytes each.
    pub fn from_config(seal: &SecretString, blind_index: &SecretString) -> anyhow::Result<Self> {
        Ok(Self {
            seal: decode_key("contact_key", seal)?,
            blind_index: decode_key("blind_index_key", blind_index)?,
            previous: None,
        })
    }

    /// These keys, with `previous` kept for what is still sealed or indexed under it.
    pub fn with_previous(mut self, previous: ContactKeys) -> Self {
        self.previous = Some(Box::new(ContactKeys {
            previous: None,
            ..previous
        }));
        self
    }

    pub fn previous(&self) -> Option<&ContactKeys> {
        self.previous.as_deref()
    }

    /// The key file's text: the current pair, and the previous one during a rotation.
    pub fn file_text(&self) -> String {
        let mut text = format!(
            "contact_key={}\nblind_index_key={}\n",
            STANDARD.encode(self.seal),
            STANDARD.encode(self.blind_index)
        );
        if let Some(previous) = &self.previous {
            text.push_str(&format!(
                "previous_contact_key={}\nprevious_blind_index_key={}\n",
                STANDARD.encode(previous.seal),
                STANDARD.encode(previous.blind_index)
            ));
        }
        text
    }

    /// Replaces the key file atomically (a private temporary file, synced, then renamed).
    pub fn write_file(&self, path: &Path) -> anyhow::Result<()> {
        let temporary = path.with_extension("key.new");
        let _ = std::fs::remove_file(&temporary);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&temporary)
            .with_context(|| format!("creating {}", temporary.display()))?;
        file.write_all(self.file_text().as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
            .with_context(|| format!("replacing key file {}", path.display()))?;
        Ok(())
    }

    /// Reads the key file, creating it (mode 0600) with fresh keys when it does not exist.
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse_file(&text)
                .with_context(|| format!("reading key file {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(e) => Err(e).with_context(|| format!("reading key file {}", path.display())),
        }
    }

    /// Writes new keys to a private temporary file, then links it in place only if no key file
    /// exists yet: several processes starting on one folder agree on whichever linked first,
    /// and none ever reads a file that is still being written.
    fn create(path: &Path) -> anyhow::Result<Self> {
        let keys = Self::generate();
        let temporary = path.with_extension(format!("new-{}", uuid::Uuid::new_v4().simple()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = options.open(&temporary).and_then(|mut file| {
            file.write_all(keys.file_text().as_bytes())?;
            file.sync_all()
        });
        let linked = written.and_then(|()| std::fs::hard_link(&temporary, path));
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => Ok(keys),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading key file {}", path.display()))?;
                Self::parse_file(&text)
                    .with_context(|| format!("reading key file {}", path.display()))
            }
            Err(e) => Err(e).with_context(|| format!("creating key file {}", path.display())),
        }
    }

    fn parse_file(text: &str) -> anyhow::Result<Self> {
        let value = |name: &str| -> Option<SecretString> {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix('='))
                .map(|v| SecretString::from(v.to_owned()))
        };
        let required = |name: &str| value(name).ok_or_else(|| anyhow::anyhow!("{name} missing"));
        let keys = Self::from_config(&required("contact_key")?, &required("blind_index_key")?)?;
        match (
            value("previous_contact_key"),
            value("previous_blind_index_key"),
        ) {
            (Some(seal), Some(blind)) => Ok(keys.with_previous(Self::from_config(&seal, &blind)?)),
            _ => Ok(keys),
        }
    }

    pub fn seal_key(&self) -> &[u8; 32] {
        &self.seal
    }

    pub fn blind_index_key(&self) -> &[u8; 32] {
        &self.blind_index
    }

    /// A short public fingerprint of the sealing key, stored with each ciphertext for rotation.
    pub fn key_id(&self) -> String {
        hex::encode(&Sha256::digest(self.seal)[..4])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_starting_together_agree_on_one_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contact.key");
        let keys: Vec<ContactKeys> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| ContactKeys::load_or_create(&path).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| k.seal_key() == keys[0].seal_key()));
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }

    #[test]
    fn key_file_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("contact.key");
        let first = ContactKeys::load_or_create(&path).unwrap();
        let again = ContactKeys::load_or_create(&path).unwrap();
        assert_eq!(first.seal_key(), again.seal_key());
        assert_eq!(first.blind_index_key(), again.blind_index_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
