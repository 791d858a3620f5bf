//! Dependencies that hang instead of failing: an S3 server and a PostgreSQL server frozen with
//! SIGSTOP (they accept connections and never answer, as behind a network partition). Each
//! test starts its own server, so freezing it disturbs no other test. Requests must be
//! answered `503 storage_unavailable` within their deadline and `/readyz` within its probe
//! timeout, nothing of a refused request may remain, and service resumes when the server
//! does. A full blob folder is reported by `/readyz`.
//!
//! The servers come from `FEEDBACKD_TEST_MOTO_SERVER` (moto's `moto_server`) and
//! `FEEDBACKD_TEST_PG_BINDIR` (PostgreSQL's `initdb`/`pg_ctl`); `.ci/run` sets both. Without
//! them the tests say they did not run, except under CI, where that fails.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use feedbackd::Settings;

use crate::helpers::{PNG_1X1, TestApp, file_part, problem, spawn_app_with};

/// The deadlines the tests configure, and how long an answer may take on a loaded machine.
const DEADLINE_SECS: u64 = 2;
const ANSWER_WITHIN: Duration = Duration::from_secs(20);

fn required_env(name: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(value) => Some(value),
        Err(_) if std::env::var("CI").is_ok() => panic!("{name} must be set in CI"),
        Err(_) => {
            eprintln!("frozen-dependency test NOT RUN: set {name} (see .ci/run)");
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

fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

/// A process killed (after being thawed) when the test ends, however it ends.
struct Server {
    child: Child,
    frozen: Vec<u32>,
}

impl Server {
    fn freeze(&mut self, pids: Vec<u32>) {
        for pid in &pids {
            signal(*pid, "-STOP");
        }
        self.frozen = pids;
    }

    fn thaw(&mut self) {
        for pid in std::mem::take(&mut self.frozen) {
            signal(pid, "-CONT");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.thaw();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_for(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !ready().await {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not start"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn frozen_settings(s: &mut Settings) {
    s.storage_timeout_secs = DEADLINE_SECS;
    s.database_timeout_secs = DEADLINE_SECS;
}

/// Posts a submission with a file, failing when no answer comes in time.
async fn post_with_file(app: &TestApp) -> reqwest::Response {
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(PNG_1X1, "s.png", "image/png"));
    tokio::time::timeout(ANSWER_WITHIN, app.post_form(form))
        .await
        .expect("answered within the deadline, not after the request timeout")
}

async fn readyz(app: &TestApp) -> (u16, String) {
    let response = tokio::time::timeout(
        Duration::from_secs(3),
        reqwest::get(app.admin_url("/readyz")),
    )
    .await
    .expect("/readyz answers within the probe's 3 s")
    .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_frozen_object_store_is_503_within_its_deadline_and_readyz_says_so() {
    let Some(moto) = required_env("FEEDBACKD_TEST_MOTO_SERVER") else {
        return;
    };
    let port = free_port();
    let child = Command::new(moto)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server {
        child,
        frozen: Vec::new(),
    };
    let endpoint = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_for("moto", async || {
        http.put(format!("{endpoint}/frozen")).send().await.is_ok()
    })
    .await;
    let app = spawn_app_with(|s| {
        frozen_settings(s);
        s.storage_url = Some("s3://frozen/test".into());
        s.s3_endpoint = Some(endpoint.clone());
    })
    .await;
    assert_eq!(post_with_file(&app).await.status(), 201, "S3 works");
    let before = app.row_counts().await;

    server.freeze(vec![server.child.id()]);
    let started = Instant::now();
    let response = post_with_file(&app).await;
    assert!(response.headers().contains_key("retry-after"));
    problem(response, 503, "storage_unavailable").await;
    let waited = started.elapsed();
    let (status, report) = readyz(&app).await;
    assert_eq!(status, 503);
    assert!(report.contains("object_store: unavailable"), "{report}");
    assert!(report.contains("database: ok"), "{report}");
    assert_eq!(
        app.row_counts().await,
        before,
        "nothing of the refusal stored"
    );

    server.thaw();
    assert_eq!(post_with_file(&app).await.status(), 201, "service resumes");
    eprintln!("frozen S3: answered 503 after {waited:?}");
}

/// A private PostgreSQL in a temporary folder, run as the `postgres` user.
fn start_private_postgres(bindir: &str, dir: &std::path::Path, port: u16) -> Child {
    let as_postgres = |program: &str| {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--", &format!("{bindir}/{program}")]);
        command
    };
    Command::new("chown")
        .args(["postgres", &dir.display().to_string()])
        .status()
        .unwrap();
    let data = dir.join("data");
    let status = as_postgres("initdb")
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-D",
            &data.display().to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "initdb");
    as_postgres("postgres")
        .args([
            "-D",
            &data.display().to_string(),
            "-p",
            &port.to_string(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            &format!("unix_socket_directories={}", dir.display()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// The postmaster and every backend it forked: freezing only the postmaster would leave
/// established connections answering.
fn postgres_processes(postmaster: u32) -> Vec<u32> {
    let mut pids = vec![postmaster];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The parent's pid is the second field after the command's closing parenthesis.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if parent == Some(postmaster) {
            pids.push(pid);
        }
    }
    pids
}

#[tokio::test]
async fn a_frozen_postgres_is_503_within_its_deadline_and_readyz_says_so() {
    let Some(bindir) = required_env("FEEDBACKD_TEST_PG_BINDIR") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = Server {
        child: start_private_postgres(&bindir, dir.path(), port),
        frozen: Vec::new(),
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    wait_for("private PostgreSQL", async || {
        use sqlx::Connection;
        sqlx::PgConnection::connect(&url).await.is_ok()
    })
    .await;
    let app = spawn_app_with(|s| {
        frozen_settings(s);
        s.database_url = Some(url.clone());
    })
    .await;
    assert_eq!(post_with_file(&app).await.status(), 201, "PostgreSQL works");
    let objects_before = app.object_keys().await.len();

    // `runuser` waits for the server as its child: the postmaster's pid is in its pid file.
    let pid_file = std::fs::read_to_string(dir.path().join("data/postmaster.pid")).unwrap();
    let postmaster: u32 = pid_file.lines().next().unwrap().trim().parse().unwrap();
    server.freeze(postgres_processes(postmaster));
    let started = Instant::now();
    let response = post_with_file(&app).await;
    problem(response, 503, "storage_unavailable").await;
    let waited = started.elapsed();
    let (status, report) = readyz(&app).await;
    assert_eq!(status, 503);
    assert!(report.contains("database: unavailable"), "{report}");

    server.thaw();
    // The refused submission's object is left to the sweeper only if its commit may have
    // landed; a request refused before the commit removes it at once.
    let mut resumed = 0;
    for _ in 0..50 {
        resumed = post_with_file(&app).await.status().as_u16();
        if resumed == 201 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(resumed, 201, "service resumes without a restart");
    assert!(app.object_keys().await.len() <= objects_before + 2);
    eprintln!("frozen PostgreSQL: answered 503 after {waited:?}");
}

#[tokio::test]
async fn readyz_reports_a_blob_folder_without_room() {
    let app = spawn_app_with(|s| s.min_free_blob_bytes = u64::MAX).await;
    let (status, report) = readyz(&app).await;
    if app.state.blobs.local_free_bytes().is_none() {
        // S3 in this run: free space is not the service's to watch.
        assert!(!report.contains("blob_space"), "{report}");
        return;
    }
    assert_eq!(status, 503, "{report}");
    assert!(report.contains("blob_space: low"), "{report}");
    let roomy = spawn_app_with(|s| s.min_free_blob_bytes = 1).await;
    let (status, report) = readyz(&roomy).await;
    assert_eq!(status, 200, "{report}");
    assert!(report.contains("blob_space: ok"), "{report}");
}
