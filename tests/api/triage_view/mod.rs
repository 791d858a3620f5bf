//! The triage view over HTTP: login, sessions, CSRF, the queue, a submission, changes, notes,
//! bulk actions, downloads, escaping; the defects of issue 13 (`defects`) and the read-and-decide
//! loop (`workflow`).

mod defects;
mod readable;
mod trends;
mod workflow;

use feedbackd::domain::Role;
use reqwest::redirect::Policy;
use serde_json::json;

use crate::helpers::{PNG_1X1, TestApp, file_part, problem, spawn_app};

pub(super) const PASSWORD: &str = "correct horse battery staple";

pub(super) struct Browser {
    pub client: reqwest::Client,
    pub cookie: String,
}

pub(super) async fn log_in(app: &TestApp, name: &str) -> Browser {
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
    assert_eq!(response.status(), 303, "logged in");
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/triage"] {
        assert!(
            set_cookie.contains(attribute),
            "{attribute} in {set_cookie}"
        );
    }
    Browser {
        client,
        cookie: set_cookie.split(';').next().unwrap().to_owned(),
    }
}

impl Browser {
    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        self.client
            .get(app.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    pub async fn page(&self, app: &TestApp, path: &str) -> String {
        let response = self.get(app, path).await;
        assert_eq!(response.status(), 200, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("script-src"),
            "{csp}"
        );
        response.text().await.unwrap()
    }

    pub async fn post(
        &self,
        app: &TestApp,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.client
            .post(app.url(path))
            .header("cookie", &self.cookie)
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// `text` as the view's templates write it in an attribute.
pub(super) fn attr(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('/', "&#x2f;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// An attribute's text as written by the templates, read back.
pub(super) fn unattr(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// An HTML refusal page (never JSON) with its status, its title and a link back.
pub(super) async fn assert_html_refusal(
    response: reqwest::Response,
    status: u16,
    title: &str,
) -> String {
    assert_eq!(response.status().as_u16(), status);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(
        response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains(title), "{title} in {html}");
    assert!(html.contains("Go back"), "a way back in {html}");
    html
}

pub(super) fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

pub(super) async fn app_with_staff() -> TestApp {
    let app = spawn_app().await;
    for (name, role) in [("tina", Role::Triager), ("wendy", Role::Webmaster)] {
        feedbackd::staff::add_user(app.state.store.as_ref(), name, role, PASSWORD)
            .await
            .unwrap();
    }
    app
}

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
            .status,
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
    assert_eq!(throttled.status(), 429);
    assert!(throttled.headers().contains_key("retry-after"));
    let html = throttled.text().await.unwrap();
    assert!(
        html.contains("Too many attempts") && html.contains("href=\"&#x2f;triage&#x2f;login\""),
        "{html}"
    );
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
        assert_eq!(row.status, "done");
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

#[tokio::test]
async fn a_webmaster_answers_a_request_on_the_privacy_page() {
    let app = app_with_staff().await;
    let mut body = app.valid_json();
    body["contact_email"] = json!("pat@example.org");
    let id = app.submit(&body).await;

    let triager = log_in(&app, "tina").await;
    assert_eq!(triager.get(&app, "/triage/privacy").await.status(), 403);
    let queue = triager.page(&app, "/triage").await;
    assert!(
        !queue.contains("/triage/privacy"),
        "no privacy link for a triager"
    );

    let webmaster = log_in(&app, "wendy").await;
    let page = webmaster.page(&app, "/triage/privacy").await;
    let token = csrf(&page);
    let found = webmaster
        .post(
            &app,
            "/triage/privacy",
            &[
                ("csrf", &token),
                ("email", "PAT@example.org"),
                ("action", "find"),
            ],
        )
        .await;
    let found = found.text().await.unwrap();
    assert!(
        found.contains("1 submission(s)") && found.contains(&id.to_string()),
        "{found}"
    );

    let export = webmaster
        .post(
            &app,
            "/triage/privacy",
            &[
                ("csrf", &token),
                ("email", "pat@example.org"),
                ("action", "export"),
            ],
        )
        .await;
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let export: serde_json::Value = export.json().await.unwrap();
    assert_eq!(
        export["submissions"][0]["contact"]["email"],
        "pat@example.org"
    );

    let unconfirmed = webmaster
        .post(
            &app,
            "/triage/privacy",
            &[
                ("csrf", &token),
                ("email", "pat@example.org"),
                ("action", "erase_everything"),
            ],
        )
        .await;
    assert!(unconfirmed.text().await.unwrap().contains("Confirm"));
    assert!(app.state.store.submission(id).await.unwrap().is_some());
    let forged = webmaster
        .post(
            &app,
            "/triage/privacy",
            &[
                ("email", "pat@example.org"),
                ("action", "erase_everything"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_html_refusal(forged, 403, "This form has expired").await;

    let erased = webmaster
        .post(
            &app,
            "/triage/privacy",
            &[
                ("csrf", &token),
                ("email", "pat@example.org"),
                ("action", "erase_contact"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert!(
        erased
            .text()
            .await
            .unwrap()
            .contains("Contact details removed</dt><dd>1")
    );
    let row = app.state.store.submission(id).await.unwrap().unwrap();
    assert!(row.contact.is_none());
}
