//! Review and removal of a person's data: export, erasure (contact / everything), the audit
//! trail without addresses, retention, and the API's roles.

use chrono::{Duration, Utc};
use feedbackd::domain::Role;
use feedbackd::privacy::requests;
use feedbackd::store::TermsRecord;
use serde_json::{Value, json};

use crate::helpers::{PNG_1X1, TestApp, file_part, has_error, problem, spawn_app};

pub async fn submit_as(app: &TestApp, email: Option<&str>, message: &str) -> uuid::Uuid {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in [
        ("kind", "bug"),
        ("webapp_version", "6.4.2"),
        ("server_version", "9.1.0"),
        ("screen_resolution", "1280x800"),
        ("url", "https://mail.example.org/app"),
        ("terms_accepted", "true"),
    ] {
        form = form.text(k, v);
    }
    form = form
        .text("terms_version", app.terms_version.clone())
        .text("message", message.to_owned());
    if let Some(email) = email {
        form = form
            .text("contact_email", email.to_owned())
            .text("contact_name", "Pat Example");
    }
    let form = form.part("attachment", file_part(PNG_1X1, "shot.png", "image/png"));
    let response = app.post_form(form).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    receipt["id"].as_str().unwrap().parse().unwrap()
}

pub async fn privacy_call(
    app: &TestApp,
    token: &str,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/internal/privacy/{action}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn export_returns_exactly_what_is_tied_to_the_address() {
    let app = spawn_app().await;
    let mine_1 = submit_as(&app, Some("pat@example.org"), "first report").await;
    let mine_2 = submit_as(&app, Some("  PAT@Example.ORG "), "second report").await;
    submit_as(&app, Some("someone.else@example.org"), "not mine").await;
    submit_as(&app, None, "anonymous").await;
    let token = app.token(Role::Webmaster).await;

    let response = privacy_call(&app, &token, "export", json!({"email": "Pat@example.org"})).await;
    assert_eq!(response.status(), 200);
    let export: Value = response.json().await.unwrap();
    let ids: Vec<&str> = export["submissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [mine_2.to_string(), mine_1.to_string()]);
    let first = &export["submissions"][1];
    assert_eq!(first["message"], "first report");
    assert_eq!(first["contact"]["email"], "pat@example.org");
    assert_eq!(first["environment"]["browser"]["brand"], "Firefox");
    assert_eq!(first["terms_accepted"]["button"], "submit");
    assert_eq!(first["attachments"][0]["filename"], "shot.png");
    let text = export.to_string();
    assert!(
        !text.contains("not mine") && !text.contains("anonymous") && !text.contains("someone.else")
    );

    let nobody = privacy_call(
        &app,
        &token,
        "export",
        json!({"email": "nobody@example.org"}),
    )
    .await;
    let nobody: Value = nobody.json().await.unwrap();
    assert_eq!(nobody["submissions"], json!([]));
}

#[tokio::test]
async fn erasing_the_contact_keeps_the_feedback_anonymous() {
    let app = spawn_app().await;
    let id = submit_as(&app, Some("pat@example.org"), "keep this feedback").await;
    let token = app.token(Role::Webmaster).await;
    let response = privacy_call(
        &app,
        &token,
        "erase",
        json!({"email": "PAT@example.org", "scope": "contact"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["removed"]["contacts_removed"], 1);
    assert_eq!(report["removed"]["submissions_removed"], 0);

    let row = app
        .state
        .store
        .submission(id)
        .await
        .unwrap()
        .expect("the feedback stays");
    assert_eq!(row.message, "keep this feedback");
    assert!(row.contact.is_none());
    assert_eq!(app.object_keys().await.len(), 1, "its file stays");
    let again: Value = privacy_call(&app, &token, "export", json!({"email": "pat@example.org"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["submissions"], json!([]));
}

#[tokio::test]
async fn erasing_everything_removes_rows_and_objects() {
    let app = spawn_app().await;
    let gone = submit_as(&app, Some("pat@example.org"), "remove me").await;
    let kept = submit_as(&app, Some("other@example.org"), "keep me").await;
    let token = app.token(Role::Webmaster).await;
    let triager = app.token(Role::Triager).await;
    app.client
        .post(app.url(&format!("/api/v1/internal/feedback/{gone}/notes")))
        .bearer_auth(&triager)
        .json(&json!({"body": "a note about it"}))
        .send()
        .await
        .unwrap();
    let objects_before = app.object_keys().await;
    let response = privacy_call(
        &app,
        &token,
        "erase",
        json!({"email": "pat@example.org", "scope": "everything"}),
    )
    .await;
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["removed"]["submissions_removed"], 1);
    assert_eq!(report["removed"]["objects_deleted"], 1);

    assert!(app.state.store.submission(gone).await.unwrap().is_none());
    assert!(app.state.store.notes(gone).await.unwrap().is_empty());
    assert!(app.state.store.submission(kept).await.unwrap().is_some());
    let objects_after = app.object_keys().await;
    assert_eq!(objects_after.len(), objects_before.len() - 1);
    let kept_row = app.state.store.submission(kept).await.unwrap().unwrap();
    assert_eq!(objects_after, [kept_row.attachments[0].object_key.clone()]);
    assert!(
        app.state
            .store
            .pending_deletions(10)
            .await
            .unwrap()
            .is_empty()
    );
    let counts = app.row_counts().await;
    for (table, count) in counts {
        let expected = if table == "idempotency_keys" { 0 } else { 1 };
        assert_eq!(count, expected, "{table}");
    }
}

#[tokio::test]
async fn the_audit_log_records_privacy_work_without_the_address() {
    let app = spawn_app().await;
    submit_as(&app, Some("pat@example.org"), "report").await;
    let token = app.token(Role::Webmaster).await;
    privacy_call(&app, &token, "export", json!({"email": "pat@example.org"})).await;
    privacy_call(
        &app,
        &token,
        "erase",
        json!({"email": "pat@example.org", "scope": "everything"}),
    )
    .await;
    let audit = app.state.store.audit_log(10).await.unwrap();
    for action in ["privacy_export", "privacy_erase_everything"] {
        let entry = audit.iter().find(|e| e.action == action).expect(action);
        assert!(entry.actor.starts_with("token:"));
        assert!(entry.submission_id.is_none());
        assert!(entry.detail.as_deref().unwrap().contains("submissions=1"));
    }
    let listed: Value = app
        .client
        .get(app.url("/api/v1/internal/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        !listed.to_string().to_lowercase().contains("pat@"),
        "{listed}"
    );
}

#[tokio::test]
async fn privacy_needs_the_webmaster_role_and_valid_input() {
    let app = spawn_app().await;
    let triager = app.token(Role::Triager).await;
    let webmaster = app.token(Role::Webmaster).await;
    for action in ["export", "erase"] {
        let response = privacy_call(
            &app,
            &triager,
            action,
            json!({"email": "a@example.org", "scope": "contact"}),
        )
        .await;
        problem(response, 403, "forbidden").await;
        let anonymous = app
            .client
            .post(app.url(&format!("/api/v1/internal/privacy/{action}")))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        problem(anonymous, 401, "unauthorized").await;
    }
    let bad = privacy_call(
        &app,
        &webmaster,
        "erase",
        json!({"email": "not an address", "scope": "all", "why": 1}),
    )
    .await;
    let body = problem(bad, 422, "unknown_field").await;
    assert!(has_error(&body, "email", "invalid"));
    assert!(has_error(&body, "scope", "invalid"));
    assert!(has_error(&body, "why", "unknown_field"));
    let missing = privacy_call(&app, &webmaster, "export", json!({})).await;
    let body = problem(missing, 422, "validation_failed").await;
    assert!(has_error(&body, "email", "required"));
}

#[tokio::test]
async fn retention_removes_old_submissions_and_old_contact_details() {
    let app = spawn_app().await;
    let recent = submit_as(&app, Some("pat@example.org"), "recent").await;
    let template = app.state.store.submission(recent).await.unwrap().unwrap();
    let aged = |days: i64, with_contact: bool| {
        let mut row = template.clone();
        row.id = uuid::Uuid::now_v7();
        row.received_at = Utc::now() - Duration::days(days);
        row.terms = TermsRecord {
            accepted_at: row.received_at,
            ..row.terms.clone()
        };
        row.attachments = Vec::new();
        if !with_contact {
            row.contact = None;
        } else if let Some(contact) = &mut row.contact {
            contact.sealed = app
                .state
                .vault
                .seal(
                    row.id,
                    &feedbackd::domain::Contact {
                        name: None,
                        email: feedbackd::domain::ContactEmail::parse("pat@example.org").unwrap(),
                    },
                )
                .sealed;
        }
        row
    };
    let very_old = aged(400, true);
    let oldish = aged(40, true);
    for row in [very_old.clone(), oldish.clone()] {
        app.state
            .store
            .insert_submission(row, None, Vec::new())
            .await
            .unwrap();
    }
    let (submissions, contacts) = requests::apply_retention(app.state.store.as_ref(), 365, 30)
        .await
        .unwrap();
    assert_eq!((submissions, contacts), (1, 2));
    assert!(
        app.state
            .store
            .submission(very_old.id)
            .await
            .unwrap()
            .is_none()
    );
    let oldish = app
        .state
        .store
        .submission(oldish.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        oldish.contact.is_none(),
        "old contact details dropped, feedback kept"
    );
    assert!(
        app.state
            .store
            .submission(recent)
            .await
            .unwrap()
            .unwrap()
            .contact
            .is_some()
    );
}

#[tokio::test]
async fn one_replica_at_a_time_holds_the_housekeeping_lease() {
    let app = spawn_app().await;
    let store = app.state.store.as_ref();
    let until = Utc::now() + Duration::minutes(5);
    assert!(store.try_lease("job", "replica-a", until).await.unwrap());
    assert!(
        !store.try_lease("job", "replica-b", until).await.unwrap(),
        "held by a"
    );
    assert!(
        store.try_lease("job", "replica-a", until).await.unwrap(),
        "a renews"
    );
    store.release_lease("job", "replica-b").await.unwrap();
    assert!(
        !store.try_lease("job", "replica-b", until).await.unwrap(),
        "only the holder releases"
    );
    store.release_lease("job", "replica-a").await.unwrap();
    assert!(store.try_lease("job", "replica-b", until).await.unwrap());
    let expired = Utc::now() - Duration::seconds(1);
    assert!(
        store
            .try_lease("other", "replica-a", expired)
            .await
            .unwrap()
    );
    assert!(
        store.try_lease("other", "replica-b", until).await.unwrap(),
        "an expired lease is taken over"
    );
}
