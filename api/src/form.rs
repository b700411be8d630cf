//! Multipart uploads: the `file` part streamed into blob storage under the upload limit, every
//! other part an option read within [`MAX_FIELD_BYTES`], at most [`MAX_PARTS`] parts. The submit
//! route and the multipart fuzz target (`fuzz/`) call the same [`read_request`], so what the
//! fuzzer checks is what partners reach.

use std::time::Duration;

use axum::extract::{FromRequest, Multipart, Request};
use scheduler::BlobStore;

use crate::error::AppError;
use crate::routes::submit::SubmitOptions;
use crate::upload::{self, Uploaded};

/// Parts a multipart upload may have: the file and one per option, with room to spare.
pub const MAX_PARTS: usize = 32;
/// Bytes of one option part (an alloy list, a partner reference).
pub const MAX_FIELD_BYTES: usize = 16 * 1024;

/// What bounds one upload's file part.
#[derive(Debug, Clone, Copy)]
pub struct FileLimits {
    /// Bytes of the file part.
    pub max_bytes: u64,
    /// Longest wait for the next bytes of the body.
    pub idle: Duration,
}

/// Reads a `multipart/form-data` request: stores its file part in `blobs` and sets `options`
/// from the other parts.
pub async fn read_request(
    request: Request,
    blobs: &BlobStore,
    limits: FileLimits,
    options: &mut SubmitOptions,
) -> Result<Uploaded, AppError> {
    let form = Multipart::from_request(request, &())
        .await
        .map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?;
    read_form(form, blobs, limits, options).await
}

async fn read_form(
    mut form: Multipart,
    blobs: &BlobStore,
    limits: FileLimits,
    options: &mut SubmitOptions,
) -> Result<Uploaded, AppError> {
    let mut model = None;
    let mut parts = 0usize;
    while let Some(mut field) = form
        .next_field()
        .await
        .map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?
    {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(AppError::bad_request(
                "too_many_parts",
                format!(
                    "a multipart upload has at most {MAX_PARTS} parts: the file and its options"
                ),
            ));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" || name == "model" {
            if model.is_some() {
                return Err(AppError::bad_request(
                    "invalid_request",
                    "only one file part is accepted",
                ));
            }
            model = Some(
                upload::store_stream(blobs, Box::pin(field), limits.max_bytes, limits.idle).await?,
            );
        } else {
            // An option is a few bytes: read at most MAX_FIELD_BYTES of it, never the whole part.
            let mut value = Vec::new();
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| AppError::bad_request("invalid_request", e.body_text()))?
            {
                if value.len() + chunk.len() > MAX_FIELD_BYTES {
                    return Err(AppError::bad_request(
                        "field_too_large",
                        format!(
                            "the part `{name}` is over {MAX_FIELD_BYTES} bytes; only the file part may be large"
                        ),
                    ));
                }
                value.extend_from_slice(&chunk);
            }
            let value = String::from_utf8(value).map_err(|_| {
                AppError::bad_request(
                    "invalid_request",
                    format!("the part `{name}` is not UTF-8 text"),
                )
            })?;
            options.set_field(&name, value)?;
        }
    }
    model.ok_or_else(|| {
        AppError::bad_request("invalid_request", "multipart upload without a `file` part")
    })
}
