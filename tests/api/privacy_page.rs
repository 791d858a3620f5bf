//! The webmaster's privacy page: find (audited) shows a preview, export is never blocked by
//! the removal's checks, removal needs an explicit scope (and the address typed back for
//! everything), and its result is a redirect to the receipt (POST-redirect-GET).

use feedbackd::domain::Role;
use reqwest::redirect::Policy;

use crate::helpers::{TestApp, spawn_app};
use crate::privacy::submit_as;

const PASSWORD: &str = "correct horse battery staple";

struct Browser {
    client: reqwest::Client,
    cookie: String,
}

impl Browser {
    async fn log_in(app: &TestApp, name: &str, role: Role) -> Self {
        feedbackd::staff::add_user(app.state.store.as_ref(), name, role, PASSWORD)
            .await
            .unwrap();
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
        let cookie = response.headers()["set-cookie"].to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_owned();
        Self { client, cookie }
    }

    async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        let request = self
            .client
            .get(app.url(path))
            .header("cookie", &self.cookie);
        request.send().await.unwrap()
    }

    async fn post(&self, app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
        let request = self.client.post(app.url("/triage/privacy"));
        let request = request.header("cookie", &self.cookie).form(form);
        request.send().await.unwrap()
    }

    async fn post_text(&self, app: &TestApp, form: &[(&str, &str)]) -> String {
        let response = self.post(app, form).await;
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    }
}

fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn a_webmaster_answers_a_request_safely_on_the_privacy_page() {
    let app = spawn_app().await;
    let id = submit_as(
        &app,
        Some("pat@example.org"),
        "the calendar loses my events",
    )
    .await;
    let triager = Browser::log_in(&app, "tina", Role::Triager).await;
    assert_eq!(triager.get(&app, "/triage/privacy").await.status(), 403);

    let wendy = Browser::log_in(&app, "wendy", Role::Webmaster).await;
    let page = wendy
        .get(&app, "/triage/privacy")
        .await
        .text()
        .await
        .unwrap();
    let token = csrf(&page);
    let audited_before = app.state.store.audit_log(100).await.unwrap().len();
    let found = wendy
        .post_text(
            &app,
            &[
                ("csrf", &token),
                ("email", "PAT@example.org"),
                ("action", "find"),
            ],
        )
        .await;
    for shown in [
        "1 submission(s)",
        "the calendar loses my events",
        "shot.png",
        ">bug<",
        ">new<",
        &id.to_string(),
    ] {
        assert!(found.contains(shown), "{shown} in {found}");
    }
    assert!(
        found.contains("can no longer be found by"),
        "the contact-only warning"
    );
    assert!(!found.contains("checked>"), "no scope is chosen in advance");
    let audit = app.state.store.audit_log(100).await.unwrap();
    assert_eq!(audit.len(), audited_before + 1);
    assert_eq!(audit[0].action, "privacy_find");
    assert_eq!(audit[0].detail.as_deref(), Some("submissions=1"));

    // Export is a form of its own: no checkbox, no scope.
    let export = wendy
        .post(
            &app,
            &[
                ("csrf", &token),
                ("email", "pat@example.org"),
                ("action", "export"),
            ],
        )
        .await;
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "application/zip");
    let disposition = export.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"feedbackd-export-20"),
        "{disposition}"
    );
    let entries = crate::export_zip::entries(&export.bytes().await.unwrap());
    let json = &entries.iter().find(|(n, _)| n == "export.json").unwrap().1;
    let export: serde_json::Value = serde_json::from_slice(json).unwrap();
    assert_eq!(
        export["submissions"][0]["contact"]["email"],
        "pat@example.org"
    );

    let erase = |scope: &'static str, confirm: &'static str, typed: &'static str| {
        let token = token.clone();
        let wendy = &wendy;
        let app = &app;
        async move {
            let mut form = vec![
                ("csrf", token.as_str()),
                ("email", "pat@example.org"),
                ("action", "erase"),
            ];
            if !scope.is_empty() {
                form.push(("scope", scope));
            }
            if !confirm.is_empty() {
                form.push(("confirm", confirm));
            }
            form.push(("typed_email", typed));
            wendy.post(app, &form).await
        }
    };
    for (scope, confirm, typed, message) in [
        ("", "yes", "", "Choose what to remove"),
        (
            "everything",
            "",
            "pat@example.org",
            "Confirm that you checked",
        ),
        ("everything", "yes", "", "type the address again"),
        (
            "everything",
            "yes",
            "pat@example.com",
            "type the address again",
        ),
    ] {
        let response = erase(scope, confirm, typed).await;
        assert_eq!(response.status(), 200);
        let text = response.text().await.unwrap();
        assert!(text.contains(message), "{message} in {text}");
        assert!(
            app.state
                .store
                .submission(id)
                .await
                .unwrap()
                .unwrap()
                .contact
                .is_some()
        );
    }
    let forged = wendy
        .post(
            &app,
            &[
                ("email", "pat@example.org"),
                ("action", "erase"),
                ("scope", "contact"),
                ("confirm", "yes"),
            ],
        )
        .await;
    // Inside the view a refusal is a page with the way back, not JSON.
    assert_eq!(forged.status(), 403);
    let refusal = forged.text().await.unwrap();
    assert!(refusal.contains("This form has expired"), "{refusal}");

    let done = erase("everything", "yes", " PAT@example.org ").await;
    assert_eq!(done.status(), 303, "POST-redirect-GET");
    let location = done.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/triage/privacy?receipt="),
        "{location}"
    );
    assert!(!location.contains("example.org"), "no address in a URL");
    assert!(app.state.store.submission(id).await.unwrap().is_none());
    let audited = app.state.store.audit_log(100).await.unwrap().len();
    for _ in 0..2 {
        // A reload shows the same record and removes nothing more.
        let result = wendy.get(&app, &location).await.text().await.unwrap();
        let receipt = location.rsplit('=').next().unwrap();
        assert!(result.contains(receipt), "{result}");
        assert!(result.contains("submissions removed</dt><dd>1"), "{result}");
        assert!(result.contains("everything"));
    }
    assert_eq!(app.state.store.audit_log(100).await.unwrap().len(), audited);
    let unknown = wendy
        .get(
            &app,
            "/triage/privacy?receipt=00000000000000000000000000000000",
        )
        .await;
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("No removal with this receipt")
    );
}
