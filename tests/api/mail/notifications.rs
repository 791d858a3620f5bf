//! Staff notifications (at once, the daily digest) and the acknowledgement to the submitter.

use feedbackd::notify::{Destination, Event};
use feedbackd::store::SubscriptionMode;
use serde_json::json;

use super::harness::{SmtpServer, app_with_mail, channel, drain, pending};
use super::{ADDRESS, digest, holds_no_contact, submitted, subscriber, with_contact};

#[tokio::test]
async fn staff_subscribed_at_once_hear_of_their_kinds_only_without_contact_details() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    subscriber(
        &app,
        "sam",
        "sam@team.example",
        &[("bug", SubscriptionMode::AtOnce)],
    )
    .await;
    subscriber(
        &app,
        "fay",
        "fay@team.example",
        &[("feature", SubscriptionMode::AtOnce)],
    )
    .await;
    subscriber(
        &app,
        "dee",
        "dee@team.example",
        &[("bug", SubscriptionMode::Digest)],
    )
    .await;
    let mut bug = with_contact(&app);
    bug["kind"] = json!("bug");
    bug["summary"] = json!("Calendar crashes on save");
    bug.as_object_mut().unwrap().remove("rating");
    let id = app.submit(&bug).await;
    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(
        outcomes.len(),
        1,
        "one staff message (no acknowledgement by default): {outcomes:?}"
    );
    assert_eq!(outcomes[0].1, Ok(()));
    let to_sam = smtp.messages_to("sam@team.example");
    assert_eq!(to_sam.len(), 1);
    assert!(
        smtp.messages_to("fay@team.example").is_empty(),
        "another kind"
    );
    assert!(
        smtp.messages_to("dee@team.example").is_empty(),
        "digest, not at once"
    );
    assert_eq!(smtp.messages().len(), 1);
    let mail = &to_sam[0];
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .contains("Calendar crashes on save")
    );
    let text = mail["text"].as_str().unwrap();
    assert!(
        text.contains(&format!(
            "https://feedback.example.org/triage/feedback/{id}"
        )),
        "{text}"
    );
    assert!(text.contains("6.4.2") && text.contains("Firefox"), "{text}");
    holds_no_contact(mail);

    // Filed as spam before the message went out: nobody is told.
    let spam = app.submit(&bug).await;
    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/internal/feedback/{spam}")))
        .bearer_auth(app.token(feedbackd::domain::Role::Triager).await)
        .json(&serde_json::json!({ "status": "spam" }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].1, Ok(()));
    assert_eq!(smtp.messages().len(), 1, "no mail about spam");
}

#[tokio::test]
async fn the_digest_lists_the_days_submissions_once() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    subscriber(
        &app,
        "dee",
        "dee@team.example",
        &[("feedback", SubscriptionMode::Digest)],
    )
    .await;
    subscriber(
        &app,
        "sam",
        "sam@team.example",
        &[("bug", SubscriptionMode::AtOnce)],
    )
    .await;
    let mut first = with_contact(&app);
    first["summary"] = json!("Love the calendar");
    let first = submitted(&app, &first).await;
    let mut second = app.valid_json();
    second["message"] = json!("Dark mode please, my eyes hurt at night.");
    let second = submitted(&app, &second).await;
    let mut bug = app.valid_json();
    bug["kind"] = json!("bug");
    bug["summary"] = json!("A bug the digest leaves out");
    bug.as_object_mut().unwrap().remove("rating");
    let bug = submitted(&app, &bug).await;

    let now = chrono::Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(digest(&app, now).await.unwrap(), 1);
    // Later the same digest day: an hour on, but before the next digest time (an hour on
    // crossed it when the test ran in the hour before `digest_hour`, which failed CI at 07:19).
    let settings = &app.state.settings;
    let next_due =
        feedbackd::notify::digest::due_at(now, settings.team_time_zone, settings.mail.digest_hour)
            + chrono::Duration::days(1);
    let later = (now + chrono::Duration::hours(1)).min(next_due - chrono::Duration::seconds(1));
    assert_eq!(digest(&app, later).await.unwrap(), 0, "one digest a day");
    let queued = pending(&app).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(
        queued[0].destination,
        Destination::StaffDigest("dee".into())
    );
    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes[0].1, Ok(()));
    let mail = smtp.messages_to("dee@team.example");
    assert_eq!(mail.len(), 1);
    // Besides the digest, only sam's message at once about the bug.
    assert_eq!(smtp.messages().len(), 2);
    assert_eq!(smtp.messages_to("sam@team.example").len(), 1);
    let text = mail[0]["text"].as_str().unwrap();
    assert!(mail[0]["subject"].as_str().unwrap().contains('2'));
    assert!(
        text.contains("Love the calendar") && text.contains("Dark mode please"),
        "{text}"
    );
    assert!(text.contains(&format!("/triage/feedback/{first}")));
    assert!(text.contains(&format!("/triage/feedback/{second}")));
    assert!(
        !text.contains(&bug.to_string()) && !text.contains("leaves out"),
        "{text}"
    );
    holds_no_contact(&mail[0]);

    // The next day's digest starts where this one ended.
    let tomorrow = now + chrono::Duration::days(1);
    assert_eq!(digest(&app, tomorrow).await.unwrap(), 1);
    let outcomes = drain(&app, &channel(&app)).await;
    assert_eq!(outcomes[0].1, Ok(()), "nothing new is not an error");
    assert_eq!(smtp.messages().len(), 2, "nothing new: no mail");
}

#[tokio::test]
async fn the_acknowledgement_holds_the_reference_and_a_working_withdrawal_link() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |s| {
        s.mail.acknowledgement = true;
        s.mail.language = "de".into();
    })
    .await;
    let id = app.submit(&with_contact(&app)).await;
    app.submit(&app.valid_json()).await;
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
    assert!(
        mail[0]["subject"].as_str().unwrap().contains("Referenz"),
        "German"
    );
    assert!(text.contains(&id.to_string()));
    let start = text
        .find("https://feedback.example.org/withdraw?")
        .expect("a withdrawal link");
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
    off.submit(&with_contact(&off)).await;
    assert!(
        pending(&off)
            .await
            .iter()
            .all(|m| m.event != Event::Acknowledgement),
        "not sent when disabled"
    );
}
