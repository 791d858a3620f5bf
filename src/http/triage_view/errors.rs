//! Refusals inside the triage view as HTML pages with a way back, instead of the JSON API's
//! problem documents: the status code, `Retry-After` and the problem code (for the metrics)
//! are kept; the page says what happened in words and links to where the person came from.

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use minijinja::context;

use super::pages::page;
use crate::http::error::ProblemCode;
use crate::state::AppState;

/// Largest problem document read back (they are a few hundred bytes).
const MAX_PROBLEM_BYTES: usize = 64 * 1024;

/// Where the link on an error page leads: the page whose form was sent, or the queue.
fn way_back(method: &Method, path: &str) -> String {
    if method != Method::POST {
        return "/triage".to_owned();
    }
    if let Some(rest) = path.strip_prefix("/triage/feedback/") {
        let id = rest.split('/').next().unwrap_or_default();
        return format!("/triage/feedback/{id}");
    }
    match path {
        "/triage/login" | "/triage/privacy" => path.to_owned(),
        _ => "/triage".to_owned(),
    }
}

/// What a person reads for each refusal the view can meet.
fn explain(code: &str, status: StatusCode) -> (&'static str, &'static str) {
    match code {
        "csrf_failed" => (
            "This form has expired",
            "The page was open from an earlier login, or from another tab that has since \
             logged out. Nothing was changed. Go back, reload the page and try again.",
        ),
        "forbidden" => (
            "Not allowed for your role",
            "Your role does not include this page. Ask an administrator if you need it.",
        ),
        "not_found" => (
            "Nothing here",
            "This submission does not exist, or it was removed (for instance at the request \
             of the person who sent it).",
        ),
        "rate_limited" => (
            "Too many attempts",
            "Too many logins were tried for this name. Wait a minute, then try again.",
        ),
        "method_not_allowed" => ("Not a page", "This address does not take that request."),
        "storage_unavailable" => (
            "Storage is unavailable",
            "The database or the file store did not answer. Nothing was lost; try again in a \
             moment.",
        ),
        _ if status.is_server_error() => (
            "Something went wrong on our side",
            "The error was logged. Try again; if it keeps happening, tell an operator.",
        ),
        _ => ("This request was refused", "Go back and try again."),
    }
}

pub async fn html_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_html {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let code = match parts.extensions.get::<ProblemCode>() {
        Some(ProblemCode(code)) => *code,
        None if status == StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        None if status == StatusCode::NOT_FOUND => "not_found",
        None => "internal",
    };
    // Only the code and status are read from the problem document; its body is dropped.
    drop(to_bytes(body, MAX_PROBLEM_BYTES).await);
    let (title, explanation) = explain(code, status);
    let rendered = page(
        &state,
        "error.html",
        context! {
            title => title, explanation => explanation, status => status.as_u16(),
            back => way_back(&method, &path),
        },
    );
    let Ok(mut html) = rendered else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    *html.status_mut() = status;
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(value) = parts.headers.remove(&name) {
            html.headers_mut().insert(name, value);
        }
    }
    html.extensions_mut().insert(ProblemCode(code));
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_way_back_is_the_page_of_the_form() {
        let id = "/triage/feedback/0193a1b2-0000-7000-8000-000000000000";
        assert_eq!(way_back(&Method::POST, &format!("{id}/notes")), id);
        assert_eq!(way_back(&Method::POST, id), id);
        assert_eq!(way_back(&Method::POST, "/triage/bulk"), "/triage");
        assert_eq!(way_back(&Method::POST, &format!("{id}/duplicates")), id);
        assert_eq!(way_back(&Method::POST, "/triage/login"), "/triage/login");
        assert_eq!(
            way_back(&Method::POST, "/triage/privacy"),
            "/triage/privacy"
        );
        assert_eq!(way_back(&Method::POST, "/triage/views"), "/triage");
        assert_eq!(way_back(&Method::GET, id), "/triage");
    }
}
