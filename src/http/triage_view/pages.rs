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
use crate::app::AppState;
use crate::domain::{Role, Status, TriagePatch, ValidationErrors};
use crate::http::auth::{SESSION_COOKIE, ViewStaff, cookie};
use crate::http::error::ApiError;
use crate::http::internal::query::ListQuery;
use crate::http::internal::{ItemView, download, queue_page};
use crate::staff::{self, Staff, Via};
use crate::triage::desk::{self, DeskError};

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

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
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

fn statuses() -> Vec<&'static str> {
    Status::ALL.iter().map(|s| s.as_str()).collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct Flash {
    notice: Option<String>,
    error: Option<String>,
}

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(flash): Query<Flash>,
) -> Result<Response, ApiError> {
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

/// The current query string with one parameter replaced (or removed when `value` is empty).
fn with_param(query: &ListQuery, name: &str, value: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(serde_urlencoded_pairs(query).as_bytes())
            .into_owned()
            .filter(|(k, v)| k != name && k != "cursor" && !v.is_empty())
            .collect();
    if !value.is_empty() {
        pairs.push((name.to_owned(), value.to_owned()));
    }
    let encoded = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    if encoded.is_empty() {
        "/triage".to_owned()
    } else {
        format!("/triage?{encoded}")
    }
}

fn serde_urlencoded_pairs(query: &ListQuery) -> String {
    let value = serde_json::to_value(query).unwrap_or_default();
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    if let Some(map) = value.as_object() {
        for (k, v) in map {
            if let Some(v) = v.as_str() {
                serializer.append_pair(k, v);
            }
        }
    }
    serializer.finish()
}

pub async fn queue(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Query(query): Query<ListQuery>,
    RawQuery(raw): RawQuery,
    Query(flash): Query<Flash>,
) -> Result<Response, ApiError> {
    let (items, next) = match queue_page(&state, &query).await {
        Ok(page) => page,
        Err(ApiError::Validation(errors)) => {
            let message = errors
                .0
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; ");
            return page(
                &state,
                "queue.html",
                context! {
                    staff => staff_ctx(&staff), csrf => csrf_of(&staff), query => query, items => Vec::<ItemView>::new(),
                    counts => Vec::<minijinja::Value>::new(), statuses => statuses(), error => message, back => "/triage",
                },
            );
        }
        Err(other) => return Err(other),
    };
    let request = query.parse().map_err(ApiError::Validation)?;
    let counts = state
        .status_counts
        .get(state.store.as_ref(), &request.filter)
        .await
        .map_err(ApiError::storage)?;
    let counts: Vec<minijinja::Value> = Status::ALL
        .iter()
        .map(|status| {
            let count = counts
                .iter()
                .find(|(s, _)| s == status.as_str())
                .map_or(0, |(_, n)| *n);
            context! {
                status => status.as_str(), count => count,
                href => with_param(&query, "status", status.as_str()),
                current => query.status.as_deref() == Some(status.as_str()),
            }
        })
        .collect();
    let items: Vec<ItemView> = items.into_iter().map(ItemView::from).collect();
    let next_href = next.map(|cursor| {
        let base = with_param(&query, "cursor", "");
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}cursor={cursor}")
    });
    let back = raw.map_or_else(|| "/triage".to_owned(), |q| format!("/triage?{q}"));
    page(
        &state,
        "queue.html",
        context! {
            staff => staff_ctx(&staff), csrf => csrf_of(&staff), query => query, items => items,
            counts => counts, statuses => statuses(), next_href => next_href, back => back,
            notice => flash.notice, error => flash.error,
        },
    )
}

fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

pub async fn detail(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    Query(flash): Query<Flash>,
) -> Result<Response, ApiError> {
    let detail = desk::load(&state, &staff, parse_id(&id)?).await?;
    page(
        &state,
        "detail.html",
        context! {
            staff => staff_ctx(&staff), csrf => csrf_of(&staff), s => detail, statuses => statuses(),
            notice => flash.notice, error => flash.error,
        },
    )
}

fn back_to(path: &str, key: &str, message: &str) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair(key, message)
        .finish();
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}{query}")).into_response()
}

/// The triage form: status, labels (comma-separated), assignee, duplicate-of.
pub async fn update(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let id = parse_id(&id)?;
    let here = format!("/triage/feedback/{id}");
    let patch = match TriagePatch::from_form(|name| form.get(name)) {
        Ok(patch) => patch,
        Err(errors) => return Ok(back_to(&here, "error", &messages(&errors))),
    };
    match desk::apply(&state, &staff, &[id], &patch).await {
        Ok(()) => Ok(back_to(&here, "notice", "Saved.")),
        Err(DeskError::Invalid(errors)) => Ok(back_to(&here, "error", &messages(&errors))),
        Err(other) => Err(other.into()),
    }
}

/// The failing fields as one line for the page, e.g. `labels must be …; status is not …`.
fn messages(errors: &ValidationErrors) -> String {
    errors
        .0
        .iter()
        .map(|e| format!("{} {}", e.field.replace('_', "-"), e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn add_note(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let id = parse_id(&id)?;
    let here = format!("/triage/feedback/{id}");
    match desk::add_note(&state, &staff, id, form.get("body").unwrap_or_default()).await {
        Ok(_) => Ok(back_to(&here, "notice", "Note added.")),
        Err(DeskError::Invalid(_)) => Ok(back_to(
            &here,
            "error",
            "A note must be 1 to 10,000 characters.",
        )),
        Err(other) => Err(other.into()),
    }
}

/// Bulk actions on the selected submissions: status, add a label, assign.
pub async fn bulk(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let back = form
        .get("back")
        .filter(|b| b.starts_with("/triage"))
        .unwrap_or("/triage")
        .to_owned();
    let ids: Result<Vec<Uuid>, _> = form.all("ids").map(Uuid::parse_str).collect();
    let Ok(ids) = ids else {
        return Ok(back_to(&back, "error", "Unknown submission selected."));
    };
    if ids.is_empty() {
        return Ok(back_to(&back, "error", "Select at least one submission."));
    }
    let patch = match TriagePatch::from_bulk_form(|name| form.get(name)) {
        Ok(patch) if patch.is_empty() => {
            return Ok(back_to(
                &back,
                "error",
                "Choose a status, a label or an assignee.",
            ));
        }
        Ok(patch) => patch,
        Err(errors) => return Ok(back_to(&back, "error", &messages(&errors))),
    };
    // All or nothing: an unknown or invalid selection changes none of them.
    match desk::apply(&state, &staff, &ids, &patch).await {
        Ok(()) => {
            let changed = ids.iter().collect::<std::collections::HashSet<_>>().len();
            let notice = format!("Updated {changed} submission(s).");
            Ok(back_to(&back, "notice", &notice))
        }
        Err(DeskError::Unknown(unknown)) => {
            let unknown: Vec<String> = unknown.iter().map(Uuid::to_string).collect();
            let message = format!("Nothing was changed: no submission {}.", unknown.join(", "));
            Ok(back_to(&back, "error", &message))
        }
        Err(DeskError::Invalid(errors)) => Ok(back_to(
            &back,
            "error",
            &format!("Nothing was changed: {}.", messages(&errors)),
        )),
        Err(other) => Err(other.into()),
    }
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
