//! `bench-baseline`: the bare hyper server that `tests/bench/run` measures feedbackd against.
//!
//! It is not part of the service. It answers every request the way the cheapest possible intake
//! would, so that the benchmark can say how far feedbackd is from what this machine allows:
//!
//! * `--mode discard`: reads each body fully (streaming), parses it as JSON when the content type
//!   says JSON, keeps nothing, answers `201 {"id": …}`. The ceiling of the HTTP stack alone.
//! * `--mode durable`: streams each body into its own new file in `--dir`, then `fsync`s the file
//!   and the directory before answering `201`. The ceiling of a durable intake on this disk.
//! * `--mode journal`: reads and JSON-parses each body like `discard`, then appends it to one
//!   journal file in `--dir` by group commit: one thread takes every body waiting, writes them,
//!   `fdatasync`s once, and only then are their `201`s sent. The physical limit of a durable
//!   acknowledgement of small submissions here (what feedbackd's intake is compared with).
//!
//! Multi-threaded tokio (one worker per core, like feedbackd), HTTP/1.1 with keep-alive.
//!
//! ```text
//! bench-baseline --listen 127.0.0.1:8081 --mode durable --dir /tmp/bench-durable
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Discard,
    Durable,
    Journal,
}

/// A body waiting for the journal, and who to tell once it is on disk.
type JournalEntry = (Bytes, tokio::sync::oneshot::Sender<std::io::Result<()>>);

#[derive(Debug)]
struct Baseline {
    mode: Mode,
    dir: PathBuf,
    /// Names the body files; the process id keeps two runs in one folder apart.
    next: AtomicU64,
    /// The group-commit thread's queue (journal mode).
    journal: Option<std::sync::mpsc::Sender<JournalEntry>>,
}

fn usage() -> &'static str {
    "usage: bench-baseline --listen ADDR --mode discard|durable|journal [--dir PATH]\n\
     discard: read (and JSON-parse) each body, keep nothing; durable: write each body to its own \
     file in --dir and fsync it and the folder before answering 201; journal: append each JSON \
     body to one file in --dir, fdatasync per batch (group commit), then answer 201"
}

fn parse_args() -> anyhow::Result<(SocketAddr, Baseline)> {
    let mut listen = None;
    let mut mode = None;
    let mut dir = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--listen" => listen = Some(value()?.parse().context("--listen takes ADDR:PORT")?),
            "--mode" => {
                mode = Some(match value()?.as_str() {
                    "discard" => Mode::Discard,
                    "durable" => Mode::Durable,
                    "journal" => Mode::Journal,
                    other => bail!("unknown mode {other}\n{}", usage()),
                });
            }
            "--dir" => dir = Some(PathBuf::from(value()?)),
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n{}", usage()),
        }
    }
    let listen = listen.with_context(|| format!("--listen is required\n{}", usage()))?;
    let mode = mode.with_context(|| format!("--mode is required\n{}", usage()))?;
    let dir = match (mode, dir) {
        (Mode::Durable | Mode::Journal, None) => {
            bail!("--mode {mode:?} needs --dir\n{}", usage())
        }
        (_, dir) => dir.unwrap_or_else(std::env::temp_dir),
    };
    if mode != Mode::Discard {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let journal = if mode == Mode::Journal {
        let path = dir.join(format!("{}.journal", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        std::fs::File::open(&dir)?.sync_all()?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || group_commit(file, &rx));
        Some(tx)
    } else {
        None
    };
    Ok((
        listen,
        Baseline {
            mode,
            dir,
            next: AtomicU64::new(0),
            journal,
        },
    ))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (listen, baseline) = parse_args()?;
    let baseline = Arc::new(baseline);
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    println!(
        "bench-baseline: {:?} listening on http://{}/",
        baseline.mode,
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        // Small requests and answers: do not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let baseline = Arc::clone(&baseline);
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let baseline = Arc::clone(&baseline);
                async move { Ok::<_, Infallible>(handle(&baseline, request).await) }
            });
            // Keep-alive is hyper's default for HTTP/1.1.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(baseline: &Baseline, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let n = baseline.next.fetch_add(1, Ordering::Relaxed);
    let is_json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/json"));
    let body = request.into_body();
    let outcome = match baseline.mode {
        Mode::Discard if is_json => discard_json(body).await,
        Mode::Discard => discard(body).await,
        Mode::Journal => journal(baseline, body).await,
        Mode::Durable => {
            let path = baseline
                .dir
                .join(format!("{}-{n}.body", std::process::id()));
            write_durably(body, &path, &baseline.dir).await
        }
    };
    match outcome {
        Ok(()) => reply(StatusCode::CREATED, format!("{{\"id\":\"{n}\"}}")),
        Err(error) => reply(
            StatusCode::BAD_REQUEST,
            format!(
                "{{\"error\":{}}}",
                serde_json::Value::from(format!("{error:#}"))
            ),
        ),
    }
}

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Reads a small JSON body whole and parses it, as any JSON intake must.
async fn discard_json(body: Incoming) -> anyhow::Result<()> {
    let bytes = body.collect().await?.to_bytes();
    let _: serde_json::Value = serde_json::from_slice(&bytes).context("not JSON")?;
    Ok(())
}

/// Reads a body frame by frame and drops it.
async fn discard(mut body: Incoming) -> anyhow::Result<()> {
    while let Some(frame) = body.frame().await {
        drop(frame?);
    }
    Ok(())
}

/// Streams a body into a new file, then makes the file and its folder entry durable.
async fn write_durably(mut body: Incoming, path: &Path, dir: &Path) -> anyhow::Result<()> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .await
        .with_context(|| format!("creating {}", path.display()))?;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            file.write_all(&data).await?;
        }
    }
    file.flush().await?;
    file.sync_all().await?;
    drop(file);
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || std::fs::File::open(&dir)?.sync_all()).await??;
    Ok(())
}

/// Parses a JSON body, hands it to the journal thread and waits until it is on disk.
async fn journal(baseline: &Baseline, body: Incoming) -> anyhow::Result<()> {
    let bytes = body.collect().await?.to_bytes();
    let _: serde_json::Value = serde_json::from_slice(&bytes).context("not JSON")?;
    let (done, on_disk) = tokio::sync::oneshot::channel();
    baseline
        .journal
        .as_ref()
        .context("no journal")?
        .send((bytes, done))
        .context("the journal thread stopped")?;
    on_disk.await.context("the journal thread stopped")??;
    Ok(())
}

/// The journal thread: every body waiting is written, then one `fdatasync` for all of them,
/// then each is answered. A lone body is never delayed waiting for company.
fn group_commit(mut file: std::fs::File, queue: &std::sync::mpsc::Receiver<JournalEntry>) {
    use std::io::Write;
    let mut buffer = Vec::new();
    let mut waiting = Vec::new();
    while let Ok(first) = queue.recv() {
        waiting.push(first);
        waiting.extend(queue.try_iter());
        buffer.clear();
        for (bytes, _) in &waiting {
            buffer.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            buffer.extend_from_slice(bytes);
        }
        let outcome = file.write_all(&buffer).and_then(|()| file.sync_data());
        for (_, done) in waiting.drain(..) {
            let _ = done.send(match &outcome {
                Ok(()) => Ok(()),
                Err(error) => Err(std::io::Error::new(error.kind(), error.to_string())),
            });
        }
    }
}
