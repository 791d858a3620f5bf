//! What a webhook says about a submission: the submission as the internal API shows it, read
//! when the message is delivered, minus everything that could identify the person (no contact
//! details ever; the summary, message and file names only where the endpoint asks for them).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Event;
use crate::store::SubmissionRow;

/// The submission's link in the triage view, when the service knows its public address.
pub fn triage_link(public_url: Option<&str>, id: Uuid) -> Option<String> {
    public_url.map(|base| format!("{}/triage/feedback/{id}", base.trim_end_matches('/')))
}

/// `data` for a submission that still exists.
pub fn submission_data(row: &SubmissionRow, include_message: bool, link: Option<&str>) -> Value {
    let attachments: Vec<Value> = row
        .attachments
        .iter()
        .map(|a| {
            let mut item = json!({
                "n": a.position,
                "size": a.size,
                "sha256": a.sha256,
                "content_type": a.content_type,
            });
            if include_message {
                item["filename"] = json!(a.filename);
            }
            item
        })
        .collect();
    let mut data = json!({
        "id": row.id,
        "received_at": row.received_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "kind": row.kind,
        "status": row.status,
        "rating": row.rating,
        "labels": row.labels,
        "assignee": row.assignee,
        "duplicate_of": row.duplicate_of,
        "environment": {
            "webapp_version": row.webapp_version,
            "server_version": row.server_version,
            "browser": {"brand": row.browser_brand, "version": row.browser_version},
            "screen_resolution": format!("{}x{}", row.screen_width, row.screen_height),
        },
        "terms": {"version": row.terms.version, "sha256": row.terms.sha256},
        "attachments": attachments,
        "has_contact": row.contact.is_some(),
    });
    if include_message {
        data["summary"] = json!(row.summary);
        data["message"] = json!(row.message);
        data["environment"]["url"] = json!(row.page_url);
    }
    if let Some(link) = link {
        data["url"] = json!(link);
    }
    data
}

/// `data` for a submission that no longer exists (withdrawn): its id only.
pub fn gone_data(id: Uuid) -> Value {
    json!({ "id": id })
}

/// The Standard Webhooks body: `{"type", "timestamp", "data"}`; a triage change's fields are
/// added to `data` as `changes`.
pub fn standard_body(
    event: Event,
    at: DateTime<Utc>,
    mut data: Value,
    outbox_payload: &Value,
) -> Value {
    if let Some(changes) = outbox_payload.get("changes") {
        data["changes"] = changes.clone();
    }
    json!({
        "type": event.as_str(),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
}

/// The Slack body: one short line and the link. Never the message text, even with
/// `include_message`: chat channels are read by more people than a tracker.
pub fn slack_body(event: Event, data: &Value) -> Value {
    let kind = data["kind"].as_str().unwrap_or("submission");
    let id = data["id"].as_str().unwrap_or_default();
    let short = id.get(..8).unwrap_or(id);
    let what = match event {
        Event::SubmissionCreated => format!("New {kind} received ({short})"),
        Event::SubmissionUpdated => format!(
            "{kind} {short} is now {}",
            data["status"].as_str().unwrap_or("updated")
        ),
        Event::SubmissionWithdrawn => format!("Submission {short} was withdrawn by its sender"),
        other => format!("{other}: {short}"),
    };
    let text = match data["url"].as_str() {
        Some(link) => format!("{what}: <{link}|open in the triage view>"),
        None => what,
    };
    json!({ "text": text })
}
