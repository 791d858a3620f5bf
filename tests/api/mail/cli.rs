//! `feedbackd user add NAME --role R --email E`: the staff member's address for e-mail.

use std::io::Write;
use std::process::{Command, Stdio};

use sqlx::Connection;

fn user_add(dir: &std::path::Path, name: &str, email: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedbackd"))
        .args(["user", "add", name, "--role", "triager", "--email", email])
        .env("FEEDBACKD_DATA_DIR", dir)
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
        .write_all(b"a long enough password\n")
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn user_add_sets_the_staff_address_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let added = user_add(dir.path(), "sue", "sue@team.example");
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let refused = user_add(dir.path(), "sam", "not an address");
    assert!(!refused.status.success());
    let url = format!("sqlite://{}", dir.path().join("feedbackd.db").display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let users: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT name, email FROM staff_users ORDER BY name")
            .fetch_all(&mut db)
            .await
            .unwrap();
    assert_eq!(
        users,
        vec![("sue".to_owned(), Some("sue@team.example".to_owned()))]
    );
}
