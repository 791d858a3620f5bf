//! Object storage for attachments, chosen by URL: `file://` (default), `s3://`, `memory://`.
//!
//! Owns the key layout (`attachments/{submission id}/{random id}`: generated, never a client
//! file name) and durability: the local backend fsyncs files and directories before an upload
//! counts as stored. The orphan sweeper lives in [`sweeper`].
//!
//! Every operation has a deadline ([`StorageOptions::timeout`]): an object store that accepts
//! connections and never answers (a partition, not a crash) must turn into a quick
//! `503 storage_unavailable`, not into a request that waits for minutes and is blamed on the
//! client. On S3 the HTTP client's connect and request timeouts and its retries are bounded
//! by the same figure.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{BackoffConfig, ClientOptions, RetryConfig};
use object_store::{ObjectStore, ObjectStoreExt};
use uuid::Uuid;

/// Where every attachment object lives, below the configured root or prefix.
pub const ATTACHMENTS_PREFIX: &str = "attachments";

/// Upload buffer for the local folder: small, so many concurrent uploads stay cheap in memory;
/// one part in flight, since the disk is shared by all uploads anyway.
const LOCAL_PART_BYTES: usize = 64 * 1024;
const LOCAL_PARTS_IN_FLIGHT: usize = 1;
/// S3 refuses multipart parts under 5 MiB (but the last one); two in flight hide the latency.
const S3_PART_BYTES: usize = 5 * 1024 * 1024;
const S3_PARTS_IN_FLIGHT: usize = 2;

/// Storage settings that are not part of the URL.
#[derive(Debug, Clone)]
pub struct StorageOptions {
    /// An S3-compatible endpoint (MinIO, moto, …); plain http is then allowed.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Longest one operation (a request, an upload part, completing an upload) may take.
    pub timeout: Duration,
}

impl Default for StorageOptions {
    fn default() -> Self {
        Self {
            endpoint: None,
            region: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// An operation on the object store that did not finish within its deadline.
#[derive(Debug, thiserror::Error)]
#[error("the object store did not answer within {0:?}")]
pub struct DeadlineExceeded(pub Duration);

impl From<DeadlineExceeded> for object_store::Error {
    fn from(error: DeadlineExceeded) -> Self {
        Self::Generic {
            store: "feedbackd",
            source: Box::new(error),
        }
    }
}

/// The configured object store with its upload tuning.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    part_bytes: usize,
    parts_in_flight: usize,
    timeout: Duration,
    /// The folder of a `file://` store, for its free space.
    local_root: Option<PathBuf>,
    description: String,
}

impl std::fmt::Debug for Blobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Blobs")
            .field("backend", &self.description)
            .finish()
    }
}

impl Blobs {
    /// Opens the backend that `url` names.
    pub fn from_url(url: &str, s3: &StorageOptions) -> anyhow::Result<Self> {
        let timeout = s3.timeout;
        if let Some(dir) = url.strip_prefix("file://") {
            let root = PathBuf::from(dir);
            std::fs::create_dir_all(&root)
                .with_context(|| format!("creating blob folder {}", root.display()))?;
            let store = LocalFileSystem::new_with_prefix(&root)
                .with_context(|| format!("opening blob folder {}", root.display()))?
                .with_fsync(true)
                .with_automatic_cleanup(true);
            Ok(Self {
                store: Arc::new(store),
                part_bytes: LOCAL_PART_BYTES,
                parts_in_flight: LOCAL_PARTS_IN_FLIGHT,
                timeout,
                local_root: Some(root.clone()),
                description: format!("local folder {}", root.display()),
            })
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("storage URL {url} names no bucket");
            }
            let client = ClientOptions::new()
                .with_connect_timeout(timeout.min(Duration::from_secs(3)))
                .with_timeout(timeout);
            let retry = RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 2,
                retry_timeout: timeout,
            };
            let mut builder = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_client_options(client)
                .with_retry(retry);
            if let Some(endpoint) = &s3.endpoint {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"));
            }
            if let Some(region) = &s3.region {
                builder = builder.with_region(region);
            }
            let s3_store = builder.build().context("configuring S3 storage")?;
            let prefix = prefix.trim_matches('/');
            let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                Arc::new(s3_store)
            } else {
                Arc::new(PrefixStore::new(s3_store, prefix))
            };
            Ok(Self {
                store,
                part_bytes: S3_PART_BYTES,
                parts_in_flight: S3_PARTS_IN_FLIGHT,
                timeout,
                local_root: None,
                description: format!("S3 bucket {bucket}"),
            })
        } else if url == "memory://" || url == "memory:" {
            Ok(Self {
                store: Arc::new(InMemory::new()),
                part_bytes: LOCAL_PART_BYTES,
                parts_in_flight: LOCAL_PARTS_IN_FLIGHT,
                timeout,
                local_root: None,
                description: "memory (nothing survives a restart)".to_owned(),
            })
        } else {
            bail!("unsupported storage URL {url}: use file://, s3:// or memory://")
        }
    }

    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// A fresh key for an attachment of `submission`.
    pub fn new_attachment_key(submission: Uuid) -> Path {
        Path::from(format!(
            "{ATTACHMENTS_PREFIX}/{submission}/{}",
            Uuid::new_v4()
        ))
    }

    /// Most bytes one upload holds in memory: the part being filled and those in flight.
    pub fn upload_buffer_bytes(&self) -> u64 {
        (self.part_bytes * (self.parts_in_flight + 1)) as u64
    }

    /// A streaming writer: buffered up to one part, multipart beyond that.
    pub fn writer(&self, key: Path) -> BufWriter {
        BufWriter::with_capacity(Arc::clone(&self.store), key, self.part_bytes)
            .with_max_concurrency(self.parts_in_flight)
    }

    /// Longest one operation may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `operation`, or [`DeadlineExceeded`] once it has taken longer than `limit`.
    pub async fn within<T>(
        limit: Duration,
        operation: impl Future<Output = object_store::Result<T>>,
    ) -> object_store::Result<T> {
        tokio::time::timeout(limit, operation)
            .await
            .unwrap_or_else(|_| Err(DeadlineExceeded(limit).into()))
    }

    pub async fn get(&self, key: &str) -> object_store::Result<Bytes> {
        Self::within(self.timeout, async {
            self.store.get(&Path::from(key)).await?.bytes().await
        })
        .await
    }

    /// Deletes an object; one that is already gone counts as deleted.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match Self::within(self.timeout, self.store.delete(&Path::from(key))).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Reachability within `limit`: a HEAD on a key that need not exist.
    pub async fn ping(&self, limit: Duration) -> object_store::Result<()> {
        match Self::within(limit, self.store.head(&Path::from("readyz-probe"))).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Bytes free where a local folder keeps its objects (`None` for other backends).
    pub fn local_free_bytes(&self) -> Option<u64> {
        let root = self.local_root.as_ref()?;
        let stats = rustix::fs::statvfs(root).ok()?;
        Some(stats.f_bavail.saturating_mul(stats.f_frsize))
    }
}
