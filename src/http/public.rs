//! The rest of the public surface: the terms, the limits the widget checks before uploading,
//! the widget script and the demo host page. The widget files are compiled into the binary,
//! so nothing is fetched from elsewhere at run time.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::json;

use crate::attachments::ALLOWED_TYPES;
use crate::state::AppState;

/// The host page's policy: only this origin's scripts and styles, nothing inline.
const DEMO_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

const WIDGET_JS: &str = include_str!("../../widget/feedback.js");
const DEMO_HTML: &str = include_str!("../../widget/demo.html");
const DEMO_JS: &str = include_str!("../../widget/demo.js");
const DEMO_CSS: &str = include_str!("../../widget/demo.css");

/// The routes that browsers on the WebApp's origins call (CORS applies to these).
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/terms", get(terms))
        .route("/api/v1/limits", get(limits))
}

/// The widget's files, and the demo page when enabled.
pub fn assets_router(demo_page: bool) -> Router<AppState> {
    let router = Router::new().route("/widget/feedback.js", get(widget_script));
    if !demo_page {
        return router;
    }
    router
        .route("/", get(demo_page_html))
        .route(
            "/widget/demo.js",
            get(|| async { asset(DEMO_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/widget/demo.css",
            get(|| async { asset(DEMO_CSS, "text/css; charset=utf-8") }),
        )
}

#[derive(Serialize)]
struct TermsBody<'a> {
    version: &'a str,
    text: &'a str,
    sha256: &'a str,
}

#[utoipa::path(get, path = "/api/v1/terms", tag = "public",
    responses((status = 200, description = "The current terms", body = crate::http::openapi::TermsBody)))]
async fn terms(State(state): State<AppState>) -> Response {
    let terms = &state.terms;
    (
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"))],
        Json(TermsBody {
            version: &terms.version,
            text: &terms.text,
            sha256: &terms.sha256,
        }),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/limits", tag = "public",
    responses((status = 200, description = "Attachment limits and types", body = crate::http::openapi::LimitsBody)))]
async fn limits(State(state): State<AppState>) -> Json<serde_json::Value> {
    let limits = state.limits;
    Json(json!({
        "max_attachments": limits.max_attachments,
        "max_attachment_bytes": limits.max_attachment_bytes,
        "max_total_attachment_bytes": limits.max_total_attachment_bytes,
        "allowed_types": ALLOWED_TYPES,
    }))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The widget, loadable cross-origin with `integrity=` (Subresource Integrity needs CORS).
async fn widget_script() -> Response {
    let mut response = asset(WIDGET_JS, "text/javascript; charset=utf-8");
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn demo_page_html() -> Response {
    let mut response = asset(DEMO_HTML, "text/html; charset=utf-8");
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DEMO_CSP),
    );
    response
}
