//! Counts per status for the queue page, kept for a few seconds. Counting a filter's matches
//! per status reads every matching row (a million, unfiltered); the list itself reads one page.
//! So the counts may lag behind new submissions by up to [`FRESH_FOR`]; a triage change made
//! through this service clears them at once.

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
