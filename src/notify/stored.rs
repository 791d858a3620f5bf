//! A [`NewMessage`] as the store writes it: the store sits below `notify` and knows the outbox
//! only as its columns ([`OutboxEntry`]).

use super::NewMessage;
use crate::store::mail::OutboxEntry;

impl From<&NewMessage> for OutboxEntry {
    fn from(message: &NewMessage) -> Self {
        Self {
            event: message.event.as_str().to_owned(),
            submission: message.submission,
            destination: message.destination.to_column(),
            payload: message.payload.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{Destination, Event};

    #[test]
    fn the_columns_are_the_contracts_names() {
        let id = uuid::Uuid::now_v7();
        let entry = OutboxEntry::from(&NewMessage {
            event: Event::Digest,
            submission: Some(id),
            destination: Destination::StaffDigest("ana".into()),
            payload: serde_json::json!({"a": 1}),
        });
        assert_eq!(entry.event, "digest");
        assert_eq!(entry.destination, "digest:ana");
        assert_eq!(entry.submission, Some(id));
        assert_eq!(entry.payload, serde_json::json!({"a": 1}));
    }
}
