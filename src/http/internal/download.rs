//! Serving a stored attachment to staff: streamed from object storage, always as a download
//! (or, for images in the triage view, inline), never sniffed, sandboxed, never cached.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use uuid::Uuid;

use crate::http::error::ApiError;
use crate::state::AppState;
use crate::triage::desk::submission;

/// `filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266).
fn disposition(kind: &str, filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

pub async fn attachment(
    state: &AppState,
    id: Uuid,
    n: i32,
    inline_image: bool,
) -> Result<Response, ApiError> {
    let row = submission(&state.desk(), id).await?;
    let attachment = row
        .attachments
        .into_iter()
        .find(|a| a.position == n)
        .ok_or(ApiError::NotFound)?;
    let object = state
        .blobs
        .object_store()
        .get(&Path::from(attachment.object_key.as_str()))
        .await
        .map_err(ApiError::storage)?;
    let stream = object.into_stream().map_err(std::io::Error::other);
    let inline = inline_image && attachment.content_type.starts_with("image/");
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_str(&attachment.content_type)
                .unwrap_or(HeaderValue::from_static("application/octet-stream")),
        ),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&disposition(
                if inline { "inline" } else { "attachment" },
                &attachment.filename,
            ))
            .unwrap_or(HeaderValue::from_static("attachment")),
        ),
        (header::CONTENT_LENGTH, HeaderValue::from(attachment.size)),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("sandbox; default-src 'none'"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        ),
    ];
    Ok((headers, Body::from_stream(stream)).into_response())
}

#[cfg(test)]
mod tests {
    use super::disposition;

    #[test]
    fn dispositions_are_ascii_safe() {
        assert_eq!(
            disposition("attachment", "größe \"1\".png"),
            "attachment; filename=\"gr__e _1_.png\"; filename*=UTF-8''gr%C3%B6%C3%9Fe%20%221%22.png"
        );
    }
}
