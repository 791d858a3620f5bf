//! Object storage for attachments, chosen by URL: `file://` (default), `s3://`, `memory://`.
//!
//! Owns the key layout (`attachments/{submission id}/{random id}`: generated, never a client
//! file name) and durability: the local backend fsyncs files and directories before an upload
//! counts as stored. The orphan sweeper lives in [`sweeper`].

pub mod sweeper;

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
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

/// S3 settings that are not part of the `s3://bucket/prefix` URL.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// An S3-compatible endpoint (MinIO, moto, …); plain http is then allowed.
    pub endpoint: Option<String>,
    pub region: Option<String>,
}

/// The configured object store with its upload tuning.
#[derive(Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    part_bytes: usize,
    parts_in_flight: usize,
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
    pub fn from_url(url: &str, s3: &S3Options) -> anyhow::Result<Self> {
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
                description: format!("local folder {}", root.display()),
            })
        } else if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                bail!("storage URL {url} names no bucket");
            }
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
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
                description: format!("S3 bucket {bucket}"),
            })
        } else if url == "memory://" || url == "memory:" {
            Ok(Self {
                store: Arc::new(InMemory::new()),
                part_bytes: LOCAL_PART_BYTES,
                parts_in_flight: LOCAL_PARTS_IN_FLIGHT,
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

    pub async fn get(&self, key: &str) -> object_store::Result<Bytes> {
        self.store.get(&Path::from(key)).await?.bytes().await
    }

    /// Deletes an object; one that is already gone counts as deleted.
    pub async fn delete(&self, key: &str) -> object_store::Result<()> {
        match self.store.delete(&Path::from(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Reachability: a HEAD on a key that need not exist.
    pub async fn ping(&self) -> object_store::Result<()> {
        match self.store.head(&Path::from("readyz-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}
