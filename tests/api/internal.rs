//! The internal JSON API: authentication and roles, the queue, one submission, triage
//! changes, notes, downloads, the audit log, and automatic triage at intake.

use feedbackd::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PNG_1X1, TestApp, file_part, has_error, problem, spawn_app, spawn_app_with};

fn internal(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
) -> reqwest::RequestBuilder {
    let request = app
        .client
        .request(method, app.url(&format!("/api/v1/internal{path}")));
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

async fn get_json(app: &TestApp, path: &str, token: &str) -> Value {
    let response = internal(app, Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn nothing_private_answers_without_a_valid_token() {
    let app = spawn_app().await;
    let id = app.submit(&app.valid_json()).await;
    let routes = [
        (Method::GET, "/feedback".to_owned()),
        (Method::GET, format!("/feedback/{id}")),
        (Method::PATCH, format!("/feedback/{id}")),
        (Method::POST, format!("/feedback/{id}/notes")),
        (Method::GET, format!("/feedback/{id}/attachments/0")),
        (Method::GET, "/audit".to_owned()),
    ];
    let revoked = app.token(Role::Admin).await;
    let name = app.state.store.tokens().await.unwrap()[0].name.clone();
    assert!(app.state.store.revoke_token(&name).await.unwrap());
    for (method, path) in &routes {
        for token in [None, Some("fbd_not-a-token"), Some(revoked.as_str())] {
            let response = internal(&app, method.clone(), path, token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            let body = problem(response, 401, "unauthorized").await;
            // Not even whether the submission exists: an unknown id gets the same answer.
            let unknown = path.replace(&id.to_string(), &uuid::Uuid::now_v7().to_string());
            let other = internal(&app, method.clone(), &unknown, token)
                .send()
                .await
                .unwrap();
            assert_eq!(
                problem(other, 401, "unauthorized").await,
                body,
                "{method} {path}"
            );
        }
    }
    let basic = internal(&app, Method::GET, "/feedback", None)
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    problem(basic, 401, "unauthorized").await;
}

#[tokio::test]
async fn roles_are_enforced() {
    let app = spawn_app().await;
    let triager = app.token(Role::Triager).await;
    let admin = app.token(Role::Admin).await;
    get_json(&app, "/feedback", &triager).await;
    let audit = internal(&app, Method::GET, "/audit", Some(&triager))
        .send()
        .await
        .unwrap();
    problem(audit, 403, "forbidden").await;
    get_json(&app, "/audit", &admin).await;
}

#[tokio::test]
async fn the_queue_is_newest_first_in_keyset_pages() {
    let app = spawn_app().await;
    let token = app.token(Role::Triager).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut body = app.valid_json();
        body["message"] = json!(format!("message number {i}"));
        ids.push(app.submit(&body).await.to_string());
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut path = "/feedback?limit=3".to_owned();
    loop {
        let page = get_json(&app, &path, &token).await;
        for item in page["items"].as_array().unwrap() {
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/feedback?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, ids, "every submission once, newest first");
    let bad = internal(
        &app,
        Method::GET,
        "/feedback?limit=0&cursor=nope&status=closed",
        Some(&token),
    )
    .send()
    .await
    .unwrap();
    let body = problem(bad, 422, "validation_failed").await;
    for field in ["limit", "cursor", "status"] {
        assert!(
            body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field)
        );
    }
}

#[tokio::test]
async fn the_queue_filters_by_every_criterion() {
    let app = spawn_app().await;
    let token = app.token(Role::Triager).await;
    let mut bug = app.valid_json();
    bug["kind"] = json!("bug");
    bug.as_object_mut().unwrap().remove("rating");
    bug["message"] = json!("The attachment upload spinner never stops");
    bug["webapp_version"] = json!("7.0.0");
    let bug_id = app.submit(&bug).await;
    let idea = app.submit(&app.valid_json()).await;
    app.client
        .patch(app.url(&format!("/api/v1/internal/feedback/{idea}")))
        .bearer_auth(&token)
        .json(&json!({"status": "triaged", "labels": ["ux"], "assignee": "ann"}))
        .send()
        .await
        .unwrap();

    let only = |query: &'static str, expected: Vec<uuid::Uuid>| {
        let app = &app;
        let token = &token;
        async move {
            let page = get_json(app, &format!("/feedback?{query}"), token).await;
            let got: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned())
                .collect();
            let want: Vec<String> = expected.iter().map(ToString::to_string).collect();
            assert_eq!(got, want, "{query}");
        }
    };
    only("kind=bug", vec![bug_id]).await;
    only("status=triaged", vec![idea]).await;
    only("status=new", vec![bug_id]).await;
    only("label=ux", vec![idea]).await;
    only("assignee=ann", vec![idea]).await;
    only("webapp_version=7.0.0", vec![bug_id]).await;
    only("server_version=9.1.0&kind=feedback", vec![idea]).await;
    only("browser=Firefox&kind=bug", vec![bug_id]).await;
    only("browser=Chrome", vec![]).await;
    only("q=spinner%20upload", vec![bug_id]).await;
    only("q=calendar", vec![idea]).await;
    only("q=%22unbalanced", vec![]).await;
    only("from=2000-01-01&to=2000-01-02", vec![]).await;
    only("from=2000-01-01", vec![idea, bug_id]).await;
}

#[tokio::test]
async fn one_submission_with_everything_and_an_audited_contact_view() {
    let app = spawn_app().await;
    let token = app.token(Role::Triager).await;
    let form = app
        .valid_bug_form()
        .text("contact_name", "Ann Example")
        .text("contact_email", "Ann@Example.org")
        .part("attachment", file_part(PNG_1X1, "shot.png", "image/png"));
    let receipt: Value = app.post_form(form).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap();

    let detail = get_json(&app, &format!("/feedback/{id}"), &token).await;
    assert_eq!(detail["kind"], "bug");
    assert_eq!(detail["status"], "new");
    assert_eq!(detail["environment"]["browser"]["brand"], "Firefox");
    assert_eq!(detail["environment"]["screen_resolution"], "2560x1440");
    assert_eq!(
        detail["environment"]["url"],
        "https://mail.example.org/app/mail"
    );
    assert_eq!(detail["terms"]["button"], "submit");
    assert_eq!(detail["attachments"][0]["filename"], "shot.png");
    assert_eq!(detail["contact"]["email"], "Ann@Example.org");
    assert_eq!(detail["contact"]["name"], "Ann Example");

    let audit = app.state.store.audit_log(10).await.unwrap();
    let view = audit
        .iter()
        .find(|e| e.action == "view_contact")
        .expect("the view is audited");
    assert_eq!(view.submission_id.unwrap().to_string(), id);
    let blind_index = app.state.vault.blind_index("ann@example.org");
    assert!(
        !format!("{view:?}").contains(&blind_index),
        "no per-person key in the audit log"
    );
    assert!(view.actor.starts_with("token:"));
    let admin = app.token(Role::Admin).await;
    let audit_json = get_json(&app, "/audit", &admin).await.to_string();
    assert!(
        !audit_json.to_lowercase().contains("example.org"),
        "no address in the audit log"
    );

    let missing = internal(
        &app,
        Method::GET,
        &format!("/feedback/{}", uuid::Uuid::now_v7()),
        Some(&token),
    )
    .send()
    .await
    .unwrap();
    problem(missing, 404, "not_found").await;
}

#[tokio::test]
async fn triage_changes_are_validated_applied_and_audited() {
    let app = spawn_app().await;
    let token = app.token(Role::Triager).await;
    let original = app.submit(&app.valid_json()).await;
    let copy = app.submit(&app.valid_json()).await;
    let patch = |body: Value| {
        internal(
            &app,
            Method::PATCH,
            &format!("/feedback/{copy}"),
            Some(&token),
        )
        .json(&body)
        .send()
    };
    let response = patch(json!({"status": "duplicate", "duplicate_of": original, "labels": ["UI", "calendar"], "assignee": "bob"})).await.unwrap();
    assert_eq!(response.status(), 200);
    let detail: Value = response.json().await.unwrap();
    assert_eq!(detail["status"], "duplicate");
    assert_eq!(detail["duplicate_of"], original.to_string());
    assert_eq!(detail["labels"], json!(["ui", "calendar"]));
    assert_eq!(detail["assignee"], "bob");
    assert!(
        detail["likely_duplicates"]
            .as_array()
            .unwrap()
            .contains(&json!(original)),
        "same text, same fingerprint"
    );

    let cleared: Value = patch(json!({"assignee": null, "duplicate_of": null}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["assignee"], Value::Null);
    assert_eq!(cleared["status"], "duplicate", "untouched fields stay");

    let bad =
        patch(json!({"status": "closed", "labels": "ui", "colour": "red", "duplicate_of": "x"}))
            .await
            .unwrap();
    let body = problem(bad, 422, "unknown_field").await;
    assert!(has_error(&body, "status", "invalid"));
    assert!(has_error(&body, "labels", "invalid_type"));
    assert!(has_error(&body, "colour", "unknown_field"));
    assert!(has_error(&body, "duplicate_of", "invalid"));
    let itself = patch(json!({"duplicate_of": copy})).await.unwrap();
    problem(itself, 422, "validation_failed").await;

    let audit = app.state.store.audit_log(10).await.unwrap();
    assert!(audit.iter().any(|e| {
        e.action == "triage"
            && e.detail
                .as_deref()
                .unwrap_or("")
                .contains("status=duplicate")
    }));
}

#[tokio::test]
async fn notes_and_downloads() {
    let app = spawn_app().await;
    let token = app.token(Role::Triager).await;
    let mut png = PNG_1X1.to_vec();
    png.extend_from_slice(&[0u8; 4096]);
    let form = app.valid_bug_form().part(
        "attachment",
        file_part(&png, "Bildschirm größe.png", "image/png"),
    );
    let receipt: Value = app.post_form(form).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap();

    let note = internal(
        &app,
        Method::POST,
        &format!("/feedback/{id}/notes"),
        Some(&token),
    )
    .json(&json!({"body": "Reproduced on staging."}))
    .send()
    .await
    .unwrap();
    assert_eq!(note.status(), StatusCode::CREATED);
    let detail = get_json(&app, &format!("/feedback/{id}"), &token).await;
    assert_eq!(detail["notes"][0]["body"], "Reproduced on staging.");
    let empty = internal(
        &app,
        Method::POST,
        &format!("/feedback/{id}/notes"),
        Some(&token),
    )
    .json(&json!({"body": "  "}))
    .send()
    .await
    .unwrap();
    problem(empty, 422, "validation_failed").await;

    let file = internal(
        &app,
        Method::GET,
        &format!("/feedback/{id}/attachments/0"),
        Some(&token),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(file.status(), 200);
    let headers = file.headers().clone();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["content-type"], "image/png");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"Bildschirm gr__e.png\""),
        "{disposition}"
    );
    assert!(disposition.contains("filename*=UTF-8''Bildschirm%20gr%C3%B6%C3%9Fe.png"));
    assert_eq!(file.bytes().await.unwrap().as_ref(), png.as_slice());
    let none = internal(
        &app,
        Method::GET,
        &format!("/feedback/{id}/attachments/1"),
        Some(&token),
    )
    .send()
    .await
    .unwrap();
    problem(none, 404, "not_found").await;
}

#[tokio::test]
async fn automatic_triage_routes_and_catches_spam() {
    let app = spawn_app_with(|s| {
        s.triage_rules = vec![feedbackd::triage::Rule {
            kind: Some("feedback".into()),
            words: vec!["calendar".into()],
            labels: vec!["calendar".into()],
            assignee: Some("cal-team".into()),
            ..Default::default()
        }];
    })
    .await;
    let routed = app.submit(&app.valid_json()).await;
    let row = app.state.store.submission(routed).await.unwrap().unwrap();
    assert_eq!(row.labels, ["calendar"]);
    assert_eq!(row.assignee.as_deref(), Some("cal-team"));
    assert_eq!(row.status.as_str(), "new");

    let mut bot = app.valid_json();
    bot["website"] = json!("http://cheap.example");
    let spam = app.submit(&bot).await;
    assert_eq!(
        app.state
            .store
            .submission(spam)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "spam"
    );
    let mut hasty = app.valid_json();
    hasty["form_ms"] = json!(150);
    let spam = app.submit(&hasty).await;
    assert_eq!(
        app.state
            .store
            .submission(spam)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "spam"
    );
    let token = app.token(Role::Triager).await;
    let queue = get_json(&app, "/feedback?status=new", &token).await;
    assert_eq!(
        queue["items"].as_array().unwrap().len(),
        1,
        "spam stays out of the queue"
    );
}
