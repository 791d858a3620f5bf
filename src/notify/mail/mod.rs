//! E-mail over SMTP (lettre): the [`Channel`] for staff notifications ([`Destination::Staff`]),
//! staff digests ([`Destination::StaffDigest`]) and mail to the submitter
//! ([`Destination::Submitter`]: replies and acknowledgements).
//!
//! Everything personal is looked up when a message is delivered, never stored in the outbox:
//! the submitter's address is opened from the sealed contact (gone after an erasure: the
//! message is dead with "contact details erased"), a reply's text is read from `replies` (so a
//! redaction applies to it), staff recipients are resolved from the subscriptions then.
//! Errors stored for admins are our own texts: lettre's may quote an address.

pub mod compose;
pub mod intake;
pub mod render;
pub mod settings;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{Channel, DeliveryError, Destination, Event, Message};
use crate::config::Settings;
use crate::privacy::ContactVault;
use crate::store::{Store, StoreError};
pub use intake::intake_messages;
use render::Rendered;
use settings::{SmtpSecurity, SmtpSettings};

/// The SMTP channel: a connection pool to the relay, the sender, and what building a message
/// needs (the database, the contact keys, the settings).
pub struct MailChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    settings: Settings,
    store: Arc<dyn Store>,
    vault: ContactVault,
    templates: minijinja::Environment<'static>,
}

impl std::fmt::Debug for MailChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailChannel").finish_non_exhaustive()
    }
}

/// The transport `[smtp]` describes.
fn transport(
    smtp: &SmtpSettings,
    host: &str,
) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
        .port(smtp.port())
        .timeout(Some(Duration::from_secs(smtp.timeout_secs.max(1))));
    builder = match smtp.security {
        SmtpSecurity::Starttls => builder.tls(Tls::Required(TlsParameters::new(host.to_owned())?)),
        SmtpSecurity::Tls => builder.tls(Tls::Wrapper(TlsParameters::new(host.to_owned())?)),
        SmtpSecurity::None => builder.tls(Tls::None),
    };
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.expose_secret().to_owned(),
        ));
    }
    Ok(builder.build())
}

impl MailChannel {
    /// The channel, or `None` while `smtp.host` is unset (e-mail off). `vault` opens the
    /// submitters' addresses: `ContactVault::new(&app::contact_keys(&settings)?)`.
    pub fn new(
        settings: Settings,
        store: Arc<dyn Store>,
        vault: ContactVault,
    ) -> anyhow::Result<Option<Self>> {
        let smtp = &settings.smtp;
        let Some(host) = smtp.host.as_deref().filter(|h| !h.trim().is_empty()) else {
            return Ok(None);
        };
        let from: Mailbox = smtp
            .from
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("smtp.from must be set when smtp.host is"))?
            .parse()
            .map_err(|_| anyhow::anyhow!("smtp.from is not a valid address"))?;
        Ok(Some(Self {
            transport: transport(smtp, host)?,
            from,
            templates: render::templates(),
            settings,
            store,
            vault,
        }))
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub(crate) fn vault(&self) -> &ContactVault {
        &self.vault
    }

    pub(crate) fn templates(&self) -> &minijinja::Environment<'static> {
        &self.templates
    }

    /// Sends one rendered message to `to`.
    pub(crate) async fn send(&self, to: Mailbox, rendered: Rendered) -> Result<(), DeliveryError> {
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(rendered.subject)
            .header(AutoSubmitted)
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|_| DeliveryError::Permanent("the message could not be built".into()))?;
        self.transport
            .send(email)
            .await
            .map(drop)
            .map_err(|error| classify(&error))
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834), so that out-of-office replies stay away.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// An SMTP failure as a delivery error, in our own words (lettre's may quote an address):
/// a permanent rejection (5xx) is permanent; a transient one (4xx), a timeout, a connection or
/// TLS failure is worth retrying.
pub(crate) fn classify(error: &lettre::transport::smtp::Error) -> DeliveryError {
    let code = error
        .status()
        .map(|code| format!(" ({code})"))
        .unwrap_or_default();
    if error.is_permanent() {
        DeliveryError::Permanent(format!("the SMTP relay refused the message{code}"))
    } else if error.is_transient() {
        DeliveryError::Retry(format!("the SMTP relay deferred the message{code}"))
    } else if error.is_timeout() {
        DeliveryError::Retry("the SMTP relay did not answer in time".into())
    } else if error.is_tls() {
        DeliveryError::Retry("TLS with the SMTP relay failed".into())
    } else {
        DeliveryError::Retry("the SMTP relay could not be reached".into())
    }
}

/// A database failure while building a message: worth retrying.
pub(crate) fn unavailable(_: StoreError) -> DeliveryError {
    DeliveryError::Retry("the database is unavailable".into())
}

#[async_trait]
impl Channel for MailChannel {
    fn handles(&self, destination: &Destination) -> bool {
        matches!(
            destination,
            Destination::Staff | Destination::StaffDigest(_) | Destination::Submitter
        )
    }

    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        match (&message.destination, message.event) {
            (Destination::Staff, _) => compose::staff(self, message).await,
            (Destination::StaffDigest(user), _) => compose::digest(self, user, message).await,
            (Destination::Submitter, Event::ReplyCreated) => compose::reply(self, message).await,
            (Destination::Submitter, Event::Acknowledgement) => {
                compose::acknowledgement(self, message).await
            }
            (destination, event) => Err(DeliveryError::Permanent(format!(
                "e-mail does not deliver {event} to {}",
                match destination {
                    Destination::Webhook(_) => "a webhook",
                    _ => "this destination",
                }
            ))),
        }
    }
}
