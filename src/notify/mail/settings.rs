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

/// Refuses settings e-mail cannot work with, at start rather than at the first delivery.
pub fn check(smtp: &SmtpSettings, mail: &MailSettings) -> anyhow::Result<()> {
    let languages = super::render::LANGUAGES;
    for (name, value) in [
        ("mail.language", &mail.language),
        ("mail.staff_language", &mail.staff_language),
    ] {
        anyhow::ensure!(
            languages.contains(&value.as_str()),
            "{name} must be one of {}",
            languages.join(", ")
        );
    }
    anyhow::ensure!(mail.digest_hour <= 23, "mail.digest_hour must be 0 to 23");
    if smtp.host.as_deref().is_some_and(|h| !h.trim().is_empty()) {
        let from = smtp
            .from
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("smtp.from must be set when smtp.host is"))?;
        anyhow::ensure!(
            from.parse::<lettre::message::Mailbox>().is_ok(),
            "smtp.from is not a valid address"
        );
        anyhow::ensure!(
            smtp.username.is_some() == smtp.password.is_some(),
            "set both smtp.username and smtp.password, or neither"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::config::Settings;

    #[test]
    fn the_file_nests_smtp_and_mail() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(
            file,
            "public_url = \"https://feedback.example.org/\"\n\
             [smtp]\nhost = \"smtp.example.org\"\nsecurity = \"tls\"\nusername = \"u\"\n\
             password = \"p\"\nfrom = \"Feedback <feedback@example.org>\"\n\
             [mail]\nacknowledgement = true\nlanguage = \"nl\""
        )
        .unwrap();
        let settings = Settings::load(Some(file.path())).unwrap();
        assert_eq!(settings.smtp.host.as_deref(), Some("smtp.example.org"));
        assert_eq!(settings.smtp.security, SmtpSecurity::Tls);
        assert_eq!(settings.smtp.port(), 465);
        assert!(settings.mail.acknowledgement);
        assert_eq!(settings.mail.language, "nl");
        assert_eq!(settings.mail.digest_hour, 8);
        assert_eq!(settings.public_url(), "https://feedback.example.org");
        check(&settings.smtp, &settings.mail).unwrap();
    }

    #[test]
    fn unusable_settings_are_refused() {
        let on = SmtpSettings {
            host: Some("smtp.example.org".into()),
            from: Some("feedback@example.org".into()),
            ..SmtpSettings::default()
        };
        let mail = MailSettings::default();
        check(&on, &mail).unwrap();
        check(&SmtpSettings::default(), &mail).unwrap();
        for smtp in [
            SmtpSettings {
                from: None,
                ..on.clone()
            },
            SmtpSettings {
                from: Some("not an address".into()),
                ..on.clone()
            },
            SmtpSettings {
                username: Some("u".into()),
                ..on.clone()
            },
        ] {
            assert!(check(&smtp, &mail).is_err(), "{smtp:?}");
        }
        for mail in [
            MailSettings {
                language: "fr".into(),
                ..MailSettings::default()
            },
            MailSettings {
                digest_hour: 24,
                ..MailSettings::default()
            },
        ] {
            assert!(check(&on, &mail).is_err());
        }
    }
}
