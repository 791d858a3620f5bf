//! The internal triage view at `/triage`: server-rendered HTML (minijinja, auto-escaping),
//! no script at all, a strict Content-Security-Policy, sessions in the database with a
//! `SameSite=Strict; HttpOnly` cookie, and a CSRF token in every state-changing form.

mod actions;
mod errors;
mod format;
mod mail;
mod outbox;
mod pages;
mod privacy;
mod queue;
mod submission;
mod trends;
mod view_query;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use minijinja::Environment;

use crate::state::AppState;

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
        ("error.html", include_str!("templates/error.html")),
        ("trends.html", include_str!("templates/trends.html")),
        ("outbox.html", include_str!("templates/outbox.html")),
        (
            "subscriptions.html",
            include_str!("templates/subscriptions.html"),
        ),
    ] {
        env.add_template(name, source)
            .expect("the bundled templates parse");
    }
    format::register(&mut env);
    env
}

/// The view's routes; every refusal among them is answered with an HTML page.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/triage", get(queue::queue))
        .route("/triage/login", get(pages::login_page).post(pages::log_in))
        .route("/triage/logout", post(pages::log_out))
        .route("/triage/bulk", post(actions::bulk))
        .route("/triage/trends", get(trends::trends))
        .route("/triage/views", post(actions::saved_view))
        .route(
            "/triage/feedback/{id}",
            get(submission::detail).post(submission::update),
        )
        .route("/triage/feedback/{id}/notes", post(submission::add_note))
        .route("/triage/feedback/{id}/replies", post(mail::add_reply))
        .route(
            "/triage/subscriptions",
            get(mail::subscriptions_page).post(mail::save_subscriptions),
        )
        .route(
            "/triage/feedback/{id}/duplicates",
            post(submission::mark_duplicates),
        )
        .route(
            "/triage/feedback/{id}/attachments/{n}",
            get(pages::attachment),
        )
        .route(
            "/triage/privacy",
            get(privacy::privacy_page).post(privacy::privacy_action),
        )
        .route("/triage/outbox", get(outbox::outbox_page))
        .route("/triage/outbox/{id}", post(outbox::outbox_action))
        .route("/triage/static/triage.css", get(stylesheet))
        .route("/triage/{*rest}", get(not_found))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            errors::html_errors,
        ))
}

async fn not_found() -> crate::http::error::ApiError {
    crate::http::error::ApiError::NotFound
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
