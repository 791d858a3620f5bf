//! Staff identity: accounts with argon2id password hashes, server-side sessions, API tokens
//! (stored as SHA-256 hashes: they are long random secrets), and logins behind [`LoginGuard`].

pub mod login;

use std::net::IpAddr;

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use sha2::{Digest, Sha256};

use crate::domain::{Role, parse_staff_name};
use crate::store::{Store, StoreError};
pub use login::{LoginGuard, Refusal};

/// Shortest password accepted for a staff account.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Prefix of API tokens, so a leaked one is recognisable in a secret scanner.
const TOKEN_PREFIX: &str = "fbd_";

/// Who is making a staff request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub name: String,
    pub role: Role,
    /// How the request authenticated; a session carries its CSRF token.
    pub via: Via,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Session { csrf_token: String },
    Token,
}

impl Staff {
    /// How the audit log names this actor.
    pub fn actor(&self) -> String {
        match self.via {
            Via::Session { .. } => format!("user:{}", self.name),
            Via::Token => format!("token:{}", self.name),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("invalid staff name: 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    InvalidName,
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    WeakPassword,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("hashing the password failed")]
    Hash,
}

/// A random secret of 32 bytes, URL-safe.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a session or API token, as stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub fn hash_password(password: &str) -> Result<String, StaffError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| StaffError::Hash)
}

pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Creates a staff account.
pub async fn add_user(
    store: &dyn Store,
    name: &str,
    role: Role,
    password: &str,
) -> Result<(), StaffError> {
    let name = parse_staff_name(name).ok_or(StaffError::InvalidName)?;
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::WeakPassword);
    }
    let hash = hash_password(password)?;
    store.insert_staff(&name, role, &hash).await?;
    Ok(())
}

/// Sets a new password (and ends the user's sessions); false if there is no such user.
pub async fn set_password(
    store: &dyn Store,
    name: &str,
    password: &str,
) -> Result<bool, StaffError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(StaffError::WeakPassword);
    }
    Ok(store
        .set_password(name.trim(), &hash_password(password)?)
        .await?)
}

/// On a fresh install, creates `admin` with a random password and returns that password once.
pub async fn ensure_first_admin(store: &dyn Store) -> Result<Option<String>, StaffError> {
    if store.count_staff().await? > 0 {
        return Ok(None);
    }
    let password = random_secret();
    match add_user(store, "admin", Role::Admin, &password).await {
        Ok(()) => Ok(Some(password)),
        // Another replica created it first.
        Err(StaffError::Store(StoreError::Conflict(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Creates an API token and returns it; only its hash is stored.
pub async fn create_token(store: &dyn Store, name: &str, role: Role) -> Result<String, StaffError> {
    let name = parse_staff_name(name).ok_or(StaffError::InvalidName)?;
    let token = format!("{TOKEN_PREFIX}{}", random_secret());
    store
        .insert_token(&name, role, &hash_secret(&token))
        .await?;
    Ok(token)
}

/// The staff member a bearer token names, unless it is unknown or revoked.
pub async fn by_token(store: &dyn Store, token: &str) -> Result<Option<Staff>, StoreError> {
    Ok(store
        .token(&hash_secret(token))
        .await?
        .map(|(name, role)| Staff {
            name,
            role,
            via: Via::Token,
        }))
}

/// The staff member a session cookie names, unless it is unknown or expired.
pub async fn by_session(store: &dyn Store, session: &str) -> Result<Option<Staff>, StoreError> {
    Ok(store
        .session(&hash_secret(session), Utc::now())
        .await?
        .map(|s| Staff {
            name: s.user_name,
            role: s.role,
            via: Via::Session {
                csrf_token: s.csrf_token,
            },
        }))
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum Login {
    /// The secret of the new session, for the cookie.
    Session(String),
    /// Wrong name or password (or a name that cannot exist).
    Wrong,
    /// Refused before the password was checked.
    Refused(Refusal),
}

/// Checks a password behind the [`LoginGuard`] and opens a session.
pub async fn log_in(
    store: &dyn Store,
    guard: &LoginGuard,
    client: IpAddr,
    name: &str,
    password: &str,
    lifetime: Duration,
) -> Result<Login, StoreError> {
    if let Err(refusal) = guard.admit_client(client) {
        return Ok(Login::Refused(refusal));
    }
    let Some(name) = parse_staff_name(name) else {
        return Ok(Login::Wrong);
    };
    if let Err(refusal) = guard.admit_name(&name) {
        return Ok(Login::Refused(refusal));
    }
    let user = store.staff(&name).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    match guard.verify(hash, password).await {
        Err(refusal) => return Ok(Login::Refused(refusal)),
        Ok(false) => {
            guard.failed(&name);
            return Ok(Login::Wrong);
        }
        Ok(true) => {}
    }
    let Some(user) = user else {
        return Ok(Login::Wrong);
    };
    let session = random_secret();
    store
        .insert_session(
            &hash_secret(&session),
            &user.name,
            &random_secret(),
            Utc::now() + lifetime,
        )
        .await?;
    Ok(Login::Session(session))
}

static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("not a real password").unwrap_or_default());

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "wrong"));
    }
}
