//! E-mail against a real SMTP server (aiosmtpd, see `harness`): replies to the submitter, the
//! staff notification and digest, the acknowledgement, and delivery failures.

mod harness;
mod view;

use feedbackd::domain::Role;
use feedbackd::notify::{DeliveryError, Destination, Event};
use feedbackd::store::{MailPreferences, SubscriptionMode};
use harness::{SmtpServer, app_with_mail, channel, count, drain, pending, queue_intake_messages};
use serde_json::{Value, json};

use crate::helpers::{TestApp, problem};

const ADDRESS: &str = "ana.example@example.net";
const NAME: &str = "Anabel Examplestein";

fn with_contact(app: &TestApp) -> Value {
    let mut body = app.valid_json();
    body["contact_email"] = json!(ADDRESS);
    body["contact_name"] = json!(NAME);
    body
}

async fn reply(app: &TestApp, token: &str, id: impl std::fmt::Display, body: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/internal/feedback/{id}/replies")))
        .bearer_auth(token)
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap()
}

/// A staff account with an address and subscriptions.
async fn subscriber(app: &TestApp, name: &str, email: &str, kinds: &[(&str, SubscriptionMode)]) {
    feedbackd::staff::add_user(
        app.state.store.as_ref(),
        name,
        Role::Triager,
        "correct horse battery staple",
    )
    .await
    .unwrap();
    let preferences = MailPreferences {
        email: Some(email.to_owned()),
        subscriptions: kinds.iter().map(|(k, m)| ((*k).to_owned(), *m)).collect(),
    };
    assert!(
        app.state
            .store
            .set_mail_preferences(name, &preferences)
            .await
            .unwrap()
    );
}

fn holds_no_contact(message: &Value) {
    let raw = message["raw"].as_str().unwrap().to_lowercase();
    for personal in [ADDRESS, NAME, "anabel", "examplestein"] {
        assert!(!raw.contains(&personal.to_lowercase()), "{personal} in {raw}");
    }
}

#[tokio::test]
async fn a_reply_reaches_the_submitter_with_the_reference_and_is_kept_and_audited() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    let id = app.submit(&with_contact(&app)).await;
    let response = reply(&app, &token, id, "  Thanks! This is fixed in 6.5.  ").await;
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["body"], "Thanks! This is fixed in 6.5.");

    let detail: Value = app
        .client
        .get(app.url(&format!("/api/v1/internal/feedback/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let replies = detail["replies"].as_array().unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0]["body"], "Thanks! This is fixed in 6.5.");
    assert!(replies[0]["author"].as_str().unwrap().starts_with('t'));
    assert!(replies[0]["created_at"].is_string());

    let queued = pending(&app).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].event, Event::ReplyCreated);
    assert_eq!(queued[0].destination, Destination::Submitter);
    let stored = queued[0].payload.to_string();
    assert!(!stored.contains(ADDRESS) && !stored.contains("fixed"), "{stored}");

    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].1, Ok(()));
    assert!(pending(&app).await.is_empty(), "delivered messages leave the outbox");
    let mail = smtp.messages_to(ADDRESS);
    assert_eq!(mail.len(), 1, "{:?}", smtp.messages());
    let mail = &mail[0];
    assert!(mail["subject"].as_str().unwrap().contains(&id.to_string()));
    assert!(mail["text"].as_str().unwrap().contains("Thanks! This is fixed in 6.5."));
    assert!(mail["text"].as_str().unwrap().contains(&id.to_string()));
    assert!(mail["html"].as_str().unwrap().contains(&id.to_string()));
    assert!(mail["headers"]["from"].as_str().unwrap().contains("feedback@example.org"));
    assert_eq!(mail["headers"]["auto-submitted"], "auto-generated");

    let audit: Value = app
        .client
        .get(app.url("/api/v1/internal/audit"))
        .bearer_auth(app.token(Role::Admin).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    let replied: Vec<_> = entries
        .iter()
        .filter(|e| e["action"] == "reply_contact")
        .collect();
    assert_eq!(replied.len(), 1);
    assert_eq!(replied[0]["submission_id"], id.to_string());
    assert!(!audit.to_string().contains(ADDRESS));
}

#[tokio::test]
async fn a_reply_without_an_address_is_refused_and_nothing_is_stored_or_queued() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    let anonymous = app.submit(&app.valid_json()).await;
    let mut name_only = app.valid_json();
    name_only["contact_name"] = json!(NAME);
    let name_only = app.submit(&name_only).await;
    for id in [anonymous, name_only] {
        problem(reply(&app, &token, id, "Hello").await, 409, "no_contact").await;
    }
    problem(
        reply(&app, &token, uuid::Uuid::now_v7(), "Hello").await,
        404,
        "not_found",
    )
    .await;
    let with_address = app.submit(&with_contact(&app)).await;
    problem(reply(&app, &token, with_address, " \n ").await, 422, "validation_failed").await;
    let long = "x".repeat(5_001);
    let refused = problem(reply(&app, &token, with_address, &long).await, 422, "validation_failed").await;
    assert!(crate::helpers::has_error(&refused, "body", "too_long"));
    assert_eq!(count(&app, "replies").await, 0);
    assert_eq!(count(&app, "outbox").await, 0);
    assert!(drain(&app, &channel(&app)).await.is_empty());
    assert!(smtp.messages().is_empty());
    // Without a relay there is nothing to send with: refused, nothing kept.
    let off = crate::helpers::spawn_app().await;
    let id = off.submit(&with_contact(&off)).await;
    problem(reply(&off, &off.token(Role::Triager).await, id, "Hi").await, 409, "mail_disabled").await;
    assert_eq!(count(&off, "replies").await, 0);
}

#[tokio::test]
async fn a_contact_erasure_redacts_replies_and_stops_their_delivery() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    let id = app.submit(&with_contact(&app)).await;
    let text = format!("Dear {NAME}, we will write to {ADDRESS} when it ships.");
    assert_eq!(reply(&app, &token, id, &text).await.status(), 201);
    let webmaster = app.token(Role::Webmaster).await;
    let erased = app
        .client
        .post(app.url("/api/v1/internal/privacy/erase"))
        .bearer_auth(&webmaster)
        .json(&json!({ "email": ADDRESS, "scope": "contact" }))
        .send()
        .await
        .unwrap();
    assert_eq!(erased.status(), 200);
    let kept = app.state.store.replies(id).await.unwrap();
    assert_eq!(kept.len(), 1, "the reply is kept, redacted");
    let body = kept[0].body.to_lowercase();
    for personal in [ADDRESS, NAME, "anabel", "examplestein"] {
        assert!(!body.contains(&personal.to_lowercase()), "{personal} in {body}");
    }
    assert!(body.contains("when it ships"), "{body}");
    // The reply queued before the erasure is not sent: the address is gone.
    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(
        outcomes[0].1,
        Err(DeliveryError::Permanent("contact details erased".into()))
    );
    assert!(smtp.messages().is_empty());
    // Now without an address, a new reply is refused.
    problem(reply(&app, &token, id, "Hello again").await, 409, "no_contact").await;

    // A full erasure removes the replies with the submission.
    let other = app.submit(&with_contact(&app)).await;
    assert_eq!(reply(&app, &token, other, "Thanks").await.status(), 201);
    let everything = app
        .client
        .post(app.url("/api/v1/internal/privacy/erase"))
        .bearer_auth(&webmaster)
        .json(&json!({ "email": ADDRESS, "scope": "everything" }))
        .send()
        .await
        .unwrap();
    assert_eq!(everything.status(), 200);
    assert!(app.state.store.replies(other).await.unwrap().is_empty());
    assert_eq!(count(&app, "replies").await, 1, "the first, anonymous now, is kept");
}

#[tokio::test]
async fn the_export_includes_the_replies_sent_to_the_person() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |_| {}).await;
    let id = app.submit(&with_contact(&app)).await;
    let token = app.token(Role::Triager).await;
    assert_eq!(reply(&app, &token, id, "We fixed it.").await.status(), 201);
    let export: Value = app
        .client
        .post(app.url("/api/v1/internal/privacy/export"))
        .bearer_auth(app.token(Role::Webmaster).await)
        .json(&json!({ "email": ADDRESS }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let submission = &export["submissions"][0];
    assert_eq!(submission["replies"][0]["body"], "We fixed it.");
    assert!(
        export["contact_access"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "reply_contact")
    );
}

#[tokio::test]
async fn staff_subscribed_at_once_hear_of_their_kinds_only_without_contact_details() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |_| {}).await;
    subscriber(&app, "sam", "sam@team.example", &[("bug", SubscriptionMode::AtOnce)]).await;
    subscriber(&app, "fay", "fay@team.example", &[("feature", SubscriptionMode::AtOnce)]).await;
    subscriber(&app, "dee", "dee@team.example", &[("bug", SubscriptionMode::Digest)]).await;
    let mut bug = with_contact(&app);
    bug["kind"] = json!("bug");
    bug["summary"] = json!("Calendar crashes on save");
    bug.as_object_mut().unwrap().remove("rating");
    let id = app.submit(&bug).await;
    queue_intake_messages(&app, id).await;
    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes.len(), 1, "one staff message (no acknowledgement by default)");
    assert_eq!(outcomes[0].1, Ok(()));
    let to_sam = smtp.messages_to("sam@team.example");
    assert_eq!(to_sam.len(), 1);
    assert!(smtp.messages_to("fay@team.example").is_empty(), "another kind");
    assert!(smtp.messages_to("dee@team.example").is_empty(), "digest, not at once");
    assert_eq!(smtp.messages().len(), 1);
    let mail = &to_sam[0];
    assert!(mail["subject"].as_str().unwrap().contains("Calendar crashes on save"));
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains(&format!("https://feedback.example.org/triage/feedback/{id}")), "{text}");
    assert!(text.contains("6.4.2") && text.contains("Firefox"), "{text}");
    holds_no_contact(mail);
}

#[tokio::test]
async fn the_digest_lists_the_days_submissions_once() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |_| {}).await;
    // The pass at start queues the digests due then: let it pass before anyone subscribes, so
    // that the digests below are the test's.
    let started = std::time::Instant::now();
    while app.state.metrics.housekeeping_last_pass.get() == 0.0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    subscriber(&app, "dee", "dee@team.example", &[("feedback", SubscriptionMode::Digest)]).await;
    subscriber(&app, "sam", "sam@team.example", &[("bug", SubscriptionMode::AtOnce)]).await;
    let mut first = with_contact(&app);
    first["summary"] = json!("Love the calendar");
    let first = app.submit(&first).await;
    let mut second = app.valid_json();
    second["message"] = json!("Dark mode please, my eyes hurt at night.");
    let second = app.submit(&second).await;
    let mut bug = app.valid_json();
    bug["kind"] = json!("bug");
    bug["summary"] = json!("A bug the digest leaves out");
    bug.as_object_mut().unwrap().remove("rating");
    let bug = app.submit(&bug).await;

    let now = chrono::Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(feedbackd::notify::digest::queue_due(&app.state, now).await.unwrap(), 1);
    assert_eq!(
        feedbackd::notify::digest::queue_due(&app.state, now + chrono::Duration::hours(1))
            .await
            .unwrap(),
        0,
        "one digest a day"
    );
    let queued = pending(&app).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].destination, Destination::StaffDigest("dee".into()));
    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes[0].1, Ok(()));
    let mail = smtp.messages_to("dee@team.example");
    assert_eq!(mail.len(), 1);
    assert_eq!(smtp.messages().len(), 1);
    let text = mail[0]["text"].as_str().unwrap();
    assert!(mail[0]["subject"].as_str().unwrap().contains('2'));
    assert!(text.contains("Love the calendar") && text.contains("Dark mode please"), "{text}");
    assert!(text.contains(&format!("/triage/feedback/{first}")));
    assert!(text.contains(&format!("/triage/feedback/{second}")));
    assert!(!text.contains(&bug.to_string()) && !text.contains("leaves out"), "{text}");
    holds_no_contact(&mail[0]);

    // The next day's digest starts where this one ended.
    let tomorrow = now + chrono::Duration::days(1);
    assert_eq!(feedbackd::notify::digest::queue_due(&app.state, tomorrow).await.unwrap(), 1);
    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes[0].1, Ok(()), "nothing new is not an error");
    assert_eq!(smtp.messages().len(), 1, "nothing new: no mail");
}

#[tokio::test]
async fn the_acknowledgement_holds_the_reference_and_a_working_withdrawal_link() {
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |s| {
        s.mail.acknowledgement = true;
        s.mail.language = "de".into();
    })
    .await;
    let id = app.submit(&with_contact(&app)).await;
    let anonymous = app.submit(&app.valid_json()).await;
    queue_intake_messages(&app, id).await;
    queue_intake_messages(&app, anonymous).await;
    let acknowledgements: Vec<_> = pending(&app)
        .await
        .into_iter()
        .filter(|m| m.event == Event::Acknowledgement)
        .collect();
    assert_eq!(acknowledgements.len(), 1, "none without an address");
    assert_eq!(acknowledgements[0].submission, Some(id));
    drain(&app, &channel(&app)).await;
    let mail = smtp.messages_to(ADDRESS);
    assert_eq!(mail.len(), 1);
    let text = mail[0]["text"].as_str().unwrap();
    assert!(mail[0]["subject"].as_str().unwrap().contains("Referenz"), "German");
    assert!(text.contains(&id.to_string()));
    let start = text.find("https://feedback.example.org/withdraw?").expect("a withdrawal link");
    let link = text[start..].split_whitespace().next().unwrap();
    let query: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(link.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(query["id"], id.to_string());
    // The token in the link withdraws the submission.
    let withdrawn = app
        .client
        .post(app.url(&format!("/api/v1/feedback/{id}/withdraw")))
        .json(&json!({ "token": query["token"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(withdrawn.status(), 200);

    // Turned off (the default): no acknowledgement, with an address or without.
    let off = app_with_mail(&smtp, |_| {}).await;
    let id = off.submit(&with_contact(&off)).await;
    queue_intake_messages(&off, id).await;
    assert!(
        pending(&off).await.iter().all(|m| m.event != Event::Acknowledgement),
        "not sent when disabled"
    );
}

#[tokio::test]
async fn an_unreachable_relay_is_retried_and_the_message_delivered_when_it_is_back() {
    let Some(mut smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    let id = app.submit(&with_contact(&app)).await;
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
    let Some(smtp) = SmtpServer::start().await else { return };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    for (address, permanent) in [("reject.me@example.net", true), ("defer.me@example.net", false)] {
        let mut body = app.valid_json();
        body["contact_email"] = json!(address);
        let id = app.submit(&body).await;
        assert_eq!(reply(&app, &token, id, "Hello").await.status(), 201);
        let outcomes = drain(&app, &channel(&app)).await;
        let outcome = &outcomes[0].1;
        match (outcome, permanent) {
            (Err(DeliveryError::Permanent(text)), true) | (Err(DeliveryError::Retry(text)), false) => {
                assert!(!text.contains(address) && !text.contains("example.net"), "{text}");
                assert!(text.contains(if permanent { "550" } else { "451" }), "{text}");
            }
            other => panic!("{address}: {other:?}"),
        }
    }
    assert!(smtp.messages().is_empty());
}
