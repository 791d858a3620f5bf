//! The embedded default keeps its files private: the real binary, started on a data folder
//! that does not exist yet, makes it 0700 and every file in it 0600 (database, WAL, shared
//! memory, key file, blobs).

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::helpers::{PNG_1X1, file_part, terms_version};

const BIN: &str = env!("CARGO_BIN_EXE_feedbackd");

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every path under `dir`, folders included.
fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        }
        out.push(path);
    }
}

#[tokio::test]
async fn the_data_folder_is_0700_and_every_file_0600() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("feedbackd-data");
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("FEEDBACKD_DATA_DIR", &data)
        .env("FEEDBACKD_LISTEN", "127.0.0.1:0")
        .env("FEEDBACKD_ADMIN_LISTEN", "127.0.0.1:0")
        .env("FEEDBACKD_RATE_LIMIT_PER_MINUTE", "0")
        .env_remove("FEEDBACKD_DATABASE_URL")
        .env_remove("FEEDBACKD_STORAGE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut base = None;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("feedbackd: public API ") {
            base = Some(url.trim_end_matches("/api/v1/").to_owned());
            break;
        }
    }
    let base = base.expect("serve prints the public API URL");
    let client = reqwest::Client::new();
    let terms = terms_version(&client, &base).await;
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in [
        ("kind", "bug"),
        ("message", "private files"),
        ("webapp_version", "6.4.2"),
        ("server_version", "9.1.0"),
        ("screen_resolution", "1280x800"),
        ("url", "https://mail.example.org/app"),
        ("terms_accepted", "true"),
        ("contact_email", "pat@example.org"),
    ] {
        form = form.text(k, v);
    }
    let form = form
        .text("terms_version", terms)
        .part("attachment", file_part(PNG_1X1, "shot.png", "image/png"));
    let response = client
        .post(format!("{base}/api/v1/feedback"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let mut paths = Vec::new();
    walk(&data, &mut paths);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(mode(&data), 0o700, "the data folder");
    let names: Vec<String> = paths
        .iter()
        .filter_map(|p| Some(p.file_name()?.to_str()?.to_owned()))
        .collect();
    for expected in [
        "feedbackd.db",
        "feedbackd.db-wal",
        "feedbackd.db-shm",
        "contact.key",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    let mut blobs = 0;
    for path in &paths {
        if path.is_dir() {
            assert_eq!(mode(path), 0o700, "{}", path.display());
        } else {
            assert_eq!(mode(path), 0o600, "{}", path.display());
            blobs += usize::from(path.starts_with(data.join("blobs")));
        }
    }
    assert_eq!(blobs, 1, "the attachment is among the files checked");
}
