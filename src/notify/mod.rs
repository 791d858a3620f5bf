//! Notifications: telling people that something happened, through a durable outbox.
//!
//! A change (a submission stored, a triage change, a withdrawal, a reply) writes its messages
//! to the `outbox` table in the same transaction as the change itself, so a message exists if
//! and only if the change does. A worker drains the outbox and hands each message to the
//! [`Channel`] for its [`Destination`] (webhooks, e-mail); delivery is at least once, with
//! backoff, and a message that keeps failing is kept as dead for an admin to retry or discard.
//!
//! This file is the contract between the outbox and the channels: what a message is, where it
//! goes, and how a channel says that delivery failed.

pub mod admin;
mod fanout;
pub mod payload;
pub mod settings;
pub mod webhook;
pub mod worker;

use std::fmt;
use std::time::Duration;

pub use fanout::{Fanout, fan_out};
pub use settings::{NotifySettings, WebhookEndpoint, WebhookFormat};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Something that happened and may be worth telling someone about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    /// A submission was stored.
    #[serde(rename = "submission.created")]
    SubmissionCreated,
    /// Its triage state changed (status, labels, assignee, duplicate of).
    #[serde(rename = "submission.updated")]
    SubmissionUpdated,
    /// The submitter withdrew it.
    #[serde(rename = "submission.withdrawn")]
    SubmissionWithdrawn,
    /// A staff member wrote to the submitter about it.
    #[serde(rename = "reply.created")]
    ReplyCreated,
    /// The submitter is told that the feedback arrived (operator-enabled).
    #[serde(rename = "acknowledgement")]
    Acknowledgement,
    /// A staff member's daily digest is due.
    #[serde(rename = "digest")]
    Digest,
}

impl Event {
    pub const ALL: [Event; 6] = [
        Event::SubmissionCreated,
        Event::SubmissionUpdated,
        Event::SubmissionWithdrawn,
        Event::ReplyCreated,
        Event::Acknowledgement,
        Event::Digest,
    ];

    /// The name stored in `outbox.event` and sent in webhook payloads.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::SubmissionCreated => "submission.created",
            Event::SubmissionUpdated => "submission.updated",
            Event::SubmissionWithdrawn => "submission.withdrawn",
            Event::ReplyCreated => "reply.created",
            Event::Acknowledgement => "acknowledgement",
            Event::Digest => "digest",
        }
    }

    pub fn parse(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|event| event.as_str() == name)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a message goes; stored in `outbox.destination` as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A configured webhook endpoint, by its name in the configuration (`webhook:<name>`).
    Webhook(String),
    /// Every staff member subscribed at once to the submission's kind (`staff`), resolved when
    /// the message is delivered, so a subscription change applies to messages not yet sent.
    Staff,
    /// One staff member's daily digest (`digest:<user>`).
    StaffDigest(String),
    /// The submitter, at the address sealed with the submission (`submitter`); opened only
    /// when the message is delivered, so the outbox never holds it.
    Submitter,
}

impl Destination {
    pub fn to_column(&self) -> String {
        match self {
            Destination::Webhook(name) => format!("webhook:{name}"),
            Destination::Staff => "staff".to_owned(),
            Destination::StaffDigest(user) => format!("digest:{user}"),
            Destination::Submitter => "submitter".to_owned(),
        }
    }

    pub fn parse(column: &str) -> Option<Destination> {
        match column {
            "staff" => Some(Destination::Staff),
            "submitter" => Some(Destination::Submitter),
            _ => {
                if let Some(name) = column.strip_prefix("webhook:") {
                    Some(Destination::Webhook(name.to_owned()))
                } else {
                    column
                        .strip_prefix("digest:")
                        .map(|user| Destination::StaffDigest(user.to_owned()))
                }
            }
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_column())
    }
}

/// A message to write to the outbox, inside the transaction of the change that causes it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub event: Event,
    pub submission: Option<Uuid>,
    pub destination: Destination,
    /// What the channel needs to build the message; never contact details.
    pub payload: serde_json::Value,
}

/// A message read back from the outbox for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: i64,
    pub event: Event,
    pub submission: Option<Uuid>,
    pub destination: Destination,
    pub payload: serde_json::Value,
    /// Delivery attempts before this one.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
}

/// Why a delivery failed. The text is stored in `outbox.last_error` and shown to admins, so
/// it must never hold contact details or message text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Worth trying again later (a receiver down, a timeout, a 5xx, a 4xx SMTP reply).
    #[error("{0}")]
    Retry(String),
    /// Will fail the same way every time (the contact details were erased, an endpoint removed
    /// from the configuration): the message is dead at once.
    #[error("{0}")]
    Permanent(String),
    /// Worth trying again, but not before the wait the receiver asked for (`Retry-After`).
    #[error("{0}")]
    RetryAfter(String, Duration),
}

/// Delivers messages for some destinations.
#[async_trait]
pub trait Channel: Send + Sync + fmt::Debug {
    /// Whether this channel delivers messages for `destination`.
    fn handles(&self, destination: &Destination) -> bool;

    /// Delivers one message; `Ok` means the receiver has it.
    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(event));
            let json = serde_json::to_string(&event).unwrap();
            assert_eq!(json, format!("\"{}\"", event.as_str()));
        }
        for destination in [
            Destination::Webhook("tracker".into()),
            Destination::Staff,
            Destination::StaffDigest("ana".into()),
            Destination::Submitter,
        ] {
            assert_eq!(
                Destination::parse(&destination.to_column()),
                Some(destination)
            );
        }
        assert_eq!(Destination::parse("elsewhere"), None);
        assert_eq!(Event::parse("submission.deleted"), None);
    }
}
