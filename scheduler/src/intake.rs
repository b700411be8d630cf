//! Intake: a model already in blob storage becomes a job. The HTTP API (after streaming an upload
//! into the blob store) and the MES inbound consumer (for a `SubmitJob` naming a stored model)
//! both call [`submit_model`]: validate, probe, route (once: the lane the admission checks see is
//! the lane the job is queued on), admit, submit. The caller's admission checks (the API's
//! heavy-job gate and daily quota; none for MES) are the [`Admission`] step it passes in.
//!
//! Memory: a binary STL is probed from its first 84 bytes and its length (no read of the blob);
//! any other format is read back from blob storage whole, which [`pricing_core::Limits::max_bytes`]
//! bounds, and probed on a blocking thread (the text formats need one pass over every byte).

use bytes::Bytes;
use contracts::Channel;
use pricing_core::format::{Format, FormatHint, STL_HEADER_LEN};
use pricing_core::{Limits, ParseError, Probe, Units};

use crate::blob::BlobStore;
use crate::error::{BlobError, StoreError};
use crate::job::{NewJob, Submission};
use crate::routing::Routing;
use crate::store::JobStore;

/// A model in blob storage, as the caller knows it.
#[derive(Debug, Clone, Copy)]
pub struct StoredModel<'a> {
    /// Lower-case hex SHA-256: the blob's address.
    pub sha256: &'a str,
    /// Length in bytes.
    pub size: u64,
    /// The first bytes, when the caller still has them (an upload it just streamed); lets a
    /// binary STL be probed without reading the blob back. Empty when unknown.
    pub prefix: &'a [u8],
}

/// Everything about a submission except the model.
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeRequest {
    pub tenant: String,
    pub channel: Channel,
    pub idempotency_key: String,
    pub partner_ref: Option<String>,
    /// Alloy codes to quote, at least one.
    pub alloys: Vec<String>,
    /// Unit of the coordinates when the format does not say; stored in the job's options as
    /// `"units"`, where the run message takes it from.
    pub units: Option<Units>,
    /// Format override; detected from the content when `None`.
    pub format_hint: Option<FormatHint>,
    /// Rules version in force, to answer from the quote cache (see [`NewJob::rules_version`]).
    pub rules_version: Option<String>,
}

/// A job created (or found again by its idempotency key) and what the probe saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    pub submission: Submission,
    pub probe: Probe,
}

/// Why a model could not become a job.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// The model is not something we can price (format, size, triangles, malformed).
    #[error(transparent)]
    Model(#[from] ParseError),
    /// The request itself is invalid (no alloy, bad idempotency key...).
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The blocking probe task died (a bug: probes never panic by contract).
    #[error("probe task failed: {0}")]
    Task(String),
    /// An admission check could not be made (its store is unreachable): retry later.
    #[error("{0}")]
    Unavailable(String),
    /// An admission check refused the job for now (too many heavy jobs, quota used up): nothing
    /// was created; the same request may succeed after `retry_after_seconds`.
    #[error("{message}")]
    NotAdmitted {
        code: &'static str,
        message: String,
        retry_after_seconds: u64,
    },
}

/// The checks a caller makes after the model is probed and routed and before the job exists.
#[async_trait::async_trait]
pub trait Admission: Send + Sync {
    /// Refuse ([`IntakeError::NotAdmitted`]) or admit; what is returned is held until the store
    /// has answered, then told whether a job was created.
    async fn admit(
        &self,
        job: &NewJob,
        routing: &Routing,
    ) -> Result<Box<dyn Admitted>, IntakeError>;
}

/// An admitted submission's hold (a lock, a quota unit).
#[async_trait::async_trait]
pub trait Admitted: Send {
    /// `created` is false when the store refused the job or found it already there (an idempotent
    /// replay): whatever was taken for it is given back.
    async fn settle(self: Box<Self>, created: bool);
}

/// No admission checks (MES's own submissions).
#[derive(Debug, Clone, Copy, Default)]
pub struct Open;

struct NothingHeld;

#[async_trait::async_trait]
impl Admitted for NothingHeld {
    async fn settle(self: Box<Self>, _created: bool) {}
}

#[async_trait::async_trait]
impl Admission for Open {
    async fn admit(
        &self,
        _job: &NewJob,
        _routing: &Routing,
    ) -> Result<Box<dyn Admitted>, IntakeError> {
        Ok(Box::new(NothingHeld))
    }
}

/// How many opening bytes a caller should hand the probe in [`StoredModel::prefix`]: enough to
/// sniff every format and read a binary STL's header.
pub const PREFIX_BYTES: u64 = 4096;

/// Longest idempotency key accepted (the MES contract allows 200 characters).
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// Checks the request before any work is spent on the model.
pub fn validate(req: &IntakeRequest) -> Result<(), IntakeError> {
    if req.tenant.trim().is_empty() {
        return Err(IntakeError::Invalid("tenant must not be empty".into()));
    }
    let key = &req.idempotency_key;
    if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(IntakeError::Invalid(format!(
            "idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY_LEN} bytes"
        )));
    }
    if req.alloys.is_empty() || req.alloys.iter().any(|a| a.trim().is_empty()) {
        return Err(IntakeError::Invalid(
            "at least one alloy code is required (and none may be empty)".into(),
        ));
    }
    Ok(())
}

/// How a caller bounds probing: the limits, and how many whole files may be held in memory for a
/// probe at once (`slots`; `None`: no bound beyond the caller's own concurrency).
#[derive(Debug, Clone, Copy)]
pub struct Probing<'a> {
    pub limits: &'a Limits,
    pub slots: Option<&'a tokio::sync::Semaphore>,
}

/// Format and triangle count of a stored model, within the limits. Only a probe that needs the
/// whole file (every format but binary STL) takes one of the slots.
pub async fn probe_stored(
    blobs: &BlobStore,
    model: StoredModel<'_>,
    hint: Option<FormatHint>,
    probing: Probing<'_>,
) -> Result<Probe, IntakeError> {
    let limits = probing.limits;
    if let Some(probe) = probe_from_prefix(model, hint, limits)? {
        return Ok(probe);
    }
    let _slot = match probing.slots {
        Some(slots) => Some(
            slots
                .acquire()
                .await
                .map_err(|e| IntakeError::Task(e.to_string()))?,
        ),
        None => None,
    };
    let bytes: Bytes = blobs.get(model.sha256).await?;
    let limits = *limits;
    tokio::task::spawn_blocking(move || pricing_core::probe(&bytes, hint, &limits))
        .await
        .map_err(|e| IntakeError::Task(e.to_string()))?
        .map_err(IntakeError::from)
}

/// The constant-time cases: empty, too large, and binary STL (count in the header, checked
/// against the length). `None` when the whole file is needed.
pub fn probe_from_prefix(
    model: StoredModel<'_>,
    hint: Option<FormatHint>,
    limits: &Limits,
) -> Result<Option<Probe>, ParseError> {
    if model.size == 0 {
        return Err(ParseError::Empty);
    }
    if model.size > limits.max_bytes {
        return Err(ParseError::TooLarge {
            found: model.size,
            limit: limits.max_bytes,
        });
    }
    if (model.prefix.len() as u64) < STL_HEADER_LEN.min(model.size) {
        return Ok(None);
    }
    let format = pricing_core::format::resolve(hint, model.prefix, model.size);
    if format != Some(Format::StlBinary) {
        return Ok(None);
    }
    let triangles = pricing_core::formats::stl_binary::triangle_count(model.prefix, model.size)?;
    if triangles == 0 {
        return Err(ParseError::NoTriangles);
    }
    if triangles > limits.max_triangles {
        return Err(ParseError::TooManyTriangles {
            found: triangles,
            limit: limits.max_triangles,
        });
    }
    Ok(Some(Probe {
        format: Format::StlBinary,
        triangles,
        bytes: model.size,
    }))
}

/// The job's options document: what the worker needs besides the columns.
pub fn job_options(req: &IntakeRequest) -> serde_json::Value {
    let mut options = serde_json::Map::new();
    if let Some(units) = &req.units {
        options.insert(crate::job::UNITS_OPTION.into(), units.as_str().into());
    }
    serde_json::Value::Object(options)
}

/// Validates, probes the stored model, routes it, passes `admission` and submits the job
/// (idempotently, see [`JobStore::submit`]).
pub async fn submit_model(
    store: &dyn JobStore,
    blobs: &BlobStore,
    model: StoredModel<'_>,
    req: IntakeRequest,
    probing: Probing<'_>,
    admission: &dyn Admission,
) -> Result<Intake, IntakeError> {
    validate(&req)?;
    let probe = probe_stored(blobs, model, req.format_hint, probing).await?;
    let job = new_job(&req, model.sha256, &probe);
    let routing = store.route(&job);
    let hold = admission.admit(&job, &routing).await?;
    let result = store.submit_routed(job, routing).await;
    hold.settle(matches!(&result, Ok(s) if s.created)).await;
    Ok(Intake {
        submission: result?,
        probe,
    })
}

/// The store's input for a probed model.
pub fn new_job(req: &IntakeRequest, sha256: &str, probe: &Probe) -> NewJob {
    NewJob {
        tenant: req.tenant.clone(),
        channel: req.channel,
        idempotency_key: req.idempotency_key.clone(),
        partner_ref: req.partner_ref.clone(),
        model_sha256: sha256.to_owned(),
        format: probe.format,
        triangles: probe.triangles,
        alloys: req.alloys.clone(),
        options: job_options(req),
        rules_version: req.rules_version.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary_stl(n: u32) -> Vec<u8> {
        let mut v = vec![0u8; 84];
        v[80..84].copy_from_slice(&n.to_le_bytes());
        v.resize(84 + 50 * n as usize, 0);
        v
    }

    fn model(bytes: &[u8]) -> StoredModel<'_> {
        StoredModel {
            sha256: "00",
            size: bytes.len() as u64,
            prefix: &bytes[..bytes.len().min(4096)],
        }
    }

    #[test]
    fn prefix_probe_cases() {
        let limits = Limits {
            max_bytes: 10_000,
            max_triangles: 100,
            ..Limits::default()
        };
        let stl = binary_stl(3);
        let too_many = binary_stl(101);
        let obj = b"v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n".to_vec();
        type Case<'a> = (&'a [u8], Result<Option<u64>, &'a str>);
        let cases: Vec<Case<'_>> = vec![
            (&stl, Ok(Some(3))),
            (&too_many, Err("too_many_triangles")),
            (&obj, Ok(None)),
            (b"", Err("empty_file")),
        ];
        for (bytes, want) in cases {
            let got = probe_from_prefix(model(bytes), None, &limits)
                .map(|p| p.map(|p| p.triangles))
                .map_err(|e| e.code());
            assert_eq!(got, want);
        }
        let big = StoredModel {
            sha256: "00",
            size: 10_001,
            prefix: &stl,
        };
        assert_eq!(
            probe_from_prefix(big, None, &limits).map_err(|e| e.code()),
            Err("too_large")
        );
        // Without a prefix nothing can be said in constant time.
        let blind = StoredModel {
            sha256: "00",
            size: stl.len() as u64,
            prefix: &[],
        };
        assert_eq!(probe_from_prefix(blind, None, &limits), Ok(None));
    }

    #[test]
    fn validation_table() {
        let ok = IntakeRequest {
            tenant: "t".into(),
            channel: Channel::Partner,
            idempotency_key: "k".into(),
            partner_ref: None,
            alloys: vec!["au750y".into()],
            units: Some(Units::Mm),
            format_hint: None,
            rules_version: None,
        };
        assert!(validate(&ok).is_ok());
        let bad = [
            IntakeRequest {
                tenant: " ".into(),
                ..ok.clone()
            },
            IntakeRequest {
                idempotency_key: String::new(),
                ..ok.clone()
            },
            IntakeRequest {
                idempotency_key: "x".repeat(201),
                ..ok.clone()
            },
            IntakeRequest {
                alloys: vec![],
                ..ok.clone()
            },
            IntakeRequest {
                alloys: vec![String::new()],
                ..ok.clone()
            },
        ];
        for req in bad {
            assert!(
                matches!(validate(&req), Err(IntakeError::Invalid(_))),
                "{req:?}"
            );
        }
        assert_eq!(job_options(&ok), serde_json::json!({"units": "mm"}));
    }
}
