//! Self-service withdrawal: the token comes with the 201 (and its replay) but is stored
//! nowhere; it removes the submission with its files and contact once; anything else is the
//! same `not_found`; the page asks before it posts and redirects to its result.

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};
use crate::raw_db::{rows, spawn_with_db};

async fn submit(app: &TestApp, idempotency_key: &str) -> Value {
    let form = app
        .valid_bug_form()
        .text("contact_email", "pat@example.org")
        .part(
            "attachment",
            crate::helpers::file_part(crate::helpers::PNG_1X1, "shot.png", "image/png"),
        );
    let response = app
        .client
        .post(app.url("/api/v1/feedback"))
        .header("idempotency-key", idempotency_key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn withdraw(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/feedback/{id}/withdraw")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_token_withdraws_once_and_is_stored_nowhere() {
    let (app, url) = spawn_with_db().await;
    let receipt = submit(&app, "key-1").await;
    let id = receipt["id"].as_str().unwrap().to_owned();
    let token = receipt["withdraw_token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    let other = submit(&app, "key-2").await;
    assert_ne!(other["withdraw_token"], receipt["withdraw_token"]);
    assert_eq!(
        submit(&app, "key-1").await["withdraw_token"],
        token.as_str(),
        "a replay carries it too"
    );

    let stored = rows(&url, "SELECT response FROM idempotency_keys").await;
    assert!(!format!("{stored:?}").contains(&token), "{stored:?}");
    assert!(!format!("{stored:?}").contains("withdraw_token"));

    problem(
        withdraw(&app, &id, json!({"token": other["withdraw_token"]})).await,
        404,
        "not_found",
    )
    .await;
    problem(
        withdraw(&app, &id, json!({"token": "00"})).await,
        404,
        "not_found",
    )
    .await;
    problem(
        withdraw(&app, "not-an-id", json!({"token": token})).await,
        404,
        "not_found",
    )
    .await;
    problem(
        withdraw(&app, &id, json!({})).await,
        422,
        "validation_failed",
    )
    .await;
    let keys_before = app.object_keys().await.len();

    let response = withdraw(&app, &id, json!({"token": token})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"withdrawn": id})
    );
    let uuid: uuid::Uuid = id.parse().unwrap();
    assert!(app.state.store.submission(uuid).await.unwrap().is_none());
    assert_eq!(
        app.object_keys().await.len(),
        keys_before - 1,
        "its file is gone"
    );
    problem(
        withdraw(&app, &id, json!({"token": token})).await,
        404,
        "not_found",
    )
    .await;

    let audit = app.state.store.audit_log(10).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action == "withdraw")
        .expect("audited");
    assert_eq!(entry.actor, "submitter");
    assert!(!format!("{audit:?}").contains(&token));
}

#[tokio::test]
async fn the_page_asks_then_posts_and_redirects() {
    let (app, _) = spawn_with_db().await;
    let receipt = submit(&app, "key-page").await;
    let id = receipt["id"].as_str().unwrap();
    let token = receipt["withdraw_token"].as_str().unwrap();
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(app.url(&format!("/withdraw?id={id}&token={token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Withdraw this feedback") && page.contains(token));
    assert!(
        app.state
            .store
            .submission(id.parse().unwrap())
            .await
            .unwrap()
            .is_some(),
        "a GET removes nothing"
    );
    let broken = client
        .get(app.url("/withdraw?id=x&token=<script>"))
        .send()
        .await
        .unwrap();
    let broken = broken.text().await.unwrap();
    assert!(broken.contains("incomplete") && !broken.contains("<script>"));

    let posted = client
        .post(app.url("/withdraw"))
        .form(&[("id", id), ("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    assert_eq!(posted.headers()["location"], "/withdraw?done=1");
    assert!(
        app.state
            .store
            .submission(id.parse().unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let done = client
        .get(app.url("/withdraw?done=1"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(done.contains("has been withdrawn"));
    let again = client
        .post(app.url("/withdraw"))
        .form(&[("id", id), ("token", token)])
        .send()
        .await
        .unwrap();
    assert!(again.text().await.unwrap().contains("Nothing to withdraw"));
}

#[tokio::test]
async fn withdrawal_attempts_count_against_the_intake_rate_limit() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.rate_limit_per_minute = 1;
        s.rate_limit_burst = 2;
    })
    .await;
    let receipt = submit(&app, "key-limit").await;
    let id = receipt["id"].as_str().unwrap();
    let wrong = json!({"token": "ab".repeat(32)});
    problem(withdraw(&app, id, wrong.clone()).await, 404, "not_found").await;
    let limited = withdraw(&app, id, wrong).await;
    assert!(limited.headers().contains_key("retry-after"));
    problem(limited, 429, "rate_limited").await;
}
