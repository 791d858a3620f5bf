//! JSON submissions: what is stored, and every field rule with its code.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{FIREFOX_UA, has_error, problem, spawn_app};

#[tokio::test]
async fn json_submission_is_stored_with_exactly_the_disclosed_environment() {
    let app = spawn_app().await;
    let response = app.post_json(&app.valid_json()).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    let id: Uuid = receipt["id"].as_str().unwrap().parse().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(receipt["received_at"].as_str().unwrap()).is_ok());
    assert_eq!(receipt["attachments"], json!([]));

    let row = app
        .state
        .store
        .submission(id)
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(row.kind.as_str(), "feedback");
    assert_eq!(row.status.as_str(), "new");
    assert_eq!(row.message, "The new calendar view is great.");
    assert_eq!(row.rating, Some(5));
    assert_eq!(row.webapp_version, "6.4.2");
    assert_eq!(row.server_version, "9.1.0");
    assert_eq!((row.screen_width, row.screen_height), (1920, 1080));
    assert_eq!(
        row.page_url, "https://mail.example.org/app/calendar",
        "no query, no fragment"
    );
    assert_eq!(row.browser_brand, "Firefox");
    assert_eq!(row.browser_version.as_deref(), Some("128.0"));
    assert_eq!(row.terms.version, app.terms_version);
    assert_eq!(row.terms.sha256, app.state.terms.sha256);
    assert_eq!(row.terms.widget, "feedback");
    assert_eq!(
        row.terms.button, "send",
        "the Feedback? window's button is Send"
    );
    assert!(row.contact.is_none());
}

#[tokio::test]
async fn bug_defaults_to_submit_and_an_explicit_button_is_kept() {
    let app = spawn_app().await;
    let mut body = app.valid_json();
    body["kind"] = json!("bug");
    body.as_object_mut().unwrap().remove("rating");
    let receipt: Value = app.post_json(&body).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.state
            .store
            .submission(id)
            .await
            .unwrap()
            .unwrap()
            .terms
            .button,
        "submit"
    );

    body["button"] = json!("send");
    let receipt: Value = app.post_json(&body).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        app.state
            .store
            .submission(id)
            .await
            .unwrap()
            .unwrap()
            .terms
            .button,
        "send"
    );
}

#[tokio::test]
async fn contact_details_are_sealed_and_indexed_not_stored_in_clear() {
    let app = spawn_app().await;
    let mut body = app.valid_json();
    body["contact_name"] = json!("Ann Example");
    body["contact_email"] = json!("  Ann.Example@Mail.example.ORG ");
    let receipt: Value = app.post_json(&body).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap().parse().unwrap();
    let row = app.state.store.submission(id).await.unwrap().unwrap();
    let contact = row.contact.expect("a contact row");
    let raw = String::from_utf8_lossy(&contact.sealed);
    assert!(
        !raw.contains("Ann") && !raw.contains("example"),
        "ciphertext only"
    );
    assert_eq!(
        contact.blind_index.as_deref(),
        Some(
            app.state
                .vault
                .blind_index("ann.example@mail.example.org")
                .as_str()
        )
    );
    let opened = app.state.vault.open(id, &contact.sealed).unwrap();
    assert_eq!(opened.name.as_deref(), Some("Ann Example"));
    assert_eq!(
        opened.email.as_deref(),
        Some("Ann.Example@Mail.example.ORG")
    );
}

#[tokio::test]
async fn a_missing_user_agent_is_recorded_as_other() {
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/feedback"))
        .json(&app.valid_json())
        .send()
        .await
        .unwrap();
    let receipt: Value = response.json().await.unwrap();
    let row = app
        .state
        .store
        .submission(receipt["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.browser_brand, "Other");
    assert_eq!(row.browser_version, None);
    assert_ne!(FIREFOX_UA, row.browser_brand);
}

/// (field, value, expected code) — each must be refused with 422 and list that field.
fn field_rules() -> Vec<(&'static str, Value, &'static str)> {
    vec![
        ("kind", json!("praise"), "invalid"),
        ("kind", Value::Null, "required"),
        ("summary", json!("s".repeat(201)), "too_long"),
        ("message", json!("   \n "), "empty"),
        ("message", json!("m".repeat(10_001)), "too_long"),
        ("message", Value::Null, "required"),
        ("message", json!(["a"]), "invalid_type"),
        ("rating", json!(0), "out_of_range"),
        ("rating", json!(6), "out_of_range"),
        ("rating", json!(4.5), "out_of_range"),
        ("webapp_version", json!(""), "empty"),
        ("webapp_version", json!("v".repeat(65)), "too_long"),
        ("webapp_version", json!("1.0\u{0007}"), "invalid"),
        ("server_version", Value::Null, "required"),
        ("server_version", json!("x".repeat(65)), "too_long"),
        ("screen_resolution", json!("1920*1080"), "invalid"),
        ("screen_resolution", json!("0x1080"), "invalid"),
        ("screen_resolution", json!("16385x100"), "invalid"),
        ("url", json!("javascript:alert(1)"), "invalid"),
        ("url", json!("/app/mail"), "invalid"),
        (
            "url",
            json!(format!("https://example.org/{}", "a".repeat(2048))),
            "too_long",
        ),
        ("terms_accepted", json!(false), "must_be_true"),
        ("terms_accepted", Value::Null, "required"),
        ("terms_version", Value::Null, "required"),
        ("button", json!("click"), "invalid"),
        ("contact_name", json!("n".repeat(201)), "too_long"),
        ("contact_email", json!("not-an-address"), "invalid"),
        (
            "contact_email",
            json!(format!("{}@example.org", "a".repeat(250))),
            "too_long",
        ),
    ]
}

#[tokio::test]
async fn every_field_rule_is_enforced_and_nothing_is_stored() {
    let app = spawn_app().await;
    for (field, value, code) in field_rules() {
        let mut body = app.valid_json();
        match value {
            Value::Null => {
                body.as_object_mut().unwrap().remove(field);
            }
            value => body[field] = value,
        }
        let problem = problem(app.post_json(&body).await, 422, "validation_failed").await;
        assert!(
            has_error(&problem, field, code),
            "{field} → {code}: {problem}"
        );
        assert_eq!(problem["errors"].as_array().unwrap().len(), 1, "{problem}");
    }
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn boundary_values_are_accepted() {
    let app = spawn_app().await;
    let mut body = app.valid_json();
    body["summary"] = json!("s".repeat(200));
    body["message"] = json!(format!("  {}  ", "é".repeat(10_000)));
    body["webapp_version"] = json!("v".repeat(64));
    body["screen_resolution"] = json!("16384x16384");
    body["url"] = json!(format!("https://example.org/{}", "a".repeat(2048 - 20)));
    body["rating"] = json!(1);
    body["contact_name"] = json!("n".repeat(200));
    assert_eq!(app.post_json(&body).await.status(), 201);
}

#[tokio::test]
async fn all_failing_fields_are_listed_at_once() {
    let app = spawn_app().await;
    let body = json!({"kind": "bug", "rating": 3, "message": "", "terms_accepted": "yes"});
    let problem = problem(app.post_json(&body).await, 422, "validation_failed").await;
    for (field, code) in [
        ("rating", "not_allowed"),
        ("message", "empty"),
        ("webapp_version", "required"),
        ("server_version", "required"),
        ("screen_resolution", "required"),
        ("url", "required"),
        ("terms_version", "required"),
        ("terms_accepted", "must_be_true"),
    ] {
        assert!(
            has_error(&problem, field, code),
            "{field}/{code} in {problem}"
        );
    }
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    let app = spawn_app().await;
    let mut body = app.valid_json();
    body["os"] = json!("Linux");
    body["ip"] = json!("192.0.2.1");
    let problem = problem(app.post_json(&body).await, 422, "unknown_field").await;
    assert!(has_error(&problem, "os", "unknown_field"));
    assert!(has_error(&problem, "ip", "unknown_field"));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_member_sent_twice_is_refused_not_last_one_wins() {
    let app = spawn_app().await;
    let body = app.valid_json().to_string();
    // The same member again at the end of the object: serde_json's map would keep the second.
    let twice = format!(
        "{},\"kind\":\"feature\",\"message\":\"the other text\"}}",
        body.trim_end_matches('}')
    );
    let response = app
        .client
        .post(app.url("/api/v1/feedback"))
        .header("content-type", "application/json")
        .body(twice)
        .send()
        .await
        .unwrap();
    let problem = problem(response, 422, "validation_failed").await;
    assert!(has_error(&problem, "kind", "duplicate"), "{problem}");
    assert!(has_error(&problem, "message", "duplicate"), "{problem}");
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn outdated_terms_are_terms_outdated() {
    let app = spawn_app().await;
    let mut body = app.valid_json();
    body["terms_version"] = json!("1999-01-01");
    let problem = problem(app.post_json(&body).await, 422, "terms_outdated").await;
    assert!(has_error(&problem, "terms_version", "terms_outdated"));
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let app = spawn_app().await;
    for raw in ["{not json", "[1, 2]", "\"text\"", ""] {
        let response = app
            .client
            .post(app.url("/api/v1/feedback"))
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await
            .unwrap();
        problem(response, 400, "malformed_body").await;
    }
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn other_media_types_are_415() {
    let app = spawn_app().await;
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/xml",
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/feedback"))
            .header("content-type", content_type)
            .body("kind=bug")
            .send()
            .await
            .unwrap();
        problem(response, 415, "unsupported_media_type").await;
    }
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn an_oversized_json_body_is_413() {
    let app = spawn_app().await;
    let mut body = app.valid_json();
    body["message"] = json!("x".repeat(200 * 1024));
    problem(app.post_json(&body).await, 413, "too_large").await;
    app.assert_nothing_stored().await;
}
