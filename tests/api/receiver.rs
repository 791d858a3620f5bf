//! A webhook receiver for the notification tests: a real HTTP server on loopback that checks
//! every Standard Webhooks signature itself (HMAC-SHA256 over `{id}.{timestamp}.{body}`, as
//! the specification says, not through the service's own code) and records what it received.
//! Its answer can be switched: accept, fail with a status, or never answer at all.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use feedbackd::notify::{NotifySettings, WebhookEndpoint, WebhookFormat};

/// One delivery as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub webhook_id: String,
    pub body: Value,
    pub raw: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    Fail(u16),
}

#[derive(Debug)]
struct Inner {
    mode: Mode,
    received: Vec<Received>,
    bad_signatures: usize,
}

#[derive(Debug, Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    key: Vec<u8>,
    inner: Arc<Mutex<Inner>>,
}

/// A fresh `whsec_` secret.
pub fn new_secret() -> (String, Vec<u8>) {
    let key: Vec<u8> = uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .chain(uuid::Uuid::new_v4().as_bytes())
        .copied()
        .collect();
    (format!("whsec_{}", STANDARD.encode(&key)), key)
}

/// A port nothing listens on while this lives: bound but not listening, so connections to it
/// are refused, and no other test's server can take it meanwhile (a port only picked and let
/// go can be, and that server's answers, a 404 say, would be taken for the receiver's).
pub struct DownPort {
    socket: tokio::net::TcpSocket,
    pub addr: SocketAddr,
}

impl DownPort {
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = socket.local_addr().unwrap();
        Self { socket, addr }
    }

    /// Lets the port go, for a receiver to start on it.
    pub fn release(self) -> SocketAddr {
        drop(self.socket);
        self.addr
    }
}

fn verified(key: &[u8], headers: &HeaderMap, body: &str) -> Option<String> {
    let id = headers.get("webhook-id")?.to_str().ok()?;
    let timestamp: i64 = headers
        .get("webhook-timestamp")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return None;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let signatures = headers.get("webhook-signature")?.to_str().ok()?;
    signatures
        .split(' ')
        .any(|s| s == expected)
        .then(|| id.to_owned())
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let raw = String::from_utf8(body.to_vec()).unwrap();
    let mut inner = receiver.inner.lock().unwrap();
    match inner.mode {
        Mode::Fail(status) => StatusCode::from_u16(status).unwrap(),
        Mode::Accept => match verified(&receiver.key, &headers, &raw) {
            Some(webhook_id) => {
                let body = serde_json::from_str(&raw).unwrap();
                inner.received.push(Received {
                    webhook_id,
                    body,
                    raw,
                });
                StatusCode::NO_CONTENT
            }
            None => {
                inner.bad_signatures += 1;
                StatusCode::UNAUTHORIZED
            }
        },
    }
}

impl Receiver {
    /// Starts receiving on `addr` (port 0: any free port).
    pub async fn start(addr: SocketAddr, key: Vec<u8>, mode: Mode) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let receiver = Receiver {
            addr: listener.local_addr().unwrap(),
            key,
            inner: Arc::new(Mutex::new(Inner {
                mode,
                received: Vec::new(),
                bad_signatures: 0,
            })),
        };
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = mode;
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    pub fn bad_signatures(&self) -> usize {
        self.inner.lock().unwrap().bad_signatures
    }

    /// Waits until at least `n` deliveries arrived, failing after `limit`.
    pub async fn wait_for(&self, n: usize, limit: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= n {
                return received;
            }
            assert!(
                started.elapsed() < limit,
                "{} of {n} deliveries within {limit:?}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn hook_url(addr: SocketAddr) -> String {
    format!("http://{addr}/hook")
}

/// A standard endpoint named `name` at `addr`.
pub fn endpoint(name: &str, addr: SocketAddr, secret: &str) -> WebhookEndpoint {
    WebhookEndpoint {
        name: name.to_owned(),
        url: hook_url(addr).into(),
        secret: Some(secret.to_owned().into()),
        events: Vec::new(),
        kinds: Vec::new(),
        include_message: false,
        format: WebhookFormat::Standard,
    }
}

/// The worker at a test's pace: polls every 20 ms, backs off from 20 ms to 200 ms.
pub fn fast_notify(webhooks: Vec<WebhookEndpoint>, retry_limit: u32) -> NotifySettings {
    NotifySettings {
        poll_interval_ms: 20,
        delivery_timeout_ms: 1_000,
        retry_limit,
        backoff_base_ms: 20,
        backoff_cap_ms: 200,
        webhooks,
        ..NotifySettings::default()
    }
}

/// The events received for one submission, in order of arrival.
pub fn events_of(received: &[Received], id: &str) -> Vec<String> {
    received
        .iter()
        .filter(|r| r.body["data"]["id"] == id)
        .map(|r| {
            let status = r.body["data"]["changes"]["status"].as_str().unwrap_or("");
            format!("{} {status}", r.body["type"].as_str().unwrap())
                .trim()
                .to_owned()
        })
        .collect()
}
