//! E-mail in the view: the reply box on a submission's page (a POST form with the CSRF token;
//! `notify::replies` does the work) and each staff member's own subscriptions page (their
//! address, and per kind: off, at once, or in the daily digest).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use minijinja::context;

use super::pages::{FormFields, check_csrf, csrf_of, page, staff_ctx};
use super::queue::redirect_with;
use super::submission::{messages, submission_form};
use super::view_query::Flash;
use crate::domain::ContactEmail;
use crate::http::auth::ViewStaff;
use crate::http::error::ApiError;
use crate::notify::mail::intake::mail_enabled;
use crate::notify::mail::render::kind_name;
use crate::notify::replies::{self, ReplyError};
use crate::state::AppState;
use crate::store::mail::KINDS;
use crate::store::{MailPreferences, SubscriptionMode};

const SUBSCRIPTIONS: &str = "/triage/subscriptions";

pub async fn add_reply(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (form, id, here) = submission_form(&staff, &body, &id)?;
    let refused = |message: &str| Ok(redirect_with(&here, "error", message));
    let body = form.get("body").unwrap_or_default();
    match replies::send(state.store.as_ref(), &state.settings, &staff, id, body).await {
        Ok(_) => Ok(redirect_with(
            &here,
            "notice",
            "Reply queued: it is e-mailed to the submitter with this feedback's reference.",
        )),
        Err(ReplyError::Invalid(errors)) => refused(&format!("Reply: {}.", messages(&errors))),
        Err(ReplyError::NoContact) => {
            refused("This submission has no e-mail address to write to: nothing was sent.")
        }
        Err(ReplyError::MailDisabled) => {
            refused("E-mail is not configured on this service: nothing was sent.")
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn subscriptions_page(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let flash = Flash::parse(raw.as_deref());
    let preferences = state
        .store
        .mail_preferences(&staff.name)
        .await
        .map_err(ApiError::storage)?;
    let kinds: Vec<_> = KINDS
        .iter()
        .map(|kind| {
            context! {
                kind, name => kind_name(kind, "en"), mode => preferences.mode(kind).as_str(),
            }
        })
        .collect();
    let modes = [
        ("off", "Off"),
        ("at_once", "At once"),
        ("digest", "Daily digest"),
    ];
    page(
        &state,
        "subscriptions.html",
        context! {
            staff => staff_ctx(&staff), csrf => csrf_of(&staff),
            email => preferences.email, kinds, modes,
            mail_on => mail_enabled(&state.settings),
            digest_hour => state.settings.mail.digest_hour,
            notice => flash.notice, error => flash.error,
        },
    )
}

pub async fn save_subscriptions(
    State(state): State<AppState>,
    ViewStaff(staff): ViewStaff,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = FormFields::parse(&body);
    check_csrf(&staff, &form)?;
    let email = match form.get("email").map(str::trim).unwrap_or_default() {
        "" => None,
        typed => match ContactEmail::parse(typed) {
            Ok(Some(email)) => Some(email.as_str().to_owned()),
            _ => {
                return Ok(redirect_with(
                    SUBSCRIPTIONS,
                    "error",
                    "That e-mail address is not valid: nothing was changed.",
                ));
            }
        },
    };
    let mut subscriptions = Vec::new();
    for kind in KINDS {
        let raw = form.get(&format!("mode_{kind}")).unwrap_or("off");
        let Some(mode) = SubscriptionMode::parse(raw) else {
            return Ok(redirect_with(
                SUBSCRIPTIONS,
                "error",
                "Choose off, at once or daily digest.",
            ));
        };
        if mode != SubscriptionMode::Off {
            subscriptions.push((kind.to_owned(), mode));
        }
    }
    let notice = if email.is_none() && !subscriptions.is_empty() {
        "Saved. Add your e-mail address to receive anything."
    } else {
        "Saved."
    };
    let preferences = MailPreferences {
        email,
        subscriptions,
    };
    let saved = state
        .store
        .set_mail_preferences(&staff.name, &preferences)
        .await
        .map_err(ApiError::storage)?;
    if !saved {
        return Ok(redirect_with(
            SUBSCRIPTIONS,
            "error",
            "Only staff accounts (not API tokens) have subscriptions.",
        ));
    }
    Ok(redirect_with(SUBSCRIPTIONS, "notice", notice))
}
