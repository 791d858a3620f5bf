//! A process-wide budget of memory for request bodies in flight.
//!
//! Every body read holds buffers: hyper's read buffer, the multipart parser's window, and for
//! each file an upload buffer (64 KiB on the local folder, up to three 5 MiB parts on S3).
//! Each is bounded per request, but not the number of requests, so a burst of uploads could
//! grow the process until the pod's memory limit kills it with everything in flight. Each
//! request reserves what it may hold before it reads, and each file its upload buffer before
//! it is streamed; when the budget is spent the request is refused at once with
//! `503 overloaded` and a `Retry-After`, instead of waiting (a slow client would hold its
//! reservation) or growing.

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use std::sync::Arc;

use super::error::ApiError;

/// Budget unit: permits are KiB, so a budget of many GiB still fits a semaphore.
const UNIT: u64 = 1024;

/// The budget shared by all requests of the process.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    permits: Arc<Semaphore>,
    total_kib: u32,
}

/// Memory reserved for a request or a file; returned to the budget when dropped.
#[derive(Debug)]
pub struct Reservation(#[expect(dead_code, reason = "held for its Drop")] OwnedSemaphorePermit);

impl MemoryBudget {
    pub fn new(bytes: u64) -> Self {
        let total_kib = u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX >> 3);
        let total_kib = total_kib.min(u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
        Self {
            permits: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }

    /// Reserves `bytes` now, or refuses with `503 overloaded`.
    pub fn reserve(&self, bytes: u64) -> Result<Reservation, ApiError> {
        let kib = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .min(self.total_kib);
        Arc::clone(&self.permits)
            .try_acquire_many_owned(kib)
            .map(Reservation)
            .map_err(|_| ApiError::Overloaded)
    }

    /// Bytes not reserved right now.
    pub fn available_bytes(&self) -> u64 {
        self.permits.available_permits() as u64 * UNIT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_return_to_the_budget_when_dropped() {
        let budget = MemoryBudget::new(256 * 1024);
        let a = budget.reserve(200 * 1024).unwrap();
        assert!(matches!(
            budget.reserve(100 * 1024),
            Err(ApiError::Overloaded)
        ));
        let b = budget.reserve(56 * 1024).unwrap();
        assert_eq!(budget.available_bytes(), 0);
        drop((a, b));
        assert_eq!(budget.available_bytes(), 256 * 1024);
        // A request larger than the whole budget still gets through alone.
        let all = budget.reserve(10 * 1024 * 1024).unwrap();
        assert!(budget.reserve(1).is_err());
        drop(all);
    }
}
