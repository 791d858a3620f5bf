//! Likely duplicates by similar text, found through the search index (FTS5 on SQLite, the
//! `tsvector` on PostgreSQL): a reworded report is suggested with its summary, date and status;
//! an unrelated one, or one sharing a single word, is not.

use feedbackd::domain::Role;
use serde_json::Value;
use uuid::Uuid;

use crate::bulk_triage::Session;
use crate::helpers::TestApp;

async fn submit(app: &TestApp, summary: &str, message: &str) -> Uuid {
    let mut body = app.valid_json();
    body["kind"] = "bug".into();
    body.as_object_mut().unwrap().remove("rating");
    body["summary"] = summary.into();
    body["message"] = message.into();
    app.submit(&body).await
}

#[tokio::test]
async fn a_reworded_report_is_suggested_and_an_unrelated_one_is_not() {
    let app = crate::helpers::spawn_app().await;
    let session = Session::start(&app).await;
    let token = app.token(Role::Triager).await;
    let original = submit(
        &app,
        "Export crashes",
        "The export button crashes the app when I click it on the reports page.",
    )
    .await;
    let reworded = submit(
        &app,
        "App crash on export",
        "Clicking Export on Reports makes the whole app crash.",
    )
    .await;
    let one_word = submit(&app, "Export to CSV", "The CSV lacks a column.").await;
    let unrelated = submit(
        &app,
        "Wrong week",
        "The calendar shows the wrong week after midnight.",
    )
    .await;

    let detail: Value = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/internal/feedback/{original}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let suggested: Vec<&str> = detail["likely_duplicates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(suggested, [reworded.to_string()], "{detail}");
    for other in [one_word, unrelated] {
        assert!(!suggested.contains(&other.to_string().as_str()));
    }

    let page = session
        .get(&app, &format!("/triage/feedback/{original}"))
        .await;
    let listed = &page[page
        .find("Likely duplicates")
        .expect("the duplicates are listed")..];
    let listed = &listed[..listed.find("</fieldset>").unwrap()];
    assert!(listed.contains("App crash on export"), "{listed}");
    assert!(listed.contains("(similar wording)"), "{listed}");
    assert!(
        listed.contains("<time datetime="),
        "with its date: {listed}"
    );
    assert!(
        listed.contains("class=\"status status-new\""),
        "with its status: {listed}"
    );
    assert!(!listed.contains("Wrong week") && !listed.contains("Export to CSV"));
    assert!(
        !listed.contains(" checked>"),
        "a similar one is offered, not ticked: {listed}"
    );
}
