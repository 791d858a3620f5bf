//! Counts per status for the queue page. Unfiltered or by kind, the database keeps them as
//! they change ([`QueueFilter::counts_are_kept`]) and they are read afresh for every page.
//! Any other filter's counts read every matching row (hundreds of thousands for a broad
//! one), so they are kept here for a few seconds: they may lag behind new submissions by up to
//! [`FRESH_FOR`], and a triage change made through this service clears them at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::{QueueFilter, Store, StoreError};

const FRESH_FOR: Duration = Duration::from_secs(30);
/// Distinct filters remembered; the cache starts over when full.
const MAX_FILTERS: usize = 256;

type Counts = Vec<(String, i64)>;

#[derive(Debug, Default)]
pub struct StatusCounts(Mutex<HashMap<QueueFilter, (Instant, Counts)>>);

impl StatusCounts {
    pub async fn get(&self, store: &dyn Store, filter: &QueueFilter) -> Result<Counts, StoreError> {
        let mut key = filter.clone();
        key.status = None;
        if key.counts_are_kept() {
            return store.status_counts(&key).await;
        }
        if let Some((at, counts)) = self.0.lock().expect("counts lock").get(&key)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(counts.clone());
        }
        let counts = store.status_counts(&key).await?;
        let mut cache = self.0.lock().expect("counts lock");
        if cache.len() >= MAX_FILTERS {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), counts.clone()));
        Ok(counts)
    }

    /// Forgets every count, after a change of status.
    pub fn clear(&self) {
        self.0.lock().expect("counts lock").clear();
    }
}
