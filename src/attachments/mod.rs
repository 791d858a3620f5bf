//! Streams one uploaded file through type sniffing, SHA-256 and size limits straight into
//! object storage, never holding it whole in memory.
//!
//! A file that crosses a limit or turns out not to be an allowed type mid-stream aborts its
//! upload. Everything stored for a request is tracked by [`Staged`], which removes it again
//! unless the request's commit succeeded.

pub(crate) mod sniff;

pub mod sweeper;

use std::error::Error as StdError;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::blobs::{Blobs, DeadlineExceeded};
pub use sniff::{ALLOWED_TYPES, AttachmentType};

/// Bytes looked at to decide a file's type.
const SNIFF_BYTES: usize = 1024;
/// Longest display name kept for a file.
const MAX_FILENAME_CHARS: usize = 255;

/// Per-file and per-request attachment limits.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Limits {
    pub max_attachments: usize,
    pub max_attachment_bytes: u64,
    pub max_total_attachment_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attachments: 5,
            max_attachment_bytes: 10 * 1024 * 1024,
            max_total_attachment_bytes: 25 * 1024 * 1024,
        }
    }
}

/// Which limit a request crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitReason {
    TooManyFiles,
    FileTooLarge,
    TotalTooLarge,
}

#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("attachment limit crossed: {0:?}")]
    Limit(LimitReason),
    #[error("attachment type not allowed")]
    TypeNotAllowed,
    #[error("attachment is empty")]
    Empty,
    #[error("reading the upload failed")]
    Read(#[source] Box<dyn StdError + Send + Sync>),
    #[error("object storage failed")]
    Storage(#[from] object_store::Error),
}

/// What the receipt and the database hold about a stored file.
#[derive(Debug, Clone, Serialize)]
pub struct StoredAttachment {
    #[serde(skip)]
    pub object_key: String,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
    pub content_type: &'static str,
}

/// Counts files and bytes across one request.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    files: usize,
    bytes: u64,
}

impl Budget {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            files: 0,
            bytes: 0,
        }
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// Objects written for a request that has not committed yet; deleted on drop unless committed.
#[derive(Debug)]
pub struct Staged {
    blobs: Blobs,
    keys: Vec<String>,
    /// A commit is under way: if the request is abandoned now, its outcome is unknown.
    committing: bool,
}

impl Staged {
    pub fn new(blobs: Blobs) -> Self {
        Self {
            blobs,
            keys: Vec::new(),
            committing: false,
        }
    }

    /// The request committed: the objects are now owned by database rows.
    pub fn commit(mut self) {
        self.keys.clear();
    }

    /// The rows are being committed: from now on an abandoned request (client gone, request
    /// timeout) leaves its objects to the sweeper instead of deleting them on drop.
    pub fn commit_started(&mut self) {
        self.committing = true;
    }

    /// The commit's outcome is unknown (it was sent, and no answer came in time, or the
    /// request was abandoned while it ran): a row may reference the objects, so they are not
    /// deleted here; the orphan sweeper removes them if no row does.
    pub fn leave_to_sweeper(&mut self) {
        self.keys.clear();
    }

    /// Deletes what was stored, now, rather than in the background on drop.
    pub async fn discard(mut self) {
        let keys = std::mem::take(&mut self.keys);
        delete_all(&self.blobs, keys).await;
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if self.keys.is_empty() || self.committing {
            return;
        }
        let keys = std::mem::take(&mut self.keys);
        let blobs = self.blobs.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move { delete_all(&blobs, keys).await });
        }
    }
}

async fn delete_all(blobs: &Blobs, keys: Vec<String>) {
    for key in keys {
        if let Err(error) = blobs.delete(&key).await {
            // The sweeper removes it later; the key is a generated id, not personal data.
            tracing::warn!(%key, error = %error, "could not remove a staged object");
        }
    }
}

/// Reads one file part into storage. Returns `None` for the empty part a browser sends for a
/// file input with nothing chosen.
pub async fn receive<S, E>(
    mut body: S,
    client_filename: Option<&str>,
    submission: Uuid,
    budget: &mut Budget,
    staged: &mut Staged,
) -> Result<Option<StoredAttachment>, AttachmentError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    let limits = budget.limits;
    let mut next = async || {
        body.next()
            .await
            .transpose()
            .map_err(|e| AttachmentError::Read(e.into()))
    };

    // Gather the first bytes to decide the type before anything is stored.
    let mut head: Vec<Bytes> = Vec::new();
    let mut head_len = 0;
    while head_len < SNIFF_BYTES {
        match next().await? {
            Some(chunk) => {
                head_len += chunk.len();
                head.push(chunk);
            }
            None => break,
        }
    }
    if head_len == 0 {
        return match client_filename.map(str::trim) {
            None | Some("") => Ok(None),
            Some(_) => Err(AttachmentError::Empty),
        };
    }
    budget.files += 1;
    if budget.files > limits.max_attachments {
        return Err(AttachmentError::Limit(LimitReason::TooManyFiles));
    }
    let sniffed: Vec<u8> = head
        .iter()
        .flat_map(|c| c.iter().copied())
        .take(SNIFF_BYTES)
        .collect();
    let kind = AttachmentType::sniff(&sniffed).ok_or(AttachmentError::TypeNotAllowed)?;
    let mut text_check = (kind == AttachmentType::Text).then(sniff::Utf8Text::default);

    let key = Blobs::new_attachment_key(submission);
    let deadline = staged.blobs.timeout();
    let mut writer = staged.blobs.writer(key.clone());
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut pending = head.into_iter();
    let outcome: Result<(), AttachmentError> = async {
        loop {
            let chunk = match pending.next() {
                Some(chunk) => chunk,
                None => match next().await? {
                    Some(chunk) => chunk,
                    None => break,
                },
            };
            size += chunk.len() as u64;
            if size > limits.max_attachment_bytes {
                return Err(AttachmentError::Limit(LimitReason::FileTooLarge));
            }
            if budget.bytes + size > limits.max_total_attachment_bytes {
                return Err(AttachmentError::Limit(LimitReason::TotalTooLarge));
            }
            if let Some(check) = text_check.as_mut() {
                check
                    .feed(&chunk)
                    .map_err(|()| AttachmentError::TypeNotAllowed)?;
            }
            hasher.update(&chunk);
            // A copy, so that the multipart parser's read buffer is not pinned by a chunk
            // waiting in the upload buffer: otherwise every upload keeps megabytes alive.
            Blobs::within(deadline, writer.put(Bytes::copy_from_slice(&chunk))).await?;
        }
        if let Some(check) = &text_check {
            check
                .finish()
                .map_err(|()| AttachmentError::TypeNotAllowed)?;
        }
        Ok(())
    }
    .await;

    if let Err(error) = outcome {
        abort_in_background(writer, deadline);
        return Err(error);
    }
    // From here the object may come to exist, so a refusal must remove it.
    staged.keys.push(key.to_string());
    // Completing runs in its own task: when it overruns its deadline the request is answered,
    // and the task still ends by itself (object_store's retries are bounded by the same
    // deadline), aborting a multipart upload that failed; an object completed after the
    // request was refused is removed by the orphan sweeper.
    let completing = tokio::spawn(async move { writer.shutdown().await });
    let completed = tokio::time::timeout(deadline, completing)
        .await
        .map_err(|_| AttachmentError::Storage(DeadlineExceeded(deadline).into()))?
        .map_err(|_| AttachmentError::Read("upload could not be completed".into()))?;
    completed.map_err(|e| match e.into_inner() {
        Some(inner) => match inner.downcast::<object_store::Error>() {
            Ok(store_error) => AttachmentError::Storage(*store_error),
            Err(other) => AttachmentError::Read(other),
        },
        None => AttachmentError::Read("upload could not be completed".into()),
    })?;
    budget.bytes += size;

    Ok(Some(StoredAttachment {
        object_key: key.to_string(),
        filename: sanitize_filename(client_filename.unwrap_or("")),
        size,
        sha256: hex::encode(hasher.finalize()),
        content_type: kind.mime(),
    }))
}

/// Aborts a failed upload without keeping the request waiting: a multipart upload on S3 leaves
/// parts that no listing (and so no sweeper) sees, so it is aborted explicitly, given a few
/// deadlines to get through. An upload still in its first buffer has nothing to abort.
fn abort_in_background(mut writer: object_store::buffered::BufWriter, deadline: Duration) {
    tokio::spawn(async move {
        match Blobs::within(deadline * 6, writer.abort()).await {
            Ok(()) => {}
            Err(error) => tracing::warn!(
                error = %error,
                "aborting a failed upload failed; the bucket's lifecycle rule must remove its parts"
            ),
        }
    });
}

/// A display name safe to show and to put in a `Content-Disposition`: no path, no control
/// or reserved characters, at most 255 characters.
pub fn sanitize_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .filter(|c| !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .take(MAX_FILENAME_CHARS)
        .collect();
    // Leading dots and spaces in any order (". .x"), so sanitising twice changes nothing and
    // no name is hidden.
    let cleaned = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end();
    if cleaned.is_empty() {
        "attachment".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// Characters that reorder the text around them: `photo\u{202E}gnp.exe` would display as
/// `photoexe.png`.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::sanitize_filename;

    #[test]
    fn filenames_lose_paths_and_controls() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\Users\\ann\\shot.png"), "shot.png");
        assert_eq!(sanitize_filename("a\u{0}b\n<c>.txt"), "abc.txt");
        assert_eq!(sanitize_filename(".."), "attachment");
        assert_eq!(sanitize_filename(""), "attachment");
        assert_eq!(sanitize_filename(". .x"), "x");
        assert_eq!(sanitize_filename("photo\u{202E}gnp.exe"), "photognp.exe");
        assert_eq!(sanitize_filename(&"x".repeat(300)).chars().count(), 255);
    }
}
