//! What e-mail needs from the database: replies to submitters (stored with their outbox message
//! and audit entry in one transaction), staff addresses and subscriptions, and the daily
//! digest's bookmark. A trait of its own so the mail code stays apart from the outbox engine's.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{AuditEntry, StoreError};

/// A message to write to the outbox, as the store sees it: the columns of `outbox`. (The store
/// sits below `notify`, whose `NewMessage` converts into this.)
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// `outbox.event`, e.g. `reply.created`.
    pub event: String,
    pub submission: Option<Uuid>,
    /// `outbox.destination`, e.g. `submitter` or `digest:ana`.
    pub destination: String,
    /// Never contact details.
    pub payload: serde_json::Value,
}

/// Makes the digest message of one staff member for the period `(since, until]`.
pub type DigestMessage = dyn Fn(&str, DateTime<Utc>, DateTime<Utc>) -> OutboxEntry + Send + Sync;

/// The kinds of submission, in the order pages list them.
pub const KINDS: [&str; 3] = ["bug", "feature", "feedback"];

/// One reply to a submitter, as kept with the submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRow {
    pub id: Uuid,
    pub submission_id: Uuid,
    /// The staff member or API token that wrote it (its name).
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// What [`MailStore::insert_reply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyOutcome {
    Stored,
    /// No such submission: nothing stored.
    NotFound,
    /// The submission has no address to write to (none given, or erased): nothing stored.
    NoContact,
}

/// How a staff member hears about one kind of submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubscriptionMode {
    #[default]
    Off,
    AtOnce,
    Digest,
}

impl SubscriptionMode {
    pub const ALL: [SubscriptionMode; 3] = [Self::Off, Self::AtOnce, Self::Digest];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::AtOnce => "at_once",
            Self::Digest => "digest",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == raw)
    }
}

/// A staff member's e-mail settings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailPreferences {
    pub email: Option<String>,
    /// `(kind, mode)` for the kinds not off.
    pub subscriptions: Vec<(String, SubscriptionMode)>,
}

impl MailPreferences {
    pub fn mode(&self, kind: &str) -> SubscriptionMode {
        self.subscriptions
            .iter()
            .find(|(k, _)| k == kind)
            .map_or(SubscriptionMode::Off, |(_, m)| *m)
    }

    pub fn kinds(&self, mode: SubscriptionMode) -> Vec<String> {
        self.subscriptions
            .iter()
            .filter(|(_, m)| *m == mode)
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// One line of a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestItem {
    pub id: Uuid,
    pub received_at: DateTime<Utc>,
    pub kind: String,
    pub summary: Option<String>,
    /// The first characters of the message.
    pub excerpt: String,
}

/// Characters of the message a digest line shows (when there is no summary).
pub const DIGEST_EXCERPT_CHARS: usize = 200;

#[async_trait]
pub trait MailStore {
    /// Stores `reply`, its outbox `message` and its `audit` entry in one transaction, unless
    /// the submission does not exist or has no address to write to.
    async fn insert_reply(
        &self,
        reply: &ReplyRow,
        message: &OutboxEntry,
        audit: &AuditEntry,
    ) -> Result<ReplyOutcome, StoreError>;
    /// The replies to a submission, oldest first.
    async fn replies(&self, submission: Uuid) -> Result<Vec<ReplyRow>, StoreError>;
    async fn reply(&self, id: Uuid) -> Result<Option<ReplyRow>, StoreError>;
    /// A staff member's address and subscriptions (empty for an unknown name).
    async fn mail_preferences(&self, user: &str) -> Result<MailPreferences, StoreError>;
    /// Replaces them; false if there is no such staff member.
    async fn set_mail_preferences(
        &self,
        user: &str,
        preferences: &MailPreferences,
    ) -> Result<bool, StoreError>;
    /// `(name, address)` of the staff with an address subscribed to `kind` with `mode`.
    async fn subscribers(
        &self,
        kind: &str,
        mode: SubscriptionMode,
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// For each staff member with an address and a digest subscription whose last digest was
    /// queued before `due`: queues the digest message `message(user, since, now)` covering
    /// `(last digest, now]` (since the day before `due` for a first one) and records `now` as
    /// the last digest, in one transaction. Returns how many were queued.
    async fn queue_digests(
        &self,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
        message: &DigestMessage,
    ) -> Result<u64, StoreError>;
    /// Submissions of `kinds` received in `(since, until]`, not spam, oldest first, at most
    /// `limit`; and how many there are in all.
    async fn digest_items(
        &self,
        kinds: &[String],
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<(Vec<DigestItem>, i64), StoreError>;
}

/// The first `DIGEST_EXCERPT_CHARS` characters of a message.
pub fn excerpt(message: &str) -> String {
    let mut text: String = message.chars().take(DIGEST_EXCERPT_CHARS).collect();
    if message.chars().count() > DIGEST_EXCERPT_CHARS {
        text.push('…');
    }
    text
}
