//! The outbox as admins see it: a receiver that always fails leaves a dead message, shown in
//! the JSON API and the triage view; retry delivers it once the receiver works, discard
//! removes it; an erasure leaves no message of the erased submission.

use std::time::{Duration, Instant};

use feedbackd::domain::Role;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem, spawn_app_with};
use crate::receiver::{DownPort, Mode, Receiver, endpoint, fast_notify, new_secret};

const PASSWORD: &str = "correct horse battery staple";

async fn overview(app: &TestApp, token: &str) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/internal/outbox"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn wait_for_dead(app: &TestApp, token: &str, n: i64) -> Value {
    let started = Instant::now();
    loop {
        let outbox = overview(app, token).await;
        if outbox["dead"] == n {
            return outbox;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no {n} dead message(s): {outbox}"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// An admin's browser session: (client, cookie).
async fn admin_session(app: &TestApp) -> (reqwest::Client, String) {
    feedbackd::staff::add_user(app.state.store.as_ref(), "ada", Role::Admin, PASSWORD)
        .await
        .unwrap();
    log_in(app, "ada").await
}

async fn log_in(app: &TestApp, name: &str) -> (reqwest::Client, String) {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let response = client
        .post(app.url("/triage/login"))
        .form(&[("name", name), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    (client, cookie.split(';').next().unwrap().to_owned())
}

async fn view(app: &TestApp, session: &(reqwest::Client, String)) -> String {
    let response = session
        .0
        .get(app.url("/triage/outbox"))
        .header("cookie", &session.1)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"));
    response.text().await.unwrap()
}

fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_failing_receiver_leaves_a_dead_message_to_retry_or_discard() {
    let (secret, key) = new_secret();
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), key, Mode::Fail(503)).await;
    let app = spawn_app_with(|s| {
        s.notify = fast_notify(vec![endpoint("tracker", receiver.addr, &secret)], 3);
    })
    .await;
    let admin = app.token(Role::Admin).await;
    let triager = app.token(Role::Triager).await;
    let first = app.submit(&app.valid_json()).await;

    let outbox = wait_for_dead(&app, &admin, 1).await;
    assert_eq!(outbox["pending"], 0);
    let dead = &outbox["dead_messages"][0];
    assert_eq!(dead["event"], "submission.created");
    assert_eq!(dead["destination"], "webhook:tracker");
    assert_eq!(dead["submission"], first.to_string());
    assert_eq!(dead["attempts"], 3, "the retry limit");
    assert_eq!(dead["last_error"], "HTTP 503");
    let first_id = dead["id"].as_i64().unwrap();

    // Admins only, in the API and the view.
    for path in [
        "/api/v1/internal/outbox".to_owned(),
        format!("/api/v1/internal/outbox/{first_id}/retry"),
    ] {
        let response = if path.ends_with("retry") {
            app.client.post(app.url(&path))
        } else {
            app.client.get(app.url(&path))
        }
        .bearer_auth(&triager)
        .send()
        .await
        .unwrap();
        problem(response, 403, "forbidden").await;
    }

    let session = admin_session(&app).await;
    let html = view(&app, &session).await;
    assert!(
        html.contains("href=\"/triage/outbox\""),
        "admins see the page in the menu"
    );
    feedbackd::staff::add_user(app.state.store.as_ref(), "wendy", Role::Webmaster, PASSWORD)
        .await
        .unwrap();
    let webmaster = log_in(&app, "wendy").await;
    let refused = webmaster
        .0
        .get(app.url("/triage/outbox"))
        .header("cookie", &webmaster.1)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "admins only");
    let queue = webmaster
        .0
        .get(app.url("/triage"))
        .header("cookie", &webmaster.1)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !queue.contains("/triage/outbox"),
        "no menu entry for others"
    );
    assert!(
        html.contains(&format!("id=\"message-{first_id}\"")),
        "{html}"
    );
    assert!(html.contains("HTTP 503") && html.contains("webhook:tracker"));
    assert!(html.contains(&format!("/triage/feedback/{first}")));

    // A second one dies too; it is discarded from the view.
    let second = app.submit(&app.valid_json()).await;
    let outbox = wait_for_dead(&app, &admin, 2).await;
    let second_id = outbox["dead_messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["submission"] == second.to_string())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let html = view(&app, &session).await;
    let forged = session
        .0
        .post(app.url(&format!("/triage/outbox/{second_id}")))
        .header("cookie", &session.1)
        .form(&[("csrf", "forged"), ("action", "discard")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403, "CSRF is checked");
    let discarded = session
        .0
        .post(app.url(&format!("/triage/outbox/{second_id}")))
        .header("cookie", &session.1)
        .form(&[("csrf", csrf(&html).as_str()), ("action", "discard")])
        .send()
        .await
        .unwrap();
    assert_eq!(discarded.status(), 303);
    let outbox = overview(&app, &admin).await;
    assert_eq!(outbox["dead"], 1, "{outbox}");

    // Fixed receiver: retrying (from the JSON API) delivers the first.
    receiver.set_mode(Mode::Accept);
    let retried = app
        .client
        .post(app.url(&format!("/api/v1/internal/outbox/{first_id}/retry")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 204);
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].body["data"]["id"], first.to_string());
    assert_eq!(
        received[0].webhook_id,
        format!("msg_{first_id}"),
        "the same id as before"
    );
    let started = Instant::now();
    while overview(&app, &admin).await["dead"] != 0 || overview(&app, &admin).await["pending"] != 0
    {
        assert!(started.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "the discarded one never went out"
    );

    // Gone: nothing to retry or discard.
    for response in [
        app.client
            .post(app.url(&format!("/api/v1/internal/outbox/{first_id}/retry"))),
        app.client
            .delete(app.url(&format!("/api/v1/internal/outbox/{second_id}"))),
        app.client
            .delete(app.url("/api/v1/internal/outbox/not-a-number")),
    ] {
        problem(
            response.bearer_auth(&admin).send().await.unwrap(),
            404,
            "not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn gone_is_dead_at_once_and_discard_works_from_the_api() {
    let (secret, key) = new_secret();
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap(), key, Mode::Fail(410)).await;
    let app = spawn_app_with(|s| {
        s.notify = fast_notify(vec![endpoint("tracker", receiver.addr, &secret)], 10);
    })
    .await;
    let admin = app.token(Role::Admin).await;
    app.submit(&app.valid_json()).await;
    let outbox = wait_for_dead(&app, &admin, 1).await;
    let dead = &outbox["dead_messages"][0];
    assert_eq!(dead["attempts"], 1, "410 is not retried");
    assert_eq!(dead["last_error"], "HTTP 410");
    let id = dead["id"].as_i64().unwrap();
    let response = app
        .client
        .delete(app.url(&format!("/api/v1/internal/outbox/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(overview(&app, &admin).await["dead"], 0);
}

#[tokio::test]
async fn a_message_for_a_removed_endpoint_is_dead_and_erasure_purges() {
    let (secret, _) = new_secret();
    let down = DownPort::new();
    let app = spawn_app_with(|s| {
        s.notify = fast_notify(vec![endpoint("tracker", down.addr, &secret)], 1_000);
    })
    .await;
    let admin = app.token(Role::Admin).await;
    let webmaster = app.token(Role::Webmaster).await;
    let mut body = app.valid_json();
    body["contact_email"] = json!("purge.me@example.org");
    let erased = app.submit(&body).await;
    let kept = app.submit(&app.valid_json()).await;
    assert_eq!(overview(&app, &admin).await["pending"], 2);

    let response = app
        .client
        .post(app.url("/api/v1/internal/privacy/erase"))
        .bearer_auth(&webmaster)
        .json(&json!({ "email": "purge.me@example.org", "scope": "everything" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let outbox = overview(&app, &admin).await;
    assert_eq!(
        outbox["pending"], 1,
        "only {kept}'s message is left: {outbox}"
    );
    let url = app.state.settings.database_url();
    let left = crate::raw_db::rows(&url, "SELECT CAST(submission_id AS TEXT) FROM outbox").await;
    assert!(
        !format!("{left:?}").contains(&erased.to_string()),
        "{left:?}"
    );

    // A message written for an endpoint since removed from the configuration: dead, kept.
    crate::raw_db::execute(
        &url,
        "INSERT INTO outbox (event, destination, payload, next_attempt_at, created_at) VALUES \
         ('submission.created', 'webhook:removed', '{}', '2020-01-01T00:00:00+00:00', \
         '2020-01-01T00:00:00+00:00')",
    )
    .await;
    let outbox = wait_for_dead(&app, &admin, 1).await;
    let dead = &outbox["dead_messages"][0];
    assert_eq!(dead["destination"], "webhook:removed");
    assert_eq!(dead["attempts"], 1);
    assert_eq!(
        dead["last_error"],
        "no such webhook endpoint in the configuration"
    );
}
