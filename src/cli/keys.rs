//! `feedbackd keys rotate`: new contact keys, every contact re-sealed under them, the old keys
//! dropped once nothing uses them (see OPERATIONS, "Rotating the contact keys").

use clap::Subcommand;

use crate::app;
use crate::config::Settings;
use crate::privacy::rotation::{remaining, reseal_all};
use crate::privacy::{ContactKeys, ContactVault};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-seal every contact under the current keys. With the key file (no keys configured):
    /// first generate new keys, keeping the old ones as previous, and drop the previous keys
    /// at the end once nothing uses them. Run it again after a crash: it resumes.
    Rotate,
}

pub async fn run(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Rotate = command;
    let key_file = settings.data_dir.join("contact.key");
    let from_file = settings.contact_key.is_none() && settings.blind_index_key.is_none();
    let keys = if from_file {
        let keys = ContactKeys::load_or_create(&key_file)?;
        if keys.previous().is_some() {
            eprintln!("feedbackd: resuming the rotation in progress");
            keys
        } else {
            let rotated = ContactKeys::generate().with_previous(keys);
            rotated.write_file(&key_file)?;
            eprintln!("feedbackd: new keys written to {}", key_file.display());
            rotated
        }
    } else {
        app::contact_keys(settings)?
    };
    let store = app::open_store(settings).await?;
    let vault = ContactVault::new(&keys);
    let outcome = async {
        let done = reseal_all(store.as_ref(), &vault).await?;
        let left = remaining(store.as_ref(), &vault).await?;
        Ok::<_, anyhow::Error>((done, left))
    }
    .await;
    store.close().await;
    let (done, left) = outcome?;
    println!(
        "feedbackd: {} contact(s) re-sealed, {left} not under the current key ({} unreadable)",
        done.resealed, done.unreadable
    );
    if left > 0 {
        anyhow::bail!("contacts remain under an older key: run `keys rotate` again");
    }
    if from_file && keys.previous().is_some() {
        let current = ContactKeys::from_bytes(*keys.seal_key(), *keys.blind_index_key());
        current.write_file(&key_file)?;
        println!("feedbackd: nothing uses the previous keys any more: removed from the key file");
    } else if !from_file && keys.previous().is_some() {
        println!(
            "feedbackd: nothing uses the previous keys any more: remove previous_contact_key \
             and previous_blind_index_key from the configuration"
        );
    }
    Ok(())
}
