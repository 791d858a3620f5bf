//! The defects of issue 13, each through the view's HTML: repeated bulk actions, refusals as
//! pages, spam, the "To" day, unknown assignees, forgiving filters, readable values.

use chrono::Utc;
use feedbackd::domain::TeamTimeZone;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Browser, app_with_staff, assert_html_refusal, attr, csrf, log_in, unattr};
use crate::helpers::{TestApp, file_part, spawn_app_with};

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

#[tokio::test]
async fn filters_ignore_case_and_find_families_and_patch_releases() {
    let app = app_with_staff().await;
    let with = |version: &str| {
        let mut body = app.valid_json();
        body["webapp_version"] = json!(version);
        body
    };
    let safari = submit_as(&app, SAFARI_UA, &with("7.1.0")).await;
    let iphone = submit_as(&app, IPHONE_UA, &with("7.1.3")).await;
    let firefox = app.submit(&with("7.10.0")).await;
    let browser = log_in(&app, "tina").await;
    let page = browser.page(&app, "/triage").await;
    let assigned = browser
        .post(
            &app,
            "/triage/bulk",
            &[
                ("csrf", &csrf(&page)),
                ("view", ""),
                ("ids", &iphone.to_string()),
                ("assignee", "tina"),
            ],
        )
        .await;
    assert_eq!(assigned.status(), 303);
    for (query, expected) in [
        ("browser=safari", vec![safari, iphone]),
        ("browser=SAFARI", vec![safari, iphone]),
        ("browser=mobile+safari", vec![iphone]),
        ("browser=Firefox", vec![firefox]),
        ("webapp_version=7.1", vec![safari, iphone]),
        ("webapp_version=7.1.3", vec![iphone]),
        ("webapp_version=7.10", vec![firefox]),
        ("assignee=TINA", vec![iphone]),
    ] {
        let html = browser.page(&app, &format!("/triage?{query}")).await;
        for id in [safari, iphone, firefox] {
            assert_eq!(
                html.contains(&format!("value=\"{id}\"")),
                expected.contains(&id),
                "{query}: {id}"
            );
        }
    }
}

#[tokio::test]
async fn times_statuses_and_sizes_read_as_people_say_them() {
    let app = app_with_staff().await;
    let form = app.valid_bug_form().part(
        "attachment",
        file_part(&[b'a'; 4_200], "log.txt", "text/plain"),
    );
    let receipt: Value = app.post_form(form).await.json().await.unwrap();
    let id = receipt["id"].as_str().unwrap();
    let browser = log_in(&app, "tina").await;
    let page = browser.page(&app, &format!("/triage/feedback/{id}")).await;
    let token = csrf(&page);
    browser
        .post(
            &app,
            &format!("/triage/feedback/{id}"),
            &[("csrf", &token), ("status", "wont_fix")],
        )
        .await;
    browser
        .post(
            &app,
            &format!("/triage/feedback/{id}/notes"),
            &[("csrf", &token), ("body", "seen")],
        )
        .await;
    let page = browser.page(&app, &format!("/triage/feedback/{id}")).await;
    assert!(
        page.contains("4.2 KB") && !page.contains("4200 bytes"),
        "size"
    );
    assert!(
        page.contains(">Won&#x27;t fix</span>") || page.contains(">Won't fix</span>"),
        "status name"
    );
    assert!(page.contains(">just now</time>"), "relative time");
    let visible: String = page
        .split('<')
        .map(|part| part.split_once('>').map_or("", |(_, text)| text))
        .collect();
    let raw_time = regex_like_raw_time(&visible);
    assert!(raw_time.is_none(), "no raw time shown: {raw_time:?}");
    assert!(visible.contains(" UTC"), "exact times name their zone");
    let queue = browser.page(&app, "/triage?status=all").await;
    assert!(queue.contains("Won&#x27;t fix") || queue.contains("Won't fix"));
    assert!(!queue.contains(">wont_fix<"));
}

/// A `T12:34:56` or a fraction of a second in text meant for people.
fn regex_like_raw_time(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(9)).find_map(|i| {
        let window = &bytes[i..i + 9];
        let raw = window[0] == b'T'
            && window[1..3].iter().all(u8::is_ascii_digit)
            && window[3] == b':'
            && window[6] == b':';
        let fraction = window[0] == b'.' && window[1..7].iter().all(u8::is_ascii_digit);
        (raw || fraction).then(|| text[i..i + 9].to_owned())
    })
}

#[tokio::test]
async fn erased_contact_details_are_told_apart_from_none_given() {
    let app = app_with_staff().await;
    let mut body = app.valid_json();
    body["contact_email"] = json!("pat@example.org");
    let erased = app.submit(&body).await;
    let anonymous = app.submit(&app.valid_json()).await;
    let webmaster = log_in(&app, "wendy").await;
    let page = webmaster.page(&app, "/triage/privacy").await;
    let done = webmaster
        .post(
            &app,
            "/triage/privacy",
            &[
                ("csrf", &csrf(&page)),
                ("email", "pat@example.org"),
                ("action", "erase_contact"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);
    let page = webmaster
        .page(&app, &format!("/triage/feedback/{erased}"))
        .await;
    assert!(
        page.contains("Contact details erased") && !page.contains("No contact details given"),
        "{page}"
    );
    let page = webmaster
        .page(&app, &format!("/triage/feedback/{anonymous}"))
        .await;
    assert!(page.contains("No contact details given") && !page.contains("Contact details erased"));
}
