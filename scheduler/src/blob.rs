//! Model bytes in blob storage, addressed by SHA-256 (`models/<aa>/<sha256>`), through the
//! `object_store` crate: a local directory by default, S3-compatible storage when configured, so
//! workers on other machines read the same bytes. An identical upload is stored once.

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::BlobError;
use crate::hashing::{is_sha256_hex, sha256_hex};

/// Where blobs live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum BlobConfig {
    /// A directory on this machine (created if missing).
    Local { dir: std::path::PathBuf },
    /// An S3-compatible bucket (AWS, MinIO, Ceph...). Credentials fall back to the standard
    /// `AWS_*` environment variables when not given here.
    S3 {
        bucket: String,
        region: Option<String>,
        /// Custom endpoint for S3-compatible servers, e.g. `http://minio:9000`.
        endpoint: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<String>,
        /// Needed for plain-http endpoints.
        #[serde(default)]
        allow_http: bool,
    },
}

impl Default for BlobConfig {
    fn default() -> Self {
        BlobConfig::Local {
            dir: ".data/blobs".into(),
        }
    }
}

/// The outcome of a put.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredBlob {
    pub sha256: String,
    pub size: u64,
    /// True when identical bytes were already stored (nothing was written).
    pub deduplicated: bool,
}

/// Content-addressed blob storage.
#[derive(Debug, Clone)]
pub struct BlobStore {
    inner: Arc<dyn ObjectStore>,
}

impl BlobStore {
    /// Wraps any `object_store` backend.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self { inner }
    }

    /// Builds the backend from configuration. Building an S3 store does not contact it.
    pub fn from_config(config: &BlobConfig) -> Result<Self, BlobError> {
        let inner: Arc<dyn ObjectStore> = match config {
            BlobConfig::Local { dir } => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    BlobError::Config(format!("cannot create {}: {e}", dir.display()))
                })?;
                Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir)?)
            }
            BlobConfig::S3 {
                bucket,
                region,
                endpoint,
                access_key_id,
                secret_access_key,
                allow_http,
            } => {
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_allow_http(*allow_http);
                if let Some(r) = region {
                    b = b.with_region(r);
                }
                if let Some(e) = endpoint {
                    b = b.with_endpoint(e);
                }
                if let Some(k) = access_key_id {
                    b = b.with_access_key_id(k);
                }
                if let Some(s) = secret_access_key {
                    b = b.with_secret_access_key(s);
                }
                Arc::new(b.build()?)
            }
        };
        Ok(Self { inner })
    }

    fn path_of(sha256: &str) -> Result<Path, BlobError> {
        if !is_sha256_hex(sha256) {
            return Err(BlobError::BadHash(sha256.to_owned()));
        }
        Ok(Path::from(format!("models/{}/{}", &sha256[..2], sha256)))
    }

    /// Stores `bytes` under their SHA-256, unless already there.
    pub async fn put(&self, bytes: Bytes) -> Result<StoredBlob, BlobError> {
        let sha256 = sha256_hex(&bytes);
        let size = bytes.len() as u64;
        let path = Self::path_of(&sha256)?;
        if self.exists_at(&path).await? {
            return Ok(StoredBlob {
                sha256,
                size,
                deduplicated: true,
            });
        }
        // Two concurrent puts of the same content write the same bytes, so last-writer-wins is
        // harmless here; no conditional put is needed (and not every S3 clone supports one).
        self.inner.put(&path, PutPayload::from(bytes)).await?;
        Ok(StoredBlob {
            sha256,
            size,
            deduplicated: false,
        })
    }

    /// Stores a stream of chunks (an upload body) without holding it all in memory: it is
    /// written to a temporary object while hashed, then copied to its content address.
    pub async fn put_stream<S>(&self, mut chunks: S) -> Result<StoredBlob, BlobError>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin + Send,
    {
        let tmp = Path::from(format!("uploads/{}", uuid::Uuid::new_v4()));
        let mut writer = WriteMultipart::new(self.inner.put_multipart(&tmp).await?);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    // Best effort: the upload is abandoned either way.
                    let _ = writer.abort().await;
                    return Err(BlobError::Upload(e));
                }
            };
            hasher.update(&chunk);
            size += chunk.len() as u64;
            writer.wait_for_capacity(4).await?;
            writer.put(chunk);
        }
        writer.finish().await?;
        let sha256 = hex::encode(hasher.finalize());
        let path = Self::path_of(&sha256)?;
        let deduplicated = self.exists_at(&path).await?;
        if !deduplicated {
            self.inner.copy(&tmp, &path).await?;
        }
        self.inner.delete(&tmp).await?;
        Ok(StoredBlob {
            sha256,
            size,
            deduplicated,
        })
    }

    /// The bytes stored under `sha256`.
    pub async fn get(&self, sha256: &str) -> Result<Bytes, BlobError> {
        let path = Self::path_of(sha256)?;
        match self.inner.get(&path).await {
            Ok(r) => Ok(r.bytes().await?),
            Err(object_store::Error::NotFound { .. }) => {
                Err(BlobError::NotFound(sha256.to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The length of the blob under `sha256` and its first `n` bytes (all of it when shorter),
    /// without reading the rest.
    pub async fn head_and_prefix(&self, sha256: &str, n: u64) -> Result<(u64, Bytes), BlobError> {
        let path = Self::path_of(sha256)?;
        let not_found = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => BlobError::NotFound(sha256.to_owned()),
            e => e.into(),
        };
        let size = self.inner.head(&path).await.map_err(not_found)?.size;
        let prefix = match size.min(n) {
            0 => Bytes::new(),
            len => self
                .inner
                .get_range(&path, 0..len)
                .await
                .map_err(not_found)?,
        };
        Ok((size, prefix))
    }

    /// Whether `sha256` is stored.
    pub async fn exists(&self, sha256: &str) -> Result<bool, BlobError> {
        self.exists_at(&Self::path_of(sha256)?).await
    }

    async fn exists_at(&self, path: &Path) -> Result<bool, BlobError> {
        match self.inner.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}
