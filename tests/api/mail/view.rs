//! E-mail in the triage view: the reply box on a submission's page and the subscriptions page.

use feedbackd::domain::Role;
use feedbackd::store::SubscriptionMode;
use reqwest::redirect::Policy;
use serde_json::json;

use super::harness::{SmtpServer, app_with_mail, count};
use super::submitted;
use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery staple";

/// Logs `name` in: the session cookie.
async fn session(app: &TestApp, client: &reqwest::Client, name: &str) -> String {
    feedbackd::staff::add_user(app.state.store.as_ref(), name, Role::Triager, PASSWORD)
        .await
        .unwrap();
    let response = client
        .post(app.url("/triage/login"))
        .form(&[("name", name), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

async fn page(client: &reqwest::Client, app: &TestApp, cookie: &str, path: &str) -> String {
    let response = client
        .get(app.url(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn the_reply_box_sends_with_the_csrf_token_and_lists_the_reply() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let cookie = session(&app, &client, "rita").await;
    let mut body = app.valid_json();
    body["contact_email"] = json!("someone@example.net");
    let id = submitted(&app, &body).await;
    let path = format!("/triage/feedback/{id}");
    let html = page(&client, &app, &cookie, &path).await;
    assert!(
        html.contains(&format!("action=\"/triage/feedback/{id}/replies\""))
            || html.contains("/replies\""),
        "a reply box"
    );
    let forged = client
        .post(app.url(&format!("{path}/replies")))
        .header("cookie", &cookie)
        .form(&[("csrf", "forged"), ("body", "Hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(count(&app, "replies").await, 0);
    let sent = client
        .post(app.url(&format!("{path}/replies")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf(&html).as_str()), ("body", "We <3 your idea")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    let html = page(&client, &app, &cookie, &path).await;
    assert!(html.contains("We &lt;3 your idea"), "the reply, escaped");
    assert!(html.contains("rita"));
    assert_eq!(count(&app, "outbox").await, 1);

    // No address: no box, and a forged post is refused with a message and nothing stored.
    let anonymous = submitted(&app, &app.valid_json()).await;
    let path = format!("/triage/feedback/{anonymous}");
    let html = page(&client, &app, &cookie, &path).await;
    assert!(html.contains("No e-mail address to reply to"));
    let refused = client
        .post(app.url(&format!("{path}/replies")))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf(&html).as_str()), ("body", "Hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 303);
    assert!(
        refused.headers()["location"]
            .to_str()
            .unwrap()
            .contains("error=")
    );
    assert_eq!(count(&app, "replies").await, 1);
}

#[tokio::test]
async fn each_staff_member_chooses_an_address_and_a_mode_per_kind() {
    let Some(smtp) = SmtpServer::start().await else {
        return;
    };
    let app = app_with_mail(&smtp, |_| {}).await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let cookie = session(&app, &client, "sue").await;
    let html = page(&client, &app, &cookie, "/triage/subscriptions").await;
    assert!(html.contains("name=\"mode_bug\" value=\"off\"") && html.contains("checked"));
    let save = |form: Vec<(&'static str, String)>| {
        let client = client.clone();
        let cookie = cookie.clone();
        let url = app.url("/triage/subscriptions");
        async move {
            client
                .post(url)
                .header("cookie", cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let token = csrf(&html);
    let saved = save(vec![
        ("csrf", token.clone()),
        ("email", "sue@team.example".into()),
        ("mode_bug", "at_once".into()),
        ("mode_feature", "digest".into()),
        ("mode_feedback", "off".into()),
    ])
    .await;
    assert_eq!(saved.status(), 303);
    let preferences = app.state.store.mail_preferences("sue").await.unwrap();
    assert_eq!(preferences.email.as_deref(), Some("sue@team.example"));
    assert_eq!(preferences.mode("bug"), SubscriptionMode::AtOnce);
    assert_eq!(preferences.mode("feature"), SubscriptionMode::Digest);
    assert_eq!(preferences.mode("feedback"), SubscriptionMode::Off);
    let html = page(&client, &app, &cookie, "/triage/subscriptions").await;
    assert!(html.contains("value=\"sue@team.example\""));
    assert!(
        html.contains(
            "name=\"mode_bug\" value=\"at_once\" aria-label=\"Bug report: At once\" checked"
        ),
        "{html}"
    );
    // A bad address or mode changes nothing.
    for (field, value) in [("email", "not an address"), ("mode_bug", "hourly")] {
        let mut form = vec![
            ("csrf", token.clone()),
            ("email", "sue@team.example".to_owned()),
        ];
        form.retain(|(k, _)| *k != field);
        form.push((field, value.to_owned()));
        let refused = save(form).await;
        assert!(
            refused.headers()["location"]
                .to_str()
                .unwrap()
                .contains("error=")
        );
        assert_eq!(
            app.state.store.mail_preferences("sue").await.unwrap(),
            preferences
        );
    }
    let forged = save(vec![("csrf", "forged".into()), ("mode_bug", "off".into())]).await;
    assert_eq!(forged.status(), 403);
    assert_eq!(
        app.state.store.mail_preferences("sue").await.unwrap(),
        preferences
    );
}
