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
pub mod digest;
mod fanout;
pub mod mail;
pub mod payload;
pub mod replies;
mod stored;
pub mod webhook;
pub mod worker;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use crate::config::notify::{NotifySettings, WebhookEndpoint, WebhookFormat};
/// The message types live in `domain::outbox`, below the store that writes them; they are
/// named here too, as the contract between the outbox and its channels.
pub use crate::domain::outbox::{Destination, Event, EventMessages, Message, NewMessage, Notifier};
pub use fanout::{Fanout, fan_out};

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
