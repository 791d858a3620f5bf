//! The process harness: the real `feedbackd serve` binary on loopback ports, for the suites
//! that test it as a process (`process`, `replicas`). It is killed if a test fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_feedbackd");

pub struct Served {
    pub child: Child,
    /// The public listener, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    pub stderr_file: PathBuf,
    /// What `serve` printed up to and including its metrics line.
    pub announced: Vec<String>,
}

impl Drop for Served {
    /// A failing test must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `feedbackd serve` with its data in `data_dir` (SQLite and a local folder unless `extra_env`
/// says otherwise), logging to `data_dir/stderr.log` at trace level.
pub fn serve(data_dir: &Path, extra_env: &[(&str, &str)]) -> Served {
    let data = data_dir.display().to_string();
    let mut env = vec![("FEEDBACKD_DATA_DIR", data.as_str())];
    env.extend_from_slice(extra_env);
    start(data_dir.join("stderr.log"), &env)
}

/// `feedbackd serve` on free loopback ports, no rate limit, logging to `stderr_file`; `env`
/// wins over these defaults. Returns once the service has announced its URLs.
pub fn start(stderr_file: PathBuf, env: &[(&str, &str)]) -> Served {
    let mut command = Command::new(BIN);
    command
        .arg("serve")
        .env("FEEDBACKD_LISTEN", "127.0.0.1:0")
        .env("FEEDBACKD_ADMIN_LISTEN", "127.0.0.1:0")
        .env("FEEDBACKD_RATE_LIMIT_PER_MINUTE", "0")
        .env("RUST_LOG", "trace")
        .env_remove("FEEDBACKD_DATABASE_URL")
        .env_remove("FEEDBACKD_STORAGE_URL")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_file).unwrap());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = None;
    let mut announced = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("feedbackd: demo page ") {
            base = Some(url.trim_end_matches('/').to_owned());
        }
        let last = line.contains("metrics http");
        announced.push(line);
        if last {
            break;
        }
    }
    // Keep reading what the service prints, as a terminal would.
    std::thread::spawn(move || lines.for_each(drop));
    Served {
        child,
        base: base.expect("serve prints the demo page URL"),
        stderr_file,
        announced,
    }
}

/// Sends a signal (`TERM`, `KILL`, …) to a child process.
pub fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
}
