//! What the multipart parser is fed: the body cut into small pieces, held back while the
//! parser holds more than [`FRAMING_LIMIT`] bytes it has not delivered as part contents, and
//! refused past the largest accepted body.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures::{Stream, TryStreamExt};

use super::{BoxError, FRAMING_LIMIT};

/// The multipart parser is fed at most this much at a time, so what it holds while looking
/// for a boundary stays near [`FRAMING_LIMIT`] whatever the size of the network's chunks.
const PIECE: usize = 16 * 1024;
/// The body is larger than any acceptable one.
#[derive(Debug, thiserror::Error)]
#[error("the body exceeds the largest accepted one")]
pub(super) struct BodyTooLarge;

/// Too many bytes arrived outside any part's contents.
#[derive(Debug, thiserror::Error)]
#[error("more than {FRAMING_LIMIT} bytes outside the parts of a multipart body")]
pub(super) struct FramingTooLarge;

/// Counts what a multipart body's parts delivered, against what was fed to the parser.
#[derive(Debug, Clone, Default)]
pub(super) struct Meter {
    delivered: Arc<AtomicU64>,
    /// Bumped whenever the parser hands out anything: a part, or a chunk of one.
    progress: Arc<AtomicU64>,
}

impl Meter {
    pub(super) fn delivered(&self, bytes: usize) {
        self.delivered.fetch_add(bytes as u64, Ordering::Relaxed);
        self.progressed();
    }

    pub(super) fn progressed(&self) {
        self.progress.fetch_add(1, Ordering::Relaxed);
    }

    /// The body, cut into pieces of at most [`PIECE`] bytes and fed to the parser only while
    /// it holds at most [`FRAMING_LIMIT`] bytes it has not delivered as part contents.
    pub(super) fn feed<S, E>(&self, body: S, limit: u64) -> Fed
    where
        S: Stream<Item = Result<Bytes, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let pieces = body
            .map_err(Into::into)
            .map_ok(|mut chunk| {
                let mut pieces: Vec<Result<Bytes, BoxError>> =
                    Vec::with_capacity(chunk.len().div_ceil(PIECE));
                while chunk.len() > PIECE {
                    pieces.push(Ok(chunk.split_to(PIECE)));
                }
                pieces.push(Ok(chunk));
                futures::stream::iter(pieces)
            })
            .try_flatten();
        Fed {
            pieces: Box::pin(pieces),
            delivered: Arc::clone(&self.delivered),
            progress: Arc::clone(&self.progress),
            fed: 0,
            limit,
            stalled: None,
        }
    }
}

/// Polls in a row that find the window full with no progress (no part, no chunk handed out)
/// before the body counts as framing beyond the limit. After each such poll the parser parses
/// what it holds, so a body it can make sense of progresses within a poll or two.
const STALLS_ALLOWED: u32 = 4;

/// The multipart parser's input. multer reads everything that is ready before it parses, so
/// on a fast connection it would buffer as much as arrives; and with no boundary it keeps
/// everything. While the parser holds a full window, this answers `Pending` (and wakes the
/// task at once, so the parser delivers from its buffer); when several polls in a row bring no
/// progress, what the parser holds is framing, and the body is refused.
pub(super) struct Fed {
    pieces: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send>>,
    delivered: Arc<AtomicU64>,
    progress: Arc<AtomicU64>,
    fed: u64,
    /// The largest body accepted, counted piece by piece so that which limit a body crosses
    /// first does not depend on how the network cut it.
    limit: u64,
    /// The progress count when the window was first found full, and polls since.
    stalled: Option<(u64, u32)>,
}

impl Stream for Fed {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        let delivered = self.delivered.load(Ordering::Relaxed);
        if self.fed.saturating_sub(delivered) > FRAMING_LIMIT {
            let progress = self.progress.load(Ordering::Relaxed);
            let stalls = match self.stalled {
                Some((at, stalls)) if at == progress => stalls + 1,
                _ => 1,
            };
            if stalls > STALLS_ALLOWED {
                return Poll::Ready(Some(Err(FramingTooLarge.into())));
            }
            self.stalled = Some((progress, stalls));
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.stalled = None;
        let polled = self.pieces.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Ok(piece))) = &polled {
            self.fed += piece.len() as u64;
            if self.fed > self.limit {
                return Poll::Ready(Some(Err(BodyTooLarge.into())));
            }
        }
        polled
    }
}
