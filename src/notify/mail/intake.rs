//! The e-mail messages a stored submission causes, for the intake path to write in the same
//! transaction as the submission: the staff notification (resolved to the subscribers at
//! delivery) and, when the operator turned it on and an address was given, the
//! acknowledgement to the submitter. Nothing while e-mail is off (no `smtp.host`), so the
//! outbox does not fill with messages no channel can deliver.

use serde_json::json;

use crate::config::Settings;
use crate::notify::{Destination, Event, NewMessage};
use crate::store::SubmissionRow;

/// Whether e-mail is on: an SMTP relay is configured.
pub fn mail_enabled(settings: &Settings) -> bool {
    settings
        .smtp
        .host
        .as_deref()
        .is_some_and(|host| !host.trim().is_empty())
}

/// The e-mail messages for a newly stored `submission`.
pub fn intake_messages(settings: &Settings, submission: &SubmissionRow) -> Vec<NewMessage> {
    if !mail_enabled(settings) {
        return Vec::new();
    }
    let mut messages = vec![NewMessage {
        event: Event::SubmissionCreated,
        submission: Some(submission.id),
        destination: Destination::Staff,
        payload: json!({}),
    }];
    // The blind index is there exactly when an address was given (a name alone has none).
    let has_address = submission
        .contact
        .as_ref()
        .is_some_and(|c| c.blind_index.is_some());
    if settings.mail.acknowledgement && has_address {
        messages.push(NewMessage {
            event: Event::Acknowledgement,
            submission: Some(submission.id),
            destination: Destination::Submitter,
            payload: json!({}),
        });
    }
    messages
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use uuid::Uuid;

    use super::*;
    use crate::domain::{Kind, Status};
    use crate::store::{ContactRow, TermsRecord};

    fn row(contact: Option<ContactRow>) -> SubmissionRow {
        SubmissionRow {
            id: Uuid::now_v7(),
            received_at: Utc::now(),
            kind: Kind::Bug,
            status: Status::New,
            summary: None,
            message: "It broke".into(),
            rating: None,
            webapp_version: "1".into(),
            server_version: "1".into(),
            browser_brand: "Firefox".into(),
            browser_version: None,
            screen_width: 1,
            screen_height: 1,
            page_url: "https://example.org/".into(),
            labels: Vec::new(),
            assignee: None,
            duplicate_of: None,
            fingerprint: None,
            terms: TermsRecord {
                version: "1".into(),
                sha256: "x".into(),
                widget: "bug".into(),
                button: "submit".into(),
                accepted_at: Utc::now(),
            },
            attachments: Vec::new(),
            contact,
        }
    }

    fn contact(with_address: bool) -> Option<ContactRow> {
        Some(ContactRow {
            blind_index: with_address.then(|| "index".to_owned()),
            sealed: vec![1, 2, 3],
            key_id: "k".into(),
        })
    }

    fn settings(host: Option<&str>, acknowledgement: bool) -> Settings {
        let mut settings = Settings::default();
        settings.smtp.host = host.map(str::to_owned);
        settings.mail.acknowledgement = acknowledgement;
        settings
    }

    fn destinations(messages: &[NewMessage]) -> Vec<(Event, Destination)> {
        messages
            .iter()
            .map(|m| (m.event, m.destination.clone()))
            .collect()
    }

    #[test]
    fn nothing_while_mail_is_off() {
        assert!(intake_messages(&settings(None, true), &row(contact(true))).is_empty());
        assert!(intake_messages(&settings(Some(" "), true), &row(contact(true))).is_empty());
    }

    #[test]
    fn staff_always_and_the_acknowledgement_only_when_on_with_an_address() {
        let staff = (Event::SubmissionCreated, Destination::Staff);
        let ack = (Event::Acknowledgement, Destination::Submitter);
        let on = settings(Some("smtp.example.org"), true);
        let off = settings(Some("smtp.example.org"), false);
        let submission = row(contact(true));
        let messages = intake_messages(&on, &submission);
        assert_eq!(destinations(&messages), vec![staff.clone(), ack]);
        assert!(messages.iter().all(|m| m.submission == Some(submission.id)));
        assert!(
            messages.iter().all(|m| m.payload == serde_json::json!({})),
            "no contact details in the outbox"
        );
        assert_eq!(
            destinations(&intake_messages(&off, &row(contact(true)))),
            vec![staff.clone()]
        );
        assert_eq!(
            destinations(&intake_messages(&on, &row(None))),
            vec![staff.clone()]
        );
        assert_eq!(
            destinations(&intake_messages(&on, &row(contact(false)))),
            vec![staff],
            "a name without an address gets no mail"
        );
    }
}
