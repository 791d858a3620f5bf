//! Key rotation: every contact sealed under another key than the current one is opened (with
//! the previous key) and sealed again under the current key, its blind index recomputed with
//! the current index key. Resumable (it only looks at what is not under the current key) and
//! safe beside running replicas and other runs (each row is replaced only if its key id is
//! still the one that was read).

use uuid::Uuid;

use super::ContactVault;
use crate::store::{ContactRow, Store, StoreError};

/// Contacts read per query.
const BATCH: u32 = 200;

/// What a pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resealed {
    pub resealed: u64,
    /// Sealed under a key this vault does not hold (neither current nor previous).
    pub unreadable: u64,
}

/// Re-seals every contact that is not under the vault's current key.
pub async fn reseal_all(store: &dyn Store, vault: &ContactVault) -> Result<Resealed, StoreError> {
    let mut done = Resealed::default();
    let mut after: Option<Uuid> = None;
    loop {
        let batch = store
            .contacts_to_reseal(vault.key_id(), after, BATCH)
            .await?;
        let Some((last, _)) = batch.last() else {
            return Ok(done);
        };
        after = Some(*last);
        for (id, row) in &batch {
            let Ok(opened) = vault.open(*id, &row.sealed) else {
                done.unreadable += 1;
                continue;
            };
            let sealed = vault.seal_opened(*id, &opened);
            let new = ContactRow {
                blind_index: sealed.blind_index,
                sealed: sealed.sealed,
                key_id: sealed.key_id,
            };
            if store.reseal_contact(*id, &row.key_id, &new).await? {
                done.resealed += 1;
            }
        }
    }
}

/// How many contacts are still under another key than the current one.
pub async fn remaining(store: &dyn Store, vault: &ContactVault) -> Result<u64, StoreError> {
    let mut count = 0;
    let mut after = None;
    loop {
        let batch = store
            .contacts_to_reseal(vault.key_id(), after, BATCH)
            .await?;
        let Some((last, _)) = batch.last() else {
            return Ok(count);
        };
        after = Some(*last);
        count += batch.len() as u64;
    }
}
