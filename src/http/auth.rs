//! Who is calling a staff route: a bearer token for the JSON API ([`Authenticated`]), a
//! session cookie for the triage view ([`ViewStaff`], whose forms also carry a CSRF token).
//! Nothing private is served to anyone else: 401 without credentials, 403 without the role.
//! The JSON API takes no cookies, so no other site can make a browser call it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::error::ApiError;
use crate::domain::Role;
use crate::staff::{self, Staff};
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "feedbackd_session";

/// A request from a known staff member.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Staff);

impl Authenticated {
    /// 403 unless this staff member's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<&Staff, ApiError> {
        if self.0.role.includes(needed) {
            Ok(&self.0)
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

/// The value of a cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        match staff::by_token(state.store.as_ref(), token.trim())
            .await
            .map_err(ApiError::storage)?
        {
            Some(staff) => Ok(Self(staff)),
            None => Err(ApiError::Unauthorized),
        }
    }
}

/// A triage-view request from a logged-in staff member (any role).
#[derive(Debug, Clone)]
pub struct ViewStaff(pub Staff);

/// Why a view request has no staff member: no valid session (show the login), or an error.
#[derive(Debug)]
pub enum ViewRejection {
    Login,
    Failed(ApiError),
}

impl IntoResponse for ViewRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Login => Redirect::to("/triage/login").into_response(),
            Self::Failed(error) => error.into_response(),
        }
    }
}

impl ViewStaff {
    /// 403 unless this staff member's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<&Staff, ApiError> {
        if self.0.role.includes(needed) {
            Ok(&self.0)
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for ViewStaff {
    type Rejection = ViewRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, ViewRejection> {
        let session = cookie(&parts.headers, SESSION_COOKIE).ok_or(ViewRejection::Login)?;
        let staff = staff::by_session(state.store.as_ref(), session)
            .await
            .map_err(|e| ViewRejection::Failed(ApiError::storage(e)))?
            .ok_or(ViewRejection::Login)?;
        Ok(Self(staff))
    }
}
