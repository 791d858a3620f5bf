//! The defects of issue 13 in how the view works, each through its HTML: repeated bulk actions,
//! refusals as pages, spam, the "To" day, unknown assignees.

use chrono::Utc;
use feedbackd::domain::TeamTimeZone;
use serde_json::Value;
use uuid::Uuid;

use super::{Browser, app_with_staff, assert_html_refusal, attr, csrf, log_in, unattr};
use crate::helpers::{TestApp, spawn_app_with};

pub(super) const SAFARI_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15";
pub(super) const IPHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

/// Stores a submission sent by a browser with this User-Agent.
pub(super) async fn submit_as(app: &TestApp, user_agent: &str, body: &Value) -> Uuid {
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/feedback"))
        .header("user-agent", user_agent)
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let receipt: Value = response.json().await.unwrap();
    receipt["id"].as_str().unwrap().parse().unwrap()
}

/// The value of the first hidden field `name` in a page.
pub(super) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).expect("the field") + marker.len();
    unattr(&html[start..start + html[start..].find('"').unwrap()])
}

/// Follows a redirect with the browser's session: the page it leads to.
pub(super) async fn follow(
    app: &TestApp,
    browser: &Browser,
    response: reqwest::Response,
) -> String {
    assert_eq!(response.status(), 303, "a redirect");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    browser.page(app, &location).await
}

#[tokio::test]
async fn two_bulk_actions_in_a_row_both_answer_with_the_queue() {
    let app = app_with_staff().await;
    let id = app.submit(&app.valid_json()).await;
    let browser = log_in(&app, "tina").await;
    let mut page = browser.page(&app, "/triage?status=all&kind=feedback").await;
    for (field, value) in [("label", "calendar"), ("status", "triaged")] {
        let response = browser
            .post(
                &app,
                "/triage/bulk",
                &[
                    ("csrf", &csrf(&page)),
                    ("view", &hidden(&page, "view")),
                    ("ids", &id.to_string()),
                    (field, value),
                ],
            )
            .await;
        page = follow(&app, &browser, response).await;
        assert!(page.contains("Updated 1 submission"), "{page}");
        assert!(
            page.contains("name=\"view\" value=\"status=all&amp;kind=feedback\""),
            "the view is kept"
        );
    }
    let row = app.state.store.submission(id).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.labels),
        ("triaged", vec!["calendar".to_owned()])
    );
    // Links written before the fix carry the message twice: they still show the queue.
    browser
        .page(&app, "/triage?notice=Updated&notice=Updated&status=all")
        .await;
}

#[tokio::test]
async fn refusals_in_the_view_are_pages_with_a_way_back() {
    let app = app_with_staff().await;
    let id = app.submit(&app.valid_json()).await;
    let triager = log_in(&app, "tina").await;
    let html = assert_html_refusal(
        triager.get(&app, "/triage/privacy").await,
        403,
        "Not allowed for your role",
    )
    .await;
    assert!(html.contains("href=\"&#x2f;triage\""), "{html}");
    for path in [
        format!("/triage/feedback/{}", Uuid::now_v7()),
        "/triage/feedback/not-an-id".to_owned(),
        "/triage/nowhere".to_owned(),
        format!("/triage/feedback/{id}/attachments/7"),
    ] {
        assert_html_refusal(triager.get(&app, &path).await, 404, "Nothing here").await;
    }
    let stale = triager
        .post(
            &app,
            &format!("/triage/feedback/{id}/notes"),
            &[("csrf", "from-an-old-login"), ("body", "x")],
        )
        .await;
    let html = assert_html_refusal(stale, 403, "This form has expired").await;
    assert!(
        html.contains(&format!(
            "href=\"{}\"",
            attr(&format!("/triage/feedback/{id}"))
        )),
        "back to the form's page: {html}"
    );
    // The JSON API keeps answering problem documents.
    let api = app
        .client
        .get(app.url("/api/v1/internal/feedback"))
        .send()
        .await
        .unwrap();
    assert_eq!(api.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn spam_is_out_of_the_inbox_until_marked_not_spam() {
    let app = app_with_staff().await;
    let kept = app.submit(&app.valid_json()).await;
    let spam = app.submit(&app.valid_json()).await;
    let browser = log_in(&app, "tina").await;
    let page = browser
        .page(&app, &format!("/triage/feedback/{spam}"))
        .await;
    assert!(page.contains("Mark as spam"));
    let marked = browser
        .post(
            &app,
            &format!("/triage/feedback/{spam}"),
            &[("csrf", &csrf(&page)), ("view", ""), ("status", "spam")],
        )
        .await;
    let page = follow(&app, &browser, marked).await;
    assert!(
        page.contains("Marked as spam.") && page.contains("Not spam"),
        "{page}"
    );
    let row = app.state.store.submission(spam).await.unwrap().unwrap();
    assert_eq!(
        (row.status.as_str(), row.assignee),
        ("spam", None),
        "only the status changed"
    );
    for path in ["/triage", "/triage?status=all"] {
        let queue = browser.page(&app, path).await;
        assert!(
            queue.contains(&kept.to_string()) && !queue.contains(&spam.to_string()),
            "{path}"
        );
    }
    assert!(
        browser
            .page(&app, "/triage?status=spam")
            .await
            .contains(&spam.to_string())
    );
    let back = browser
        .post(
            &app,
            &format!("/triage/feedback/{spam}"),
            &[("csrf", &csrf(&page)), ("view", ""), ("status", "new")],
        )
        .await;
    assert!(
        follow(&app, &browser, back)
            .await
            .contains("Marked as not spam")
    );
    assert!(
        browser
            .page(&app, "/triage")
            .await
            .contains(&spam.to_string()),
        "back in the inbox"
    );
}

#[tokio::test]
async fn the_to_day_is_included_in_the_team_time_zone() {
    let app = spawn_app_with(|s| s.team_time_zone = TeamTimeZone::parse("+14:00").unwrap()).await;
    feedbackd::staff::add_user(
        app.state.store.as_ref(),
        "tina",
        feedbackd::domain::Role::Triager,
        super::PASSWORD,
    )
    .await
    .unwrap();
    let id = app.submit(&app.valid_json()).await;
    let browser = log_in(&app, "tina").await;
    let zone = TeamTimeZone::parse("+14:00").unwrap().offset();
    let today = Utc::now()
        .with_timezone(&zone)
        .format("%Y-%m-%d")
        .to_string();
    let queue = browser
        .page(&app, &format!("/triage?from={today}&to={today}"))
        .await;
    assert!(
        queue.contains(&id.to_string()),
        "From = To = today finds today's"
    );
    assert!(queue.contains("UTC+14:00"), "the zone is named");
    let yesterday = (Utc::now().with_timezone(&zone) - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let before = browser
        .page(&app, &format!("/triage?from={yesterday}&to={yesterday}"))
        .await;
    assert!(
        !before.contains(&id.to_string()),
        "nor anything of the day after"
    );
}

#[tokio::test]
async fn unknown_assignees_are_refused_with_the_selection_kept() {
    let app = app_with_staff().await;
    let first = app.submit(&app.valid_json()).await;
    let second = app.submit(&app.valid_json()).await;
    let browser = log_in(&app, "tina").await;
    let page = browser.page(&app, "/triage").await;
    let token = csrf(&page);
    let refused = browser
        .post(
            &app,
            "/triage/bulk",
            &[
                ("csrf", &token),
                ("view", ""),
                ("ids", &first.to_string()),
                ("ids", &second.to_string()),
                ("assignee", "bobby"),
            ],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let html = refused.text().await.unwrap();
    assert!(html.contains("No staff member is called “bobby”"), "{html}");
    for id in [first, second] {
        assert!(
            html.contains(&format!("value=\"{id}\" aria-label")),
            "row shown"
        );
        let checked = html.split(&format!("value=\"{id}\"")).nth(1).unwrap();
        assert!(
            checked[..checked.find('>').unwrap()].contains("checked"),
            "{id} still selected"
        );
        assert_eq!(
            app.state
                .store
                .submission(id)
                .await
                .unwrap()
                .unwrap()
                .assignee,
            None
        );
    }
    let detail = browser
        .post(
            &app,
            &format!("/triage/feedback/{first}"),
            &[("csrf", &token), ("assignee", "bobby")],
        )
        .await;
    assert!(
        follow(&app, &browser, detail)
            .await
            .contains("no staff member is called “bobby”")
    );
    assert_eq!(
        app.state
            .store
            .submission(first)
            .await
            .unwrap()
            .unwrap()
            .assignee,
        None
    );
    let typed = browser
        .post(
            &app,
            "/triage/bulk",
            &[
                ("csrf", &token),
                ("view", ""),
                ("ids", &first.to_string()),
                ("assignee", "TINA"),
            ],
        )
        .await;
    assert!(
        follow(&app, &browser, typed)
            .await
            .contains("assigned to tina")
    );
    assert_eq!(
        app.state
            .store
            .submission(first)
            .await
            .unwrap()
            .unwrap()
            .assignee
            .as_deref(),
        Some("tina")
    );
}
