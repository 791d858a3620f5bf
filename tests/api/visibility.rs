//! The durable intake path (issue 15): a submission is acknowledged once it is in the intake
//! inbox, and the indexer moves it into the indexed tables in the background. The queue, search
//! and counts show a new submission at once (reads settle the inbox first), and the indexer
//! moves it within a second even when nobody reads.

use std::time::{Duration, Instant};

use feedbackd::domain::Role;
use feedbackd::store::QueueFilter;
use serde_json::Value;

use crate::raw_db::{rows, spawn_with_db};

async fn count(url: &str, table: &str) -> String {
    let found = rows(url, &format!("SELECT CAST(count(*) AS TEXT) FROM {table}")).await;
    found[0][0].1.clone().unwrap()
}

#[tokio::test]
async fn the_indexer_moves_a_submission_within_a_second_without_a_reader() {
    let (app, url) = spawn_with_db().await;
    let mut body = app.valid_json();
    body["message"] = Value::from("Unattended indexing check");
    let id = app.submit(&body).await;
    let acknowledged = Instant::now();
    loop {
        if count(&url, "submissions").await == "1" {
            break;
        }
        assert!(
            acknowledged.elapsed() < Duration::from_secs(1),
            "{id} not indexed within 1 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(&url, "intake_inbox").await, "0");
    assert_eq!(count(&url, "terms_acceptances").await, "1");
}

#[tokio::test]
async fn the_queue_search_and_counts_show_a_new_submission_at_once() {
    let (app, _) = spawn_with_db().await;
    let token = app.token(Role::Triager).await;
    let mut body = app.valid_json();
    body["message"] = Value::from("The zebracorn widget flickers");
    let id = app.submit(&body).await.to_string();
    let acknowledged = Instant::now();

    for query in ["", "?q=zebracorn"] {
        let page: Value = app
            .client
            .get(app.url(&format!("/api/v1/internal/feedback{query}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let ids: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, vec![id.as_str()], "{query}");
    }
    let counts = app
        .state
        .store
        .status_counts(&QueueFilter::default())
        .await
        .unwrap();
    assert!(counts.contains(&("new".to_owned(), 1)), "{counts:?}");
    assert!(acknowledged.elapsed() < Duration::from_secs(1));
}
