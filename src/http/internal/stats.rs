//! `GET /api/v1/internal/stats`: counts of submissions (spam left out) received in a range,
//! grouped by day, kind, WebApp version, browser or status, for the trends page and dashboards.

use axum::extract::{RawQuery, State};
use axum::response::Json;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Map, Value, json};

use crate::domain::{FieldError, Kind, Role, ValidationErrors};
use crate::http::auth::Authenticated;
use crate::http::error::ApiError;
use crate::state::AppState;
use crate::store::{StatsDimension, StatsQuery};

/// The range when none is given, ending now.
pub const DEFAULT_DAYS: i64 = 30;
/// The longest range one request may count.
pub const MAX_DAYS: i64 = 400;

/// `2026-11-29` (midnight UTC) or an RFC 3339 time.
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

/// Reads `from`, `to` (exclusive; both default to the last 30 days), `by` (comma-separated or
/// repeated; default `day`) and `kind`; every failing parameter is listed.
pub fn parse(raw: Option<&str>) -> Result<StatsQuery, ValidationErrors> {
    let mut errors = Vec::new();
    let (mut from, mut to, mut by, mut kind) = (None, None, Vec::new(), None);
    for (name, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let value = value.trim();
        match name.as_ref() {
            "from" | "to" => match parse_time(value) {
                Some(t) if name == "from" => from = Some(t),
                Some(t) => to = Some(t),
                None => errors.push(FieldError::new(
                    &name,
                    "invalid",
                    "must be YYYY-MM-DD or an RFC 3339 time",
                )),
            },
            "by" => {
                for part in value.split(',').filter(|p| !p.trim().is_empty()) {
                    match StatsDimension::parse(part) {
                        Some(d) if !by.contains(&d) => by.push(d),
                        Some(_) => {}
                        None => errors.push(FieldError::new(
                            "by",
                            "invalid",
                            "must be day, kind, webapp_version, browser or status",
                        )),
                    }
                }
            }
            "kind" if !value.is_empty() => match Kind::parse(value) {
                Ok(_) => kind = Some(value.to_owned()),
                Err(_) => errors.push(FieldError::new(
                    "kind",
                    "invalid",
                    "must be bug, feature or feedback",
                )),
            },
            _ => {}
        }
    }
    let to = to.unwrap_or_else(Utc::now);
    let from = from.unwrap_or(to - Duration::days(DEFAULT_DAYS));
    if from >= to || to - from > Duration::days(MAX_DAYS) {
        errors.push(FieldError::new(
            "from",
            "out_of_range",
            "must be before to, at most 400 days before",
        ));
    }
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }
    Ok(StatsQuery {
        from,
        to,
        by: if by.is_empty() {
            vec![StatsDimension::Day]
        } else {
            by
        },
        kind,
        offset_secs: 0,
    })
}

#[utoipa::path(get, path = "/api/v1/internal/stats", tag = "internal", security(("bearer" = [])),
    params(
        ("from" = Option<String>, Query, description = "Start (YYYY-MM-DD or RFC 3339); default 30 days before `to`"),
        ("to" = Option<String>, Query, description = "End, exclusive (YYYY-MM-DD or RFC 3339); default now"),
        ("by" = Option<String>, Query, description = "Comma-separated: day, kind, webapp_version, browser, status; default day"),
        ("kind" = Option<String>, Query, description = "Only this kind"),
    ),
    responses((status = 200, description = "Counts per group, spam left out; days in UTC", body = Object),
        (status = 401, description = "No valid bearer token", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow this", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid parameters or fields", body = crate::http::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage unavailable (Retry-After)", body = crate::http::openapi::Problem, content_type = "application/problem+json")))]
pub async fn stats(
    auth: Authenticated,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    auth.require(Role::Triager)?;
    let query = parse(raw.as_deref()).map_err(ApiError::Validation)?;
    let rows = state.store.stats(&query).await.map_err(ApiError::storage)?;
    let rows: Vec<Value> = rows
        .into_iter()
        .map(|row| {
            let mut object = Map::new();
            for (dimension, key) in query.by.iter().zip(row.keys) {
                object.insert(dimension.as_str().to_owned(), Value::String(key));
            }
            object.insert("count".to_owned(), json!(row.count));
            Value::Object(object)
        })
        .collect();
    let by: Vec<&str> = query.by.iter().map(|d| d.as_str()).collect();
    Ok(Json(json!({
        "from": query.from, "to": query.to, "by": by, "rows": rows,
    })))
}
