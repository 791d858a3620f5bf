//! Counts per status: those the database keeps (all submissions, or one kind) agree with
//! counting the submissions themselves, through intake, triage changes and erasure; and the
//! filters' choices the view keeps, after a triage change.

use chrono::{DateTime, Utc};
use feedbackd::domain::{Labels, Status, TriagePatch};
use feedbackd::notify::{Event, Fanout};
use feedbackd::store::{AuditEntry, EraseScope, QueueFilter};
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::raw_db::{execute, spawn_with_db};

/// The kept counts and the counted ones for `kind` (any kind when `None`), sorted by status.
async fn kept_and_counted(app: &TestApp, kind: Option<&str>) -> [Vec<(String, i64)>; 2] {
    let kept = QueueFilter {
        kind: kind.map(str::to_owned),
        ..QueueFilter::default()
    };
    assert!(kept.counts_are_kept());
    // A date filter that matches everything forces the counting path.
    let counted = QueueFilter {
        received_from: Some(DateTime::UNIX_EPOCH),
        ..kept.clone()
    };
    assert!(!counted.counts_are_kept());
    let store = app.state.store.as_ref();
    let mut kept = store.status_counts(&kept).await.unwrap();
    let mut counted = store.status_counts(&counted).await.unwrap();
    kept.sort();
    counted.sort();
    [kept, counted]
}

async fn assert_counts(app: &TestApp, expected_all: &[(&str, i64)]) {
    for kind in [None, Some("bug"), Some("feature"), Some("feedback")] {
        let [kept, counted] = kept_and_counted(app, kind).await;
        assert_eq!(kept, counted, "kind {kind:?}");
    }
    let [all, _] = kept_and_counted(app, None).await;
    let expected: Vec<(String, i64)> = expected_all
        .iter()
        .map(|(status, n)| ((*status).to_owned(), *n))
        .collect();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn kept_counts_follow_intake_triage_and_erasure() {
    let app = spawn_app().await;
    assert_counts(&app, &[]).await;

    let mut ids = Vec::new();
    for kind in ["bug", "bug", "bug", "feature", "feedback"] {
        let mut body = app.valid_json();
        body["kind"] = json!(kind);
        if kind != "feedback" {
            // A rating belongs to the Feedback? window only.
            body.as_object_mut().unwrap().remove("rating");
        }
        ids.push(app.submit(&body).await);
    }
    assert_counts(&app, &[("new", 5)]).await;

    let store = app.state.store.as_ref();
    let audit = AuditEntry {
        at: Utc::now(),
        actor: "test".to_owned(),
        action: "triage".to_owned(),
        submission_id: None,
        detail: None,
    };
    let close = TriagePatch {
        status: Some(Status::Done),
        ..TriagePatch::default()
    };
    store
        .apply_triage(
            &ids[1..4],
            &close,
            &audit,
            &Fanout::none(Event::SubmissionUpdated),
        )
        .await
        .unwrap()
        .unwrap();
    // Changes that leave the status alone leave the counts alone.
    let relabel = TriagePatch {
        labels: Labels::parse(["ui"]),
        ..TriagePatch::default()
    };
    store
        .apply_triage(
            &ids,
            &relabel,
            &audit,
            &Fanout::none(Event::SubmissionUpdated),
        )
        .await
        .unwrap()
        .unwrap();
    assert_counts(&app, &[("done", 3), ("new", 2)]).await;

    let audit = AuditEntry {
        action: "privacy_erase_everything".to_owned(),
        ..audit
    };
    store
        .erase(&ids[2..5], EraseScope::Everything, &[], &audit, &[])
        .await
        .unwrap();
    assert_counts(&app, &[("done", 1), ("new", 1)]).await;
}

#[tokio::test]
async fn a_triage_change_rereads_only_the_choices_it_can_change() {
    let (app, url) = spawn_with_db().await;
    let ids = [
        app.submit(&app.valid_json()).await,
        app.submit(&app.valid_json()).await,
    ];
    let (counts, store) = (&app.state.status_counts, app.state.store.as_ref());
    let before = counts.facets(store).await.unwrap();
    assert_eq!(before.browsers, [("Firefox".to_owned(), 2)]);
    assert!(before.labels.is_empty());

    // Written behind the view's back: shown once the choices are read in full again (after
    // 30 s), not because of a triage change, which cannot alter a browser.
    execute(
        &url,
        &format!(
            "UPDATE submissions SET browser_brand = 'Safari' WHERE id = '{}'",
            ids[0]
        ),
    )
    .await;
    let label = TriagePatch {
        labels: Labels::parse(["ui"]),
        ..TriagePatch::default()
    };
    let audit = AuditEntry {
        at: Utc::now(),
        actor: "test".to_owned(),
        action: "triage".to_owned(),
        submission_id: None,
        detail: None,
    };
    store
        .apply_triage(
            &ids[1..],
            &label,
            &audit,
            &Fanout::none(Event::SubmissionUpdated),
        )
        .await
        .unwrap()
        .unwrap();
    counts.clear();
    let after = counts.facets(store).await.unwrap();
    assert_eq!(after.labels, [("ui".to_owned(), 1)], "labels read afresh");
    assert_eq!(after.browsers, before.browsers, "browsers as read before");
    assert_eq!(after.webapp_versions, before.webapp_versions);
}
