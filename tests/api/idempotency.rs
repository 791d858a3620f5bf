//! `Idempotency-Key`: a retry with the same content gets the first response and stores nothing
//! new; the same key with other content is refused.

use serde_json::Value;

use crate::helpers::{PNG_1X1, file_part, has_error, problem, spawn_app};

#[tokio::test]
async fn a_retry_with_the_same_key_returns_the_first_response() {
    let app = spawn_app().await;
    let send = || {
        app.client
            .post(app.url("/api/v1/feedback"))
            .header("idempotency-key", "a7d3c1e2-retry-1")
            .json(&app.valid_json())
            .send()
    };
    let first = send().await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let second = send().await.unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    let second: Value = second.json().await.unwrap();
    assert_eq!(first, second);
    let counts = app.row_counts().await;
    assert!(counts.contains(&("submissions", 1)), "{counts:?}");
    assert!(counts.contains(&("idempotency_keys", 1)), "{counts:?}");
}

#[tokio::test]
async fn concurrent_requests_with_one_key_store_one_submission_and_one_object() {
    let app = spawn_app().await;
    let send = || {
        let form = app
            .valid_bug_form()
            .part("attachment", file_part(PNG_1X1, "s.png", "image/png"));
        app.client
            .post(app.url("/api/v1/feedback"))
            .header("idempotency-key", "same-key-everywhere")
            .multipart(form)
            .send()
    };
    let responses = futures::future::join_all((0..8).map(|_| send())).await;
    let mut ids = Vec::new();
    for response in responses {
        let response = response.unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        ids.push(body["id"].as_str().unwrap().to_owned());
    }
    ids.dedup();
    assert_eq!(
        ids.len(),
        1,
        "every response names the one stored submission"
    );
    assert!(app.row_counts().await.contains(&("submissions", 1)));
    assert_eq!(
        app.object_keys().await.len(),
        1,
        "the losers' uploads were removed"
    );
}

#[tokio::test]
async fn different_keys_are_different_submissions() {
    let app = spawn_app().await;
    for key in ["k-1", "k-2"] {
        let response = app
            .client
            .post(app.url("/api/v1/feedback"))
            .header("idempotency-key", key)
            .json(&app.valid_json())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    assert!(app.row_counts().await.contains(&("submissions", 2)));
}

#[tokio::test]
async fn a_malformed_key_is_refused() {
    let app = spawn_app().await;
    for key in ["x".repeat(129), "has space".to_owned()] {
        let response = app
            .client
            .post(app.url("/api/v1/feedback"))
            .header("idempotency-key", key)
            .json(&app.valid_json())
            .send()
            .await
            .unwrap();
        let problem = problem(response, 422, "validation_failed").await;
        assert!(has_error(&problem, "Idempotency-Key", "invalid"));
    }
    app.assert_nothing_stored().await;
}

#[tokio::test]
async fn a_key_reused_for_other_content_is_refused_and_stores_nothing() {
    let app = spawn_app().await;
    let post = |body: Value| {
        app.client
            .post(app.url("/api/v1/feedback"))
            .header("idempotency-key", "reused-key")
            .json(&body)
            .send()
    };
    let first = post(app.valid_json()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();

    let mut other = app.valid_json();
    other["message"] = "Someone else's feedback, sent with the same key.".into();
    let refused = post(other.clone()).await.unwrap();
    let body = problem(refused, 422, "idempotency_key_reused").await;
    assert!(has_error(
        &body,
        "Idempotency-Key",
        "idempotency_key_reused"
    ));
    assert!(
        !body.to_string().contains(first["id"].as_str().unwrap()),
        "the first submitter's receipt is not shown: {body}"
    );

    // The same content is still answered with the first receipt.
    let again = post(app.valid_json()).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert!(app.row_counts().await.contains(&("submissions", 1)));
}

#[tokio::test]
async fn a_key_reused_with_another_file_is_refused_and_its_upload_removed() {
    let app = spawn_app().await;
    let send = |file: &'static [u8]| {
        let form = app
            .valid_bug_form()
            .part("attachment", file_part(file, "log.txt", "text/plain"));
        app.client
            .post(app.url("/api/v1/feedback"))
            .header("idempotency-key", "file-key")
            .multipart(form)
            .send()
    };
    assert_eq!(send(b"first log\n").await.unwrap().status(), 201);
    problem(
        send(b"another log\n").await.unwrap(),
        422,
        "idempotency_key_reused",
    )
    .await;
    assert_eq!(
        app.object_keys().await.len(),
        1,
        "the refused upload is gone"
    );
    assert!(app.row_counts().await.contains(&("submissions", 1)));
}
