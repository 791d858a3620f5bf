//! Removes objects that no submission references: what a crash between upload and commit, or
//! a failed clean-up, left behind. Only objects older than a grace age are considered, so an
//! upload still on its way to its commit is never touched.

use std::time::Duration;

use futures::TryStreamExt;
use object_store::path::Path;

use crate::blobs::{ATTACHMENTS_PREFIX, Blobs};
use crate::store::Store;

/// Keys checked against the database per query.
const KEYS_PER_QUERY: usize = 500;

/// One pass over the attachments prefix; returns how many orphans were deleted.
pub async fn sweep_orphans(
    blobs: &Blobs,
    store: &dyn Store,
    grace: Duration,
) -> anyhow::Result<usize> {
    let cutoff = chrono::Utc::now() - grace;
    let prefix = Path::from(ATTACHMENTS_PREFIX);
    let mut stale = blobs
        .object_store()
        .list(Some(&prefix))
        .try_filter(|meta| std::future::ready(meta.last_modified < cutoff))
        .map_ok(|meta| meta.location.to_string())
        .try_chunks(KEYS_PER_QUERY);

    let mut deleted = 0;
    while let Some(keys) = stale.try_next().await.map_err(|e| anyhow::anyhow!(e.1))? {
        let referenced = store.referenced_objects(&keys).await?;
        for key in keys.iter().filter(|k| !referenced.contains(*k)) {
            blobs.delete(key).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}
