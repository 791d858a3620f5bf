//! What an outbox message is: the event, where it goes, and what the channel needs. These are
//! the types of the contract in `notify`, kept here, below the store, because the store writes
//! and reads them inside the transactions of the changes that cause them.

use std::fmt;

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

/// The messages an event produces for one submission of a kind: `notify::Fanout` (from the
/// configuration), handed to the store so that a change that touches many submissions (a bulk
/// triage change) writes each one's messages in its own transaction.
pub trait EventMessages: Send + Sync + fmt::Debug {
    fn messages(&self, submission: Uuid, kind: &str) -> Vec<NewMessage>;
}

/// Who hears about events: the configuration's routing (`notify` implements it for the
/// `[notify]` settings), handed to services that change submissions without knowing channels.
pub trait Notifier: Send + Sync + fmt::Debug {
    /// The messages `event`, carrying `payload`, produces for each submission it concerns.
    fn for_event<'a>(
        &'a self,
        event: Event,
        payload: &'a serde_json::Value,
    ) -> Box<dyn EventMessages + 'a>;
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
