//! Staff logins under attack. The login form is the one place where an anonymous client can
//! make the service do expensive work (argon2id takes tens of milliseconds of a core), so every
//! attempt passes, in this order and before any password work:
//!
//! 1. a per-client limit (the same client key as intake), so one client cannot flood;
//! 2. the name's syntax, so a flood of random names costs nothing and grows no map;
//! 3. a per-name limit, so a distributed guess at one account is slow;
//! 4. a small semaphore in front of the hashing, which runs on the blocking pool: the async
//!    workers never hash, and the hashing never takes every core, so intake keeps its latency
//!    whatever the login traffic; when the hashing slots stay busy for [`QUEUE_WAIT`], the
//!    attempt is refused as busy at once.
//!
//! Both maps are in memory, per replica, and pruned by housekeeping.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

use super::{DUMMY_HASH, verify_password};

/// Login attempts one client may make per minute (burst and rate), by default: enough for an
/// office behind one address logging in at nine, far too few to guess a password.
pub const DEFAULT_PER_CLIENT_PER_MINUTE: u32 = 30;
/// Failed attempts one account name may receive per minute, from anywhere.
const PER_NAME_PER_MINUTE: u32 = 5;
/// Password checks running at once: all cores but one, so intake always has a core to itself
/// (measured: with a slot per core, a flood of distinct clients tripled intake's p99 on two
/// cores; see docs/BENCHMARKS.md).
fn hashing_slots() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |cores| cores.get().saturating_sub(1))
        .max(1)
}
/// Longest an attempt waits for a hashing slot before it is refused as busy.
const QUEUE_WAIT: Duration = Duration::from_millis(250);
/// Seconds a refused-as-busy client is asked to wait.
pub const BUSY_RETRY_SECS: u64 = 2;

/// Why an attempt was refused before its password was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many attempts from this client or for this name; retry after the duration.
    Throttled(Duration),
    /// Every hashing slot is taken; retry shortly.
    Busy,
}

/// The gate in front of password checks.
#[derive(Debug)]
pub struct LoginGuard {
    /// `None` when the per-client limit is off (`login_attempts_per_minute = 0`).
    per_client: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Failed attempts per account name; a name past its allowance is blocked until it refills.
    per_name: DefaultKeyedRateLimiter<String>,
    blocked_names: Mutex<HashMap<String, Instant>>,
    hashing: Semaphore,
}

impl Default for LoginGuard {
    fn default() -> Self {
        Self::new(DEFAULT_PER_CLIENT_PER_MINUTE)
    }
}

fn wait(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> Refusal {
    Refusal::Throttled(not_until.wait_time_from(DefaultClock::default().now()))
}

impl LoginGuard {
    /// A guard allowing `per_client_per_minute` attempts per client (0: no per-client limit).
    pub fn new(per_client_per_minute: u32) -> Self {
        let quota = |n: NonZeroU32| Quota::per_minute(n);
        Self {
            per_client: NonZeroU32::new(per_client_per_minute)
                .map(|n| RateLimiter::keyed(quota(n))),
            // The fifth failure in a row blocks the name: a burst of four, refilled at five a
            // minute, is refused on the fifth.
            per_name: RateLimiter::keyed(
                Quota::per_minute(NonZeroU32::new(PER_NAME_PER_MINUTE).unwrap_or(NonZeroU32::MIN))
                    .allow_burst(
                        NonZeroU32::new(PER_NAME_PER_MINUTE - 1).unwrap_or(NonZeroU32::MIN),
                    ),
            ),
            blocked_names: Mutex::new(HashMap::new()),
            hashing: Semaphore::new(hashing_slots()),
        }
    }

    /// Counts an attempt from `client`; call before anything else is done for it.
    pub fn admit_client(&self, client: IpAddr) -> Result<(), Refusal> {
        match &self.per_client {
            Some(limiter) => limiter.check_key(&client).map_err(wait),
            None => Ok(()),
        }
    }

    /// Whether `name` (a valid staff name) may be tried now: it may unless too many attempts
    /// at it failed. Successful logins cost nothing, so a team logging in is never throttled.
    pub fn admit_name(&self, name: &str) -> Result<(), Refusal> {
        let blocked = self.blocked_names.lock().unwrap_or_else(|e| e.into_inner());
        match blocked.get(&name.to_lowercase()) {
            Some(until) if *until > Instant::now() => {
                Err(Refusal::Throttled(*until - Instant::now()))
            }
            _ => Ok(()),
        }
    }

    /// Counts a failed attempt at `name`; past the allowance the name is blocked until it
    /// refills.
    pub fn failed(&self, name: &str) {
        let name = name.to_lowercase();
        if let Err(Refusal::Throttled(wait)) = self.per_name.check_key(&name).map_err(wait) {
            let mut blocked = self.blocked_names.lock().unwrap_or_else(|e| e.into_inner());
            blocked.insert(name, Instant::now() + wait.max(Duration::from_secs(1)));
        }
    }

    /// Checks `password` against `hash` (or against a dummy hash when the account does not
    /// exist, so timing does not tell which names exist) on the blocking pool.
    pub async fn verify(&self, hash: Option<String>, password: &str) -> Result<bool, Refusal> {
        let permit = tokio::time::timeout(QUEUE_WAIT, self.hashing.acquire())
            .await
            .map_err(|_| Refusal::Busy)?
            .map_err(|_| Refusal::Busy)?;
        let password = password.to_owned();
        let outcome = tokio::task::spawn_blocking(move || match hash {
            Some(hash) => verify_password(&hash, &password),
            None => {
                let _ = verify_password(DUMMY_HASH.as_str(), &password);
                false
            }
        })
        .await;
        drop(permit);
        Ok(outcome.unwrap_or(false))
    }

    /// Forgets clients and names that are back at a full allowance.
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.per_client {
            limiter.retain_recent();
        }
        self.per_name.retain_recent();
        let now = Instant::now();
        self.blocked_names
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, until| *until > now);
    }

    /// Clients and names remembered (for tests of the pruning).
    pub fn remembered(&self) -> usize {
        self.per_client.as_ref().map_or(0, |l| l.len()) + self.per_name.len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn clients_and_names_are_limited_separately() {
        let guard = LoginGuard::default();
        let client: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..DEFAULT_PER_CLIENT_PER_MINUTE).all(|_| guard.admit_client(client).is_ok()));
        assert!(matches!(
            guard.admit_client(client),
            Err(Refusal::Throttled(_))
        ));
        assert!(guard.admit_client("192.0.2.2".parse().unwrap()).is_ok());

        // Only failures count against a name: a success never does, and the fifth failure
        // blocks it.
        assert!((0..PER_NAME_PER_MINUTE).all(|_| {
            let admitted = guard.admit_name("ann").is_ok();
            guard.failed("ann");
            admitted
        }));
        assert!(
            matches!(guard.admit_name("ANN"), Err(Refusal::Throttled(_))),
            "after five failures a name waits, whatever its case"
        );
        assert!(guard.admit_name("bob").is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashing_beyond_its_slots_is_refused_quickly() {
        let guard = Arc::new(LoginGuard::default());
        let hash = super::super::hash_password("correct horse battery").unwrap();
        assert_eq!(
            guard
                .verify(Some(hash.clone()), "correct horse battery")
                .await,
            Ok(true)
        );
        assert_eq!(guard.verify(None, "anything").await, Ok(false));

        // Hold every slot: the next attempt waits QUEUE_WAIT at most, then is refused.
        let slots = u32::try_from(hashing_slots()).unwrap();
        let held = guard.hashing.acquire_many(slots).await.unwrap();
        assert_eq!(guard.verify(Some(hash), "x").await, Err(Refusal::Busy));
        drop(held);
    }
}
