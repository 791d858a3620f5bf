//! Trends: the page's bars and the stats API count the same submissions (spam left out), per
//! day and kind and per version and browser, and every bar leads to the queue filtered to it.

use chrono::Utc;
use feedbackd::domain::Role;
use serde_json::{Value, json};

use super::defects::{SAFARI_UA, hidden, submit_as};
use super::{app_with_staff, attr, csrf, log_in};
use crate::helpers::problem;

#[tokio::test]
async fn trends_count_per_day_kind_version_and_browser_without_spam() {
    let app = app_with_staff().await;
    let mut bug = app.valid_json();
    bug["kind"] = json!("bug");
    bug["summary"] = json!("Broken");
    bug.as_object_mut().unwrap().remove("rating");
    bug["webapp_version"] = json!("7.2.0");
    app.submit(&bug).await;
    submit_as(&app, SAFARI_UA, &bug).await;
    app.submit(&app.valid_json()).await;
    let spam = app.submit(&app.valid_json()).await;
    let browser = log_in(&app, "tina").await;
    let page = browser.page(&app, "/triage").await;
    let marked = browser
        .post(
            &app,
            "/triage/bulk",
            &[
                ("csrf", &csrf(&page)),
                ("view", &hidden(&page, "view")),
                ("ids", &spam.to_string()),
                ("status", "spam"),
            ],
        )
        .await;
    assert_eq!(marked.status(), 303);

    let token = app.token(Role::Triager).await;
    let stats = |query: &'static str| {
        app.client
            .get(app.url(&format!("/api/v1/internal/stats?{query}")))
            .bearer_auth(&token)
            .send()
    };
    let today = Utc::now().format("%Y-%m-%d").to_string();
    let per_day: Value = stats("by=day,kind").await.unwrap().json().await.unwrap();
    assert_eq!(
        per_day["rows"],
        json!([
            {"day": today, "kind": "bug", "count": 2},
            {"day": today, "kind": "feedback", "count": 1},
        ]),
        "{per_day}"
    );
    let bugs: Value = stats("by=webapp_version,browser&kind=bug")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        bugs["rows"],
        json!([
            {"webapp_version": "7.2.0", "browser": "Firefox", "count": 1},
            {"webapp_version": "7.2.0", "browser": "Safari", "count": 1},
        ])
    );
    problem(stats("by=planet").await.unwrap(), 422, "validation_failed").await;
    let doc: Value = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["paths"]["/api/v1/internal/stats"]["get"].is_object(),
        "documented"
    );
    let anonymous = app
        .client
        .get(app.url("/api/v1/internal/stats"))
        .send()
        .await
        .unwrap();
    problem(anonymous, 401, "unauthorized").await;

    let trends = browser.page(&app, "/triage/trends?days=7").await;
    let day_bugs = format!("/triage?status=all&kind=bug&from={today}&to={today}");
    assert!(
        trends.contains(&format!("<th scope=\"row\">{today}</th>")),
        "today's row"
    );
    assert!(
        trends.contains(&format!(
            "href=\"{}\" class=\"bar-link\"><span class=\"bar k1 w13\"></span>2</a>",
            attr(&day_bugs)
        )),
        "{trends}"
    );
    let first = (Utc::now() - chrono::Duration::days(6)).format("%Y-%m-%d");
    let cell = format!(
        "/triage?status=all&kind=bug&browser=Firefox&webapp_version=7.2.0&from={first}&to={today}"
    );
    assert!(
        trends.contains(&attr(&cell)),
        "a version × browser cell links to its queue"
    );
    let queue = browser.page(&app, &day_bugs).await;
    assert!(
        queue.contains("2 matching"),
        "the bar's queue holds its count"
    );
}
