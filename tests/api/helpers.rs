//! `spawn_app()`: the real service on port 0, on SQLite + a local folder by default, or on
//! PostgreSQL (`FEEDBACKD_TEST_DATABASE_URL=postgres://user@host:port`, a fresh database per
//! test) and an S3-compatible server (`FEEDBACKD_TEST_S3_ENDPOINT=http://host:port`, bucket
//! `FEEDBACKD_TEST_S3_BUCKET`, a fresh prefix per test) when those are set.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Once;

use feedbackd::{AppState, Application, Settings};
use futures::TryStreamExt;
use serde_json::{Value, json};
use sqlx::Connection;
use tempfile::TempDir;

pub const FIREFOX_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/// The smallest valid PNG: a 1×1 pixel.
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A minimal ELF header: what an executable starts with.
pub const ELF_HEAD: &[u8] =
    b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00";

pub struct TestApp {
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    pub terms_version: String,
    pub _data_dir: TempDir,
}

static NOTICE: Once = Once::new();

/// Says plainly, once per run, which backends this run covers and which it does not.
fn announce_backends() {
    NOTICE.call_once(|| {
        let db = match std::env::var("FEEDBACKD_TEST_DATABASE_URL") {
            Ok(_) => "PostgreSQL".to_owned(),
            Err(_) => "SQLite (PostgreSQL suite NOT RUN: set FEEDBACKD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432)".to_owned(),
        };
        let storage = match std::env::var("FEEDBACKD_TEST_S3_ENDPOINT") {
            Ok(_) => "S3-compatible server".to_owned(),
            Err(_) => "local folder (S3 suite NOT RUN: set FEEDBACKD_TEST_S3_ENDPOINT, see .ci/run)".to_owned(),
        };
        // Written past the test harness's capture on purpose, so the notice is always seen.
        let _ = writeln!(std::io::stderr(), "\napi suite backends: database={db}; storage={storage}\n");
    });
}

async fn fresh_postgres_database(server: &str) -> String {
    let server = server.trim_end_matches('/');
    let name = format!("feedbackd_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("FEEDBACKD_TEST_DATABASE_URL is set but PostgreSQL is not reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create the test database");
    format!("{server}/{name}")
}

/// Settings for a test: port 0 everywhere, the chosen backends, no rate limit.
pub async fn test_settings(data_dir: &TempDir) -> Settings {
    announce_backends();
    let mut settings = Settings {
        listen: "127.0.0.1:0".parse().unwrap(),
        admin_listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.path().to_owned(),
        rate_limit_per_minute: 0,
        ..Settings::default()
    };
    if let Ok(server) = std::env::var("FEEDBACKD_TEST_DATABASE_URL") {
        settings.database_url = Some(fresh_postgres_database(&server).await);
    }
    if let Ok(endpoint) = std::env::var("FEEDBACKD_TEST_S3_ENDPOINT") {
        let bucket =
            std::env::var("FEEDBACKD_TEST_S3_BUCKET").unwrap_or_else(|_| "feedbackd-test".into());
        settings.storage_url = Some(format!("s3://{bucket}/{}", uuid::Uuid::new_v4()));
        settings.s3_endpoint = Some(endpoint);
    }
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&data_dir).await;
    configure(&mut settings);
    let app = Application::build(settings).await.expect("the app builds");
    let (addr, admin_addr, state) = (app.public_addr(), app.admin_addr(), app.state());
    let terms_version = state.terms.version.clone();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        addr,
        admin_addr,
        state,
        client: reqwest::Client::builder()
            .user_agent(FIREFOX_UA)
            .build()
            .unwrap(),
        terms_version,
        _data_dir: data_dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin_addr)
    }

    /// A valid JSON submission of the Feedback? window.
    pub fn valid_json(&self) -> Value {
        json!({
            "kind": "feedback",
            "message": "The new calendar view is great.",
            "rating": 5,
            "webapp_version": "6.4.2",
            "server_version": "9.1.0",
            "screen_resolution": "1920x1080",
            "url": "https://mail.example.org/app/calendar?week=48#today",
            "terms_version": self.terms_version,
            "terms_accepted": true,
        })
    }

    /// The text fields of a valid Bug Reporter submission, for multipart forms.
    pub fn valid_bug_form(&self) -> reqwest::multipart::Form {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in [
            ("kind", "bug"),
            ("summary", "Attachments vanish"),
            ("message", "I attached a file and it vanished."),
            ("webapp_version", "6.4.2"),
            ("server_version", "9.1.0"),
            ("screen_resolution", "2560x1440"),
            ("url", "https://mail.example.org/app/mail"),
            ("terms_accepted", "true"),
        ] {
            form = form.text(k, v);
        }
        form.text("terms_version", self.terms_version.clone())
    }

    pub async fn post_json(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/feedback"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_form(&self, form: reqwest::multipart::Form) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/feedback"))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Rows per table.
    pub async fn row_counts(&self) -> Vec<(&'static str, i64)> {
        self.state.store.table_counts().await.unwrap()
    }

    pub async fn object_keys(&self) -> Vec<String> {
        self.state
            .blobs
            .object_store()
            .list(None)
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await
            .unwrap()
    }

    /// Nothing of any request is stored: no row in any table, no object.
    pub async fn assert_nothing_stored(&self) {
        for (table, count) in self.row_counts().await {
            assert_eq!(count, 0, "rows left in {table}");
        }
        assert_eq!(
            self.object_keys().await,
            Vec::<String>::new(),
            "objects left behind"
        );
    }
}

pub fn file_part(bytes: &[u8], name: &str, declared_type: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(bytes.to_vec())
        .file_name(name.to_owned())
        .mime_str(declared_type)
        .unwrap()
}

/// Asserts a problem+json response and returns its body.
pub async fn problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "errors are problem+json"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    for key in ["type", "title", "detail"] {
        assert!(body[key].is_string(), "{key} missing in {body}");
    }
    assert!(body["errors"].is_array());
    body
}

/// Whether a problem lists `field` with `code`.
pub fn has_error(problem: &Value, field: &str, code: &str) -> bool {
    problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == field && e["code"] == code && e["message"].is_string())
}

impl TestApp {
    /// A fresh API token with `role`.
    pub async fn token(&self, role: feedbackd::domain::Role) -> String {
        let name = format!("t{}", uuid::Uuid::new_v4().simple());
        feedbackd::staff::create_token(self.state.store.as_ref(), &name, role)
            .await
            .unwrap()
    }

    /// A staff account (a triager) that submissions can be assigned to.
    pub async fn add_staff(&self, name: &str) {
        feedbackd::staff::add_user(
            self.state.store.as_ref(),
            name,
            feedbackd::domain::Role::Triager,
            "correct horse battery staple",
        )
        .await
        .unwrap();
    }

    /// Stores a submission through the public API and returns its id.
    pub async fn submit(&self, body: &Value) -> uuid::Uuid {
        let response = self.post_json(body).await;
        assert_eq!(response.status(), 201);
        let receipt: Value = response.json().await.unwrap();
        receipt["id"].as_str().unwrap().parse().unwrap()
    }
}

/// The current terms version of the service at `base` (for tests that run it as a process).
pub async fn terms_version(client: &reqwest::Client, base: &str) -> String {
    let terms: Value = client
        .get(format!("{base}/api/v1/terms"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    terms["version"].as_str().unwrap().to_owned()
}
