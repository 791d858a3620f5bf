//! Housekeeping: the periodic jobs of every replica, on start and then every
//! `sweep_interval_secs` — queued object deletions (erasure, retention), retention, the orphan
//! sweeper, the planner's statistics (SQLite), the kept counts' slots (PostgreSQL), expired idempotency keys, and idle entries of the
//! per-client limits, the staff's daily e-mail digests. With several replicas on one database a lease row lets one run each pass;
//! every job is idempotent, so a pass cut short is finished by the next.

use std::time::Duration;

use crate::attachments::sweeper;
use crate::privacy::requests;
use crate::state::AppState;
use crate::store::IDEMPOTENCY_WINDOW_HOURS;

/// The lease's name in the database.
pub const LEASE: &str = "housekeeping";
/// Longest a pass may hold the lease: a replica that dies mid-pass blocks others this long.
const LEASE_TIME: chrono::Duration = chrono::Duration::minutes(5);

/// `interval` stretched by a random fraction of at most a quarter.
fn jittered(interval: Duration) -> Duration {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let fraction = f64::from(OsRng.next_u32()) / f64::from(u32::MAX) / 4.0;
    interval.mul_f64(1.0 + fraction)
}

/// Runs passes for `holder` (this replica) until the task is aborted.
pub async fn run(state: AppState, holder: String) {
    let interval = Duration::from_secs(state.settings.sweep_interval_secs.max(1));
    let mut first = true;
    loop {
        // The first pass at start; then a full interval after each pass, stretched by a random
        // 0–25 %: replicas started together would otherwise tick in step, and the one a little
        // ahead would take the lease every time.
        if !std::mem::take(&mut first) {
            tokio::time::sleep(jittered(interval)).await;
        }
        if let Some(limiter) = &state.rate_limiter {
            limiter.forget_idle();
        }
        state.login_guard.forget_idle();
        let lease_until = chrono::Utc::now() + LEASE_TIME;
        match state.store.try_lease(LEASE, &holder, lease_until).await {
            Ok(true) => {
                tracing::debug!(replica = %holder, "housekeeping pass started");
                pass(&state).await;
                tracing::debug!(replica = %holder, "housekeeping pass finished");
                if let Err(error) = state.store.release_lease(LEASE, &holder).await {
                    tracing::warn!(error = ?error, "releasing the housekeeping lease failed");
                }
            }
            Ok(false) => tracing::debug!("another replica holds the housekeeping lease"),
            Err(error) => tracing::warn!(error = ?error, "housekeeping lease unavailable"),
        }
    }
}

async fn pass(state: &AppState) {
    let store = state.store.as_ref();
    let settings = &state.settings;
    let metrics = &state.metrics;
    let retention = requests::apply_retention(
        store,
        settings.retention_days,
        settings.contact_retention_days,
    )
    .await;
    metrics.housekeeping_job("retention", &retention);
    match retention {
        Ok((0, 0)) => {}
        Ok((submissions, contacts)) => {
            tracing::info!(submissions, contacts, "retention removed data")
        }
        Err(error) => tracing::warn!(error = ?error, "retention failed"),
    }
    let deleted = requests::delete_pending_objects(store, &state.blobs).await;
    metrics.housekeeping_job("object_deletion", &deleted);
    match deleted {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "deleted objects of removed submissions"),
        Err(error) => tracing::warn!(error = ?error, "object deletion failed; retrying next pass"),
    }
    let grace = Duration::from_secs(settings.orphan_grace_secs);
    let swept = sweeper::sweep_orphans(&state.blobs, store, grace).await;
    metrics.housekeeping_job("orphan_sweep", &swept);
    match swept {
        Ok(0) => {}
        Ok(deleted) => tracing::info!(deleted, "removed orphaned objects"),
        Err(error) => tracing::warn!(error = ?error, "orphan sweep failed"),
    }
    let statistics = store.refresh_planner_statistics().await;
    metrics.housekeeping_job("planner_statistics", &statistics);
    if let Err(error) = statistics {
        tracing::warn!(error = ?error, "refreshing the planner's statistics failed");
    }
    let folded = store.fold_kept_counts().await;
    metrics.housekeeping_job("kept_counts", &folded);
    if let Err(error) = folded {
        tracing::warn!(error = ?error, "folding the kept counts failed");
    }
    let expired = chrono::Utc::now() - chrono::Duration::hours(IDEMPOTENCY_WINDOW_HOURS);
    let pruned = store.prune_idempotency_keys(expired).await;
    metrics.housekeeping_job("idempotency_keys", &pruned);
    if let Err(error) = pruned {
        tracing::warn!(error = ?error, "pruning idempotency keys failed");
    }
    let digests = crate::notify::digest::queue_due(store, settings, chrono::Utc::now()).await;
    metrics.housekeeping_job("mail_digests", &digests);
    match digests {
        Ok(0) => {}
        Ok(queued) => tracing::info!(queued, "queued daily digests"),
        Err(error) => tracing::warn!(error = ?error, "queueing daily digests failed"),
    }
    // Seconds since 1970 fit an f64 exactly.
    let now = chrono::Utc::now().timestamp() as f64;
    metrics.housekeeping_last_pass.set(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passes_are_a_full_interval_apart_and_at_most_a_quarter_more() {
        let interval = Duration::from_secs(600);
        let waits: Vec<Duration> = (0..64).map(|_| jittered(interval)).collect();
        assert!(
            waits
                .iter()
                .all(|w| *w >= interval && *w <= interval.mul_f64(1.25))
        );
        assert!(waits.iter().any(|w| *w != waits[0]), "the waits differ");
    }
}
