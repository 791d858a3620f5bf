//! Replies to the submitter: the one use the terms allow for contact details. A reply is kept
//! with the submission (who, when, text), queued for e-mail in the outbox and audited as a use
//! of the contact details, all in one transaction; refused when there is no address to write
//! to. The address is never read here: the e-mail channel opens it at delivery.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::mail::intake::mail_enabled;
use super::{Destination, Event, NewMessage};
use crate::config::Settings;
use crate::domain::{FieldError, ValidationErrors};
use crate::staff::Staff;
use crate::store::mail::OutboxEntry;
use crate::store::{AuditEntry, ReplyOutcome, ReplyRow, Store, StoreError};

/// Longest reply, in characters: a short message about the feedback, not a newsletter.
pub const MAX_REPLY_CHARS: usize = 5_000;

/// The audit action of a reply (a use of the contact details, unlinked by an erasure).
pub const AUDIT_ACTION: &str = "reply_contact";

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error("no such submission")]
    NotFound,
    #[error("the submission has no address to write to")]
    NoContact,
    #[error("e-mail is not configured")]
    MailDisabled,
    #[error("invalid reply")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The body, trimmed, if it is 1 to [`MAX_REPLY_CHARS`] characters.
pub fn parse_body(body: &str) -> Result<String, ValidationErrors> {
    let body = body.trim();
    let problem = if body.is_empty() {
        Some(("required", "must not be empty".to_owned()))
    } else if body.chars().count() > MAX_REPLY_CHARS {
        Some(("too_long", format!("at most {MAX_REPLY_CHARS} characters")))
    } else {
        None
    };
    match problem {
        Some((code, message)) => Err(ValidationErrors(vec![FieldError::new(
            "body", code, message,
        )])),
        None => Ok(body.to_owned()),
    }
}

/// Stores a reply by `staff` to the submitter of `id` and queues it for e-mail.
pub async fn send(
    store: &dyn Store,
    settings: &Settings,
    staff: &Staff,
    id: Uuid,
    body: &str,
) -> Result<ReplyRow, ReplyError> {
    let body = parse_body(body).map_err(ReplyError::Invalid)?;
    if !mail_enabled(settings) {
        return Err(ReplyError::MailDisabled);
    }
    let reply = ReplyRow {
        id: Uuid::now_v7(),
        submission_id: id,
        author: staff.name.clone(),
        body,
        created_at: Utc::now(),
    };
    let message = NewMessage {
        event: Event::ReplyCreated,
        submission: Some(id),
        destination: Destination::Submitter,
        payload: json!({ "reply": reply.id }),
    };
    let audit = AuditEntry {
        at: reply.created_at,
        actor: staff.actor(),
        action: AUDIT_ACTION.to_owned(),
        submission_id: Some(id),
        detail: None,
    };
    match store
        .insert_reply(&reply, &OutboxEntry::from(&message), &audit)
        .await?
    {
        ReplyOutcome::Stored => Ok(reply),
        ReplyOutcome::NotFound => Err(ReplyError::NotFound),
        ReplyOutcome::NoContact => Err(ReplyError::NoContact),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_1_to_5000_characters_after_trimming() {
        assert_eq!(parse_body("  Thanks!  ").unwrap(), "Thanks!");
        assert_eq!(parse_body(" \n ").unwrap_err().0[0].code, "required");
        assert!(parse_body(&"é".repeat(MAX_REPLY_CHARS)).is_ok());
        assert_eq!(
            parse_body(&"é".repeat(MAX_REPLY_CHARS + 1)).unwrap_err().0[0].code,
            "too_long"
        );
    }
}
