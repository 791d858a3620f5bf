//! Building each kind of message at delivery: who it goes to and what it says. Staff mail
//! holds the kind, the summary (or the first 200 characters of the message), the WebApp
//! version, the browser and a link to the triage view; never the submitter's contact details.

use chrono::{DateTime, Utc};
use lettre::Address;
use lettre::message::Mailbox;
use minijinja::context;
use uuid::Uuid;

use super::render::{kind_name, language, render};
use super::{MailChannel, unavailable};
use crate::domain::Status;
use crate::notify::{DeliveryError, Message};
use crate::store::SubmissionRow;
use crate::store::mail::{SubscriptionMode, excerpt};

/// Most submissions one digest lists (the rest are counted, with a link to the queue).
const DIGEST_ITEMS: u32 = 50;

fn permanent(text: &str) -> DeliveryError {
    DeliveryError::Permanent(text.to_owned())
}

fn rendering(_: minijinja::Error) -> DeliveryError {
    permanent("the message template failed to render")
}

fn title(summary: Option<&str>, message: &str) -> String {
    summary
        .filter(|s| !s.trim().is_empty())
        .map_or_else(|| excerpt(message), str::to_owned)
}

fn when(at: DateTime<Utc>, channel: &MailChannel) -> String {
    at.with_timezone(&channel.settings().team_time_zone.offset())
        .format("%Y-%m-%d %H:%M %:z")
        .to_string()
}

async fn submission(
    channel: &MailChannel,
    message: &Message,
) -> Result<Option<SubmissionRow>, DeliveryError> {
    let Some(id) = message.submission else {
        return Err(permanent("the message names no submission"));
    };
    channel.store().submission(id).await.map_err(unavailable)
}

/// The submitter's address, opened from the sealed contact now.
fn submitter(channel: &MailChannel, row: &SubmissionRow) -> Result<Mailbox, DeliveryError> {
    let Some(contact) = &row.contact else {
        return Err(permanent("contact details erased"));
    };
    let opened = channel
        .vault()
        .open(row.id, &contact.sealed)
        .map_err(|_| permanent("the contact details cannot be opened with the configured key"))?;
    let Some(email) = opened.email else {
        return Err(permanent("no e-mail address was given"));
    };
    let address: Address = email
        .parse()
        .map_err(|_| permanent("the submitter's address is not valid"))?;
    Ok(Mailbox::new(opened.name, address))
}

/// A reply: the text as stored now (redacted, if an erasure came first) to the submitter.
pub async fn reply(channel: &MailChannel, message: &Message) -> Result<(), DeliveryError> {
    let reply_id = message.payload["reply"]
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| permanent("the message names no reply"))?;
    let Some(row) = submission(channel, message).await? else {
        return Err(permanent("the submission was removed"));
    };
    let to = submitter(channel, &row)?;
    let Some(reply) = channel.store().reply(reply_id).await.map_err(unavailable)? else {
        return Err(permanent("the reply was removed"));
    };
    let lang = language(&channel.settings().mail.language);
    let rendered = render(
        channel.templates(),
        "reply",
        &context! { lang, reference => row.id, body => reply.body },
    )
    .map_err(rendering)?;
    channel.send(to, rendered).await
}

/// The acknowledgement: the reference and the withdrawal link.
pub async fn acknowledgement(
    channel: &MailChannel,
    message: &Message,
) -> Result<(), DeliveryError> {
    let Some(row) = submission(channel, message).await? else {
        // Withdrawn before we wrote: there is nothing to acknowledge.
        return Ok(());
    };
    let to = submitter(channel, &row)?;
    let withdraw_url = format!(
        "{}/withdraw?id={}&token={}",
        channel.settings().public_url(),
        row.id,
        channel.vault().withdraw_token(row.id)
    );
    let lang = language(&channel.settings().mail.language);
    let rendered = render(
        channel.templates(),
        "acknowledgement",
        &context! { lang, reference => row.id, withdraw_url },
    )
    .map_err(rendering)?;
    channel.send(to, rendered).await
}

/// A new submission, to each staff member subscribed at once to its kind: one message per
/// recipient. A recipient the relay refuses for good is skipped; a deferral retries the
/// message (those already served may then get it twice: at least once).
pub async fn staff(channel: &MailChannel, message: &Message) -> Result<(), DeliveryError> {
    let Some(row) = submission(channel, message).await? else {
        return Ok(()); // withdrawn or erased meanwhile
    };
    if row.status == Status::Spam {
        return Ok(());
    }
    let recipients = channel
        .store()
        .subscribers(row.kind.as_str(), SubscriptionMode::AtOnce)
        .await
        .map_err(unavailable)?;
    let base = channel.settings().public_url();
    let lang = language(&channel.settings().mail.staff_language);
    let browser = match &row.browser_version {
        Some(version) => format!("{} {version}", row.browser_brand),
        None => row.browser_brand.clone(),
    };
    let rendered = render(
        channel.templates(),
        "staff",
        &context! {
            lang, kind => row.kind.as_str(), kind_name => kind_name(row.kind.as_str(), lang),
            title => title(row.summary.as_deref(), &row.message), text => excerpt(&row.message),
            webapp_version => row.webapp_version, browser,
            received_at => when(row.received_at, channel),
            link => format!("{base}/triage/feedback/{}", row.id),
            subscriptions_url => format!("{base}/triage/subscriptions"),
        },
    )
    .map_err(rendering)?;
    let mut refused = 0;
    for (_, address) in &recipients {
        let Ok(address) = address.parse::<Address>() else {
            refused += 1;
            continue;
        };
        match channel
            .send(Mailbox::new(None, address), rendered.clone())
            .await
        {
            Ok(()) => {}
            Err(DeliveryError::Permanent(_)) => refused += 1,
            Err(retry) => return Err(retry),
        }
    }
    if refused > 0 && refused == recipients.len() {
        return Err(DeliveryError::Permanent(format!(
            "the SMTP relay refused all {refused} staff recipient(s)"
        )));
    }
    if refused > 0 {
        tracing::warn!(refused, "staff recipients refused by the SMTP relay");
    }
    Ok(())
}

/// One staff member's digest: the submissions of their digest kinds in the period the message
/// covers. Nothing new, no address or no digest subscription any more: nothing is sent.
pub async fn digest(
    channel: &MailChannel,
    user: &str,
    message: &Message,
) -> Result<(), DeliveryError> {
    let period = |key: &str| {
        message.payload[key]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| permanent("the digest names no period"))
    };
    let (since, until) = (period("since")?, period("until")?);
    let preferences = channel
        .store()
        .mail_preferences(user)
        .await
        .map_err(unavailable)?;
    let kinds = preferences.kinds(SubscriptionMode::Digest);
    let Some(email) = preferences.email.filter(|_| !kinds.is_empty()) else {
        return Ok(());
    };
    let (items, total) = channel
        .store()
        .digest_items(&kinds, since, until, DIGEST_ITEMS)
        .await
        .map_err(unavailable)?;
    if total == 0 {
        return Ok(());
    }
    let base = channel.settings().public_url();
    let lang = language(&channel.settings().mail.staff_language);
    let listed: Vec<_> = items
        .iter()
        .map(|item| {
            context! {
                kind_name => kind_name(&item.kind, lang),
                title => title(item.summary.as_deref(), &item.excerpt),
                link => format!("{base}/triage/feedback/{}", item.id),
            }
        })
        .collect();
    let rendered = render(
        channel.templates(),
        "digest",
        &context! {
            lang, total, more => total - items.len() as i64, items => listed,
            queue_url => format!("{base}/triage"),
            subscriptions_url => format!("{base}/triage/subscriptions"),
        },
    )
    .map_err(rendering)?;
    let address: Address = email
        .parse()
        .map_err(|_| permanent("the staff member's address is not valid"))?;
    channel.send(Mailbox::new(None, address), rendered).await
}
