//! After an erasure nothing the service keeps ties the erased data to the address or to the
//! person's later submissions (the audit table is read directly); contact erasure redacts
//! the name and address where staff wrote them; the export holds triage state, notes and
//! who viewed the contact details.

use feedbackd::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::privacy::{privacy_call, submit_as};
use crate::raw_db::{is_sqlite, rows, spawn_with_db};

async fn staff_call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut request = app
        .client
        .request(method, app.url(&format!("/api/v1/internal{path}")))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

/// Every audit row as one line of text, read from the table itself.
async fn audit_table(url: &str) -> Vec<String> {
    let found = rows(
        url,
        "SELECT CAST(at AS TEXT) AS at, actor, action, CAST(submission_id AS TEXT) AS submission_id, \
         detail FROM audit_log ORDER BY id",
    )
    .await;
    found
        .into_iter()
        .map(|row| {
            row.into_iter()
                .map(|(name, value)| format!("{name}={}", value.unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

async fn audit_columns(url: &str) -> Vec<String> {
    let sql = if is_sqlite(url) {
        "SELECT name FROM pragma_table_info('audit_log')"
    } else {
        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns WHERE table_name = 'audit_log'"
    };
    rows(url, sql)
        .await
        .into_iter()
        .filter_map(|mut r| r.remove(0).1)
        .collect()
}

#[tokio::test]
async fn nothing_in_the_audit_table_ties_erased_feedback_to_a_later_submission() {
    let (app, url) = spawn_with_db().await;
    let webmaster = app.token(Role::Webmaster).await;
    let erased = submit_as(&app, Some("pat@example.org"), "first, kept anonymous").await;
    staff_call(
        &app,
        Method::GET,
        &format!("/feedback/{erased}"),
        &webmaster,
        None,
    )
    .await;
    privacy_call(
        &app,
        &webmaster,
        "export",
        json!({"email": "pat@example.org"}),
    )
    .await;
    let response = privacy_call(
        &app,
        &webmaster,
        "erase",
        json!({"email": "pat@example.org", "scope": "contact"}),
    )
    .await;
    let report: Value = response.json().await.unwrap();
    let receipt = report["removed"]["receipt"].as_str().unwrap().to_owned();
    assert_eq!(receipt.len(), 32);

    let later = submit_as(&app, Some("Pat@Example.org"), "second, with contact").await;
    staff_call(
        &app,
        Method::GET,
        &format!("/feedback/{later}"),
        &webmaster,
        None,
    )
    .await;

    assert!(!audit_columns(&url).await.iter().any(|c| c == "blind_index"));
    let table = audit_table(&url).await;
    let dump = table.join("\n");
    let blind_index = app.state.vault.blind_index("pat@example.org");
    for forbidden in [
        erased.to_string(),
        blind_index,
        "pat@".to_owned(),
        "Pat Example".to_owned(),
    ] {
        assert!(
            !dump.to_lowercase().contains(&forbidden.to_lowercase()),
            "{forbidden} in\n{dump}"
        );
    }
    let erase_row = table
        .iter()
        .find(|r| r.contains("action=privacy_erase_contact"))
        .expect("the erasure is audited");
    assert!(
        erase_row.contains(&format!("receipt={receipt}")),
        "{erase_row}"
    );
    assert!(
        erase_row.contains("contacts_removed=1") && erase_row.contains("submission_id= "),
        "{erase_row}"
    );
    // The later submission is named only by its own view, which shares nothing with the first.
    let naming_later: Vec<_> = table
        .iter()
        .filter(|r| r.contains(&later.to_string()))
        .collect();
    assert_eq!(naming_later.len(), 1, "{dump}");
    assert!(naming_later[0].contains("action=view_contact"));
    // Who did what, and when, is kept.
    for action in [
        "view_contact",
        "privacy_export",
        "export_contact",
        "privacy_erase_contact",
    ] {
        assert!(
            table
                .iter()
                .any(|r| r.contains(&format!("action={action} ")) && r.contains("actor=token:")),
            "{action} in\n{dump}"
        );
    }
}

#[tokio::test]
async fn contact_erasure_redacts_the_name_and_address_where_staff_wrote_them() {
    let (app, url) = spawn_with_db().await;
    let webmaster = app.token(Role::Webmaster).await;
    let mine = submit_as(
        &app,
        Some("pat@example.org"),
        "Crash on save. Pat Example, PAT@example.org",
    )
    .await;
    let other = submit_as(&app, Some("sam@example.org"), "Unrelated crash on save").await;
    app.add_staff("ann").await;
    staff_call(
        &app,
        Method::PATCH,
        &format!("/feedback/{mine}"),
        &webmaster,
        Some(json!({"status": "triaged", "labels": ["editor"], "assignee": "ann"})),
    )
    .await;
    staff_call(
        &app,
        Method::POST,
        &format!("/feedback/{mine}/notes"),
        &webmaster,
        Some(json!({"body": "Phoned pat; Pat Example says it happens daily (Pat@Example.org)."})),
    )
    .await;
    staff_call(
        &app,
        Method::POST,
        &format!("/feedback/{other}/notes"),
        &webmaster,
        Some(json!({"body": "Same as the one from pat@example.org; the Patch fixes both."})),
    )
    .await;
    staff_call(
        &app,
        Method::GET,
        &format!("/feedback/{mine}"),
        &webmaster,
        None,
    )
    .await;

    let export: Value = privacy_call(
        &app,
        &webmaster,
        "export",
        json!({"email": "pat@example.org"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let exported = &export["submissions"][0];
    assert_eq!(exported["triage"]["status"], "triaged");
    assert_eq!(exported["triage"]["labels"], json!(["editor"]));
    assert_eq!(exported["triage"]["assignee"], "ann");
    assert!(
        exported["notes"][0]["body"]
            .as_str()
            .unwrap()
            .contains("happens daily")
    );
    let access = export["contact_access"].as_array().unwrap();
    assert!(
        access.iter().any(|a| a["action"] == "view_contact"
            && a["submission"] == mine.to_string()
            && a["staff"].as_str().unwrap().starts_with("token:")),
        "{access:?}"
    );

    let report: Value = privacy_call(
        &app,
        &webmaster,
        "erase",
        json!({"email": "pat@example.org", "scope": "contact"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(report["removed"]["texts_redacted"], 3);
    let notes = app.state.store.notes(mine).await.unwrap();
    assert_eq!(
        notes[0].body,
        "Phoned [removed]; [removed] says it happens daily ([removed])."
    );
    let notes = app.state.store.notes(other).await.unwrap();
    assert_eq!(
        notes[0].body,
        "Same as the one from [removed]; the Patch fixes both."
    );
    let row = app.state.store.submission(mine).await.unwrap().unwrap();
    assert_eq!(row.message, "Crash on save. [removed], [removed]");
    // The search index follows: the name finds nothing, the rest of the text still does.
    for (q, expected) in [("Example", 0), ("save", 2)] {
        let page = staff_call(
            &app,
            Method::GET,
            &format!("/feedback?q={q}"),
            &webmaster,
            None,
        )
        .await;
        assert_eq!(page["items"].as_array().unwrap().len(), expected, "q={q}");
    }
    let stored = rows(&url, "SELECT body FROM staff_notes").await;
    assert!(!format!("{stored:?}").to_lowercase().contains("pat@"));
}

const SQLITE_SCRUB: &str =
    include_str!("../../migrations/sqlite/20261130000101_audit_unlinkable.sql");
const POSTGRES_SCRUB: &str =
    include_str!("../../migrations/postgres/20261130000101_audit_unlinkable.sql");

#[tokio::test]
async fn the_migration_scrubs_audit_rows_written_the_old_way() {
    let (app, url) = spawn_with_db().await;
    let kept = submit_as(&app, Some("kim@example.org"), "contact still here").await;
    // Plain SQL against `submissions` (the scrub joins it) needs the row out of the inbox.
    app.state.store.settle().await.unwrap();
    let gone = uuid::Uuid::now_v7();
    // The table as it was before the migration, with rows as they were written then.
    crate::raw_db::execute(
        &url,
        &format!(
            "ALTER TABLE audit_log ADD COLUMN blind_index TEXT;
             INSERT INTO audit_log (at, actor, action, submission_id, blind_index, detail) VALUES
             ('2026-11-01T00:00:00Z', 'user:w', 'view_contact', '{kept}', 'aa11', NULL),
             ('2026-11-01T00:00:00Z', 'user:w', 'view_contact', '{gone}', 'bb22', NULL),
             ('2026-11-01T00:00:00Z', 'user:w', 'privacy_export', NULL, 'bb22', 'submissions: {gone},{kept}'),
             ('2026-11-01T00:00:00Z', 'user:w', 'privacy_erase_contact', NULL, 'bb22', 'submissions: '),
             ('2026-11-01T00:00:00Z', 'user:w', 'triage', '{gone}', NULL, 'status=done');"
        ),
    )
    .await;
    let scrub = if is_sqlite(&url) {
        SQLITE_SCRUB
    } else {
        POSTGRES_SCRUB
    };
    crate::raw_db::execute(&url, scrub).await;

    assert!(!audit_columns(&url).await.iter().any(|c| c == "blind_index"));
    let table = audit_table(&url).await;
    let dump = table.join("\n");
    assert!(!dump.contains("aa11") && !dump.contains("bb22"), "{dump}");
    let line = |action: &str, nth: usize| {
        table
            .iter()
            .filter(|r| r.contains(&format!("action={action} ")))
            .nth(nth)
            .unwrap()
            .clone()
    };
    assert!(
        line("view_contact", 0).contains(&kept.to_string()),
        "a live contact's view stays"
    );
    assert!(
        line("view_contact", 1).contains("submission_id= "),
        "{dump}"
    );
    assert!(
        line("privacy_export", 0).ends_with("detail=submissions=2"),
        "{dump}"
    );
    assert!(
        line("privacy_erase_contact", 0).ends_with("detail=submissions=0"),
        "{dump}"
    );
    assert!(
        line("triage", 0).contains(&gone.to_string()),
        "triage rows are left alone"
    );
}
