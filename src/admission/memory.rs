//! A process-wide budget of memory for request bodies in flight.
//!
//! Every body read holds buffers: hyper's read buffer, the multipart parser's window, and for
//! each file an upload buffer (64 KiB on the local folder, up to three 5 MiB parts on S3).
//! Each is bounded per request, but not the number of requests, so a burst of uploads could
//! grow the process until the pod's memory limit kills it with everything in flight. Each
//! request reserves what it may hold before it reads, and each file reserves its upload buffer
//! as its bytes arrive (a screenshot of 100 KiB holds 100 KiB, not the 15 MiB of S3 parts a
//! large file may); when the budget is spent the request is refused at once with
//! `503 overloaded` and a `Retry-After`, instead of waiting (a slow client would hold its
//! reservation) or growing.

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use std::sync::Arc;

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

    /// Reserves `bytes` now, or refuses (the HTTP layer answers `503 overloaded`).
    pub fn reserve(&self, bytes: u64) -> Result<Reservation, BudgetSpent> {
        self.try_reserve(bytes).ok_or(BudgetSpent)
    }

    fn try_reserve(&self, bytes: u64) -> Option<Reservation> {
        let kib = u32::try_from(bytes.div_ceil(UNIT))
            .unwrap_or(u32::MAX)
            .min(self.total_kib);
        Arc::clone(&self.permits)
            .try_acquire_many_owned(kib)
            .map(Reservation)
            .ok()
    }

    /// A reservation that grows with the bytes it is told about, up to `cap`.
    pub fn growing(&self, cap: u64) -> GrowingReservation {
        GrowingReservation {
            budget: self.clone(),
            cap,
            seen: 0,
            held_bytes: 0,
            held: Vec::new(),
        }
    }

    /// Bytes not reserved right now.
    pub fn available_bytes(&self) -> u64 {
        self.permits.available_permits() as u64 * UNIT
    }
}

/// The budget is spent: the request is refused (`503 overloaded`) rather than kept waiting.
#[derive(Debug, thiserror::Error)]
#[error("the memory budget for request bodies is spent")]
pub struct BudgetSpent;

/// Reserves memory for one upload as its bytes arrive: what an upload buffers is at most what
/// it was sent, and at most its buffer.
#[derive(Debug)]
pub struct GrowingReservation {
    budget: MemoryBudget,
    cap: u64,
    seen: u64,
    held_bytes: u64,
    held: Vec<Reservation>,
}

/// Reservations grow by this much at a time, so a large upload takes few permits.
const GROWTH_STEP: u64 = 256 * 1024;

impl GrowingReservation {
    /// Accounts `bytes` more of the upload; fails when the budget cannot cover them.
    pub fn cover(&mut self, bytes: u64) -> Result<(), BudgetSpent> {
        self.seen = self.seen.saturating_add(bytes);
        let wanted = self.seen.min(self.cap);
        while self.held_bytes < wanted {
            let step = GROWTH_STEP.min(self.cap - self.held_bytes);
            self.held
                .push(self.budget.try_reserve(step).ok_or(BudgetSpent)?);
            self.held_bytes += step;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_return_to_the_budget_when_dropped() {
        let budget = MemoryBudget::new(256 * 1024);
        let a = budget.reserve(200 * 1024).unwrap();
        assert!(matches!(budget.reserve(100 * 1024), Err(BudgetSpent)));
        let b = budget.reserve(56 * 1024).unwrap();
        assert_eq!(budget.available_bytes(), 0);
        drop((a, b));
        assert_eq!(budget.available_bytes(), 256 * 1024);
        // A request larger than the whole budget still gets through alone.
        let all = budget.reserve(10 * 1024 * 1024).unwrap();
        assert!(budget.reserve(1).is_err());
        drop(all);
    }

    #[test]
    fn an_upload_reserves_what_it_was_sent_up_to_its_buffer() {
        let budget = MemoryBudget::new(1024 * 1024);
        let mut small = budget.growing(15 * 1024 * 1024);
        small.cover(100 * 1024).unwrap();
        assert_eq!(budget.available_bytes(), 768 * 1024, "one step for 100 KiB");
        let mut large = budget.growing(512 * 1024);
        large.cover(5 * 1024 * 1024).unwrap();
        assert_eq!(budget.available_bytes(), 256 * 1024, "capped at its buffer");
        assert!(small.cover(600 * 1024).is_err(), "the budget is spent");
        drop((small, large));
        assert_eq!(budget.available_bytes(), 1024 * 1024);
    }
}
