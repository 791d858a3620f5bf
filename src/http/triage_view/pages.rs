//! The triage view's handlers.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Query, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Duration;
use minijinja::context;
use serde::Deserialize;
use uuid::Uuid;

use super::VIEW_CSP;
use super::view_query::Flash;
use crate::domain::Role;
use crate::http::auth::{SESSION_COOKIE, ViewStaff, cookie};
use crate::http::error::ApiError;
use crate::http::internal::download;
use crate::staff::{self, Staff, Via};
use crate::state::AppState;

/// The fields of a submitted HTML form, repeated names kept.
pub(super) struct FormFields(Vec<(String, String)>);

impl FormFields {
    pub(super) fn parse(body: &[u8]) -> Self {
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

pub(super) fn page(
    state: &AppState,
    template: &str,
    ctx: minijinja::Value,
) -> Result<Response, ApiError> {
    let zone = state.settings.team_time_zone;
    let ctx = context! {
        team_offset_secs => zone.offset().local_minus_utc(), team_zone => zone.to_string(), ..ctx
    };
    let html = state
        .templates
        .get_template(template)
        .and_then(|t| t.render(ctx))
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(VIEW_CSP),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

pub(super) fn csrf_of(staff: &Staff) -> &str {
    match &staff.via {
        Via::Session { csrf_token } => csrf_token,
        Via::Token => "",
    }
}

/// A form's CSRF token must equal the session's.
pub(super) fn check_csrf(staff: &Staff, form: &FormFields) -> Result<(), ApiError> {
    let expected = csrf_of(staff);
    match form.get("csrf") {
        Some(sent) if !expected.is_empty() && sent == expected => Ok(()),
        _ => Err(ApiError::CsrfFailed),
    }
}

pub(super) fn staff_ctx(staff: &Staff) -> minijinja::Value {
    context! { name => staff.name, role => staff.role.as_str() }
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let flash = Flash::parse(raw.as_deref());
    if let Some(session) = cookie(&headers, SESSION_COOKIE) {
        let staff = staff::by_session(state.store.as_ref(), session).await;
        if staff.map_err(ApiError::storage)?.is_some() {
            return Ok(Redirect::to("/triage").into_response());
        }
    }
    page(
        &state,
        "login.html",
        context! { name => "", error => flash.error },
    )
}

pub async fn log_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body);
    let name = form.get("name").unwrap_or_default().trim().to_owned();
    let password = form.get("password").unwrap_or_default();
    let client = state.client_keyer.key(&headers, peer);
    let lifetime = Duration::hours(i64::try_from(state.settings.session_hours).unwrap_or(12));
    let login = staff::log_in(
        state.store.as_ref(),
        &state.login_guard,
        client,
        &name,
        password,
        lifetime,
    )
    .await
    .map_err(ApiError::storage)?;
    let session = match login {
        staff::Login::Session(session) => session,
        staff::Login::Wrong => {
            tracing::info!("failed staff login");
            return login_refused(&state, &name, StatusCode::UNAUTHORIZED, None);
        }
        staff::Login::Refused(refusal) => {
            let (status, wait) = match refusal {
                staff::Refusal::Throttled(wait) => (StatusCode::TOO_MANY_REQUESTS, wait),
                staff::Refusal::Busy => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    std::time::Duration::from_secs(staff::login::BUSY_RETRY_SECS),
                ),
            };
            tracing::info!(
                status = status.as_u16(),
                "staff login refused before the password check"
            );
            return login_refused(&state, &name, status, Some(wait));
        }
    };
    let secure = state.settings.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|p| p.as_bytes() == b"https");
    let cookie = format!(
        "{SESSION_COOKIE}={session}; Path=/triage; HttpOnly; SameSite=Strict; Max-Age={}{}",
        lifetime.num_seconds(),
        if secure { "; Secure" } else { "" }
    );
    let mut response = Redirect::to("/triage").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.into()))?,
    );
    Ok(response)
}

/// The login page again, with why the attempt failed; a refusal says when to retry, in the
/// page and in `Retry-After`.
fn login_refused(
    state: &AppState,
    name: &str,
    status: StatusCode,
    wait: Option<std::time::Duration>,
) -> Result<Response, ApiError> {
    let retry_secs = wait.map(|w| (w.as_secs() + u64::from(w.subsec_nanos() > 0)).max(1));
    let error = match (status, retry_secs) {
        (StatusCode::TOO_MANY_REQUESTS, Some(secs)) => {
            format!("Too many login attempts. Try again in {secs} s.")
        }
        (StatusCode::SERVICE_UNAVAILABLE, Some(secs)) => {
            format!("The service is busy. Try again in {secs} s.")
        }
        _ => "Wrong name or password.".to_owned(),
    };
    let mut response = page(
        state,
        "login.html",
        context! { name => name, error => error },
    )?;
    *response.status_mut() = status;
    if let Some(secs) = retry_secs {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    Ok(response)
}

pub async fn log_out(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_csrf(&staff, &FormFields::parse(&body))?;
    if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        state
            .store
            .delete_session(&staff::hash_secret(secret))
            .await
            .map_err(ApiError::storage)?;
    }
    let mut response = Redirect::to("/triage/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "feedbackd_session=; Path=/triage; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response)
}

pub(super) fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

#[derive(Debug, Default, Deserialize)]
pub struct AttachmentQuery {
    inline: Option<String>,
}

pub async fn attachment(
    State(state): State<AppState>,
    _staff: ViewStaff,
    Path((id, n)): Path<(String, String)>,
    Query(q): Query<AttachmentQuery>,
) -> Result<Response, ApiError> {
    let n: i32 = n.parse().map_err(|_| ApiError::NotFound)?;
    download::attachment(&state, parse_id(&id)?, n, q.inline.is_some()).await
}

pub(super) fn require_webmaster(staff: &Staff) -> Result<(), ApiError> {
    if staff.role.includes(Role::Webmaster) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}
