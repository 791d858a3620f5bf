//! The e-mail settings (`[smtp]`, `[mail]`, defined with the others in `config`) checked at
//! start: the SMTP relay and what is sent. Mail is off
//! while `smtp.host` is unset. Environment variables name a nested setting with a double
//! underscore: `FEEDBACKD_SMTP__HOST`, `FEEDBACKD_SMTP__PASSWORD`, `FEEDBACKD_MAIL__ACKNOWLEDGEMENT`.

pub use crate::config::{MailSettings, SmtpSecurity, SmtpSettings};

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
