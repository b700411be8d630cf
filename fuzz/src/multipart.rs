//! The multipart upload reader (`api::form::read_request`, what `POST /v1/jobs` runs) on any
//! request: the first line of the input is the Content-Type, the rest the body.
//!
//! Invariants:
//! - an upload is accepted or refused with a 4xx and a machine-readable code, never a 5xx (the
//!   blob store here cannot fail) and never a panic;
//! - an accepted file is stored whole: its hash and size are those of the stored bytes, its
//!   prefix is their start, and the bytes appear verbatim in the body (multipart does not encode);
//! - no option is longer than `api::form::MAX_FIELD_BYTES`;
//! - the outcome does not depend on how the body is cut into chunks (TCP segments): the whole
//!   body at once and in small pieces give the same answer.

use std::sync::Arc;
use std::time::Duration;

use api::form::{FileLimits, MAX_FIELD_BYTES, read_request};
use api::routes::submit::SubmitOptions;
use axum::body::Body;
use axum::extract::Request;
use axum::response::IntoResponse;
use bytes::Bytes;
use scheduler::BlobStore;
use sha2::{Digest, Sha256};

/// Bytes of the file part, small so that the fuzzer reaches the size refusal.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// What a reading came to, in the terms the invariants compare.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Accepted { sha256: String, options: String },
    Refused { status: u16, code: String },
}

/// Splits the input into the Content-Type (its first line, when it has one) and the body.
fn split_request(data: &[u8]) -> (String, &[u8]) {
    match data.iter().take(256).position(|&b| b == b'\n') {
        Some(i) => (
            String::from_utf8_lossy(&data[..i]).into_owned(),
            &data[i + 1..],
        ),
        None => ("multipart/form-data; boundary=X".to_owned(), data),
    }
}

async fn read(content_type: &str, body: &[u8], chunk: usize) -> Outcome {
    let pieces: Vec<Result<Bytes, std::io::Error>> = body
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let mut builder = Request::builder().method("POST").uri("/v1/jobs");
    if let Ok(v) = axum::http::HeaderValue::from_str(content_type) {
        builder = builder.header(axum::http::header::CONTENT_TYPE, v);
    }
    let Ok(request) = builder.body(Body::from_stream(futures::stream::iter(pieces))) else {
        panic!("a request with a checked header could not be built");
    };
    let store = Arc::new(object_store::memory::InMemory::new());
    let blobs = BlobStore::new(store);
    let limits = FileLimits {
        max_bytes: MAX_FILE_BYTES,
        idle: Duration::from_secs(5),
    };
    let mut options = SubmitOptions::default();
    match read_request(request, &blobs, limits, &mut options).await {
        Ok(up) => {
            let Ok(stored) = blobs.get(&up.blob.sha256).await else {
                panic!("an accepted file is not in blob storage");
            };
            let hash = hex(&Sha256::digest(&stored));
            if hash != up.blob.sha256 || stored.len() as u64 != up.blob.size {
                panic!("the stored file is not the one reported");
            }
            let n = stored.len().min(api::upload::PREFIX_LEN);
            if up.prefix != stored[..n] {
                panic!("the prefix is not the start of the file");
            }
            if !stored.is_empty() && !body.windows(stored.len()).any(|w| w == &stored[..]) {
                panic!("the stored file does not appear in the body");
            }
            for v in [
                &options.alloys,
                &options.units,
                &options.channel,
                &options.partner_ref,
                &options.format,
            ]
            .into_iter()
            .flatten()
            {
                if v.len() > MAX_FIELD_BYTES {
                    panic!("an option of {} bytes was read", v.len());
                }
            }
            Outcome::Accepted {
                sha256: up.blob.sha256,
                options: format!("{options:?}"),
            }
        }
        Err(e) => {
            let response = e.into_response();
            let status = response.status();
            if !status.is_client_error() {
                panic!("a bad upload answered {status}");
            }
            let Ok(bytes) = axum::body::to_bytes(response.into_body(), 1 << 20).await else {
                panic!("an error body could not be read");
            };
            let code = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["code"].as_str().map(str::to_owned))
                .unwrap_or_default();
            if code.is_empty() {
                panic!(
                    "a refusal without a code: {}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            Outcome::Refused {
                status: status.as_u16(),
                code,
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the invariants above on one input.
pub fn multipart(data: &[u8]) {
    let _ = answer(data);
}

/// Checks the invariants on one input and returns its answer: `None` when the upload is
/// accepted, else the refusal's code.
pub fn answer(data: &[u8]) -> Option<String> {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        panic!("no runtime");
    };
    let (content_type, body) = split_request(data);
    let whole = rt.block_on(read(&content_type, body, body.len()));
    // Pieces of 1 to 11 bytes: every boundary and header straddles a cut somewhere.
    let small = 1 + body.len() % 11;
    let pieces = rt.block_on(read(&content_type, body, small));
    if whole != pieces {
        panic!("the whole body gave {whole:?}, pieces of {small} bytes {pieces:?}");
    }
    match whole {
        Outcome::Accepted { .. } => None,
        Outcome::Refused { code, .. } => Some(code),
    }
}
