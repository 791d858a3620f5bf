//! Prometheus metrics, one registry per running service (so tests can run several). Labels are
//! bounded sets (kinds, error codes, matched routes, statuses, housekeeping jobs); nothing
//! personal is ever a label. The dashboard (`deploy/grafana/`) and the alert rules
//! (`deploy/prometheus/`) read these names; a test checks that each one is exported.

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
    Opts, Registry, TextEncoder,
};

use crate::domain::Status;
use crate::store::{QueueFilter, Store};

/// The jobs of a housekeeping pass, as the `job` label of `housekeeping_runs_total`.
pub const HOUSEKEEPING_JOBS: [&str; 5] = [
    "retention",
    "object_deletion",
    "orphan_sweep",
    "planner_statistics",
    "idempotency_keys",
];
/// Queued object deletions counted for the gauge; more shows as this many.
const PENDING_COUNTED: u32 = 10_000;

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    pub submissions_accepted: IntCounterVec,
    pub rejections: IntCounterVec,
    pub attachment_bytes: IntCounter,
    pub request_duration: HistogramVec,
    /// Submissions per status, read from the store at each scrape.
    pub queue_submissions: IntGaugeVec,
    /// Objects of erased or expired submissions still waiting to be deleted.
    pub pending_deletions: IntGauge,
    pub housekeeping_runs: IntCounterVec,
    pub housekeeping_last_pass: Gauge,
    /// Outbox messages by channel and outcome (queued, sent, retried, dead).
    pub notify_messages: IntCounterVec,
    /// Webhook attempts by endpoint and outcome (delivered, failed, refused).
    pub webhook_deliveries: IntCounterVec,
    /// Outbox messages by state (pending, dead), refreshed by the outbox worker.
    pub outbox_messages: IntGaugeVec,
    /// Age of the oldest pending outbox message (0 when none), refreshed by the worker.
    pub outbox_oldest_pending_seconds: Gauge,
}

/// Outcomes of an outbox message, as the `outcome` label of `notify_messages_total`.
pub const NOTIFY_OUTCOMES: [&str; 4] = ["queued", "sent", "retried", "dead"];
/// Channels, as the `channel` label of `notify_messages_total`.
pub const NOTIFY_CHANNELS: [&str; 3] = ["webhook", "email_staff", "email_submitter"];

impl Metrics {
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("feedbackd".into()), None).expect("a valid metrics prefix");
        let submissions_accepted = IntCounterVec::new(
            Opts::new("submissions_accepted_total", "Submissions stored, by kind"),
            &["kind"],
        )
        .expect("valid metric");
        let rejections = IntCounterVec::new(
            Opts::new("rejections_total", "Requests refused, by problem code"),
            &["code"],
        )
        .expect("valid metric");
        let attachment_bytes =
            IntCounter::new("attachment_bytes_total", "Bytes of attachments stored")
                .expect("valid metric");
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Request duration by matched route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let queue_submissions = IntGaugeVec::new(
            Opts::new("queue_submissions", "Submissions in the queue, by status"),
            &["status"],
        )
        .expect("valid metric");
        let pending_deletions = IntGauge::new(
            "pending_deletions",
            "Stored objects of removed submissions still waiting to be deleted",
        )
        .expect("valid metric");
        let housekeeping_runs = IntCounterVec::new(
            Opts::new(
                "housekeeping_runs_total",
                "Housekeeping jobs run by this replica, by job and outcome (ok, failed)",
            ),
            &["job", "outcome"],
        )
        .expect("valid metric");
        let housekeeping_last_pass = Gauge::new(
            "housekeeping_last_pass_timestamp_seconds",
            "When this replica last finished a housekeeping pass (Unix time; 0 before its first)",
        )
        .expect("valid metric");
        let notify_messages = IntCounterVec::new(
            Opts::new(
                "notify_messages_total",
                "Outbox messages by channel and outcome (queued: taken up for delivery, sent, \
                 retried: failed and due again, dead: failed for good)",
            ),
            &["channel", "outcome"],
        )
        .expect("valid metric");
        let webhook_deliveries = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook attempts by endpoint and outcome (delivered, failed, refused)",
            ),
            &["endpoint", "outcome"],
        )
        .expect("valid metric");
        let outbox_messages = IntGaugeVec::new(
            Opts::new(
                "outbox_messages",
                "Outbox messages by state (pending, dead)",
            ),
            &["state"],
        )
        .expect("valid metric");
        let outbox_oldest_pending_seconds = Gauge::new(
            "outbox_oldest_pending_seconds",
            "Age of the oldest pending outbox message (0 when there is none)",
        )
        .expect("valid metric");
        for collector in [
            Box::new(submissions_accepted.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(rejections.clone()),
            Box::new(attachment_bytes.clone()),
            Box::new(request_duration.clone()),
            Box::new(queue_submissions.clone()),
            Box::new(pending_deletions.clone()),
            Box::new(housekeeping_runs.clone()),
            Box::new(housekeeping_last_pass.clone()),
            Box::new(notify_messages.clone()),
            Box::new(webhook_deliveries.clone()),
            Box::new(outbox_messages.clone()),
            Box::new(outbox_oldest_pending_seconds.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        // Every bounded label value is exported from the start (at 0), so rates and alerts
        // see a series before the first event.
        for kind in ["bug", "feature", "feedback"] {
            submissions_accepted.with_label_values(&[kind]);
        }
        for status in Status::ALL {
            queue_submissions.with_label_values(&[status.as_str()]);
        }
        for job in HOUSEKEEPING_JOBS {
            for outcome in ["ok", "failed"] {
                housekeeping_runs.with_label_values(&[job, outcome]);
            }
        }
        for channel in NOTIFY_CHANNELS {
            for outcome in NOTIFY_OUTCOMES {
                notify_messages.with_label_values(&[channel, outcome]);
            }
        }
        for state in ["pending", "dead"] {
            outbox_messages.with_label_values(&[state]);
        }
        Self {
            registry,
            submissions_accepted,
            rejections,
            attachment_bytes,
            request_duration,
            queue_submissions,
            pending_deletions,
            housekeeping_runs,
            housekeeping_last_pass,
            notify_messages,
            webhook_deliveries,
            outbox_messages,
            outbox_oldest_pending_seconds,
        }
    }

    /// Counts one housekeeping job's run.
    pub fn housekeeping_job<T, E>(&self, job: &str, result: &Result<T, E>) {
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        self.housekeeping_runs
            .with_label_values(&[job, outcome])
            .inc();
    }

    /// Reads the queue's depth and the deletion backlog from the store (a few kept rows);
    /// on a storage error the gauges keep their last values.
    pub async fn observe_store(&self, store: &dyn Store) {
        match store.status_counts(&QueueFilter::default()).await {
            Ok(counts) => {
                for status in Status::ALL {
                    let n = counts
                        .iter()
                        .find(|(s, _)| s == status.as_str())
                        .map_or(0, |(_, n)| *n);
                    self.queue_submissions
                        .with_label_values(&[status.as_str()])
                        .set(n);
                }
            }
            Err(error) => tracing::warn!(error = ?error, "queue depth unavailable for the metrics"),
        }
        match store.pending_deletions(PENDING_COUNTED).await {
            Ok(keys) => self
                .pending_deletions
                .set(i64::try_from(keys.len()).unwrap_or(i64::MAX)),
            Err(error) => {
                tracing::warn!(error = ?error, "deletion backlog unavailable for the metrics")
            }
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("encoding to a Vec cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
