//! The webhook channel: one signed HTTP POST per message to a configured endpoint.
//!
//! Signing follows Standard Webhooks: `webhook-id` (`msg_<outbox id>`, the same on every retry,
//! so a receiver can drop duplicates), `webhook-timestamp` (unix seconds of this attempt) and
//! `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. Redirects are not
//! followed, each attempt has a deadline, and at most [`BODY_CAP`] bytes of an answer are read.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use sha2::Sha256;

use super::payload::{gone_data, slack_body, standard_body, submission_data, triage_link};
use super::{Channel, DeliveryError, Destination, Event, Message};
use crate::config::notify::{WebhookEndpoint, WebhookFormat};
use crate::metrics::Metrics;
use crate::store::Store;

/// Most bytes of a receiver's answer read (and then thrown away).
pub const BODY_CAP: usize = 4096;
/// Longest `Retry-After` honoured.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(6 * 3600);

pub use crate::config::notify::secret_bytes;

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

struct Endpoint {
    config: WebhookEndpoint,
    key: Option<Vec<u8>>,
}

/// Delivers `webhook:<name>` messages.
pub struct WebhookChannel {
    endpoints: HashMap<String, Endpoint>,
    client: reqwest::Client,
    store: Arc<dyn Store>,
    public_url: Option<String>,
    metrics: Metrics,
}

impl std::fmt::Debug for WebhookChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: URLs and secrets stay out of every debug print.
        let mut names: Vec<&String> = self.endpoints.keys().collect();
        names.sort();
        f.debug_struct("WebhookChannel")
            .field("endpoints", &names)
            .finish()
    }
}

impl WebhookChannel {
    pub fn new(
        endpoints: &[WebhookEndpoint],
        timeout: Duration,
        store: Arc<dyn Store>,
        public_url: Option<String>,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!(
                "feedbackd/",
                env!("CARGO_PKG_VERSION"),
                " (webhooks)"
            ))
            .build()?;
        let endpoints = endpoints
            .iter()
            .map(|config| {
                let key = config
                    .secret
                    .as_ref()
                    .map(secret_bytes)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("webhook {:?}: {e}", config.name))?;
                Ok((
                    config.name.clone(),
                    Endpoint {
                        config: config.clone(),
                        key,
                    },
                ))
            })
            .collect::<anyhow::Result<HashMap<_, _>>>()?;
        // Every endpoint's series exists from the start (at 0), so rates and alerts see it.
        for name in endpoints.keys() {
            for outcome in ["delivered", "failed", "refused"] {
                metrics
                    .webhook_deliveries
                    .with_label_values(&[name.as_str(), outcome]);
            }
        }
        Ok(Self {
            endpoints,
            client,
            store,
            public_url,
            metrics,
        })
    }

    /// The body for `message` to `endpoint`, built from the submission as it is now.
    async fn body(&self, endpoint: &Endpoint, message: &Message) -> Result<String, DeliveryError> {
        let data = match message.submission {
            Some(id) if message.event == Event::SubmissionWithdrawn => gone_data(id),
            Some(id) => {
                let row = self.store.submission(id).await.map_err(|e| {
                    DeliveryError::Retry(format!("reading the submission failed: {e}"))
                })?;
                let Some(row) = row else {
                    return Err(DeliveryError::Permanent(
                        "the submission no longer exists".to_owned(),
                    ));
                };
                let link = triage_link(self.public_url.as_deref(), id);
                submission_data(&row, endpoint.config.include_message, link.as_deref())
            }
            None => serde_json::json!({}),
        };
        let body = match endpoint.config.format {
            WebhookFormat::Standard => {
                standard_body(message.event, message.created_at, data, &message.payload)
            }
            WebhookFormat::Slack => slack_body(message.event, &data),
        };
        Ok(body.to_string())
    }

    async fn post(&self, endpoint: &Endpoint, message: &Message) -> Result<(), DeliveryError> {
        let body = self.body(endpoint, message).await?;
        let id = format!("msg_{}", message.id);
        let timestamp = chrono::Utc::now().timestamp();
        let mut request = self
            .client
            .post(endpoint.config.url.expose_secret())
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string());
        if let Some(key) = &endpoint.key {
            request = request.header("webhook-signature", sign(key, &id, timestamp, &body));
        }
        let mut response = request.body(body).send().await.map_err(describe)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        // Read a little of the answer (so the connection can be reused), never all of it.
        let mut read = 0;
        while read < BODY_CAP {
            match response.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        classify(status, retry_after)
    }
}

/// What a receiver's status means for the message.
pub fn classify(status: StatusCode, retry_after: Option<Duration>) -> Result<(), DeliveryError> {
    if status.is_success() {
        return Ok(());
    }
    let text = format!("HTTP {}", status.as_u16());
    let retriable = status.is_server_error()
        || matches!(
            status,
            StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_EARLY | StatusCode::TOO_MANY_REQUESTS
        );
    match (retriable, retry_after) {
        (true, Some(wait)) => Err(DeliveryError::RetryAfter(text, wait)),
        (true, None) => Err(DeliveryError::Retry(text)),
        // The receiver answered and refused (410 Gone, 4xx, a redirect we do not follow):
        // the same request would be refused again.
        (false, _) => Err(DeliveryError::Permanent(text)),
    }
}

/// `Retry-After` in seconds or as an HTTP date, capped.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    let wait = match value.trim().parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
            (at.with_timezone(&chrono::Utc) - chrono::Utc::now())
                .to_std()
                .unwrap_or_default()
        }
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

/// A transport failure, without the URL (it may hold a secret, as Slack's do).
fn describe(error: reqwest::Error) -> DeliveryError {
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "the answer broke off"
    } else {
        "the request failed"
    };
    DeliveryError::Retry(what.to_owned())
}

#[async_trait]
impl Channel for WebhookChannel {
    fn handles(&self, destination: &Destination) -> bool {
        matches!(destination, Destination::Webhook(_))
    }

    async fn deliver(&self, message: &Message) -> Result<(), DeliveryError> {
        let Destination::Webhook(name) = &message.destination else {
            return Err(DeliveryError::Permanent("not a webhook".to_owned()));
        };
        let Some(endpoint) = self.endpoints.get(name) else {
            return Err(DeliveryError::Permanent(
                "no such webhook endpoint in the configuration".to_owned(),
            ));
        };
        let outcome = self.post(endpoint, message).await;
        let label = match &outcome {
            Ok(()) => "delivered",
            Err(DeliveryError::Permanent(_)) => "refused",
            Err(_) => "failed",
        };
        self.metrics
            .webhook_deliveries
            .with_label_values(&[name.as_str(), label])
            .inc();
        outcome
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn signs_as_the_specification() {
        let secret = SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let key = secret_bytes(&secret).unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn statuses() {
        assert!(classify(StatusCode::NO_CONTENT, None).is_ok());
        for status in [500, 502, 503, 408, 429] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(matches!(
                classify(status, None),
                Err(DeliveryError::Retry(_))
            ));
        }
        for status in [410, 400, 401, 404, 409, 301] {
            let status = StatusCode::from_u16(status).unwrap();
            assert!(matches!(
                classify(status, None),
                Err(DeliveryError::Permanent(_))
            ));
        }
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, Some(Duration::from_secs(7))),
            Err(DeliveryError::RetryAfter(
                "HTTP 429".into(),
                Duration::from_secs(7)
            ))
        );
    }
}
