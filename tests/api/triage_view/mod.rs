//! The triage view over HTTP: login, sessions, CSRF, the queue, a submission, changes, notes,
//! bulk actions, downloads, escaping; the defects of issue 13 (`defects`) and the read-and-decide
//! loop (`workflow`).

mod browser;
mod defects;
mod readable;
mod trends;
mod workflow;

use browser::{Browser, PASSWORD, app_with_staff, assert_html_refusal, attr, csrf, log_in, unattr};

use reqwest::redirect::Policy;
use serde_json::json;

use crate::helpers::{PNG_1X1, file_part, problem};

#[tokio::test]
async fn without_a_session_every_page_leads_to_the_login() {
    let app = app_with_staff().await;
    let id = app.submit(&app.valid_json()).await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    for path in [
        "/triage".to_owned(),
        format!("/triage/feedback/{id}"),
        format!("/triage/feedback/{id}/attachments/0"),
    ] {
        let response = client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), 303, "{path}");
        assert_eq!(response.headers()["location"], "/triage/login");
        let forged = client
            .get(app.url(&path))
            .header("cookie", "feedbackd_session=forged")
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 303, "{path} with a forged session");
    }
    let post = client
        .post(app.url(&format!("/triage/feedback/{id}")))
        .form(&[("status", "done")])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 303);
    assert_eq!(
        app.state
            .store
            .submission(id)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "new"
    );
}

#[tokio::test]
async fn wrong_passwords_are_refused_and_throttled() {
    let app = app_with_staff().await;
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let response = client
            .post(app.url("/triage/login"))
            .form(&[("name", "tina"), ("password", "guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers().get("set-cookie").is_none());
    }
    let throttled = client
        .post(app.url("/triage/login"))
        .form(&[("name", "tina"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(throttled.status(), 429, "the right password waits too");
    assert!(throttled.headers().contains_key("retry-after"));
    let page = throttled.text().await.unwrap();
    assert!(page.contains("Too many login attempts"), "{page}");
}

#[tokio::test]
async fn a_triager_works_a_submission_through_the_view() {
    let app = app_with_staff().await;
    let mut body = app.valid_json();
    body["summary"] = json!("Calendar <b>bold</b> summary");
    body["message"] =
        json!("<script>alert(1)</script><img src=x onerror=alert(2)> javascript:alert(3)");
    body["webapp_version"] = json!("7.1.0");
    body["contact_email"] = json!("reader@example.org");
    let id = app.submit(&body).await;
    let other = app.submit(&app.valid_json()).await;
    let browser = log_in(&app, "tina").await;

    let queue = browser
        .page(&app, "/triage?webapp_version=7.1.0&browser=Firefox")
        .await;
    assert!(
        queue.contains(&id.to_string()) && !queue.contains(&other.to_string()),
        "filtered"
    );
    assert!(
        queue.contains("Calendar &lt;b&gt;bold&lt;&#x2f;b&gt; summary"),
        "escaped summary"
    );

    let page = browser.page(&app, &format!("/triage/feedback/{id}")).await;
    assert!(!page.contains("<script>alert(1)"), "no live script");
    assert!(!page.contains("<img src=x"), "no live image");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
        "shown as text"
    );
    assert!(page.contains("reader@example.org"));
    let token = csrf(&page);

    let forged = browser
        .post(
            &app,
            &format!("/triage/feedback/{id}"),
            &[("status", "done")],
        )
        .await;
    assert_html_refusal(forged, 403, "This form has expired").await;
    let wrong = browser
        .post(
            &app,
            &format!("/triage/feedback/{id}"),
            &[("status", "done"), ("csrf", "nope")],
        )
        .await;
    assert_html_refusal(wrong, 403, "This form has expired").await;

    let saved = browser
        .post(
            &app,
            &format!("/triage/feedback/{id}"),
            &[
                ("csrf", &token),
                ("status", "in_progress"),
                ("labels", "calendar, UI"),
                ("assignee", "tina"),
                ("duplicate_of", ""),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let row = app.state.store.submission(id).await.unwrap().unwrap();
    assert_eq!(
        (
            row.status.as_str(),
            row.labels.clone(),
            row.assignee.as_deref()
        ),
        (
            "in_progress",
            vec!["calendar".to_owned(), "ui".to_owned()],
            Some("tina")
        )
    );

    let noted = browser
        .post(
            &app,
            &format!("/triage/feedback/{id}/notes"),
            &[("csrf", &token), ("body", "Seen on <staging>")],
        )
        .await;
    assert_eq!(noted.status(), 303);
    let page = browser.page(&app, &format!("/triage/feedback/{id}")).await;
    assert!(page.contains("Seen on &lt;staging&gt;"));

    let bulk = browser
        .post(
            &app,
            "/triage/bulk",
            &[
                ("csrf", &token),
                ("ids", &id.to_string()),
                ("ids", &other.to_string()),
                ("status", "done"),
                ("label", "q4"),
                ("view", ""),
            ],
        )
        .await;
    assert_eq!(bulk.status(), 303);
    for sid in [id, other] {
        let row = app.state.store.submission(sid).await.unwrap().unwrap();
        assert_eq!(row.status.as_str(), "done");
        assert!(row.labels.contains(&"q4".to_owned()));
    }
    let counts = browser.page(&app, "/triage").await;
    assert!(
        counts.contains("Done <span class=\"count\">2</span>"),
        "counts per status"
    );
}

#[tokio::test]
async fn attachments_download_through_the_view_only() {
    let app = app_with_staff().await;
    let form = app
        .valid_bug_form()
        .part("attachment", file_part(PNG_1X1, "shot.png", "image/png"));
    let receipt: serde_json::Value = app.post_form(form).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap();
    let browser = log_in(&app, "tina").await;
    let page = browser.page(&app, &format!("/triage/feedback/{id}")).await;
    assert!(
        page.contains(&format!("/triage/feedback/{id}/attachments/0?inline=1")),
        "image previewed"
    );
    let download = browser
        .get(&app, &format!("/triage/feedback/{id}/attachments/0"))
        .await;
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    assert_eq!(download.bytes().await.unwrap().as_ref(), PNG_1X1);
    let inline = browser
        .get(
            &app,
            &format!("/triage/feedback/{id}/attachments/0?inline=1"),
        )
        .await;
    assert!(
        inline.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );

    let via_api = app
        .client
        .get(app.url(&format!("/api/v1/internal/feedback/{id}")))
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap();
    problem(via_api, 401, "unauthorized").await;
}

#[tokio::test]
async fn logging_out_ends_the_session() {
    let app = app_with_staff().await;
    let browser = log_in(&app, "wendy").await;
    let page = browser.page(&app, "/triage").await;
    let out = browser
        .post(&app, "/triage/logout", &[("csrf", &csrf(&page))])
        .await;
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = browser.get(&app, "/triage").await;
    assert_eq!(after.status(), 303, "the old cookie no longer works");
}
