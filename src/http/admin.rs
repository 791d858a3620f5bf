//! The admin listener: liveness, readiness and Prometheus metrics. Bind it to a private address.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// Longest each readiness check may take: the probe gives up after 3 s.
const CHECK_DEADLINE: Duration = Duration::from_secs(2);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Readiness within the probe's timeout (3 s in the shipped manifests): each check has
/// [`CHECK_DEADLINE`], so a hung database or object store reads as unavailable instead of
/// keeping the probe waiting. A local blob folder short of `min_free_blob_bytes` is not ready
/// either: uploads would fail.
async fn readyz(State(state): State<AppState>) -> Response {
    let database = tokio::time::timeout(CHECK_DEADLINE, state.store.ping());
    let (database, storage) = tokio::join!(database, state.blobs.ping(CHECK_DEADLINE));
    let database = database
        .map_err(|_| anyhow::anyhow!("no answer within {CHECK_DEADLINE:?}"))
        .and_then(|r| r.map_err(anyhow::Error::from));
    let mut report = String::new();
    let mut ready = true;
    for (name, result) in [
        ("database", database),
        ("object_store", storage.map_err(anyhow::Error::from)),
    ] {
        match result {
            Ok(()) => report.push_str(&format!("{name}: ok\n")),
            Err(error) => {
                ready = false;
                tracing::warn!(check = name, error = ?error, "not ready");
                report.push_str(&format!("{name}: unavailable\n"));
            }
        }
    }
    if let Some(free) = state.blobs.local_free_bytes() {
        if free < state.settings.min_free_blob_bytes {
            ready = false;
            tracing::warn!(
                free_bytes = free,
                "not ready: the blob folder is nearly full"
            );
            report.push_str("blob_space: low\n");
        } else {
            report.push_str("blob_space: ok\n");
        }
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, report).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    state.metrics.observe_store(state.store.as_ref()).await;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(),
    )
        .into_response()
}
