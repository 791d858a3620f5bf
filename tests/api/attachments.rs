//! Multipart submissions: files typed by content, streamed to object storage, limits that
//! abort mid-stream, and nothing left behind by any refusal.

use reqwest::multipart::Part;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::{ELF_HEAD, PNG_1X1, file_part, has_error, problem, spawn_app, spawn_app_with};

/// A PNG of `len` bytes: a real header followed by filler (type is decided by the header).
fn png_of(len: usize) -> Vec<u8> {
    let mut bytes = PNG_1X1.to_vec();
    bytes.resize(len, 0x42);
    bytes
}

#[tokio::test]
async fn attachment_is_stored_and_readable_back() {
    let app = spawn_app().await;
    let big = png_of(6 * 1024 * 1024 + 17); // over one S3 part: a real multipart upload
    let log = "2026-11-29 ERROR sync failed: größe ✓\n".repeat(100);
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(&big, "screen.png", "image/png"))
        .part(
            "attachment",
            file_part(log.as_bytes(), "console.log", "application/octet-stream"),
        );
    let response = app.post_form(form).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    let listed = receipt["attachments"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["filename"], "screen.png");
    assert_eq!(listed[0]["size"], big.len());
    assert_eq!(listed[0]["content_type"], "image/png");
    assert_eq!(listed[0]["sha256"], hex::encode(Sha256::digest(&big)));
    assert_eq!(listed[1]["content_type"], "text/plain; charset=utf-8");

    let id = receipt["id"].as_str().unwrap().parse().unwrap();
    let row = app.state.store.submission(id).await.unwrap().unwrap();
    assert_eq!(row.attachments.len(), 2);
    let stored = app
        .state
        .blobs
        .get(&row.attachments[0].object_key)
        .await
        .unwrap();
    assert_eq!(
        stored.as_ref(),
        big.as_slice(),
        "the object holds the exact bytes"
    );
    assert!(
        !row.attachments[0].object_key.contains("screen"),
        "keys are generated ids"
    );
    let stored_log = app
        .state
        .blobs
        .get(&row.attachments[1].object_key)
        .await
        .unwrap();
    assert_eq!(stored_log.as_ref(), log.as_bytes());
    assert_eq!(app.object_keys().await.len(), 2);
}

#[tokio::test]
async fn type_comes_from_content_not_from_name_or_declared_type() {
    let app = spawn_app().await;
    let form = app.valid_bug_form().part(
        "attachment",
        file_part(PNG_1X1, "report.pdf", "application/pdf"),
    );
    let receipt: Value = app.post_form(form).await.json().await.unwrap();
    assert_eq!(receipt["attachments"][0]["content_type"], "image/png");
    assert_eq!(receipt["attachments"][0]["filename"], "report.pdf");
}

#[tokio::test]
async fn an_executable_named_png_is_415_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut exe = ELF_HEAD.to_vec();
    exe.resize(64 * 1024, 0);
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(PNG_1X1, "fine.png", "image/png"))
        .part("attachment", file_part(&exe, "cat.png", "image/png"));
    let problem = problem(
        app.post_form(form).await,
        415,
        "attachment_type_not_allowed",
    )
    .await;
    assert!(has_error(
        &problem,
        "attachment",
        "attachment_type_not_allowed"
    ));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn binary_after_a_text_looking_start_is_refused_mid_stream() {
    let app = spawn_app().await;
    let mut sneaky = "harmless log line\n".repeat(4096).into_bytes();
    sneaky.extend_from_slice(b"\x00\x01\x02binary payload");
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(&sneaky, "app.log", "text/plain"));
    problem(
        app.post_form(form).await,
        415,
        "attachment_type_not_allowed",
    )
    .await;
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_sixth_file_is_413_and_the_first_five_are_removed() {
    let app = spawn_app().await;
    let mut form = app.valid_bug_form();
    for i in 0..6 {
        form = form.part(
            "attachment",
            file_part(PNG_1X1, &format!("s{i}.png"), "image/png"),
        );
    }
    let problem = problem(app.post_form(form).await, 413, "too_large").await;
    assert!(has_error(&problem, "attachment", "too_many_files"));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_file_over_its_limit_is_413_mid_stream() {
    let app = spawn_app_with(|s| s.max_attachment_bytes = 256 * 1024).await;
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(PNG_1X1, "ok.png", "image/png"))
        .part(
            "attachment",
            file_part(&png_of(256 * 1024 + 1), "big.png", "image/png"),
        );
    let problem = problem(app.post_form(form).await, 413, "too_large").await;
    assert!(has_error(&problem, "attachment", "file_too_large"));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_file_exactly_at_its_limit_is_accepted() {
    let app = spawn_app_with(|s| s.max_attachment_bytes = 256 * 1024).await;
    let form = app.valid_bug_form().part(
        "attachment",
        file_part(&png_of(256 * 1024), "edge.png", "image/png"),
    );
    assert_eq!(app.post_form(form).await.status(), 201);
}

#[tokio::test]
async fn files_over_the_total_are_413() {
    let app = spawn_app_with(|s| {
        s.max_attachment_bytes = 200 * 1024;
        s.max_total_attachment_bytes = 300 * 1024;
    })
    .await;
    let form = app
        .valid_bug_form()
        .part(
            "attachment",
            file_part(&png_of(150 * 1024), "a.png", "image/png"),
        )
        .part(
            "attachment",
            file_part(&png_of(151 * 1024), "b.png", "image/png"),
        );
    let problem = problem(app.post_form(form).await, 413, "too_large").await;
    assert!(has_error(&problem, "attachment", "total_too_large"));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_body_declared_larger_than_any_valid_one_is_413_before_reading() {
    let app = spawn_app_with(|s| s.max_total_attachment_bytes = 64 * 1024).await;
    let form = app.valid_bug_form().part(
        "attachment",
        file_part(&png_of(1024 * 1024), "huge.png", "image/png"),
    );
    problem(app.post_form(form).await, 413, "too_large").await;
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_validation_error_after_upload_removes_the_uploaded_files() {
    let app = spawn_app().await;
    // Files first, the bad field last: the files are already stored when the error is known.
    let form = reqwest::multipart::Form::new()
        .part(
            "attachment",
            file_part(&png_of(600 * 1024), "a.png", "image/png"),
        )
        .text("kind", "bug")
        .text("message", "boom")
        .text("webapp_version", "1")
        .text("server_version", "2")
        .text("screen_resolution", "1x1")
        .text("url", "https://x.example/")
        .text("terms_version", app.terms_version.clone())
        .text("terms_accepted", "true")
        .text("colour", "red");
    let problem = problem(app.post_form(form).await, 422, "unknown_field").await;
    assert!(has_error(&problem, "colour", "unknown_field"));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn multipart_text_fields_follow_the_same_rules() {
    let app = spawn_app().await;
    let form = app
        .valid_bug_form()
        .text("rating", "4")
        .text("message", "duplicate")
        .part("message2", Part::text("x".repeat(100_000)));
    let problem = problem(app.post_form(form).await, 422, "unknown_field").await;
    assert!(has_error(&problem, "rating", "not_allowed"));
    assert!(has_error(&problem, "message", "duplicate"));
    assert!(has_error(&problem, "message2", "unknown_field"));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn an_oversized_text_part_is_a_field_error_not_a_crash() {
    let app = spawn_app().await;
    let form = app
        .valid_bug_form()
        .text("contact_name", "n".repeat(50_000));
    let problem = problem(app.post_form(form).await, 422, "validation_failed").await;
    assert!(has_error(&problem, "contact_name", "too_long"));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn an_empty_file_input_is_ignored_but_an_empty_named_file_is_refused() {
    let app = spawn_app().await;
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(b"", "", "application/octet-stream"));
    let receipt: Value = app.post_form(form).await.json().await.unwrap();
    assert_eq!(receipt["attachments"].as_array().unwrap().len(), 0);

    let form = app
        .valid_bug_form()
        .part("attachment", file_part(b"", "empty.txt", "text/plain"));
    let problem = problem(app.post_form(form).await, 422, "validation_failed").await;
    assert!(has_error(&problem, "attachment", "empty"));
}

#[tokio::test]
async fn file_names_are_sanitised_for_display() {
    let app = spawn_app().await;
    let form = app.valid_bug_form().part(
        "attachment",
        file_part(PNG_1X1, "../../etc/<shot>.png", "image/png"),
    );
    let receipt: Value = app.post_form(form).await.json().await.unwrap();
    assert_eq!(receipt["attachments"][0]["filename"], "shot.png");
}

#[tokio::test]
async fn a_truncated_multipart_body_is_400_and_leaves_nothing() {
    let app = spawn_app().await;
    let body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"a.png\"\r\n\r\n{}",
        "A".repeat(5000)
    );
    let response = app
        .client
        .post(app.url("/api/v1/feedback"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(body)
        .send()
        .await
        .unwrap();
    problem(response, 400, "malformed_body").await;
    app.assert_nothing_stored().await;
}
