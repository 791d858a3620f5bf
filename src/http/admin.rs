//! The admin listener: liveness, readiness and Prometheus metrics. Bind it to a private address.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn readyz(State(state): State<AppState>) -> Response {
    let (database, storage) = tokio::join!(state.store.ping(), state.blobs.ping());
    let mut report = String::new();
    let mut ready = true;
    for (name, result) in [
        ("database", database.map_err(anyhow::Error::from)),
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
