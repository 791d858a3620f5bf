//! Which messages an event produces: a pure function of the event, the configuration and the
//! submission's kind, so that the store can write them inside the change's own transaction
//! without knowing anything about channels.

use uuid::Uuid;

use super::{Destination, Event, EventMessages, NewMessage, Notifier};
use crate::config::notify::NotifySettings;

/// The messages `event` about `submission` (of `kind`) produces. `payload` is what every
/// message carries (for `submission.updated`, the change); the submission itself is read when
/// the message is delivered, so the outbox never holds its text or contact details.
pub fn fan_out(
    event: Event,
    settings: &NotifySettings,
    submission: Uuid,
    kind: &str,
    payload: &serde_json::Value,
) -> Vec<NewMessage> {
    let mut messages: Vec<NewMessage> = settings
        .webhooks
        .iter()
        .filter(|endpoint| endpoint.wants(event, kind))
        .map(|endpoint| NewMessage {
            event,
            submission: Some(submission),
            destination: Destination::Webhook(endpoint.name.clone()),
            payload: payload.clone(),
        })
        .collect();
    // E-mail (staff subscribed at once, the submitter's acknowledgement) is added here:
    // one `Destination::Staff` or `Destination::Submitter` message per event that needs it.
    messages.extend(email_messages(event, settings, submission, kind, payload));
    messages
}

/// The e-mail destinations of an event; none yet (the e-mail channel fills this in).
fn email_messages(
    _event: Event,
    _settings: &NotifySettings,
    _submission: Uuid,
    _kind: &str,
    _payload: &serde_json::Value,
) -> Vec<NewMessage> {
    Vec::new()
}

/// An event for many submissions at once (a bulk triage change): the store calls
/// [`Fanout::messages`] for each submission it changes, with the kind it read while locking it.
#[derive(Debug, Clone, Copy)]
pub struct Fanout<'a> {
    pub event: Event,
    pub settings: &'a NotifySettings,
    pub payload: &'a serde_json::Value,
}

impl Notifier for NotifySettings {
    fn for_event<'a>(
        &'a self,
        event: Event,
        payload: &'a serde_json::Value,
    ) -> Box<dyn EventMessages + 'a> {
        Box::new(Fanout {
            event,
            settings: self,
            payload,
        })
    }
}

/// Settings under which nothing is sent, for [`Fanout::none`].
static SILENT: NotifySettings = NotifySettings {
    worker: false,
    poll_interval_ms: 0,
    concurrency: 0,
    delivery_timeout_ms: 0,
    retry_limit: 0,
    backoff_base_ms: 0,
    backoff_cap_ms: 0,
    webhooks: Vec::new(),
};
static EMPTY: serde_json::Value = serde_json::Value::Null;

impl Fanout<'static> {
    /// A change that tells no one (tools, tests).
    pub fn none(event: Event) -> Self {
        Fanout {
            event,
            settings: &SILENT,
            payload: &EMPTY,
        }
    }
}

impl EventMessages for Fanout<'_> {
    fn messages(&self, submission: Uuid, kind: &str) -> Vec<NewMessage> {
        fan_out(self.event, self.settings, submission, kind, self.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::notify::{WebhookEndpoint, WebhookFormat};

    fn endpoint(name: &str, events: Vec<Event>, kinds: Vec<&str>) -> WebhookEndpoint {
        WebhookEndpoint {
            name: name.into(),
            url: "http://127.0.0.1:1/".to_owned().into(),
            secret: None,
            events,
            kinds: kinds.into_iter().map(str::to_owned).collect(),
            include_message: false,
            format: WebhookFormat::Standard,
        }
    }

    #[test]
    fn one_message_per_matching_endpoint() {
        let settings = NotifySettings {
            webhooks: vec![
                endpoint("all", vec![], vec![]),
                endpoint("bugs", vec![], vec!["bug"]),
                endpoint("new", vec![Event::SubmissionCreated], vec![]),
            ],
            ..NotifySettings::default()
        };
        let id = Uuid::new_v4();
        let names = |event, kind| -> Vec<String> {
            fan_out(event, &settings, id, kind, &serde_json::json!({}))
                .into_iter()
                .map(|m| {
                    assert_eq!(m.submission, Some(id));
                    assert_eq!(m.event, event);
                    m.destination.to_column()
                })
                .collect()
        };
        assert_eq!(
            names(Event::SubmissionCreated, "bug"),
            ["webhook:all", "webhook:bugs", "webhook:new"]
        );
        assert_eq!(names(Event::SubmissionUpdated, "feedback"), ["webhook:all"]);
        assert_eq!(names(Event::Digest, "bug"), Vec::<String>::new());
        assert!(
            fan_out(
                Event::SubmissionCreated,
                &NotifySettings::default(),
                id,
                "bug",
                &serde_json::json!({})
            )
            .is_empty()
        );
    }
}
