//! The real binary: `serve` prints its URLs, logs hold nothing personal, SIGTERM stops it
//! cleanly, and an acknowledged submission survives a SIGKILL.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use feedbackd::store;
use serde_json::{Value, json};

use crate::helpers::terms_version;
use crate::served::{BIN, serve, signal};

fn submission(terms_version: &str) -> Value {
    json!({
        "kind": "bug",
        "summary": "SECRET-SUMMARY-7f3a",
        "message": "SECRET-MESSAGE-7f3a",
        "webapp_version": "6.4.2",
        "server_version": "9.1.0",
        "screen_resolution": "1280x720",
        "url": "https://mail.example.org/app/SECRET-PATH-7f3a?q=SECRET-QUERY",
        "terms_version": terms_version,
        "terms_accepted": true,
        "contact_name": "SECRET-NAME-7f3a",
        "contact_email": "secret.person.7f3a@example.org",
    })
}

async fn submit(base: &str) -> Value {
    let client = reqwest::Client::builder()
        .user_agent("SECRET-AGENT-7f3a/1.0")
        .build()
        .unwrap();
    let terms_version = terms_version(&client, base).await;
    let response = client
        .post(format!("{base}/api/v1/feedback"))
        .json(&submission(&terms_version))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

#[tokio::test]
async fn logs_hold_no_personal_data_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &[("FEEDBACKD_LOG_FORMAT", "json")]);
    submit(&served.base).await;
    signal(&served.child, "TERM");
    let status = served.child.wait().unwrap();
    assert!(status.success(), "graceful exit, got {status}");

    let logs = std::fs::read_to_string(&served.stderr_file).unwrap();
    assert!(
        logs.contains("submission stored"),
        "the run logged at all:\n{logs}"
    );
    for line in logs.lines() {
        assert!(
            serde_json::from_str::<Value>(line).is_ok(),
            "JSON log line: {line}"
        );
    }
    for secret in ["SECRET", "7f3a", "127.0.0.1:", "example.org"] {
        let leaked = logs
            .lines()
            .find(|l| l.contains(secret) && !l.contains("feedbackd listening"));
        assert!(
            leaked.is_none(),
            "{secret} leaked into the logs: {leaked:?}"
        );
    }
}

#[tokio::test]
async fn an_acknowledged_submission_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &[]);
    let receipt = submit(&served.base).await;
    signal(&served.child, "KILL");
    served.child.wait().unwrap();

    let url = format!("sqlite://{}", dir.path().join("feedbackd.db").display());
    let store = store::connect(&url).await.unwrap();
    let id = receipt["id"].as_str().unwrap().parse().unwrap();
    let row = store
        .submission(id)
        .await
        .unwrap()
        .expect("the acknowledged row survived");
    assert_eq!(row.message, "SECRET-MESSAGE-7f3a");
    assert!(row.contact.is_some());
    store.close().await;
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
    ] {
        let out = Command::new(BIN).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn migrate_creates_the_database_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .arg("migrate")
        .env("FEEDBACKD_DATA_DIR", dir.path())
        .env_remove("FEEDBACKD_DATABASE_URL")
        .timeout_guard();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("feedbackd.db").exists());
}

trait TimeoutGuard {
    fn timeout_guard(&mut self) -> std::process::Output;
}

impl TimeoutGuard for Command {
    /// Runs the command, failing the test instead of hanging if it takes over a minute.
    fn timeout_guard(&mut self) -> std::process::Output {
        let mut child = self
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            assert!(started.elapsed() < Duration::from_secs(60), "command hung");
            std::thread::sleep(Duration::from_millis(50));
        }
        child.wait_with_output().unwrap()
    }
}

fn run_with_stdin(args: &[&str], data_dir: &Path, stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = Command::new(BIN)
        .args(args)
        .env("FEEDBACKD_DATA_DIR", data_dir)
        .env_remove("FEEDBACKD_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn staff_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let added = run_with_stdin(
        &["user", "add", "tina", "--role", "triager"],
        dir.path(),
        "a long enough password\n",
    );
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let weak = run_with_stdin(
        &["user", "add", "tom", "--role", "triager"],
        dir.path(),
        "short\n",
    );
    assert!(!weak.status.success());
    let created = run_with_stdin(
        &["token", "create", "--name", "ci", "--role", "admin"],
        dir.path(),
        "",
    );
    assert!(created.status.success());
    let token = String::from_utf8(created.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("fbd_"));

    let mut served = serve(dir.path(), &[]);
    assert!(
        !served
            .announced
            .iter()
            .any(|l| l.contains("one-time password")),
        "staff exist already"
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let api = client
        .get(format!("{}/api/v1/internal/audit", served.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let login = client
        .post(format!("{}/triage/login", served.base))
        .form(&[("name", "tina"), ("password", "a long enough password")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);

    let changed = run_with_stdin(
        &["user", "passwd", "tina"],
        dir.path(),
        "another long password\n",
    );
    assert!(
        changed.status.success(),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    let old = client
        .post(format!("{}/triage/login", served.base))
        .form(&[("name", "tina"), ("password", "a long enough password")])
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 401, "the old password no longer works");

    let revoked = run_with_stdin(&["token", "revoke", "ci"], dir.path(), "");
    assert!(revoked.status.success());
    let api = client
        .get(format!("{}/api/v1/internal/audit", served.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401, "a revoked token stops working at once");
    signal(&served.child, "TERM");
    served.child.wait().unwrap();
}

#[tokio::test]
async fn a_fresh_install_prints_a_one_time_admin_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &[]);
    let line = served
        .announced
        .iter()
        .find(|l| l.contains("one-time password"))
        .expect("the password is printed");
    let password = line
        .split("one-time password ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client
        .post(format!("{}/triage/login", served.base))
        .form(&[("name", "admin"), ("password", password.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 303);
    signal(&served.child, "TERM");
    served.child.wait().unwrap();
    let logs = std::fs::read_to_string(&served.stderr_file).unwrap();
    assert!(!logs.contains(&password), "the password is never logged");
}

async fn submit_with_contact(base: &str, email: &str) -> Value {
    let client = reqwest::Client::new();
    let terms_version = terms_version(&client, base).await;
    let form = reqwest::multipart::Form::new()
        .text("kind", "bug")
        .text("message", "please look at this")
        .text("webapp_version", "1")
        .text("server_version", "2")
        .text("screen_resolution", "800x600")
        .text("url", "https://mail.example.org/")
        .text("terms_version", terms_version)
        .text("terms_accepted", "true")
        .text("contact_email", email.to_owned())
        .part(
            "attachment",
            reqwest::multipart::Part::bytes(crate::helpers::PNG_1X1.to_vec()).file_name("s.png"),
        );
    let response = client
        .post(format!("{base}/api/v1/feedback"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

fn blob_files(dir: &Path) -> Vec<std::path::PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out)
            } else {
                out.push(path)
            }
        }
    }
    let mut out = Vec::new();
    walk(&dir.join("blobs"), &mut out);
    out
}

#[tokio::test]
async fn a_removal_email_is_answered_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &[]);
    submit_with_contact(&served.base, "pat.example@example.org").await;
    signal(&served.child, "TERM");
    served.child.wait().unwrap();

    let eml = dir.path().join("removal.eml");
    std::fs::write(
        &eml,
        "From: \"Pat Example\" <Pat.Example@Example.org>\r\n\
         To: webmaster@example.com\r\n\
         Subject: =?UTF-8?Q?Bitte_l=C3=B6schen?=\r\n\
         Date: Sun, 29 Nov 2026 09:00:00 +0100\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: quoted-printable\r\n\r\n\
         Hallo,=0D=0Abitte l=C3=B6schen Sie alle meine Daten.=0D=0AGr=C3=BC=C3=9Fe, Pat\r\n",
    )
    .unwrap();
    let declined = run_with_stdin(
        &[
            "privacy",
            "erase",
            "--eml",
            eml.to_str().unwrap(),
            "--everything",
        ],
        dir.path(),
        "n\n",
    );
    assert!(
        !declined.status.success(),
        "a declined erasure exits non-zero"
    );
    assert!(String::from_utf8_lossy(&declined.stderr).contains("1 submission(s)"));
    assert!(String::from_utf8_lossy(&declined.stderr).contains("nothing removed"));
    assert_eq!(blob_files(dir.path()).len(), 1);

    let erased = run_with_stdin(
        &[
            "privacy",
            "erase",
            "--eml",
            eml.to_str().unwrap(),
            "--everything",
            "--yes",
        ],
        dir.path(),
        "",
    );
    assert!(
        erased.status.success(),
        "{}",
        String::from_utf8_lossy(&erased.stderr)
    );
    let report: Value = serde_json::from_slice(&erased.stdout).unwrap();
    assert_eq!(report["submissions_removed"], 1);
    assert_eq!(report["objects_deleted"], 1);
    assert!(
        blob_files(dir.path()).is_empty(),
        "the file is gone from the folder"
    );

    let export = run_with_stdin(
        &["privacy", "export", "--email", "pat.example@example.org"],
        dir.path(),
        "",
    );
    let export: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(export["submissions"], serde_json::json!([]));
    let audit = run_with_stdin(&["audit", "list"], dir.path(), "");
    let audit = String::from_utf8(audit.stdout).unwrap();
    assert!(
        audit.contains("privacy_erase_everything") && audit.contains("privacy_export"),
        "{audit}"
    );
    assert!(
        !audit.to_lowercase().contains("example.org"),
        "no address in the audit log"
    );
}

#[tokio::test]
async fn an_erasure_killed_half_way_is_completed_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path(), &[]);
    let receipt = submit_with_contact(&served.base, "pat@example.org").await;
    signal(&served.child, "TERM");
    served.child.wait().unwrap();
    assert_eq!(blob_files(dir.path()).len(), 1);

    // Object storage that accepts connections and never answers: the erasure commits its
    // rows, then hangs deleting the object, and is killed there.
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", black_hole.local_addr().unwrap());
    let held =
        std::thread::spawn(move || black_hole.incoming().take(4).flatten().collect::<Vec<_>>());
    let _ = held;
    let mut erasing = Command::new(BIN)
        .args([
            "privacy",
            "erase",
            "--email",
            "pat@example.org",
            "--everything",
            "--yes",
        ])
        .env("FEEDBACKD_DATA_DIR", dir.path())
        .env("FEEDBACKD_STORAGE_URL", "s3://unreachable")
        .env("FEEDBACKD_S3_ENDPOINT", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("FEEDBACKD_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("sqlite://{}", dir.path().join("feedbackd.db").display());
    let store = store::connect(&url).await.unwrap();
    let id = receipt["id"].as_str().unwrap().parse().unwrap();
    let started = std::time::Instant::now();
    while store.submission(id).await.unwrap().is_some() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the erasure never committed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    signal(&erasing, "KILL");
    erasing.wait().unwrap();
    assert_eq!(
        store.pending_deletions(10).await.unwrap().len(),
        1,
        "the object is queued"
    );
    assert_eq!(blob_files(dir.path()).len(), 1, "and still there");
    store.close().await;

    let mut restarted = serve(dir.path(), &[]);
    let store = store::connect(&url).await.unwrap();
    let started = std::time::Instant::now();
    // The object goes first, then its queue row: wait for both before stopping the restart.
    while !blob_files(dir.path()).is_empty()
        || !store.pending_deletions(10).await.unwrap().is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the restart did not finish the erasure"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    signal(&restarted.child, "TERM");
    restarted.child.wait().unwrap();
    store.close().await;
}
