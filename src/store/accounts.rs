//! The staff accounts trait group: users, sessions and API tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{SessionRecord, StaffRecord, StoreError, TokenRecord};
use crate::domain::Role;

/// Staff accounts, sessions and API tokens (secrets are stored as hashes only).
#[async_trait]
pub trait StaffStore {
    async fn count_staff(&self) -> Result<i64, StoreError>;
    async fn insert_staff(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<(), StoreError>;
    async fn staff(&self, name: &str) -> Result<Option<StaffRecord>, StoreError>;
    /// Replaces a password hash and ends the user's sessions; false if there is no such user.
    async fn set_password(&self, name: &str, password_hash: &str) -> Result<bool, StoreError>;
    async fn insert_session(
        &self,
        token_hash: &str,
        user_name: &str,
        csrf_token: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRecord>, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    async fn insert_token(
        &self,
        name: &str,
        role: Role,
        token_hash: &str,
    ) -> Result<(), StoreError>;
    /// The token's name and role, unless it is unknown or revoked.
    async fn token(&self, token_hash: &str) -> Result<Option<(String, Role)>, StoreError>;
    async fn revoke_token(&self, name: &str) -> Result<bool, StoreError>;
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;
}
