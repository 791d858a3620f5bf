//! `feedbackd keys rotate` with the key file: new keys, every contact re-sealed and re-indexed
//! under them (checked in the table), the old keys dropped once unused, and a rotation
//! interrupted after writing the new keys resumes.

use feedbackd::privacy::{ContactKeys, ContactVault};

use crate::privacy::submit_as;
use crate::privacy_cli::{cli, spawn_with_env};
use crate::raw_db::rows;

fn vault_of(dir: &std::path::Path) -> ContactVault {
    ContactVault::new(&ContactKeys::load_or_create(&dir.join("contact.key")).unwrap())
}

#[tokio::test]
async fn rotation_reseals_every_contact_and_resumes() {
    let (app, env) = spawn_with_env().await;
    let url = env
        .iter()
        .find(|(k, _)| *k == "FEEDBACKD_DATABASE_URL")
        .unwrap()
        .1
        .clone();
    let dir = app._data_dir.path().to_owned();
    submit_as(&app, Some("pat@example.org"), "first").await;
    submit_as(&app, Some("sam@example.org"), "second").await;
    let old_file = std::fs::read_to_string(dir.join("contact.key")).unwrap();
    let old_key_id = vault_of(&dir).key_id().to_owned();

    let run = cli(&env, &["keys", "rotate"], None).await;
    assert!(run.success, "{}", run.stderr);
    assert!(
        run.stdout.contains("2 contact(s) re-sealed, 0 not under"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("removed from the key file"),
        "{}",
        run.stdout
    );
    let new_file = std::fs::read_to_string(dir.join("contact.key")).unwrap();
    assert_ne!(new_file, old_file);
    assert!(
        !new_file.contains("previous_"),
        "the old keys are gone once unused"
    );
    let vault = vault_of(&dir);
    assert_ne!(vault.key_id(), old_key_id);
    let stored = rows(
        &url,
        "SELECT key_id, blind_index FROM contacts ORDER BY blind_index",
    )
    .await;
    assert_eq!(stored.len(), 2);
    for row in &stored {
        assert_eq!(row[0].1.as_deref(), Some(vault.key_id()));
    }
    let pat = vault.blind_index("pat@example.org");
    assert!(
        stored
            .iter()
            .any(|r| r[1].1.as_deref() == Some(pat.as_str())),
        "re-indexed"
    );

    let export = cli(
        &env,
        &["privacy", "export", "--email", "pat@example.org"],
        None,
    )
    .await;
    assert!(export.success, "{}", export.stderr);
    let export: serde_json::Value = serde_json::from_str(&export.stdout).unwrap();
    assert_eq!(
        export["submissions"][0]["contact"]["email"],
        "pat@example.org"
    );

    // A rotation that stopped right after writing its new keys: the next run resumes.
    let current = ContactKeys::load_or_create(&dir.join("contact.key")).unwrap();
    ContactKeys::generate()
        .with_previous(current)
        .write_file(&dir.join("contact.key"))
        .unwrap();
    let during = cli(
        &env,
        &["privacy", "export", "--email", "sam@example.org"],
        None,
    )
    .await;
    let during: serde_json::Value = serde_json::from_str(&during.stdout).unwrap();
    assert_eq!(
        during["submissions"][0]["contact"]["email"], "sam@example.org",
        "found and opened with the previous keys meanwhile"
    );
    let resumed = cli(&env, &["keys", "rotate"], None).await;
    assert!(resumed.success, "{}", resumed.stderr);
    assert!(resumed.stderr.contains("resuming"), "{}", resumed.stderr);
    assert!(
        resumed.stdout.contains("2 contact(s) re-sealed"),
        "{}",
        resumed.stdout
    );
    let vault = vault_of(&dir);
    let stored = rows(&url, "SELECT key_id FROM contacts").await;
    assert!(
        stored
            .iter()
            .all(|r| r[0].1.as_deref() == Some(vault.key_id()))
    );
}
