//! Content-addressed blob storage on a real local directory; S3 construction from config.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use bytes::Bytes;
use scheduler::hashing::sha256_hex;
use scheduler::{BlobConfig, BlobError, BlobStore};

fn local() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::from_config(&BlobConfig::Local {
        dir: dir.path().join("blobs"),
    })
    .unwrap();
    (dir, store)
}

#[tokio::test]
async fn put_get_and_dedup() {
    let (dir, store) = local();
    let bytes = Bytes::from_static(b"solid ring\nendsolid ring\n");
    let first = store.put(bytes.clone()).await.unwrap();
    assert_eq!(first.sha256, sha256_hex(&bytes));
    assert_eq!(first.size, bytes.len() as u64);
    assert!(!first.deduplicated);
    let second = store.put(bytes.clone()).await.unwrap();
    assert!(second.deduplicated);
    assert_eq!(store.get(&first.sha256).await.unwrap(), bytes);
    assert!(store.exists(&first.sha256).await.unwrap());
    // Stored once, under its content address.
    let path = dir
        .path()
        .join("blobs/models")
        .join(&first.sha256[..2])
        .join(&first.sha256);
    assert_eq!(std::fs::read(path).unwrap(), bytes.to_vec());
    let files = walk(&dir.path().join("blobs"));
    assert_eq!(files, 1, "one file for two identical uploads");
}

#[tokio::test]
async fn streamed_upload_matches_and_dedups() {
    let (dir, store) = local();
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let chunks: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(64 * 1024)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let stored = store
        .put_stream(futures::stream::iter(chunks))
        .await
        .unwrap();
    assert_eq!(stored.sha256, sha256_hex(&body));
    assert_eq!(stored.size, body.len() as u64);
    assert!(!stored.deduplicated);
    assert_eq!(store.get(&stored.sha256).await.unwrap().to_vec(), body);
    let again = store.put(Bytes::from(body.clone())).await.unwrap();
    assert!(again.deduplicated);
    assert_eq!(
        walk(&dir.path().join("blobs")),
        1,
        "temporary upload removed"
    );

    let failing = futures::stream::iter(vec![
        Ok(Bytes::from_static(b"abc")),
        Err(std::io::Error::other("client went away")),
    ]);
    assert!(matches!(
        store.put_stream(failing).await,
        Err(BlobError::Upload(_))
    ));
}

#[tokio::test]
async fn missing_and_malformed_hashes() {
    let (_dir, store) = local();
    let absent = sha256_hex(b"never stored");
    assert!(matches!(
        store.get(&absent).await,
        Err(BlobError::NotFound(_))
    ));
    assert!(!store.exists(&absent).await.unwrap());
    for bad in [
        "",
        "../../etc/passwd",
        &absent.to_uppercase(),
        &absent[..63],
    ] {
        assert!(
            matches!(store.get(bad).await, Err(BlobError::BadHash(_))),
            "{bad}"
        );
    }
}

#[test]
fn s3_is_constructible_from_config() {
    let cfg: BlobConfig = serde_json::from_value(serde_json::json!({
        "kind": "s3",
        "bucket": "models",
        "region": "eu-central-1",
        "endpoint": "http://127.0.0.1:9000",
        "access_key_id": "minio",
        "secret_access_key": "minio123",
        "allow_http": true
    }))
    .unwrap();
    assert!(BlobStore::from_config(&cfg).is_ok());
    assert_eq!(
        BlobConfig::default(),
        BlobConfig::Local {
            dir: ".data/blobs".into()
        }
    );
}

fn walk(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        n += if p.is_dir() { walk(&p) } else { 1 };
    }
    n
}
