//! `bench-load`: the fixed-rate load of `tests/bench/run` (P1 p99 at half the maximum rate).
//!
//! Why our own: wrk cannot hold a rate, Debian ships no wrk2, and building oha takes longer than
//! a benchmark session on a shared 2-core machine. This one is small and open-loop: request `i`
//! is due at `start + i / rate`; each of `--connections` keep-alive connections takes the next
//! due request, waits for its time, sends it and reads the answer. Latency is counted from when
//! the request was **due**, not from when it was sent, so a server that stalls cannot hide the
//! queue behind it (no coordinated omission).
//!
//! ```text
//! bench-load --url http://127.0.0.1:8080/api/v1/feedback --rate 5000 --duration 10 \
//!     --connections 32 --body p1.json --content-type application/json --user-agent UA
//! ```
//! Prints one line: `rps=… ok=… bad=… p50_ms=… p99_ms=… max_ms=…` (ok: 201 answers).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

struct Load {
    address: String,
    request: Vec<u8>,
    rate: f64,
    total: u64,
    connections: usize,
}

fn parse_args() -> anyhow::Result<Load> {
    let (mut url, mut rate, mut duration, mut connections) = (None, None, 10.0_f64, 32_usize);
    let (mut body, mut content_type, mut user_agent) =
        (None, "application/json".to_owned(), "bench-load".to_owned());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().with_context(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--url" => url = Some(value()?),
            "--rate" => rate = Some(value()?.parse::<f64>().context("--rate")?),
            "--duration" => duration = value()?.parse().context("--duration")?,
            "--connections" => connections = value()?.parse().context("--connections")?,
            "--body" => body = Some(std::fs::read(value()?).context("--body")?),
            "--content-type" => content_type = value()?,
            "--user-agent" => user_agent = value()?,
            other => bail!("unknown argument {other}"),
        }
    }
    let url = url.context("--url is required")?;
    let rest = url
        .strip_prefix("http://")
        .context("--url must be http://HOST:PORT/PATH")?;
    let (address, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let rate = rate.context("--rate is required")?;
    if rate <= 0.0 || connections == 0 {
        bail!("--rate and --connections must be positive");
    }
    let body = body.unwrap_or_default();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nUser-Agent: {user_agent}\r\n\
         Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    Ok(Load {
        address: address.to_owned(),
        request,
        rate,
        total: (rate * duration).round() as u64,
        connections,
    })
}

/// Reads one response; returns its status code.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<u16> {
    buffer.clear();
    let mut chunk = [0_u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = std::str::from_utf8(&buffer[..head_end]).context("response head")?;
    let status: u16 = head
        .split(' ')
        .nth(1)
        .context("status line")?
        .parse()
        .context("status code")?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            bail!("connection closed");
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Ok(status)
}

/// One connection: takes due requests until all are taken. Returns (latency µs, status or 0).
async fn connection(load: Arc<Load>, next: Arc<AtomicU64>, start: Instant) -> Vec<(u64, u16)> {
    let mut results = Vec::new();
    let mut stream = None;
    let mut buffer = Vec::with_capacity(4096);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= load.total {
            return results;
        }
        let due = start + Duration::from_secs_f64(i as f64 / load.rate);
        tokio::time::sleep_until(due).await;
        let outcome = async {
            if stream.is_none() {
                let s = TcpStream::connect(&load.address).await?;
                s.set_nodelay(true)?;
                stream = Some(s);
            }
            let s = stream.as_mut().context("connected")?;
            s.write_all(&load.request).await?;
            read_response(s, &mut buffer).await
        }
        .await;
        let latency = u64::try_from(due.elapsed().as_micros()).unwrap_or(u64::MAX);
        match outcome {
            Ok(status) => results.push((latency, status)),
            Err(_) => {
                stream = None;
                results.push((latency, 0));
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let load = Arc::new(parse_args()?);
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(200);
    let tasks: Vec<_> = (0..load.connections)
        .map(|_| tokio::spawn(connection(load.clone(), next.clone(), start)))
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.extend(task.await?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ok = results.iter().filter(|(_, s)| *s == 201).count();
    let bad = results.len() - ok;
    let mut latencies: Vec<u64> = results.iter().map(|(l, _)| *l).collect();
    latencies.sort_unstable();
    let at = |q: f64| {
        let i = ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len().max(1));
        latencies.get(i - 1).copied().unwrap_or(0) as f64 / 1000.0
    };
    println!(
        "rps={:.1} ok={ok} bad={bad} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        results.len() as f64 / elapsed,
        at(0.50),
        at(0.99),
        latencies.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    Ok(())
}
