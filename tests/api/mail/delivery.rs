//! Delivery failures: a relay down, then back; permanent and transient refusals.

use feedbackd::domain::Role;
use feedbackd::notify::DeliveryError;
use serde_json::json;

use super::harness::{SmtpServer, app_with_mail, channel, drain, pending};
use super::{ADDRESS, reply, submitted, with_contact};

#[tokio::test]
async fn an_unreachable_relay_is_retried_and_the_message_delivered_when_it_is_back() {
    let Some(mut smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    let id = submitted(&app, &with_contact(&app)).await;
    assert_eq!(reply(&app, &token, id, "Back soon").await.status(), 201);
    let channel = channel(&app);
    smtp.down();
    let outcomes = drain(&app, &channel).await;
    assert!(
        matches!(&outcomes[0].1, Err(DeliveryError::Retry(text)) if !text.contains(ADDRESS)),
        "{:?}",
        outcomes[0].1
    );
    assert_eq!(pending(&app).await.len(), 1, "still pending");
    smtp.up().await;
    let outcomes = drain(&app, &channel).await;
    assert_eq!(outcomes[0].1, Ok(()));
    assert_eq!(smtp.messages_to(ADDRESS).len(), 1);
    assert!(pending(&app).await.is_empty());
}

#[tokio::test]
async fn the_relays_refusals_are_permanent_for_5xx_and_retried_for_4xx_in_our_own_words() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    for (address, permanent) in [
        ("reject.me@example.net", true),
        ("defer.me@example.net", false),
    ] {
        let mut body = app.valid_json();
        body["contact_email"] = json!(address);
        let id = submitted(&app, &body).await;
        assert_eq!(reply(&app, &token, id, "Hello").await.status(), 201);
        let outcomes = drain(&app, &channel(&app)).await;
        let outcome = &outcomes[0].1;
        match (outcome, permanent) {
            (Err(DeliveryError::Permanent(text)), true)
            | (Err(DeliveryError::Retry(text)), false) => {
                assert!(
                    !text.contains(address) && !text.contains("example.net"),
                    "{text}"
                );
                assert!(
                    text.contains(if permanent { "550" } else { "451" }),
                    "{text}"
                );
            }
            other => panic!("{address}: {other:?}"),
        }
    }
    assert!(smtp.messages().is_empty());
}

#[tokio::test]
async fn the_running_service_delivers_its_mail_through_its_own_outbox_worker() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    // Everything else here delivers by hand to see each outcome; this one leaves it to the
    // worker the service runs: intake queues the acknowledgement, the reply queues itself.
    let app = app_with_mail(&smtp, |s| {
        s.notify.worker = true;
        s.mail.acknowledgement = true;
    })
    .await;
    let token = app.token(Role::Triager).await;
    let id = app.submit(&with_contact(&app)).await;
    assert_eq!(reply(&app, &token, id, "Fixed in 6.5").await.status(), 201);
    let started = std::time::Instant::now();
    while smtp.messages_to(ADDRESS).len() < 2 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "delivered: {:?}, pending: {:?}",
            smtp.messages(),
            pending(&app).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let texts: Vec<String> = smtp
        .messages_to(ADDRESS)
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        texts.iter().all(|t| t.contains(&id.to_string())),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("Fixed in 6.5")),
        "{texts:?}"
    );
    // The relay has the message a moment before the worker records it as sent.
    while !pending(&app).await.is_empty() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "still pending after delivery: {:?}",
            pending(&app).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(smtp.messages_to(ADDRESS).len(), 2, "each message sent once");
}
