//! Triage changes are all or nothing: a bulk action over the triage view with one unknown
//! submission changes none and audits none, repeated ids count once, the label cap holds for
//! bulk "add label", and the JSON API and the forms parse a patch by the same rules.

use feedbackd::domain::Role;
use feedbackd::store::AuditEntry;
use reqwest::redirect::Policy;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{TestApp, problem, spawn_app};

const PASSWORD: &str = "correct horse battery staple";

/// A logged-in staff member of the triage view, with the CSRF token of its session.
struct Session {
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl Session {
    async fn start(app: &TestApp) -> Self {
        feedbackd::staff::add_user(app.state.store.as_ref(), "tina", Role::Triager, PASSWORD)
            .await
            .unwrap();
        let client = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let login = client
            .post(app.url("/triage/login"))
            .form(&[("name", "tina"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 303, "logged in");
        let cookie = login.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        let queue = client
            .get(app.url("/triage"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = queue.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
        let csrf = queue[start..start + queue[start..].find('"').unwrap()].to_owned();
        Self {
            client,
            cookie,
            csrf,
        }
    }

    /// Posts a form with the CSRF token; returns the flash message the redirect carries.
    async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (String, String) {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let response = self
            .client
            .post(app.url(path))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        if response.status() == 422 {
            // A refused bulk action shows the queue again, selection kept, with the reason.
            let page = response.text().await.unwrap();
            let start = page
                .find("<p class=\"error\" role=\"alert\">")
                .expect("a reason");
            let reason = &page[start..];
            let reason = &reason[reason.find('>').unwrap() + 1..reason.find("</p>").unwrap()];
            return ("error".to_owned(), html_text(reason));
        }
        assert_eq!(response.status(), 303, "{path} answers with a redirect");
        let location = response.headers()["location"].to_str().unwrap();
        let query = location.split_once('?').map_or("", |(_, q)| q);
        url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .find(|(key, _)| key == "notice" || key == "error")
            .expect("a notice or an error")
    }
}

/// The text of an HTML fragment's escaped characters, as minijinja writes them.
fn html_text(escaped: &str) -> String {
    escaped
        .replace("&#x2f;", "/")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

async fn triage_audit(app: &TestApp) -> Vec<AuditEntry> {
    let log = app.state.store.audit_log(500).await.unwrap();
    log.into_iter().filter(|e| e.action == "triage").collect()
}

async fn status_and_labels(app: &TestApp, id: Uuid) -> (String, Vec<String>) {
    let row = app.state.store.submission(id).await.unwrap().unwrap();
    (row.status.as_str().to_owned(), row.labels)
}

#[tokio::test]
async fn a_bulk_action_with_one_unknown_submission_changes_and_audits_none() {
    let app = spawn_app().await;
    let session = Session::start(&app).await;
    let first = app.submit(&app.valid_json()).await;
    let second = app.submit(&app.valid_json()).await;
    let unknown = Uuid::now_v7();
    let (key, message) = session
        .post(
            &app,
            "/triage/bulk",
            &[
                ("ids", &first.to_string()),
                ("ids", &unknown.to_string()),
                ("ids", &second.to_string()),
                ("status", "done"),
                ("label", "q4"),
                ("back", "/triage"),
            ],
        )
        .await;
    assert_eq!(key, "error");
    assert!(message.contains(&unknown.to_string()), "{message}");
    assert!(!message.contains(&first.to_string()), "{message}");
    for id in [first, second] {
        assert_eq!(
            status_and_labels(&app, id).await,
            ("new".to_owned(), vec![])
        );
    }
    assert!(triage_audit(&app).await.is_empty(), "nothing audited");

    let (key, _) = session
        .post(
            &app,
            "/triage/bulk",
            &[
                ("ids", &first.to_string()),
                ("ids", &second.to_string()),
                ("status", "done"),
                ("back", "/triage"),
            ],
        )
        .await;
    assert_eq!(key, "notice");
    let audited: Vec<Option<Uuid>> = triage_audit(&app)
        .await
        .iter()
        .map(|e| e.submission_id)
        .collect();
    assert_eq!(audited.len(), 2, "one audit row per submission");
    assert!(audited.contains(&Some(first)) && audited.contains(&Some(second)));
}

#[tokio::test]
async fn a_repeated_id_counts_once() {
    let app = spawn_app().await;
    let session = Session::start(&app).await;
    let first = app.submit(&app.valid_json()).await;
    let second = app.submit(&app.valid_json()).await;
    let (key, message) = session
        .post(
            &app,
            "/triage/bulk",
            &[
                ("ids", &first.to_string()),
                ("ids", &second.to_string()),
                ("ids", &first.to_string()),
                ("label", "Q4"),
                ("back", "/triage"),
            ],
        )
        .await;
    assert_eq!(
        (key.as_str(), message.as_str()),
        ("notice", "Updated 2 submissions: label “q4” added.")
    );
    for id in [first, second] {
        assert_eq!(status_and_labels(&app, id).await.1, ["q4"]);
    }
    let mut audited: Vec<Option<Uuid>> = triage_audit(&app)
        .await
        .iter()
        .map(|e| e.submission_id)
        .collect();
    audited.sort();
    let mut expected = vec![Some(first), Some(second)];
    expected.sort();
    assert_eq!(audited, expected);
    let detail = triage_audit(&app).await[0].detail.clone();
    assert_eq!(detail.as_deref(), Some("+label=q4"));
}

#[tokio::test]
async fn bulk_add_label_respects_the_cap_of_twenty() {
    let app = spawn_app().await;
    let session = Session::start(&app).await;
    let token = app.token(Role::Triager).await;
    let full = app.submit(&app.valid_json()).await;
    let other = app.submit(&app.valid_json()).await;
    let twenty: Vec<String> = (0..20).map(|n| format!("l{n}")).collect();
    let response = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/internal/feedback/{full}")))
        .bearer_auth(&token)
        .json(&json!({ "labels": twenty }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let bulk = |label: &'static str| {
        let ids = [full.to_string(), other.to_string()];
        let session = &session;
        let app = &app;
        async move {
            session
                .post(
                    app,
                    "/triage/bulk",
                    &[
                        ("ids", &ids[0]),
                        ("ids", &ids[1]),
                        ("label", label),
                        ("back", "/triage"),
                    ],
                )
                .await
        }
    };
    let (key, message) = bulk("one-more").await;
    assert_eq!(key, "error");
    assert!(message.contains(&full.to_string()), "{message}");
    assert_eq!(status_and_labels(&app, full).await.1, twenty);
    assert!(
        status_and_labels(&app, other).await.1.is_empty(),
        "the other submission is left as it was"
    );
    // A label the full submission already has is no change to it: allowed.
    let (key, _) = bulk("l3").await;
    assert_eq!(key, "notice");
    assert_eq!(status_and_labels(&app, full).await.1, twenty);
    assert_eq!(status_and_labels(&app, other).await.1, ["l3"]);
}

#[tokio::test]
async fn json_and_form_parse_labels_by_the_same_rules() {
    let app = spawn_app().await;
    let session = Session::start(&app).await;
    let token = app.token(Role::Triager).await;
    let id = app.submit(&app.valid_json()).await;
    let patch = |body: serde_json::Value| {
        reqwest::Client::new()
            .patch(app.url(&format!("/api/v1/internal/feedback/{id}")))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };

    let response = patch(json!({"labels": ["UI", "crash", "ui", " Crash "]}))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["labels"],
        json!(["ui", "crash"]),
        "every repeat dropped"
    );
    let (key, _) = session
        .post(
            &app,
            &format!("/triage/feedback/{id}"),
            &[("labels", "UI, crash, ui, Crash")],
        )
        .await;
    assert_eq!(key, "notice");
    assert_eq!(status_and_labels(&app, id).await.1, ["ui", "crash"]);

    let too_many: Vec<String> = (0..21).map(|n| format!("l{n}")).collect();
    problem(
        patch(json!({ "labels": too_many })).await.unwrap(),
        422,
        "validation_failed",
    )
    .await;
    let (key, message) = session
        .post(
            &app,
            &format!("/triage/feedback/{id}"),
            &[("labels", &too_many.join(","))],
        )
        .await;
    assert_eq!(key, "error");
    assert!(message.contains("at most 20 labels"), "{message}");
    assert_eq!(status_and_labels(&app, id).await.1, ["ui", "crash"]);
}

#[tokio::test]
async fn patching_an_unknown_submission_is_a_404_and_audits_nothing() {
    let app = spawn_app().await;
    let token = app.token(Role::Triager).await;
    let response = reqwest::Client::new()
        .patch(app.url(&format!("/api/v1/internal/feedback/{}", Uuid::now_v7())))
        .bearer_auth(&token)
        .json(&json!({"status": "done"}))
        .send()
        .await
        .unwrap();
    problem(response, 404, "not_found").await;
    assert!(triage_audit(&app).await.is_empty());
}
