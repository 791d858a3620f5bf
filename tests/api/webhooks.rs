//! Webhooks end to end through the outbox: a receiver that is down for a while gets every
//! event once it is back, in order per submission, signed, and without contact details; a
//! hanging receiver never slows intake; filters and the Slack format.

use std::time::{Duration, Instant};

use feedbackd::domain::Role;
use feedbackd::notify::{Event, WebhookFormat};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_with};
use crate::receiver::{DownPort, Mode, Receiver, endpoint, events_of, fast_notify, new_secret};

const EMAIL: &str = "hook.person.91c2@example.org";
const NAME: &str = "Hookperson Ninetyone";
const MESSAGE: &str = "HOOK-MESSAGE-91c2 the calendar jumps";

fn with_contact(app: &TestApp, n: usize) -> Value {
    let mut body = app.valid_json();
    body["message"] = json!(format!("{MESSAGE} #{n}"));
    body["contact_email"] = json!(EMAIL);
    body["contact_name"] = json!(NAME);
    body
}

async fn patch(app: &TestApp, token: &str, id: &str, status: &str) {
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/internal/feedback/{id}")))
        .bearer_auth(token)
        .json(&json!({ "status": status }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn a_receiver_down_for_a_while_gets_every_event_in_order_once_it_is_back() {
    let (secret, key) = new_secret();
    let down = DownPort::new();
    let app = spawn_app_with(|s| {
        s.notify = fast_notify(vec![endpoint("tracker", down.addr, &secret)], 1_000);
        s.public_url = Some("https://feedback.example.net/".into());
    })
    .await;
    let token = app.token(Role::Triager).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let id = app.submit(&with_contact(&app, n)).await.to_string();
        patch(&app, &token, &id, "triaged").await;
        patch(&app, &token, &id, "done").await;
        ids.push(id);
    }
    // Nobody listens: attempts fail (connection refused) and are retried with backoff.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let summary = app.state.store.outbox_summary().await.unwrap();
    assert_eq!(summary.pending, 12, "{summary:?}");
    assert_eq!(summary.dead, 0);
    assert!(summary.oldest_pending_at.is_some());

    let receiver = Receiver::start(down.release(), key, Mode::Accept).await;
    let received = receiver.wait_for(12, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let received_after = receiver.received();
    assert_eq!(received_after.len(), 12, "nothing more, nothing twice");
    assert_eq!(receiver.bad_signatures(), 0);
    let mut webhook_ids: Vec<&str> = received.iter().map(|r| r.webhook_id.as_str()).collect();
    webhook_ids.sort_unstable();
    webhook_ids.dedup();
    assert_eq!(webhook_ids.len(), 12, "one webhook-id per message");
    for id in &ids {
        assert_eq!(
            events_of(&received, id),
            [
                "submission.created",
                "submission.updated triaged",
                "submission.updated done"
            ],
            "in order for {id}"
        );
    }
    for r in &received {
        for secret in [
            EMAIL,
            NAME,
            "Hookperson",
            "HOOK-MESSAGE",
            "mail.example.org",
        ] {
            assert!(!r.raw.contains(secret), "{secret} in {}", r.raw);
        }
        assert!(r.body["timestamp"].is_string());
        let data = &r.body["data"];
        assert_eq!(data["has_contact"], true);
        assert_eq!(data["kind"], "feedback");
        assert_eq!(
            data["url"],
            format!(
                "https://feedback.example.net/triage/feedback/{}",
                data["id"].as_str().unwrap()
            )
        );
    }
    let summary = app.state.store.outbox_summary().await.unwrap();
    assert_eq!(
        (summary.pending, summary.dead),
        (0, 0),
        "delivered messages are deleted"
    );

    let metrics = app
        .client
        .get(app.admin_url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "feedbackd_webhook_deliveries_total{endpoint=\"tracker\",outcome=\"delivered\"} 12"
        ),
        "{metrics}"
    );
    assert!(
        metrics
            .contains("feedbackd_notify_messages_total{channel=\"webhook\",outcome=\"sent\"} 12")
    );
    assert!(
        !metrics
            .contains("feedbackd_notify_messages_total{channel=\"webhook\",outcome=\"retried\"} 0")
    );
}

#[tokio::test]
async fn intake_is_not_slowed_by_a_receiver_that_never_answers() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hanging = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let (secret, _) = new_secret();
    let app = spawn_app_with(|s| {
        s.notify = fast_notify(vec![endpoint("hangs", hanging, &secret)], 1_000);
        s.notify.delivery_timeout_ms = 5_000;
        s.notify.concurrency = 2;
    })
    .await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        app.submit(&app.valid_json()).await;
        slowest = slowest.max(started.elapsed());
    }
    assert!(
        slowest < Duration::from_millis(1_500),
        "slowest intake {slowest:?}"
    );
    assert_eq!(app.state.store.outbox_summary().await.unwrap().pending, 20);
}

#[tokio::test]
async fn filters_choose_endpoints_and_slack_gets_a_line_with_the_link() {
    let (secret, key) = new_secret();
    let standard = Receiver::start("127.0.0.1:0".parse().unwrap(), key.clone(), Mode::Accept).await;
    let slack = Receiver::start("127.0.0.1:0".parse().unwrap(), key, Mode::Accept).await;
    let app = spawn_app_with(|s| {
        let mut bugs = endpoint("bugs", standard.addr, &secret);
        bugs.kinds = vec!["bug".into()];
        bugs.events = vec![Event::SubmissionCreated];
        bugs.include_message = true;
        let mut chat = endpoint("chat", slack.addr, &secret);
        chat.format = WebhookFormat::Slack;
        s.notify = fast_notify(vec![bugs, chat], 5);
        s.public_url = Some("https://feedback.example.net".into());
    })
    .await;
    let feedback = app.submit(&app.valid_json()).await;
    let response = app.post_form(app.valid_bug_form()).await;
    assert_eq!(response.status(), 201);
    let bug: Value = response.json().await.unwrap();
    let bug = bug["id"].as_str().unwrap().to_owned();

    let chat = slack.wait_for(2, Duration::from_secs(10)).await;
    let texts: Vec<&str> = chat
        .iter()
        .map(|r| r.body["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.contains("New feedback")
            && t.contains(&format!(
                "https://feedback.example.net/triage/feedback/{feedback}"
            ))),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("New bug")), "{texts:?}");
    assert!(
        chat.iter().all(|r| r.body.as_object().unwrap().len() == 1),
        "only text"
    );

    let bugs = standard.wait_for(1, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(standard.received().len(), 1, "the feedback is not a bug");
    assert_eq!(bugs[0].body["type"], "submission.created");
    assert_eq!(bugs[0].body["data"]["id"], bug);
    assert_eq!(
        bugs[0].body["data"]["message"], "I attached a file and it vanished.",
        "include_message sends the text"
    );
    assert_eq!(bugs[0].body["data"]["summary"], "Attachments vanish");
}

#[tokio::test]
async fn a_withdrawal_replaces_the_waiting_events_with_its_own() {
    let (secret, key) = new_secret();
    let down = DownPort::new();
    let mut url = String::new();
    let app = spawn_app_with(|s| {
        s.notify = fast_notify(vec![endpoint("tracker", down.addr, &secret)], 1_000);
        // After its first failure the created event waits a minute: it is not in flight when
        // the withdrawal comes (one that is already being sent cannot be called back).
        s.notify.backoff_base_ms = 60_000;
        s.notify.backoff_cap_ms = 60_000;
        url = s.database_url();
    })
    .await;
    let response = app.post_json(&with_contact(&app, 0)).await;
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let failed_once = "SELECT event FROM outbox WHERE attempts = 1 AND claimed_by IS NULL";
    while crate::raw_db::rows(&url, failed_once).await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a first attempt failed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The receiver is back, the created event still waits its backoff: then the withdrawal.
    let receiver = Receiver::start(down.release(), key, Mode::Accept).await;
    let withdrawn = app
        .client
        .post(app.url(&format!("/api/v1/feedback/{id}/withdraw")))
        .json(&json!({ "token": receipt["withdraw_token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), 200);
    let received = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received[0].body["type"], "submission.withdrawn");
    assert_eq!(received[0].body["data"], json!({ "id": id }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "the created event was deleted, never sent"
    );
    let summary = app.state.store.outbox_summary().await.unwrap();
    assert_eq!((summary.pending, summary.dead), (0, 0));
}
