//! Replies to the submitter: sent with the reference, kept, audited, refused without an
//! address, redacted by a contact erasure, removed by a full one, exported.

use feedbackd::domain::Role;
use feedbackd::notify::{DeliveryError, Destination, Event};
use serde_json::{Value, json};

use super::harness::{SmtpServer, app_with_mail, channel, count, drain, pending};
use super::{ADDRESS, NAME, reply, submitted, with_contact};
use crate::helpers::problem;

#[tokio::test]
async fn a_reply_reaches_the_submitter_with_the_reference_and_is_kept_and_audited() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    let id = submitted(&app, &with_contact(&app)).await;
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
    assert!(
        !stored.contains(ADDRESS) && !stored.contains("fixed"),
        "{stored}"
    );

    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].1, Ok(()));
    assert!(
        pending(&app).await.is_empty(),
        "delivered messages leave the outbox"
    );
    let mail = smtp.messages_to(ADDRESS);
    assert_eq!(mail.len(), 1, "{:?}", smtp.messages());
    let mail = &mail[0];
    assert!(mail["subject"].as_str().unwrap().contains(&id.to_string()));
    assert!(
        mail["text"]
            .as_str()
            .unwrap()
            .contains("Thanks! This is fixed in 6.5.")
    );
    assert!(mail["text"].as_str().unwrap().contains(&id.to_string()));
    assert!(mail["html"].as_str().unwrap().contains(&id.to_string()));
    assert!(
        mail["headers"]["from"]
            .as_str()
            .unwrap()
            .contains("feedback@example.org")
    );
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
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    let anonymous = submitted(&app, &app.valid_json()).await;
    let mut name_only = app.valid_json();
    name_only["contact_name"] = json!(NAME);
    let name_only = submitted(&app, &name_only).await;
    for id in [anonymous, name_only] {
        problem(reply(&app, &token, id, "Hello").await, 409, "no_contact").await;
    }
    problem(
        reply(&app, &token, uuid::Uuid::now_v7(), "Hello").await,
        404,
        "not_found",
    )
    .await;
    let with_address = submitted(&app, &with_contact(&app)).await;
    problem(
        reply(&app, &token, with_address, " \n ").await,
        422,
        "validation_failed",
    )
    .await;
    let long = "x".repeat(5_001);
    let refused = problem(
        reply(&app, &token, with_address, &long).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(crate::helpers::has_error(&refused, "body", "too_long"));
    assert_eq!(count(&app, "replies").await, 0);
    assert_eq!(count(&app, "outbox").await, 0);
    assert!(drain(&app, &channel(&app)).await.is_empty());
    assert!(smtp.messages().is_empty());
    // Without a relay there is nothing to send with: refused, nothing kept.
    let off = crate::helpers::spawn_app().await;
    let id = off.submit(&with_contact(&off)).await;
    problem(
        reply(&off, &off.token(Role::Triager).await, id, "Hi").await,
        409,
        "mail_disabled",
    )
    .await;
    assert_eq!(count(&off, "replies").await, 0);
}

#[tokio::test]
async fn a_contact_erasure_redacts_replies_and_stops_their_delivery() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    let token = app.token(Role::Triager).await;
    let id = submitted(&app, &with_contact(&app)).await;
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
        assert!(
            !body.contains(&personal.to_lowercase()),
            "{personal} in {body}"
        );
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
    problem(
        reply(&app, &token, id, "Hello again").await,
        409,
        "no_contact",
    )
    .await;

    // A full erasure removes the replies with the submission.
    let other = submitted(&app, &with_contact(&app)).await;
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
    assert_eq!(
        count(&app, "replies").await,
        1,
        "the first, anonymous now, is kept"
    );
}

#[tokio::test]
async fn the_export_includes_the_replies_sent_to_the_person() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    let id = submitted(&app, &with_contact(&app)).await;
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
