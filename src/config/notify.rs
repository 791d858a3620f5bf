//! The `[notify]` section of the configuration: how the outbox worker paces itself, and the
//! webhook endpoints (read by `notify`; here, below it, like the rest of the settings).

use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::ExposeSecret;

use crate::domain::outbox::Event;

/// How a webhook endpoint's body is shaped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// `{"type", "timestamp", "data"}`, signed as Standard Webhooks.
    #[default]
    Standard,
    /// `{"text": "…"}`, what a Slack (or Mattermost, Rocket.Chat) incoming webhook takes.
    Slack,
}

/// One configured receiver of webhooks (TOML `[[notify.webhooks]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpoint {
    /// Names the endpoint in the outbox (`webhook:<name>`), the metrics and the admin view;
    /// renaming an endpoint leaves its undelivered messages to die as "no such endpoint".
    pub name: String,
    pub url: SecretString,
    /// Standard Webhooks secret, `whsec_<base64>`; required for the standard format.
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// Events sent to this endpoint; empty: every submission event.
    #[serde(default)]
    pub events: Vec<Event>,
    /// Kinds of submission sent to this endpoint; empty: every kind.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Send the summary, message and attachment names too (off: only the anonymous facts).
    #[serde(default)]
    pub include_message: bool,
    #[serde(default)]
    pub format: WebhookFormat,
}

impl WebhookEndpoint {
    /// Whether this endpoint hears about `event` for a submission of `kind`.
    pub fn wants(&self, event: Event, kind: &str) -> bool {
        let event_ok = if self.events.is_empty() {
            WEBHOOK_EVENTS.contains(&event)
        } else {
            self.events.contains(&event)
        };
        event_ok && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
    }
}

/// The events a webhook can carry.
pub const WEBHOOK_EVENTS: [Event; 3] = [
    Event::SubmissionCreated,
    Event::SubmissionUpdated,
    Event::SubmissionWithdrawn,
];

/// The outbox worker's pace and the webhook endpoints.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Run the worker in this process (off: this replica only writes messages).
    pub worker: bool,
    /// How often the worker looks for due messages when it was not woken.
    pub poll_interval_ms: u64,
    /// Deliveries in flight at once (also the most messages one replica claims at a time).
    pub concurrency: usize,
    /// Longest one delivery may take, connecting included.
    pub delivery_timeout_ms: u64,
    /// Attempts before a message is dead.
    pub retry_limit: u32,
    /// The first retry waits about this long; each next one twice as long …
    pub backoff_base_ms: u64,
    /// … up to this.
    pub backoff_cap_ms: u64,
    pub webhooks: Vec<WebhookEndpoint>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            worker: true,
            poll_interval_ms: 1_000,
            concurrency: 8,
            delivery_timeout_ms: 10_000,
            retry_limit: 15,
            backoff_base_ms: 5_000,
            backoff_cap_ms: 3_600_000,
            webhooks: Vec::new(),
        }
    }
}

impl NotifySettings {
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(10))
    }

    pub fn delivery_timeout(&self) -> Duration {
        Duration::from_millis(self.delivery_timeout_ms.max(100))
    }

    /// How long a claim lasts: a batch's deliveries run at once, each within the timeout, so
    /// twice the timeout and a second leave room for the bookkeeping. A worker that dies
    /// holding claims delays those messages this long.
    pub fn claim_time(&self) -> Duration {
        self.delivery_timeout() * 2 + Duration::from_secs(1)
    }

    /// Checks what deserialising cannot: unique names, secrets where the format signs.
    pub fn validate(&self) -> anyhow::Result<()> {
        let mut names = std::collections::HashSet::new();
        for endpoint in &self.webhooks {
            anyhow::ensure!(
                !endpoint.name.is_empty()
                    && endpoint
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "webhook names are letters, digits, '-' and '_': {:?}",
                endpoint.name
            );
            anyhow::ensure!(
                names.insert(endpoint.name.as_str()),
                "two webhooks are named {:?}",
                endpoint.name
            );
            for event in &endpoint.events {
                anyhow::ensure!(
                    WEBHOOK_EVENTS.contains(event),
                    "webhook {:?}: {event} is not a webhook event",
                    endpoint.name
                );
            }
            if endpoint.format == WebhookFormat::Standard {
                let secret = endpoint.secret.as_ref().ok_or_else(|| {
                    anyhow::anyhow!("webhook {:?} needs a secret (whsec_…)", endpoint.name)
                })?;
                secret_bytes(secret)
                    .map_err(|e| anyhow::anyhow!("webhook {:?}: {e}", endpoint.name))?;
            }
        }
        anyhow::ensure!(
            self.concurrency > 0,
            "notify.concurrency must be at least 1"
        );
        anyhow::ensure!(
            self.retry_limit > 0,
            "notify.retry_limit must be at least 1"
        );
        Ok(())
    }
}

/// The key bytes of a `whsec_<base64>` secret.
pub fn secret_bytes(secret: &SecretString) -> Result<Vec<u8>, String> {
    let text = secret.expose_secret();
    let encoded = text.strip_prefix("whsec_").unwrap_or(text);
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| "the secret is not whsec_<base64>".to_owned())?;
    if bytes.len() < 16 {
        return Err("the secret is shorter than 16 bytes".to_owned());
    }
    Ok(bytes)
}
