//! Settings, layered: built-in defaults, then an optional TOML file (`--config`), then
//! `FEEDBACKD_*` environment variables (`FEEDBACKD_DATABASE_URL`, `FEEDBACKD_LISTEN`, …; the
//! variable is the setting's name in upper case). Secrets are `SecretString`s and never printed.
//! Every setting is listed with its default in `docs/CONFIGURATION.md`.

pub mod notify;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

use crate::attachments::Limits;
use crate::domain::Terms;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The public listener: widget, public API, demo page.
    pub listen: SocketAddr,
    /// Health, readiness and metrics; keep it off the public network.
    pub admin_listen: SocketAddr,
    /// Home of the embedded default: SQLite file, blob folder, key file.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `sqlite://{data_dir}/feedbackd.db`.
    pub database_url: Option<String>,
    /// `file://…`, `s3://bucket/prefix` or `memory://`; default: `file://{data_dir}/blobs`.
    pub storage_url: Option<String>,
    /// An S3-compatible endpoint for `s3://` storage (else the AWS_* variables decide).
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    /// Origins of the WebApp allowed to call the public API from a browser (CORS).
    #[serde(deserialize_with = "comma_separated")]
    pub allowed_origins: Vec<String>,
    pub log_format: LogFormat,
    pub terms_version: String,
    /// The terms text; when unset, `terms_file` or else the project's own wording.
    pub terms_text: Option<String>,
    pub terms_file: Option<PathBuf>,
    pub max_attachments: usize,
    pub max_attachment_bytes: u64,
    pub max_total_attachment_bytes: u64,
    /// Submissions a client may send per minute (0 disables rate limiting).
    pub rate_limit_per_minute: u32,
    /// Submissions a client may send in a burst before the per-minute rate applies.
    pub rate_limit_burst: u32,
    /// How many proxies you run in front of the service, each appending the address it saw to
    /// `X-Forwarded-For`; per-client limits key on the entry this many from the right. 0: the
    /// header is ignored and the peer address counts.
    pub trusted_proxy_hops: usize,
    /// Deprecated: `true` means `trusted_proxy_hops = 1`.
    pub trust_forwarded_for: bool,
    /// Staff login attempts one client may make per minute (0 turns the per-client limit off;
    /// a per-name limit of 5 a minute always applies).
    pub login_attempts_per_minute: u32,
    /// Memory all request bodies in flight may hold together (read buffers, upload buffers);
    /// past it new submissions are refused with `503 overloaded` instead of growing.
    pub intake_memory_budget_bytes: u64,
    /// Longest one object-store operation may take (a request, an upload part); past it the
    /// request is `503 storage_unavailable`.
    pub storage_timeout_secs: u64,
    /// Longest one database operation on a request's path may take, waiting for a connection
    /// included; past it the request is `503 storage_unavailable`.
    pub database_timeout_secs: u64,
    /// `/readyz` reports the blob folder unavailable below this many free bytes (local folder).
    pub min_free_blob_bytes: u64,
    /// Longest a public request may take, upload included.
    pub request_timeout_secs: u64,
    /// Age after which an object no row references is removed by the sweeper.
    pub orphan_grace_secs: u64,
    pub sweep_interval_secs: u64,
    /// Base64 of 32 bytes; with `blind_index_key`, replaces the key file.
    pub contact_key: Option<SecretString>,
    pub blind_index_key: Option<SecretString>,
    /// During a key rotation: the keys before `contact_key` and `blind_index_key`, kept until
    /// `feedbackd keys rotate` reports that nothing uses them.
    pub previous_contact_key: Option<SecretString>,
    pub previous_blind_index_key: Option<SecretString>,
    /// Serve the demo host page at `/` (the embedded default's try-it-out page).
    pub demo_page: bool,
    /// Routing rules applied at intake (TOML `[[triage_rules]]`).
    pub triage_rules: Vec<crate::triage::Rule>,
    /// A form sent sooner than this after it was opened is treated as spam.
    pub spam_min_fill_ms: u64,
    /// How long a staff login lasts.
    pub session_hours: u64,
    /// Mark the session cookie `Secure` (set it when served over TLS; automatic when a proxy
    /// sends `X-Forwarded-Proto: https`).
    pub secure_cookies: bool,
    /// Submissions (with their objects) older than this many days are deleted; 0 keeps them.
    pub retention_days: u32,
    /// Contact details older than this many days are deleted, the feedback kept; 0 keeps them.
    pub contact_retention_days: u32,
    /// On a fresh install, create `admin` and print its password once on stdout. Turn it off
    /// where stdout is collected into logs, and create staff with `feedbackd user add` instead.
    pub create_first_admin: bool,
    /// The triage view's time zone: `UTC` or a fixed offset such as `+01:00`.
    pub team_time_zone: crate::domain::TeamTimeZone,
    /// The address people reach the service at (`https://feedback.example.org`), for links in
    /// e-mail; default: `http://{listen}`.
    pub public_url: Option<String>,
    /// The SMTP relay (`[smtp]`); e-mail is off while its `host` is unset.
    pub smtp: SmtpSettings,
    /// What e-mail is sent (`[mail]`): acknowledgements, languages, the digest hour.
    pub mail: MailSettings,
    /// The outbox worker and the webhook endpoints (TOML `[notify]`).
    pub notify: notify::NotifySettings,
}

impl Default for Settings {
    fn default() -> Self {
        let limits = Limits::default();
        Self {
            listen: ([127, 0, 0, 1], 8080).into(),
            admin_listen: ([127, 0, 0, 1], 9090).into(),
            data_dir: PathBuf::from("./feedbackd-data"),
            database_url: None,
            storage_url: None,
            s3_endpoint: None,
            s3_region: None,
            allowed_origins: Vec::new(),
            log_format: LogFormat::Text,
            terms_version: crate::domain::Terms::default().version,
            terms_text: None,
            terms_file: None,
            max_attachments: limits.max_attachments,
            max_attachment_bytes: limits.max_attachment_bytes,
            max_total_attachment_bytes: limits.max_total_attachment_bytes,
            rate_limit_per_minute: 30,
            rate_limit_burst: 10,
            trusted_proxy_hops: 0,
            trust_forwarded_for: false,
            login_attempts_per_minute: crate::staff::login::DEFAULT_PER_CLIENT_PER_MINUTE,
            intake_memory_budget_bytes: 64 * 1024 * 1024,
            storage_timeout_secs: 10,
            database_timeout_secs: 5,
            min_free_blob_bytes: 256 * 1024 * 1024,
            request_timeout_secs: 120,
            orphan_grace_secs: 3600,
            sweep_interval_secs: 600,
            contact_key: None,
            blind_index_key: None,
            previous_contact_key: None,
            previous_blind_index_key: None,
            demo_page: true,
            triage_rules: Vec::new(),
            spam_min_fill_ms: crate::triage::SpamPolicy::default().min_fill_ms,
            session_hours: 12,
            secure_cookies: false,
            retention_days: 0,
            contact_retention_days: 0,
            create_first_admin: true,
            team_time_zone: crate::domain::TeamTimeZone::default(),
            public_url: None,
            notify: notify::NotifySettings::default(),
            smtp: Default::default(),
            mail: Default::default(),
        }
    }
}

fn comma_separated<'de, D: Deserializer<'de>>(de: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let items = match OneOrMany::deserialize(de)? {
        OneOrMany::One(s) => s.split(',').map(str::to_owned).collect(),
        OneOrMany::Many(v) => v,
    };
    Ok(items
        .into_iter()
        .map(|s| s.trim().trim_end_matches('/').to_owned())
        .filter(|s| !s.is_empty())
        .collect())
}

impl Settings {
    /// Defaults, then the file (if any), then the environment.
    pub fn load(config_file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::new();
        if let Some(path) = config_file {
            anyhow::ensure!(path.exists(), "config file {} not found", path.display());
            figment = figment.merge(Toml::file(path));
        }
        let env = Env::prefixed("FEEDBACKD_")
            .filter(|key| {
                // Variables of the test and benchmark harnesses share the prefix.
                !key.as_str().starts_with("test_") && key.as_str() != "config"
            })
            // `FEEDBACKD_SMTP__HOST` is `smtp.host`.
            .split("__");
        Ok(figment.merge(env).extract()?)
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("feedbackd.db").display()))
    }

    pub fn storage_url(&self) -> String {
        self.storage_url
            .clone()
            .unwrap_or_else(|| format!("file://{}", self.data_dir.join("blobs").display()))
    }

    /// The public base URL for links in e-mail, without a trailing slash.
    pub fn public_url(&self) -> String {
        self.public_url
            .as_deref()
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// Trusted proxy hops, honouring the deprecated `trust_forwarded_for`.
    pub fn trusted_proxy_hops(&self) -> usize {
        match (self.trusted_proxy_hops, self.trust_forwarded_for) {
            (0, true) => 1,
            (hops, _) => hops,
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_attachments: self.max_attachments,
            max_attachment_bytes: self.max_attachment_bytes,
            max_total_attachment_bytes: self.max_total_attachment_bytes,
        }
    }

    pub fn spam_policy(&self) -> crate::triage::SpamPolicy {
        crate::triage::SpamPolicy {
            min_fill_ms: self.spam_min_fill_ms,
            ..crate::triage::SpamPolicy::default()
        }
    }

    pub fn terms(&self) -> anyhow::Result<Terms> {
        let text = match (&self.terms_text, &self.terms_file) {
            (Some(text), _) => text.clone(),
            (None, Some(file)) => std::fs::read_to_string(file)?,
            (None, None) => {
                return Ok(Terms::new(
                    &self.terms_version,
                    crate::domain::Terms::default().text,
                ));
            }
        };
        Ok(Terms::new(&self.terms_version, text))
    }
}

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
