//! What the e-mail tests need: a real SMTP server (aiosmtpd from PyPI, with the handler in
//! `tests/api/smtp/`, which writes each accepted message to a folder as JSON), the service
//! configured to use it, and [`drain`], which delivers the pending outbox rows.
//!
//! The server's Python comes from `FEEDBACKD_TEST_SMTP_PYTHON` (a Python with aiosmtpd;
//! `.ci/run` makes a venv at `~/.cache/feedbackd-ci/smtp-venv`). Without it the tests say they
//! did not run, except under CI (`CI` set), where that fails.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use feedbackd::notify::mail::MailChannel;
use feedbackd::notify::{Channel, DeliveryError, Destination, Event, Message};
use feedbackd::privacy::ContactVault;
use serde_json::Value;
use sqlx::Connection;
use tempfile::TempDir;

use crate::helpers::{TestApp, spawn_app_with};

pub const PYTHON_VAR: &str = "FEEDBACKD_TEST_SMTP_PYTHON";

/// The Python with aiosmtpd, or `None` (said on stderr) outside CI.
pub fn smtp_python() -> Option<String> {
    match std::env::var(PYTHON_VAR) {
        Ok(python) => Some(python),
        Err(_) if std::env::var("CI").is_ok() => panic!("{PYTHON_VAR} must be set in CI"),
        Err(_) => {
            eprintln!(
                "e-mail test NOT RUN: set {PYTHON_VAR} to a Python with aiosmtpd (see .ci/run)"
            );
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A real SMTP server on loopback, killed when dropped; what it accepts lands in `folder`.
pub struct SmtpServer {
    python: String,
    pub port: u16,
    folder: TempDir,
    child: Option<Child>,
}

impl SmtpServer {
    pub async fn start() -> Option<Self> {
        let python = smtp_python()?;
        let mut server = Self {
            python,
            port: free_port(),
            folder: tempfile::tempdir().unwrap(),
            child: None,
        };
        server.up().await;
        Some(server)
    }

    /// Starts the server (again) on its port.
    pub async fn up(&mut self) {
        let handlers = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/smtp");
        let child = Command::new(&self.python)
            .args(["-m", "aiosmtpd", "-n", "-u", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "folder_handler.FolderHandler"])
            .arg(self.folder.path())
            .env("PYTHONPATH", handlers)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the server: connections are refused until [`SmtpServer::up`].
    pub fn down(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every message accepted so far, oldest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(self.folder.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect()
    }

    /// The messages whose envelope goes to `address`.
    pub fn messages_to(&self, address: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| {
                m["envelope_to"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|to| to == address)
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.down();
    }
}

/// The service with e-mail through `smtp` (plain SMTP on loopback), and further settings;
/// returned once its first housekeeping pass is over, so that the digests that pass queues
/// (at start) are not mistaken for the test's.
pub async fn app_with_mail(
    smtp: &SmtpServer,
    configure: impl FnOnce(&mut feedbackd::Settings),
) -> TestApp {
    let port = smtp.port;
    let app = spawn_app_with(move |settings| {
        settings.smtp.host = Some("127.0.0.1".into());
        settings.smtp.port = Some(port);
        settings.smtp.security = feedbackd::notify::mail::settings::SmtpSecurity::None;
        settings.smtp.from = Some("Feedback <feedback@example.org>".into());
        settings.smtp.timeout_secs = 5;
        settings.public_url = Some("https://feedback.example.org/".into());
        // These tests deliver by hand (`drain`), so the app's own outbox worker stays off.
        settings.notify.worker = false;
        configure(settings);
    })
    .await;
    let started = Instant::now();
    while app.state.metrics.housekeeping_last_pass.get() == 0.0 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no housekeeping pass"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app
}

/// The e-mail channel of `app`.
pub fn channel(app: &TestApp) -> MailChannel {
    let settings = app.state.settings.clone();
    let vault = ContactVault::new(&feedbackd::app::contact_keys(&settings).unwrap());
    MailChannel::new(settings, app.state.store.clone(), vault)
        .unwrap()
        .expect("mail is configured")
}

type OutboxRow = (i64, String, Option<String>, String, String, i32);

const PENDING: &str = "SELECT id, event, CAST(submission_id AS TEXT), destination, \
    CAST(payload AS TEXT), attempts FROM outbox WHERE state = 'pending' ORDER BY id";

fn message((id, event, submission, destination, payload, attempts): OutboxRow) -> Message {
    Message {
        id,
        event: Event::parse(&event).unwrap(),
        submission: submission.map(|s| s.parse().unwrap()),
        destination: Destination::parse(&destination).unwrap(),
        payload: serde_json::from_str(&payload).unwrap(),
        attempts: u32::try_from(attempts).unwrap(),
        created_at: chrono::Utc::now(),
    }
}

/// The app's database (SQLite file or PostgreSQL).
async fn database_url(app: &TestApp) -> String {
    app.state.settings.database_url()
}

/// The pending outbox messages, oldest first.
pub async fn pending(app: &TestApp) -> Vec<Message> {
    let url = database_url(app).await;
    let rows: Vec<OutboxRow> = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_as(PENDING).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_as(PENDING).fetch_all(&mut conn).await.unwrap()
    };
    rows.into_iter().map(message).collect()
}

/// What became of each message.
async fn settle(app: &TestApp, id: i64, outcome: &Result<(), DeliveryError>) {
    let url = database_url(app).await;
    let (sql_done, sql_failed, sql_dead) = if url.starts_with("sqlite:") {
        (
            "DELETE FROM outbox WHERE id = ?",
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?",
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, state = 'dead' WHERE id = ?",
        )
    } else {
        (
            "DELETE FROM outbox WHERE id = $1",
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1 WHERE id = $2",
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, state = 'dead' WHERE id = $2",
        )
    };
    macro_rules! run {
        ($conn:expr) => {{
            let mut conn = $conn;
            match outcome {
                Ok(()) => {
                    sqlx::query(sql_done)
                        .bind(id)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
                Err(DeliveryError::Retry(text) | DeliveryError::RetryAfter(text, _)) => {
                    sqlx::query(sql_failed)
                        .bind(text)
                        .bind(id)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
                Err(DeliveryError::Permanent(text)) => {
                    sqlx::query(sql_dead)
                        .bind(text)
                        .bind(id)
                        .execute(&mut conn)
                        .await
                        .unwrap();
                }
            }
        }};
    }
    if url.starts_with("sqlite:") {
        run!(sqlx::SqliteConnection::connect(&url).await.unwrap());
    } else {
        run!(sqlx::PgConnection::connect(&url).await.unwrap());
    }
}

/// Delivers every pending outbox message once through `channel`, as the outbox worker does:
/// a delivered message is removed, a failed one keeps its error (a permanent failure is dead).
/// Returns each message with its outcome, which the worker does not expose: these tests check
/// the channel's verdicts (retry, permanent) one by one. The worker itself is tested with
/// webhooks (`outbox`, `webhooks`) and with mail by
/// `delivery::the_running_service_delivers_its_mail_through_its_own_outbox_worker`.
pub async fn drain(
    app: &TestApp,
    channel: &MailChannel,
) -> Vec<(Message, Result<(), DeliveryError>)> {
    let mut outcomes = Vec::new();
    for message in pending(app).await {
        assert!(channel.handles(&message.destination));
        let outcome = channel.deliver(&message).await;
        settle(app, message.id, &outcome).await;
        outcomes.push((message, outcome));
    }
    outcomes
}

/// Rows in `table` (`outbox`, `replies`).
pub async fn count(app: &TestApp, table: &str) -> i64 {
    let url = database_url(app).await;
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    }
}
