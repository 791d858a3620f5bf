//! Triage changes through the JSON API and the view's bulk bar: an assignee must be a staff
//! member (unassigning stays allowed), and a label can be removed from many submissions at
//! once, all or nothing like every other bulk change.

use feedbackd::domain::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::bulk_triage::{Session, status_and_labels, triage_audit};
use crate::helpers::{TestApp, has_error, problem, spawn_app};

async fn patch(app: &TestApp, token: &str, id: Uuid, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/internal/feedback/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn assignee(app: &TestApp, id: Uuid) -> Option<String> {
    app.state
        .store
        .submission(id)
        .await
        .unwrap()
        .unwrap()
        .assignee
}

#[tokio::test]
async fn the_json_api_refuses_an_assignee_who_is_not_staff() {
    let app = spawn_app().await;
    app.add_staff("Ben").await;
    let token = app.token(Role::Triager).await;
    let id = app.submit(&app.valid_json()).await;

    let refused = problem(
        patch(
            &app,
            &token,
            id,
            json!({"assignee": "bobby", "status": "done"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(has_error(&refused, "assignee", "not_staff"), "{refused}");
    assert_eq!(assignee(&app, id).await, None, "nobody became an owner");
    assert_eq!(
        status_and_labels(&app, id).await.0,
        "new",
        "nothing else changed"
    );
    assert!(triage_audit(&app).await.is_empty(), "nothing audited");

    let response = patch(&app, &token, id, json!({"assignee": "ben"})).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["assignee"], "Ben", "stored as the account spells it");
    assert_eq!(assignee(&app, id).await.as_deref(), Some("Ben"));

    let response = patch(&app, &token, id, json!({"assignee": null})).await;
    assert_eq!(response.status(), 200, "unassigning stays allowed");
    assert_eq!(assignee(&app, id).await, None);
}

#[tokio::test]
async fn a_label_is_removed_in_bulk_all_or_nothing() {
    let app = spawn_app().await;
    let session = Session::start(&app).await;
    let token = app.token(Role::Triager).await;
    let first = app.submit(&app.valid_json()).await;
    let second = app.submit(&app.valid_json()).await;
    for (id, labels) in [(first, json!(["ui", "crash"])), (second, json!(["ui"]))] {
        let response = patch(&app, &token, id, json!({ "labels": labels })).await;
        assert_eq!(response.status(), 200);
    }
    let bulk = |fields: Vec<(&'static str, String)>| {
        let session = &session;
        let app = &app;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            session.post(app, "/triage/bulk", &fields).await
        }
    };

    let unknown = Uuid::now_v7();
    let (key, message) = bulk(vec![
        ("ids", first.to_string()),
        ("ids", unknown.to_string()),
        ("ids", second.to_string()),
        ("remove_label", "UI".to_owned()),
    ])
    .await;
    assert_eq!(key, "error");
    assert!(message.contains(&unknown.to_string()), "{message}");
    assert_eq!(status_and_labels(&app, first).await.1, ["ui", "crash"]);
    assert_eq!(status_and_labels(&app, second).await.1, ["ui"]);
    let audited_before = triage_audit(&app).await.len();

    let (key, message) = bulk(vec![
        ("ids", first.to_string()),
        ("ids", second.to_string()),
        ("remove_label", " UI ".to_owned()),
    ])
    .await;
    assert_eq!(
        (key.as_str(), message.as_str()),
        ("notice", "Updated 2 submissions: label “ui” removed.")
    );
    assert_eq!(status_and_labels(&app, first).await.1, ["crash"]);
    assert!(status_and_labels(&app, second).await.1.is_empty());
    let audit = triage_audit(&app).await;
    assert_eq!(audit.len(), audited_before + 2, "one audit row each");
    assert_eq!(audit[0].detail.as_deref(), Some("-label=ui"));

    // A label removed in the same change makes room on a full submission for the one added.
    let twenty: Vec<String> = (0..20).map(|n| format!("l{n}")).collect();
    let response = patch(&app, &token, first, json!({ "labels": twenty })).await;
    assert_eq!(response.status(), 200);
    let (key, message) = bulk(vec![
        ("ids", first.to_string()),
        ("label", "fixed".to_owned()),
        ("remove_label", "l0".to_owned()),
    ])
    .await;
    assert_eq!(key, "notice", "{message}");
    let labels = status_and_labels(&app, first).await.1;
    assert_eq!(labels.len(), 20);
    assert_eq!(labels.first().map(String::as_str), Some("l1"));
    assert_eq!(labels.last().map(String::as_str), Some("fixed"));
}

#[tokio::test]
async fn the_json_patch_adds_and_removes_one_label() {
    let app = spawn_app().await;
    let token = app.token(Role::Triager).await;
    let id = app.submit(&app.valid_json()).await;
    let response = patch(&app, &token, id, json!({"labels": ["ui", "crash"]})).await;
    assert_eq!(response.status(), 200);

    let response = patch(
        &app,
        &token,
        id,
        json!({"remove_label": "UI", "add_label": "q4"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["labels"], json!(["crash", "q4"]));
    let response = patch(&app, &token, id, json!({"remove_label": "absent"})).await;
    assert_eq!(
        response.status(),
        200,
        "removing a label not there changes nothing"
    );
    assert_eq!(status_and_labels(&app, id).await.1, ["crash", "q4"]);

    let refused = problem(
        patch(
            &app,
            &token,
            id,
            json!({"labels": [], "remove_label": "crash"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(has_error(&refused, "remove_label", "conflict"), "{refused}");
    assert_eq!(status_and_labels(&app, id).await.1, ["crash", "q4"]);
}
