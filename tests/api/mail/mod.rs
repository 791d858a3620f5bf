//! E-mail against a real SMTP server (aiosmtpd, see `harness`): replies to the submitter, the
//! staff notification and digest, the acknowledgement, and delivery failures.

mod cli;
mod delivery;
mod harness;
mod notifications;
mod replies;
mod view;

use feedbackd::domain::Role;
use feedbackd::store::{MailPreferences, SubscriptionMode};
use serde_json::{Value, json};

use crate::helpers::TestApp;

pub(super) const ADDRESS: &str = "ana.example@example.net";
pub(super) const NAME: &str = "Anabel Examplestein";

pub(super) fn with_contact(app: &TestApp) -> Value {
    let mut body = app.valid_json();
    body["contact_email"] = json!(ADDRESS);
    body["contact_name"] = json!(NAME);
    body
}

/// Submits `body` and delivers what intake queued for it (the staff notification, an
/// acknowledgement), so a test of what follows starts from an empty outbox.
pub(super) async fn submitted(app: &TestApp, body: &Value) -> uuid::Uuid {
    let id = app.submit(body).await;
    harness::drain(app, &harness::channel(app)).await;
    id
}

pub(super) async fn reply(
    app: &TestApp,
    token: &str,
    id: impl std::fmt::Display,
    body: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/internal/feedback/{id}/replies")))
        .bearer_auth(token)
        .json(&json!({ "body": body }))
        .send()
        .await
        .unwrap()
}

/// A staff account with an address and subscriptions.
pub(super) async fn subscriber(
    app: &TestApp,
    name: &str,
    email: &str,
    kinds: &[(&str, SubscriptionMode)],
) {
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

/// Queues the digests due at `now`, as the housekeeping pass does.
pub(super) async fn digest(
    app: &TestApp,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, feedbackd::store::StoreError> {
    feedbackd::notify::digest::queue_due(app.state.store.as_ref(), &app.state.settings, now).await
}

pub(super) fn holds_no_contact(message: &Value) {
    let raw = message["raw"].as_str().unwrap().to_lowercase();
    for personal in [ADDRESS, NAME, "anabel", "examplestein"] {
        assert!(
            !raw.contains(&personal.to_lowercase()),
            "{personal} in {raw}"
        );
    }
}
