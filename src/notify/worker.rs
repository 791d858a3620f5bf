//! The outbox worker: claims due messages, hands each to the channel for its destination under
//! a deadline, and records the outcome — delivered (deleted), retried later with exponential
//! backoff and jitter, or dead after the retry limit or a permanent failure. Every replica runs
//! one; claims keep them from delivering a message twice in the normal case, and a claim that
//! outlives its worker expires, so a crash delays messages and never loses them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{Notify, watch};

use super::{Channel, DeliveryError, Destination, Message};
use crate::config::notify::NotifySettings;
use crate::metrics::Metrics;
use crate::store::{Failure, Store};

/// How often the outbox gauges are read again.
const GAUGE_INTERVAL: Duration = Duration::from_secs(5);

/// Everything the worker needs; built by `Application`.
#[derive(Debug)]
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub channels: Vec<Arc<dyn Channel>>,
    pub settings: NotifySettings,
    pub metrics: Metrics,
    /// Names this process's claims.
    pub id: String,
    /// Woken after a local commit wrote messages, so they go out before the next poll.
    pub wake: Arc<Notify>,
}

/// The `channel` label of a destination.
pub fn channel_label(destination: &Destination) -> &'static str {
    match destination {
        Destination::Webhook(_) => "webhook",
        Destination::Staff | Destination::StaffDigest(_) => "email_staff",
        Destination::Submitter => "email_submitter",
    }
}

/// How long to wait after the `attempts`-th failed attempt: `base · 2^(attempts-1)`, capped,
/// of which a random half is kept ("equal jitter"), so failures at one moment (a receiver
/// down) do not all come back at the same moment.
pub fn backoff(attempts: u32, base: Duration, cap: Duration) -> Duration {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let exponent = attempts.saturating_sub(1).min(32);
    let full = base.saturating_mul(1u32 << exponent.min(31)).min(cap);
    let fraction = f64::from(OsRng.next_u32()) / f64::from(u32::MAX);
    full / 2 + (full / 2).mul_f64(fraction)
}

impl Worker {
    /// Runs until `stop` turns true: then claims nothing more, and gives back the claims of
    /// deliveries still in flight, so another replica (or the restart) sends them at once.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut last_gauges: Option<Instant> = None;
        // While the outbox stays empty the polls slow down, to 8 × the interval: an idle
        // replica barely touches the database, and a local commit wakes the worker anyway.
        let mut idle_polls: u32 = 0;
        loop {
            if *stop.borrow() {
                break;
            }
            if last_gauges.is_none_or(|t| t.elapsed() >= GAUGE_INTERVAL) {
                self.refresh_gauges().await;
                last_gauges = Some(Instant::now());
            }
            let now = Utc::now();
            let until = now
                + chrono::Duration::from_std(self.settings.claim_time())
                    .unwrap_or(chrono::Duration::seconds(60));
            let limit = u32::try_from(self.settings.concurrency).unwrap_or(u32::MAX);
            let claimed = match self.store.claim_outbox(&self.id, now, until, limit).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(error = ?error, "claiming outbox messages failed");
                    Vec::new()
                }
            };
            if claimed.is_empty() {
                let wait = self.settings.poll_interval() * (1 << idle_polls.min(3));
                idle_polls += 1;
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = self.wake.notified() => idle_polls = 0,
                    _ = stop.changed() => {}
                }
                continue;
            }
            idle_polls = 0;
            let ids: Vec<i64> = claimed.iter().map(|m| m.id).collect();
            let deliveries = futures::future::join_all(claimed.iter().map(|m| self.handle(m)));
            tokio::select! {
                _ = deliveries => {}
                () = async { drop(stop.wait_for(|stop| *stop).await) } => {
                    // Those already recorded are no longer claimed; the others are released.
                    if let Err(error) = self.store.release_outbox(&self.id, &ids).await {
                        tracing::warn!(error = ?error, "releasing outbox claims failed");
                    }
                    break;
                }
            }
        }
        self.refresh_gauges().await;
    }

    /// Delivers one claimed message and records the outcome.
    async fn handle(&self, message: &Message) {
        let channel = channel_label(&message.destination);
        if message.attempts == 0 {
            self.metrics
                .notify_messages
                .with_label_values(&[channel, "queued"])
                .inc();
        }
        let outcome = match self
            .channels
            .iter()
            .find(|c| c.handles(&message.destination))
        {
            None => Err(DeliveryError::Permanent(
                "no channel delivers to this destination".to_owned(),
            )),
            Some(handler) => {
                tokio::time::timeout(self.settings.delivery_timeout(), handler.deliver(message))
                    .await
                    .unwrap_or_else(|_| Err(DeliveryError::Retry("timed out".to_owned())))
            }
        };
        let recorded = match outcome {
            Ok(()) => {
                self.metrics
                    .notify_messages
                    .with_label_values(&[channel, "sent"])
                    .inc();
                self.store.outbox_delivered(message.id).await
            }
            Err(error) => {
                let failure = self.failure(message, &error);
                let outcome = if failure.retry_at.is_some() {
                    "retried"
                } else {
                    "dead"
                };
                self.metrics
                    .notify_messages
                    .with_label_values(&[channel, outcome])
                    .inc();
                // A retry is routine (debug); a message given up on needs an admin (warn).
                if failure.retry_at.is_some() {
                    tracing::debug!(
                        message = message.id,
                        event = message.event.as_str(),
                        channel,
                        attempts = message.attempts + 1,
                        error = %error,
                        "delivery failed; retrying later"
                    );
                } else {
                    tracing::warn!(
                        message = message.id,
                        event = message.event.as_str(),
                        channel,
                        attempts = message.attempts + 1,
                        error = %error,
                        "delivery failed for good; the message is dead"
                    );
                }
                self.store
                    .outbox_failed(message.id, &self.id, &failure, Utc::now())
                    .await
            }
        };
        if let Err(error) = recorded {
            // The claim expires and the message is tried again: at least once, never lost.
            tracing::warn!(error = ?error, message = message.id, "recording a delivery failed");
        }
    }

    fn failure(&self, message: &Message, error: &DeliveryError) -> Failure {
        let attempts = message.attempts + 1;
        let settings = &self.settings;
        let wait = match error {
            DeliveryError::Permanent(_) => None,
            _ if attempts >= settings.retry_limit => None,
            DeliveryError::Retry(_) => Some(backoff(
                attempts,
                Duration::from_millis(settings.backoff_base_ms),
                Duration::from_millis(settings.backoff_cap_ms),
            )),
            DeliveryError::RetryAfter(_, after) => Some(
                backoff(
                    attempts,
                    Duration::from_millis(settings.backoff_base_ms),
                    Duration::from_millis(settings.backoff_cap_ms),
                )
                .max(*after),
            ),
        };
        let text: String = error.to_string().chars().take(500).collect();
        Failure {
            error: text,
            retry_at: wait.map(|w| {
                Utc::now() + chrono::Duration::from_std(w).unwrap_or(chrono::Duration::hours(1))
            }),
        }
    }

    async fn refresh_gauges(&self) {
        match self.store.outbox_summary().await {
            Ok(summary) => {
                let gauge = &self.metrics.outbox_messages;
                gauge.with_label_values(&["pending"]).set(summary.pending);
                gauge.with_label_values(&["dead"]).set(summary.dead);
                let age = summary
                    .oldest_pending_at
                    .map(|at| (Utc::now() - at).num_milliseconds().max(0) as f64 / 1000.0)
                    .unwrap_or(0.0);
                self.metrics.outbox_oldest_pending_seconds.set(age);
            }
            Err(error) => tracing::warn!(error = ?error, "reading the outbox's depth failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let base = Duration::from_secs(5);
        let cap = Duration::from_secs(3600);
        for attempts in 1..40 {
            let full = (base * 2u32.pow(attempts.min(20) - 1)).min(cap);
            let wait = backoff(attempts, base, cap);
            assert!(wait >= full / 2 && wait <= full, "{attempts}: {wait:?}");
        }
        let waits: Vec<_> = (0..32).map(|_| backoff(3, base, cap)).collect();
        assert!(waits.iter().any(|w| *w != waits[0]), "jittered");
    }
}
