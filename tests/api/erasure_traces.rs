//! An erasure of everything leaves no physical trace: on SQLite the database file and its WAL
//! hold none of the erased text moments later (read byte for byte); on PostgreSQL the rows are
//! gone and the tables erasure touched have been vacuumed.

use std::path::Path;

use feedbackd::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{PNG_1X1, TestApp, file_part};
use crate::privacy::privacy_call;
use crate::raw_db::{is_sqlite, rows, spawn_with_db};

/// Words found nowhere else, one per kind of text the person or staff wrote.
const TRACES: [&str; 5] = [
    "zebracornmessage",
    "quokkasummary",
    "narwhalnote",
    "wombatfilename",
    "capybara.contact",
];

async fn submit_traceable(app: &TestApp) -> uuid::Uuid {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in [
        ("kind", "bug"),
        ("webapp_version", "6.4.2"),
        ("server_version", "9.1.0"),
        ("screen_resolution", "1280x800"),
        ("url", "https://mail.example.org/app"),
        ("terms_accepted", "true"),
        ("summary", "the quokkasummary title"),
        ("message", "it broke: zebracornmessage happens every time"),
        ("contact_email", "capybara.contact@example.org"),
        ("contact_name", "Capy Bara"),
    ] {
        form = form.text(k, v);
    }
    form = form.text("terms_version", app.terms_version.clone()).part(
        "attachment",
        file_part(PNG_1X1, "wombatfilename.png", "image/png"),
    );
    let response = app.post_form(form).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    receipt["id"].as_str().unwrap().parse().unwrap()
}

async fn add_note(app: &TestApp, token: &str, id: uuid::Uuid) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/internal/feedback/{id}/notes")))
        .bearer_auth(token)
        .json(&json!({"body": "narwhalnote: reproduced"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

/// Which of the traces the SQLite files of `data_dir` still hold, in any case.
fn traces_in_files(data_dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for file in ["feedbackd.db", "feedbackd.db-wal"] {
        let Ok(bytes) = std::fs::read(data_dir.join(file)) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).to_lowercase();
        for trace in TRACES {
            if text.contains(trace) {
                found.push(format!("{trace} in {file}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn erasing_everything_leaves_no_trace_in_the_database_files() {
    let (app, url) = spawn_with_db().await;
    let token = app.token(Role::Webmaster).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let id = submit_traceable(&app).await;
        add_note(&app, &token, id).await;
        ids.push(id);
    }
    let data_dir = app._data_dir.path().to_owned();
    if is_sqlite(&url) {
        let before = traces_in_files(&data_dir);
        assert!(
            before.len() >= 4,
            "the test data is on disk first: {before:?}"
        );
    }
    let started = chrono::Utc::now();
    let response = privacy_call(
        &app,
        &token,
        "erase",
        json!({"email": "capybara.contact@example.org", "scope": "everything"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["removed"]["submissions_removed"], 3);
    for id in ids {
        assert!(app.state.store.submission(id).await.unwrap().is_none());
    }

    if is_sqlite(&url) {
        assert_eq!(traces_in_files(&data_dir), Vec::<String>::new());
        let wal = std::fs::metadata(data_dir.join("feedbackd.db-wal")).map_or(0, |m| m.len());
        assert_eq!(wal, 0, "the WAL is truncated");
        // Nor do the kept counts say that such a submission was there (a row at zero would
        // still name its day, version and browser).
        for table in ["submission_hourly_counts", "submission_daily_counts"] {
            let kept = rows(&url, &format!("SELECT CAST(count(*) AS TEXT) FROM {table}")).await;
            assert_eq!(kept[0][0].1.as_deref(), Some("0"), "{table} is empty");
        }
    } else {
        for table in ["submissions", "contacts", "staff_notes", "attachments"] {
            let found = rows(
                &url,
                &format!(
                    "SELECT CAST(last_vacuum >= '{}' AS TEXT), CAST(n_dead_tup AS TEXT) \
                     FROM pg_stat_user_tables WHERE relname = '{table}'",
                    started.to_rfc3339()
                ),
            )
            .await;
            assert_eq!(found[0][0].1.as_deref(), Some("true"), "{table} vacuumed");
            assert_eq!(found[0][1].1.as_deref(), Some("0"), "{table}: no dead rows");
        }
        let text = rows(&url, "SELECT CAST(count(*) AS TEXT) FROM submissions").await;
        assert_eq!(text[0][0].1.as_deref(), Some("0"));
    }
}
