//! The export as a ZIP: export.json (with each file's place), the files byte for byte, a
//! readable README.txt, and a dated name; over the API (Accept: application/zip).

use std::io::Read;

use feedbackd::domain::Role;
use serde_json::{Value, json};

use crate::helpers::PNG_1X1;
use crate::privacy::submit_as;

/// The entries of a ZIP, by name.
pub fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut content = Vec::new();
            file.read_to_end(&mut content).unwrap();
            (file.name().unwrap().into_owned(), content)
        })
        .collect()
}

/// Checks an archive of one submission with one file (`shot.png`) and a note.
pub fn check_archive(bytes: &[u8], note: &str) {
    let entries = entries(bytes);
    let get = |name: &str| {
        entries
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} in the archive"))
            .1
            .clone()
    };
    let document: Value = serde_json::from_slice(&get("export.json")).unwrap();
    let submission = &document["submissions"][0];
    assert_eq!(submission["notes"][0]["body"], note);
    let path = submission["attachments"][0]["file"].as_str().unwrap();
    assert_eq!(
        path,
        format!("files/{}/1-shot.png", submission["id"].as_str().unwrap())
    );
    assert_eq!(get(path), PNG_1X1);
    let readme = String::from_utf8(get("README.txt")).unwrap();
    assert!(readme.contains("Submissions: 1"), "{readme}");
    assert!(readme.contains("Files: 1"), "{readme}");
}

#[tokio::test]
async fn the_export_zip_holds_the_json_the_files_and_a_summary() {
    let app = crate::helpers::spawn_app().await;
    let id = submit_as(&app, Some("pat@example.org"), "zip me").await;
    let token = app.token(Role::Webmaster).await;
    let noted = app
        .client
        .post(app.url(&format!("/api/v1/internal/feedback/{id}/notes")))
        .bearer_auth(&token)
        .json(&json!({"body": "asked for a screenshot"}))
        .send()
        .await
        .unwrap();
    assert!(noted.status().is_success());
    let response = app
        .client
        .post(app.url("/api/v1/internal/privacy/export"))
        .bearer_auth(&token)
        .header("accept", "application/zip")
        .json(&json!({"email": "pat@example.org"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        disposition,
        format!("attachment; filename=\"feedbackd-export-{today}.zip\"")
    );
    check_archive(&response.bytes().await.unwrap(), "asked for a screenshot");
}
