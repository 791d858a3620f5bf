//! A logged-in browser for the view's tests: its session cookie, pages (each checked for the
//! strict CSP), forms, and how the templates write attributes.

use feedbackd::domain::Role;
use reqwest::redirect::Policy;

use crate::helpers::{TestApp, spawn_app};

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
