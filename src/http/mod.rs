//! The HTTP surface: the public router (widget, public API, demo page) and the admin router
//! (health, readiness, metrics), with their cross-cutting layers. Each module owns its routes.

mod admin;
pub mod auth;
pub(crate) mod body;
pub mod error;
mod intake;
pub mod internal;
pub mod openapi;
mod public;
pub mod serve;
mod triage_view;
mod withdraw;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;
use error::ProblemCode;

pub use triage_view::templates;

/// The public listener's routes.
pub fn public_router(state: AppState) -> Router {
    let api = Router::new()
        .merge(intake::router())
        .merge(withdraw::api_router())
        .merge(public::api_router())
        .merge(openapi::router())
        .layer(cors(&state.settings.allowed_origins));
    Router::new()
        .merge(api)
        .merge(internal::router())
        .merge(triage_view::router(&state))
        .merge(withdraw::page_router())
        .merge(public::assets_router(state.settings.demo_page))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(state.settings.request_timeout_secs),
        ))
        .layer(middleware::from_fn(error::problem_for_bare_errors))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The admin listener's routes.
pub fn admin_router(state: AppState) -> Router {
    admin::router()
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .with_state(state)
}

/// CORS for the WebApp's configured origins only; no credentials, so no cookies.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o) {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring an allowed origin that is not a valid header value");
                None
            }
        })
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([header::RETRY_AFTER])
        .max_age(Duration::from_secs(3600))
}

/// A span per request with the method and matched route: never the URI, its query or the peer.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str);
    tracing::info_span!("request", method = %request.method(), route)
}

async fn record_metrics(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    if let Some(ProblemCode(code)) = response.extensions().get::<ProblemCode>() {
        state.metrics.rejections.with_label_values(&[code]).inc();
    }
    state
        .metrics
        .request_duration
        .with_label_values(&[method.as_str(), route.as_str(), response.status().as_str()])
        .observe(started.elapsed().as_secs_f64());
    response
}
