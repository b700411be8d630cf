//! What the API answers with: its own types (with OpenAPI schemas), converted from the store's.

use chrono::{DateTime, Utc};
use scheduler::{Eta, Job, JobStatus, JobView, WorkerInfo};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ErrorBody;
use pricing_core::estimate::{AlloyRange, Bbox};

/// When a job is expected to be done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EtaDto {
    pub at: DateTime<Utc>,
    /// Seconds from the time of the answer.
    pub seconds: f64,
    /// Predicted work queued ahead in the lane, in seconds.
    pub work_ahead_seconds: f64,
    /// Workers assumed to serve the lane.
    pub capacity: u32,
}

impl From<&Eta> for EtaDto {
    fn from(e: &Eta) -> Self {
        EtaDto {
            at: e.at,
            seconds: e.seconds,
            work_ahead_seconds: e.work_ahead_seconds,
            capacity: e.capacity,
        }
    }
}

/// The 202 answer to an upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobAccepted {
    pub id: Uuid,
    /// SUBMITTED, QUEUED, ... (PRICE_CALCULATED at once when the quote was cached).
    pub status: String,
    /// Detected format: stl-binary, stl-ascii, obj, gltf, glb or 3mf.
    pub format: String,
    pub triangles: u64,
    /// Size lane: small, medium or large.
    pub lane: String,
    /// Cost estimate: predicted compute seconds for this model.
    pub predicted_seconds: f64,
    pub eta: Option<EtaDto>,
    /// SHA-256 of the stored model.
    pub model_sha256: String,
    pub status_url: String,
    pub events_url: String,
    /// False when the Idempotency-Key matched an earlier submission (this is that job).
    pub created: bool,
    /// True when the quote came from the quote cache.
    pub from_cache: bool,
}

/// A job as clients see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobResponse {
    pub id: Uuid,
    pub tenant: String,
    /// website, partner or mes.
    pub channel: String,
    pub partner_ref: Option<String>,
    /// SUBMITTED, QUEUED, CALCULATING, PRICE_CALCULATED, REJECTED or FAILED.
    pub status: String,
    /// Bumped by every change.
    pub version: i64,
    pub format: String,
    pub triangles: u64,
    pub alloys: Vec<String>,
    pub lane: String,
    pub predicted_seconds: f64,
    pub attempts: u32,
    /// `null` once final.
    pub eta: Option<EtaDto>,
    /// The quote, when PRICE_CALCULATED.
    #[schema(value_type = Option<Object>)]
    pub quote: Option<serde_json::Value>,
    /// Why it was REJECTED (e.g. `not_manufacturable`, `malformed_mesh`) or FAILED.
    pub error: Option<ErrorBody>,
    pub claimed_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Codes a worker may put before a rejection reason that describe the file rather than the piece.
const FILE_CODES: &[&str] = &[
    "empty_file",
    "unsupported_format",
    "truncated_file",
    "malformed_mesh",
    "index_out_of_range",
    "non_finite_coordinate",
    "bad_utf8",
    "bad_json",
    "external_reference",
    "unsupported_extension",
    "too_many_triangles",
    "too_large",
    "no_triangles",
    "unknown_alloy",
    "no_alloy",
];

/// The error a final job carries: a file problem keeps its own code; any other rejection is
/// `not_manufacturable` with the rules' reason code in `details.reason`; a failure is
/// `pricing_failed`.
pub fn job_error(status: JobStatus, reason: Option<&str>) -> Option<ErrorBody> {
    let text = reason.unwrap_or("");
    // A reason without a code (an operator's note) reads as code "" and the text whole.
    let contracts::Reason { code, message } = contracts::Reason::parse(text, "");
    match status {
        JobStatus::Rejected if FILE_CODES.contains(&code) => Some(ErrorBody {
            code: code.to_owned(),
            message: message.to_owned(),
            details: serde_json::Value::Null,
        }),
        JobStatus::Rejected => Some(ErrorBody {
            code: "not_manufacturable".into(),
            message: message.to_owned(),
            details: if code.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::json!({ "reason": code })
            },
        }),
        JobStatus::Failed => Some(ErrorBody {
            code: "pricing_failed".into(),
            message: text.to_owned(),
            details: if code.is_empty() {
                serde_json::Value::Null
            } else {
                serde_json::json!({ "reason": code })
            },
        }),
        _ => None,
    }
}

impl JobResponse {
    pub fn new(job: &Job, eta: Option<&Eta>) -> Self {
        JobResponse {
            id: job.id,
            tenant: job.tenant.clone(),
            channel: job.channel.as_str().to_owned(),
            partner_ref: job.partner_ref.clone(),
            status: job.status.as_str().to_owned(),
            version: job.version,
            format: job.format.as_str().to_owned(),
            triangles: job.triangles,
            alloys: job.alloys.clone(),
            lane: job.lane.as_str().to_owned(),
            predicted_seconds: job.predicted_seconds,
            attempts: job.attempts,
            eta: if job.status.is_terminal() {
                None
            } else {
                eta.map(EtaDto::from)
            },
            quote: job.result.clone(),
            error: job_error(job.status, job.reason.as_deref()),
            claimed_by: job.claimed_by.clone(),
            created_at: job.created_at,
            updated_at: job.updated_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }
}

impl From<&JobView> for JobResponse {
    fn from(v: &JobView) -> Self {
        JobResponse::new(&v.job, v.eta.as_ref())
    }
}

/// A page of jobs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobList {
    pub jobs: Vec<JobResponse>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The instant estimate.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EstimateResponse {
    pub format: String,
    pub triangles: u64,
    pub bytes: u64,
    /// The unit the coordinates were read in, and whether it was guessed.
    pub units: String,
    pub units_inferred: bool,
    /// Another plausible reading of the file's units when the size makes `units` doubtful (a glTF
    /// written in millimetres): pass it as `units=` to price it that way. `null` when in no doubt.
    pub units_alternative: Option<String>,
    /// Bounding box in mm (from a sample of the vertices); `null` if none could be read.
    pub bbox_mm: Option<Bbox>,
    pub lane: String,
    /// Predicted compute seconds.
    pub predicted_seconds: f64,
    pub eta: EtaDto,
    /// One range per alloy; empty when no bounding box could be read.
    pub prices: Vec<AlloyRange>,
}

/// One lane as operators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LaneStats {
    pub lane: String,
    /// Messages waiting in the lane's queue (the broker's count).
    pub depth: Option<u64>,
    /// Jobs QUEUED in the lane (the store's count).
    pub queued: u64,
    /// Jobs CALCULATING.
    pub in_flight: u64,
    /// Live workers consuming the lane.
    pub consumers: u64,
    /// Jobs finished per minute over the last five minutes.
    pub throughput_per_minute: f64,
    /// Seconds the longest-waiting queued job has waited.
    pub oldest_age_seconds: Option<f64>,
    /// Messages in the lane's dead-letter queue not yet handled: the dead-letter watcher fails their jobs
    /// and acks them, so FAILED jobs (with their reason) are the record of what was dead-lettered.
    pub dead_letters: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueuesResponse {
    pub lanes: Vec<LaneStats>,
    /// FAILED jobs (dead-lettered, retryable with POST /v1/jobs/{id}/retry).
    pub failed_jobs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkerDto {
    pub worker_id: String,
    pub lanes: Vec<String>,
    pub current_job: Option<Uuid>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

impl From<&WorkerInfo> for WorkerDto {
    fn from(w: &WorkerInfo) -> Self {
        WorkerDto {
            worker_id: w.worker_id.clone(),
            lanes: w.lanes.iter().map(|l| l.as_str().to_owned()).collect(),
            current_job: w.current_job,
            first_seen: w.first_seen,
            last_seen: w.last_seen,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WorkersResponse {
    pub workers: Vec<WorkerDto>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: String,
    /// Per dependency: "ok" or the error.
    #[schema(value_type = Object)]
    pub checks: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_error_codes() {
        let cases: &[(JobStatus, Option<&str>, Option<&str>)] = &[
            (JobStatus::Queued, None, None),
            (JobStatus::PriceCalculated, None, None),
            (
                JobStatus::Rejected,
                Some("malformed_mesh: bad face at line 3"),
                Some("malformed_mesh"),
            ),
            (
                JobStatus::Rejected,
                Some("wall_too_thin: 0.3 mm < 0.6 mm"),
                Some("not_manufacturable"),
            ),
            (
                JobStatus::Rejected,
                Some("free text"),
                Some("not_manufacturable"),
            ),
            (
                JobStatus::Failed,
                Some("pricing_timed_out: no result"),
                Some("pricing_failed"),
            ),
        ];
        for (status, reason, want) in cases {
            assert_eq!(
                job_error(*status, *reason).map(|e| e.code),
                want.map(str::to_owned),
                "{status} {reason:?}"
            );
        }
        let e = job_error(JobStatus::Rejected, Some("wall_too_thin: thin")).unwrap();
        assert_eq!(e.details, serde_json::json!({"reason": "wall_too_thin"}));
        assert_eq!(e.message, "thin");
    }
}
