//! The operators' pictures read real metrics: every metric name the Grafana dashboard
//! (`deploy/grafana/`) and the Prometheus alert rules (`deploy/prometheus/`) query is exported
//! at the admin listener's `/metrics`, and the queue depth there follows the database.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

const DASHBOARD: &str = include_str!("../../deploy/grafana/feedbackd-dashboard.json");
const ALERTS: &str = include_str!("../../deploy/prometheus/alerts.yml");

/// The `feedbackd_…` metric names in a text.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("feedbackd_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

/// Every `expr` of the dashboard's panels.
fn dashboard_queries() -> Vec<String> {
    let dashboard: Value = serde_json::from_str(DASHBOARD).expect("the dashboard is JSON");
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            queries.push(target["expr"].as_str().expect("an expr").to_owned());
        }
    }
    queries
}

#[tokio::test]
async fn every_metric_the_dashboard_and_alerts_query_is_exported() {
    // With a webhook endpoint, so that its per-endpoint series exist.
    let (secret, _) = crate::receiver::new_secret();
    let down = crate::receiver::DownPort::new();
    let app = spawn_app_with(|s| {
        let hook = crate::receiver::endpoint("tracker", down.addr, &secret);
        s.notify.webhooks = vec![hook];
    })
    .await;
    app.submit(&app.valid_json()).await;
    let refused = app.post_json(&json!({"kind": "bug"})).await;
    assert_eq!(refused.status(), 422);
    let exported = reqwest::get(app.admin_url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let series: BTreeSet<&str> = exported
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split(['{', ' ']).next())
        .collect();

    let queries = dashboard_queries();
    assert!(queries.len() >= 10, "the dashboard has its panels");
    for query in &queries {
        assert!(
            !metric_names(query).is_empty(),
            "{query} reads a feedbackd metric"
        );
    }
    let wanted: BTreeSet<String> = metric_names(&queries.join("\n"))
        .into_iter()
        .chain(metric_names(ALERTS))
        .collect();
    assert!(wanted.len() >= 8, "{wanted:?}");
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|n| !series.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "queried but not exported: {missing:?}\n{exported}"
    );
}

#[tokio::test]
async fn the_queue_depth_follows_the_database() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.submit(&app.valid_json()).await;
    }
    let exported = reqwest::get(app.admin_url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        exported.contains("feedbackd_queue_submissions{status=\"new\"} 3"),
        "{exported}"
    );
    assert!(exported.contains("feedbackd_queue_submissions{status=\"spam\"} 0"));
    assert!(exported.contains("feedbackd_pending_deletions 0"));
}
