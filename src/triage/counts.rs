//! Counts per status for the queue page, and the filters' choices (what occurs, with counts).
//! Unfiltered or by kind, the database keeps the status counts as they change
//! ([`QueueFilter::counts_are_kept`]) and they are read afresh for every page.
//! Any other filter's counts read every matching row (hundreds of thousands for a broad
//! one), so they are kept here for a few seconds: they may lag behind new submissions by up to
//! [`FRESH_FOR`], and a triage change made through this service clears them at once. The
//! choices cover the last [`FACET_DAYS`] days and are kept the same way, except that a triage
//! change re-reads only the labels and assignees (browsers and versions are set at intake, so
//! a change cannot alter them): two grouped reads instead of five on the next page.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::store::{FacetScope, Facets, QueueFilter, Store, StoreError};

const FRESH_FOR: Duration = Duration::from_secs(30);
/// Distinct filters remembered; the cache starts over when full.
const MAX_FILTERS: usize = 256;
/// How far back the filters' choices look.
pub const FACET_DAYS: i64 = 90;
/// Choices offered per filter.
const FACET_LIMIT: u32 = 40;

type Counts = Vec<(String, i64)>;

#[derive(Debug, Default)]
pub struct StatusCounts {
    counts: Mutex<HashMap<QueueFilter, (Instant, Counts)>>,
    /// The choices, when read, and whether a triage change has outdated their labels and
    /// assignees since.
    facets: Mutex<Option<(Instant, Facets, bool)>>,
}

impl StatusCounts {
    pub async fn get(&self, store: &dyn Store, filter: &QueueFilter) -> Result<Counts, StoreError> {
        let mut key = filter.clone();
        key.status = None;
        key.exclude_spam = false;
        if key.counts_are_kept() {
            return store.status_counts(&key).await;
        }
        if let Some((at, counts)) = self.counts.lock().expect("counts lock").get(&key)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(counts.clone());
        }
        let counts = store.status_counts(&key).await?;
        let mut cache = self.counts.lock().expect("counts lock");
        if cache.len() >= MAX_FILTERS {
            cache.clear();
        }
        cache.insert(key, (Instant::now(), counts.clone()));
        Ok(counts)
    }

    /// The browsers, versions, labels and assignees of recent submissions.
    pub async fn facets(&self, store: &dyn Store) -> Result<Facets, StoreError> {
        let kept = match &*self.facets.lock().expect("facets lock") {
            Some((at, facets, triaged)) if at.elapsed() < FRESH_FOR => {
                if !triaged {
                    return Ok(facets.clone());
                }
                Some((*at, facets.clone()))
            }
            _ => None,
        };
        let since = Utc::now() - chrono::Duration::days(FACET_DAYS);
        let (at, facets) = match kept {
            Some((at, kept)) => {
                let fresh = store.facets(since, FACET_LIMIT, FacetScope::Triage).await?;
                let facets = Facets {
                    labels: fresh.labels,
                    assignees: fresh.assignees,
                    ..kept
                };
                (at, facets)
            }
            None => (
                Instant::now(),
                store.facets(since, FACET_LIMIT, FacetScope::All).await?,
            ),
        };
        *self.facets.lock().expect("facets lock") = Some((at, facets.clone(), false));
        Ok(facets)
    }

    /// Forgets every count, and the labels and assignees among the choices, after a triage
    /// change.
    pub fn clear(&self) {
        self.counts.lock().expect("counts lock").clear();
        if let Some((_, _, triaged)) = &mut *self.facets.lock().expect("facets lock") {
            *triaged = true;
        }
    }
}
