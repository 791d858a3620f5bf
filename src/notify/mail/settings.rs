//! The e-mail settings: the SMTP relay (`[smtp]`) and what is sent (`[mail]`). Mail is off
//! while `smtp.host` is unset. Environment variables name a nested setting with a double
//! underscore: `FEEDBACKD_SMTP__HOST`, `FEEDBACKD_SMTP__PASSWORD`, `FEEDBACKD_MAIL__ACKNOWLEDGEMENT`.

use secrecy::SecretString;
use serde::Deserialize;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which the relay must offer (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (implicit TLS, port 465).
    Tls,
    /// No encryption: only for a relay on the same host or a trusted private network.
    None,
}

impl SmtpSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            Self::Starttls => 587,
            Self::Tls => 465,
            Self::None => 25,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SmtpSettings {
    /// The relay's host name; unset turns e-mail off.
    pub host: Option<String>,
    /// Default: 587 (starttls), 465 (tls), 25 (none).
    pub port: Option<u16>,
    pub security: SmtpSecurity,
    /// Authentication (PLAIN/LOGIN), when both are set.
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The sender of every message, `Feedback <feedback@example.org>` or a bare address.
    pub from: Option<String>,
    /// Longest one SMTP conversation may take.
    pub timeout_secs: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: None,
            port: None,
            security: SmtpSecurity::default(),
            username: None,
            password: None,
            from: None,
            timeout_secs: 30,
        }
    }
}

impl SmtpSettings {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.security.default_port())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MailSettings {
    /// Send the submitter an acknowledgement (reference and withdrawal link) where an address
    /// was given.
    pub acknowledgement: bool,
    /// The language of mail to submitters (`en`, `nl` or `de`): the widget does not send its
    /// language, and the service stores nothing it does not need.
    pub language: String,
    /// The language of mail to staff.
    pub staff_language: String,
    /// The hour (0–23, in `team_time_zone`) at which daily digests are queued.
    pub digest_hour: u32,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            acknowledgement: false,
            language: "en".to_owned(),
            staff_language: "en".to_owned(),
            digest_hour: 8,
        }
    }
}
