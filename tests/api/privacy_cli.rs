//! `feedbackd privacy …` run as the real binary against the test's database: the mail and a
//! preview come first, the scope is chosen explicitly, "everything" needs the address typed
//! back, and every refusal exits non-zero with nothing removed.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_with};
use crate::privacy::submit_as;

const BIN: &str = env!("CARGO_BIN_EXE_feedbackd");

/// The app, and the environment that points the binary at the same database, files and keys.
pub async fn spawn_with_env() -> (TestApp, Vec<(&'static str, String)>) {
    let mut env = Vec::new();
    let app = spawn_app_with(|s| {
        env.push(("FEEDBACKD_DATA_DIR", s.data_dir.display().to_string()));
        env.push(("FEEDBACKD_DATABASE_URL", s.database_url()));
        env.push(("FEEDBACKD_STORAGE_URL", s.storage_url()));
        if let Some(endpoint) = &s.s3_endpoint {
            env.push(("FEEDBACKD_S3_ENDPOINT", endpoint.clone()));
        }
    })
    .await;
    (app, env)
}

pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `feedbackd privacy ARGS`; `stdin` `None` is a closed input.
async fn privacy(env: &[(&str, String)], args: &[&str], stdin: Option<&str>) -> Run {
    let mut all = vec!["privacy"];
    all.extend_from_slice(args);
    cli(env, &all, stdin).await
}

/// Runs `feedbackd ARGS` in the data folder; `stdin` `None` is a closed input.
///
/// The wait happens off the test's runtime: the service under test runs on that (single
/// threaded) runtime, and its SQLite writer may hold the write lock in the middle of moving the
/// intake inbox. Blocking the runtime while the command waits for that lock would freeze the
/// writer holding it, until the command gave up (the deadlock that failed `.ci/run` once).
pub async fn cli(env: &[(&str, String)], args: &[&str], stdin: Option<&str>) -> Run {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let stdin = stdin.map(str::to_owned);
    tokio::task::spawn_blocking(move || run_blocking(&env, &args, stdin.as_deref()))
        .await
        .unwrap()
}

fn run_blocking(env: &[(String, String)], args: &[String], stdin: Option<&str>) -> Run {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("RUST_LOG", "warn")
        .env("USER", "webmaster-test")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
        if k == "FEEDBACKD_DATA_DIR" {
            command.current_dir(v);
        }
    }
    let mut child = command.spawn().unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    Run {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn contact_kept(app: &TestApp, id: uuid::Uuid) -> bool {
    let row = app.state.store.submission(id).await.unwrap();
    row.is_some_and(|r| r.contact.is_some())
}

#[tokio::test]
async fn refusals_exit_non_zero_and_remove_nothing() {
    let (app, env) = spawn_with_env().await;
    let id = submit_as(&app, Some("pat@example.org"), "the export button is broken").await;

    let invalid = privacy(
        &env,
        &["erase", "--email", "pat@", "--scope", "contact"],
        Some("y\n"),
    )
    .await;
    assert!(!invalid.success, "{}", invalid.stderr);
    assert!(
        invalid.stderr.contains("not a valid e-mail address"),
        "{}",
        invalid.stderr
    );
    let invalid_export = privacy(&env, &["export", "--email", "nobody"], None).await;
    assert!(!invalid_export.success);

    let closed = privacy(&env, &["erase", "--email", "pat@example.org"], None).await;
    assert!(!closed.success, "{}", closed.stderr);
    assert!(
        closed.stderr.contains("standard input is closed"),
        "{}",
        closed.stderr
    );

    let declined = privacy(
        &env,
        &[
            "erase",
            "--email",
            "Pat Example <pat@example.org>",
            "--scope",
            "contact",
        ],
        Some("n\n"),
    )
    .await;
    assert!(!declined.success);
    assert!(
        declined.stderr.contains("not confirmed"),
        "{}",
        declined.stderr
    );
    // The preview showed what would go, and the warning about contact-only came first.
    assert!(
        declined
            .stderr
            .contains("1 submission(s) are tied to pat@example.org"),
        "{}",
        declined.stderr
    );
    assert!(declined.stderr.contains("the export button is broken"));
    assert!(declined.stderr.contains("files: shot.png"));
    assert!(declined.stderr.contains(" bug ") && declined.stderr.contains("new"));
    assert!(
        declined.stderr.contains("cannot be done"),
        "{}",
        declined.stderr
    );

    let no_scope = privacy(
        &env,
        &["erase", "--email", "pat@example.org"],
        Some("maybe\n"),
    )
    .await;
    assert!(!no_scope.success);
    assert!(
        no_scope.stderr.contains("no scope chosen"),
        "{}",
        no_scope.stderr
    );
    let yes_without_scope = privacy(
        &env,
        &["erase", "--email", "pat@example.org", "--yes"],
        None,
    )
    .await;
    assert!(!yes_without_scope.success);

    let wrong_address = privacy(
        &env,
        &["erase", "--email", "pat@example.org"],
        Some("everything\nsomeone@example.org\n"),
    )
    .await;
    assert!(!wrong_address.success);
    assert!(contact_kept(&app, id).await, "nothing was removed");
}

#[tokio::test]
async fn an_eml_request_is_shown_then_erased_after_the_address_is_typed() {
    let (app, env) = spawn_with_env().await;
    let id = submit_as(&app, Some("pat@example.org"), "please delete me").await;
    let eml = app._data_dir.path().join("request.eml");
    std::fs::write(
        &eml,
        "From: Pat Example <Pat@Example.org>\r\nTo: webmaster@example.com\r\n\
         Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nSubject: Remove my data\r\n\r\n\
         Hello,\r\n\r\nplease remove everything you have about me.\r\n\r\nPat\r\n",
    )
    .unwrap();
    let eml = eml.display().to_string();

    let run = privacy(
        &env,
        &["erase", "--eml", &eml],
        Some("everything\nPat@example.org\n"),
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    for shown in [
        "From:    Pat Example <Pat@Example.org>",
        "Date:    Mon, 30 Nov 2026 10:00:00 +0000",
        "Subject: Remove my data",
        "please remove everything you have about me.",
        "Type contact or everything",
        "Type the address to confirm",
    ] {
        assert!(run.stderr.contains(shown), "{shown} in\n{}", run.stderr);
    }
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["submissions_removed"], 1);
    assert_eq!(report["receipt"].as_str().unwrap().len(), 32);
    assert!(app.state.store.submission(id).await.unwrap().is_none());
}

#[tokio::test]
async fn contact_only_warns_and_keeps_the_feedback() {
    let (app, env) = spawn_with_env().await;
    let id = submit_as(&app, Some("pat@example.org"), "keep the feedback").await;
    let run = privacy(
        &env,
        &["erase", "--email", "Pat <pat@example.org>"],
        Some("contact\ny\n"),
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    assert!(run.stderr.contains("cannot be done"));
    assert!(!contact_kept(&app, id).await);
    assert!(app.state.store.submission(id).await.unwrap().is_some());
    let export = privacy(&env, &["export", "--email", "Pat <pat@example.org>"], None).await;
    assert!(export.success, "{}", export.stderr);
    let export: Value = serde_json::from_str(&export.stdout).unwrap();
    assert_eq!(export["submissions"], serde_json::json!([]));
}

#[tokio::test]
async fn export_zip_writes_a_dated_private_archive() {
    let (app, env) = spawn_with_env().await;
    let id = submit_as(&app, Some("pat@example.org"), "zip from the command line").await;
    let note = feedbackd::store::NoteRow {
        id: uuid::Uuid::now_v7(),
        submission_id: id,
        author: "user:wendy".to_owned(),
        body: "called back".to_owned(),
        created_at: chrono::Utc::now(),
    };
    app.state.store.insert_note(&note).await.unwrap();
    let run = privacy(
        &env,
        &["export", "--email", "pat@example.org", "--zip"],
        None,
    )
    .await;
    assert!(run.success, "{}", run.stderr);
    let name = run.stdout.trim();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(name, format!("feedbackd-export-{today}.zip"));
    let path = app._data_dir.path().join(name);
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions())
            & 0o777,
        0o600
    );
    crate::export_zip::check_archive(&std::fs::read(&path).unwrap(), "called back");
    let again = privacy(
        &env,
        &["export", "--email", "pat@example.org", "--zip"],
        None,
    )
    .await;
    assert!(!again.success, "an existing archive is never overwritten");
}

#[tokio::test]
async fn audit_list_shows_times_to_the_second_in_the_team_zone() {
    let (app, mut env) = spawn_with_env().await;
    let id = submit_as(
        &app,
        Some("pat@example.org"),
        "audited from the command line",
    )
    .await;
    let entry = feedbackd::store::AuditEntry {
        at: "2026-11-28T12:12:51.449057777Z".parse().unwrap(),
        actor: "user:wendy".to_owned(),
        action: "view_contact".to_owned(),
        submission_id: Some(id),
        detail: None,
    };
    app.state.store.insert_audit(&entry).await.unwrap();
    env.push(("FEEDBACKD_TEAM_TIME_ZONE", "+01:00".to_owned()));
    let run = cli(&env, &["audit", "list"], None).await;
    assert!(run.success, "{}", run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("view_contact"))
        .unwrap_or_else(|| panic!("the entry is listed: {}", run.stdout));
    assert_eq!(
        line,
        format!("2026-11-28 13:12:51 UTC+01:00\tuser:wendy\tview_contact\t{id}\t"),
        "no sub-second digits, in the team's zone, which it names"
    );
}
