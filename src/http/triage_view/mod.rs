//! The internal triage view at `/triage`: server-rendered HTML (minijinja, auto-escaping),
//! no script at all, a strict Content-Security-Policy, sessions in the database with a
//! `SameSite=Strict; HttpOnly` cookie, and a CSRF token in every state-changing form.

mod counts;
mod pages;
mod privacy;

pub use counts::StatusCounts;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;

use crate::app::AppState;

/// The view's policy: its own stylesheet and images, no script, forms only to itself.
pub const VIEW_CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; \
    form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS: &str = include_str!("templates/triage.css");

/// The view's templates, compiled once at start-up; `.html` templates escape every value.
pub fn templates() -> Environment<'static> {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("login.html", include_str!("templates/login.html")),
        ("queue.html", include_str!("templates/queue.html")),
        ("detail.html", include_str!("templates/detail.html")),
        ("privacy.html", include_str!("templates/privacy.html")),
    ] {
        env.add_template(name, source)
            .expect("the bundled templates parse");
    }
    env
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/triage", get(pages::queue))
        .route("/triage/login", get(pages::login_page).post(pages::log_in))
        .route("/triage/logout", post(pages::log_out))
        .route("/triage/bulk", post(pages::bulk))
        .route(
            "/triage/feedback/{id}",
            get(pages::detail).post(pages::update),
        )
        .route("/triage/feedback/{id}/notes", post(pages::add_note))
        .route(
            "/triage/feedback/{id}/attachments/{n}",
            get(pages::attachment),
        )
        .route(
            "/triage/privacy",
            get(privacy::privacy_page).post(privacy::privacy_action),
        )
        .route("/triage/static/triage.css", get(stylesheet))
}

async fn stylesheet() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=300"),
            ),
        ],
        CSS,
    )
        .into_response()
}
