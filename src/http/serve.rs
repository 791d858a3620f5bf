//! The HTTP/1 connection loop of both listeners. `axum::serve` does not expose hyper's
//! connection settings, and hyper's default read buffer grows to ~400 KiB per connection: with
//! 64 uploads in flight that alone is half the memory budget. Here each connection's buffer is
//! capped, every connection gets its peer address (for rate limits), and shutdown stops accepting
//! and then waits for the requests in flight.
//!
//! A connection ends with a *lingering close*: when the service answered before reading the
//! whole body (a refusal: 400, 413, 415, 401), closing the socket with the client's unread
//! bytes in it makes the kernel send a reset, and the client, still writing, often loses the
//! answer with it. So the service sends its FIN and reads and discards what keeps arriving, for
//! a bounded time, before it closes (as nginx's `lingering_close` does).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// Largest read buffer of one connection (hyper's minimum is 8 KiB).
const MAX_READ_BUFFER: usize = 64 * 1024;
/// How long a client may take to send its request headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// A lingering close reads what the client still sends for at most this long in all…
const LINGER_FOR: Duration = Duration::from_secs(5);
/// …and gives up sooner once the client has sent nothing for this long.
const LINGER_IDLE: Duration = Duration::from_secs(2);

/// Serves `router` on `listener` until `shutdown` resolves, then drains the connections.
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_buf_size(MAX_READ_BUFFER)
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each connection holds a sender until its last response is written; when every sender
    // is gone, `recv` answers `None`: the connections are drained.
    let (open_tx, mut open_rx) = mpsc::channel::<()>(1);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // A response written in parts (a streamed export, a large page) must not wait for the
        // client's delayed ACK between them (Nagle's algorithm): ~40 ms each time on Linux.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(error = %error, "TCP_NODELAY not set on a connection");
        }
        let router = router.clone();
        let service = tower::service_fn(move |mut request: hyper::Request<Incoming>| {
            request
                .extensions_mut()
                .insert(ConnectInfo::<SocketAddr>(peer));
            Box::pin(router.clone().oneshot(request))
        });
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        tokio::spawn(run_connection(connection, stop_rx.clone(), open_tx.clone()));
    }
    drop(listener);
    let _ = stop_tx.send(true);
    drop(open_tx);
    let _ = open_rx.recv().await;
}

/// Serves one connection until it ends (or, once `stop` is set, until its request in flight
/// is answered), then closes it lingering.
async fn run_connection<S>(
    mut connection: hyper::server::conn::http1::Connection<TokioIo<TcpStream>, S>,
    mut stop: watch::Receiver<bool>,
    open: mpsc::Sender<()>,
) where
    S: hyper::service::HttpService<Incoming> + Unpin,
    S::Future: Unpin,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut stopping = false;
    let served = loop {
        tokio::select! {
            served = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => break served,
            _ = stop.wait_for(|stop| *stop), if !stopping => {
                stopping = true;
                std::pin::Pin::new(&mut connection).graceful_shutdown();
            }
        }
    };
    drop(open);
    match served {
        Ok(()) => linger(connection.into_parts().io.into_inner()).await,
        Err(error) => tracing::debug!(error = %error, "connection ended with an error"),
    }
}

/// Sends FIN (the client has the whole answer), then reads and discards what still arrives
/// until the client closes, goes quiet for [`LINGER_IDLE`], or [`LINGER_FOR`] has passed.
async fn linger(mut stream: TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let until = Instant::now() + LINGER_FOR;
    let mut discard = [0u8; 16 * 1024];
    loop {
        let wait = until.min(Instant::now() + LINGER_IDLE);
        match tokio::time::timeout_at(wait, stream.read(&mut discard)).await {
            Ok(Ok(read)) if read > 0 => {}
            _ => return,
        }
    }
}
