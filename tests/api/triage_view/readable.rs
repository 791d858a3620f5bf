//! Defects of issue 13 in what the view shows: forgiving filters, readable times, statuses and
//! sizes, erased contact details told apart from none given.

use serde_json::{Value, json};

use super::defects::{IPHONE_UA, SAFARI_UA, submit_as};
use super::{app_with_staff, csrf, log_in};
use crate::helpers::file_part;

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
    let token = app.token(feedbackd::domain::Role::Webmaster).await;
    let done = reqwest::Client::new()
        .post(app.url("/api/v1/internal/privacy/erase"))
        .bearer_auth(token)
        .json(&json!({"email": "pat@example.org", "scope": "contact"}))
        .send()
        .await
        .unwrap();
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
