//! Upload bodies: streamed into blob storage (or a temporary file for estimates) chunk by chunk,
//! never held whole in memory, with the size limit enforced while streaming: an oversized body is
//! cut off at the first byte over the limit and what was written is discarded.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use pricing_core::ParseError;
use scheduler::{BlobError, BlobStore, StoredBlob};

use crate::error::AppError;

/// Bytes kept from the start of an upload: enough to sniff any format and read a binary STL header.
pub const PREFIX_LEN: usize = 4096;

/// A model stored in blob storage, with its first bytes.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub blob: StoredBlob,
    pub prefix: Vec<u8>,
}

/// Counts and caps a body stream; remembers its prefix.
struct Meter {
    limit: u64,
    seen: AtomicU64,
    exceeded: AtomicBool,
    prefix: Mutex<Vec<u8>>,
}

impl Meter {
    fn new(limit: u64) -> Arc<Self> {
        Arc::new(Meter {
            limit,
            seen: AtomicU64::new(0),
            exceeded: AtomicBool::new(false),
            prefix: Mutex::new(Vec::with_capacity(PREFIX_LEN)),
        })
    }

    fn pass(&self, chunk: &Bytes) -> std::io::Result<()> {
        let seen = self.seen.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
        if seen > self.limit {
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("upload over the size limit"));
        }
        if let Ok(mut prefix) = self.prefix.lock()
            && prefix.len() < PREFIX_LEN
        {
            let take = (PREFIX_LEN - prefix.len()).min(chunk.len());
            prefix.extend_from_slice(&chunk[..take]);
        }
        Ok(())
    }

    fn too_large(&self) -> AppError {
        AppError::Model(ParseError::TooLarge {
            found: self.seen.load(Ordering::Relaxed),
            limit: self.limit,
        })
    }

    fn prefix(&self) -> Vec<u8> {
        self.prefix.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// Refuses a body whose declared length is over `limit` before reading any of it.
pub fn check_declared_length(headers: &axum::http::HeaderMap, limit: u64) -> Result<(), AppError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => Err(AppError::Model(ParseError::TooLarge { found: n, limit })),
        _ => Ok(()),
    }
}

/// Streams `body` into blob storage under its SHA-256, within `limit` bytes.
pub async fn store_stream<S, E>(
    blobs: &BlobStore,
    body: S,
    limit: u64,
    idle: std::time::Duration,
) -> Result<Uploaded, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let meter = Meter::new(limit);
    let m = meter.clone();
    // A client that stops sending (a Content-Length that lies, a dead link) is answered 408
    // after `idle` without a byte, instead of holding the upload until its overall deadline.
    let stalled = Arc::new(AtomicBool::new(false));
    let flag = stalled.clone();
    let paced = futures::stream::unfold((body, false), move |(mut body, ended)| {
        let flag = flag.clone();
        async move {
            if ended {
                return None;
            }
            match tokio::time::timeout(idle, body.next()).await {
                Ok(Some(chunk)) => Some((
                    chunk.map_err(|e| std::io::Error::other(e.to_string())),
                    (body, false),
                )),
                Ok(None) => None,
                Err(_) => {
                    flag.store(true, Ordering::Relaxed);
                    let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "upload stalled");
                    Some((Err(e), (body, true)))
                }
            }
        }
    });
    let metered = paced.map(move |chunk| {
        let chunk = chunk?;
        m.pass(&chunk)?;
        Ok(chunk)
    });
    match blobs.put_stream(Box::pin(metered)).await {
        Ok(blob) => Ok(Uploaded {
            blob,
            prefix: meter.prefix(),
        }),
        Err(BlobError::Upload(_)) if meter.exceeded.load(Ordering::Relaxed) => {
            Err(meter.too_large())
        }
        Err(BlobError::Upload(_)) if stalled.load(Ordering::Relaxed) => {
            Err(AppError::Stalled(format!(
                "no upload data for {} s; the body is shorter than announced or the connection stalled",
                idle.as_secs_f64()
            )))
        }
        Err(BlobError::Upload(e)) => Err(AppError::bad_request(
            "upload_interrupted",
            format!("the upload could not be read: {e}"),
        )),
        Err(e) => Err(AppError::internal(e)),
    }
}

/// A body spooled to a temporary file (deleted when dropped).
#[derive(Debug)]
pub struct Spooled {
    pub file: tempfile::NamedTempFile,
    pub size: u64,
    pub prefix: Vec<u8>,
}

/// Writes `body` to a temporary file, within `limit` bytes.
pub async fn spool<S, E>(mut body: S, limit: u64) -> Result<Spooled, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin,
    E: std::fmt::Display,
{
    let meter = Meter::new(limit);
    let file = tempfile::NamedTempFile::new().map_err(AppError::internal)?;
    let mut writer =
        std::io::BufWriter::with_capacity(1 << 16, file.reopen().map_err(AppError::internal)?);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            AppError::bad_request(
                "upload_interrupted",
                format!("the upload could not be read: {e}"),
            )
        })?;
        if meter.pass(&chunk).is_err() {
            return Err(meter.too_large());
        }
        // Small synchronous writes into the page cache; a 64 KiB buffer keeps them few.
        writer.write_all(&chunk).map_err(AppError::internal)?;
    }
    writer.flush().map_err(AppError::internal)?;
    Ok(Spooled {
        file,
        size: meter.seen.load(Ordering::Relaxed),
        prefix: meter.prefix(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        parts: &[&'static [u8]],
    ) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures::stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn spool_keeps_prefix_and_enforces_limit() {
        let s = spool(chunks(&[b"abc", b"def"]), 6).await.unwrap();
        assert_eq!((s.size, s.prefix.as_slice()), (6, &b"abcdef"[..]));
        assert_eq!(std::fs::read(s.file.path()).unwrap(), b"abcdef");
        let err = spool(chunks(&[b"abc", b"defg"]), 6).await.unwrap_err();
        assert_eq!(err.status_and_code().1, "too_large");
    }

    #[tokio::test]
    async fn oversized_stream_leaves_nothing_in_blob_storage() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = BlobStore::from_config(&scheduler::BlobConfig::Local {
            dir: dir.path().to_owned(),
        })
        .unwrap();
        let err = store_stream(
            &blobs,
            chunks(&[b"0123456789", b"0123456789"]),
            15,
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap_err();
        assert_eq!(err.status_and_code().1, "too_large");
        let leftovers: Vec<_> = walk(dir.path());
        assert!(leftovers.is_empty(), "{leftovers:?}");
        let ok = store_stream(
            &blobs,
            chunks(&[b"0123456789"]),
            15,
            std::time::Duration::from_secs(5),
        )
        .await
        .unwrap();
        assert_eq!(ok.blob.size, 10);
        assert!(blobs.exists(&ok.blob.sha256).await.unwrap());
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
