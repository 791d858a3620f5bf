//! Prometheus metrics, one registry per running service (so tests can run several). Labels are
//! bounded sets (kinds, error codes, matched routes); nothing personal is ever a label.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry, TextEncoder,
};

#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    pub submissions_accepted: IntCounterVec,
    pub rejections: IntCounterVec,
    pub attachment_bytes: IntCounter,
    pub request_duration: HistogramVec,
}

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
        for collector in [
            Box::new(submissions_accepted.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(rejections.clone()),
            Box::new(attachment_bytes.clone()),
            Box::new(request_duration.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Self {
            registry,
            submissions_accepted,
            rejections,
            attachment_bytes,
            request_duration,
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
