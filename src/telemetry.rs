//! Logging, through `tracing`: human-readable text, or JSON with `FEEDBACKD_LOG_FORMAT=json`.
//!
//! Logging policy: a log line may hold ids, routes, status codes, sizes, durations and error
//! chains. It never holds message text, summaries, contact details, file names, URLs of users'
//! pages, User-Agents or IP addresses. Request spans record the matched route, not the URI.

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber; `RUST_LOG` overrides the default `info` level.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
