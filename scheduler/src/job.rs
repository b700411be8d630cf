//! Jobs: what a client submits, what the store keeps, and what a read returns.

use chrono::{DateTime, Utc};
use contracts::{Channel, Format, Lane, Units};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::eta::Eta;
use crate::status::JobStatus;

/// A submission, after the API has probed the upload and stored its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub tenant: String,
    pub channel: Channel,
    /// The client's key: the same `(tenant, key)` twice returns the same job.
    pub idempotency_key: String,
    /// The partner's or MES's own order reference, passed back in result events.
    pub partner_ref: Option<String>,
    /// Lower-case hex SHA-256 of the model bytes in blob storage.
    pub model_sha256: String,
    /// Format from the probe.
    pub format: Format,
    /// Triangle count from the probe.
    pub triangles: u64,
    pub alloys: Vec<String>,
    /// Pricing options (finish, stones, quantity, ...); hashed canonically for the quote cache.
    pub options: serde_json::Value,
    /// Version of the pricing rules in force. When set and a quote for the same model, alloys,
    /// options and rules version exists, the job is answered from the quote cache at once.
    pub rules_version: Option<String>,
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: Uuid,
    pub tenant: String,
    pub channel: Channel,
    pub idempotency_key: String,
    pub partner_ref: Option<String>,
    pub model_sha256: String,
    pub format: Format,
    pub triangles: u64,
    pub alloys: Vec<String>,
    pub options: serde_json::Value,
    /// SHA-256 of the canonical JSON of alloys and options (quote-cache key part).
    pub options_hash: String,
    pub rules_version: Option<String>,
    pub lane: Lane,
    pub status: JobStatus,
    /// Bumped by every change; pass it back for optimistic concurrency.
    pub version: i64,
    /// Cost-model prediction at submission.
    pub predicted_seconds: f64,
    /// SFQ start tag in the lane (see [`crate::fairness`]).
    pub fair_tag: f64,
    /// Priority of its run message, 0..=9.
    pub priority: u8,
    /// The ETA given at submission (reads recompute a fresh one, see [`JobView::eta`]).
    pub submitted_eta_at: Option<DateTime<Utc>>,
    /// Starts by a worker (including restarts after a lost worker).
    pub attempts: u32,
    /// How many times it has been queued (1 once routed; each retry adds one): the attempt its
    /// run message carries.
    pub queued_count: u32,
    /// The quote JSON, when PRICE_CALCULATED.
    pub result: Option<serde_json::Value>,
    /// Why it was REJECTED or FAILED.
    pub reason: Option<String>,
    /// Operator who claimed it, if any.
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTime<Utc>>,
    /// Worker of the latest start.
    pub worker_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it entered its current status.
    pub status_changed_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Key of the job options holding the unit of the model's coordinates (`mm`, `cm`, `m`, `in`).
pub const UNITS_OPTION: &str = "units";

impl Job {
    /// The unit named in the job's options, if any. Intake writes it from a parsed [`Units`], so
    /// a value that does not parse was never written by this code and is ignored.
    pub fn units(&self) -> Option<Units> {
        self.options
            .get(UNITS_OPTION)
            .and_then(serde_json::Value::as_str)
            .and_then(|u| u.parse().ok())
    }

    /// The job a submission creates, before it is queued or answered from the quote cache:
    /// SUBMITTED, version 1, no attempts.
    pub fn submitted(
        new: &NewJob,
        options_hash: String,
        routing: &crate::routing::Routing,
        now: DateTime<Utc>,
    ) -> Job {
        Job {
            id: Uuid::now_v7(),
            tenant: new.tenant.clone(),
            channel: new.channel,
            idempotency_key: new.idempotency_key.clone(),
            partner_ref: new.partner_ref.clone(),
            model_sha256: new.model_sha256.clone(),
            format: new.format,
            triangles: new.triangles,
            alloys: new.alloys.clone(),
            options: new.options.clone(),
            options_hash,
            rules_version: new.rules_version.clone(),
            lane: routing.lane,
            status: JobStatus::Submitted,
            version: 1,
            predicted_seconds: routing.predicted_seconds,
            fair_tag: 0.0,
            priority: 0,
            submitted_eta_at: None,
            attempts: 0,
            queued_count: 0,
            result: None,
            reason: None,
            claimed_by: None,
            claimed_at: None,
            worker_id: None,
            created_at: now,
            updated_at: now,
            status_changed_at: now,
            started_at: None,
            finished_at: None,
        }
    }
}

/// A job with an ETA computed at the time of the read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    #[serde(flatten)]
    pub job: Job,
    /// `None` once the job is in a terminal status.
    pub eta: Option<Eta>,
}

/// The answer to a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub job: JobView,
    /// False when the idempotency key matched an existing job.
    pub created: bool,
    /// True when the quote came from the quote cache.
    pub from_cache: bool,
}

/// One row of a job's status history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub job_id: Uuid,
    /// `None` for the creation of the job.
    pub from_status: Option<JobStatus>,
    pub to_status: JobStatus,
    /// The job's version after the change.
    pub version: i64,
    pub at: DateTime<Utc>,
    /// Who caused it: "api", "worker:<id>", "operator:<name>", "store".
    pub actor: String,
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::Routing;

    #[test]
    fn units_come_from_the_options() {
        let cases = [
            (serde_json::json!({"units": "in"}), Some(Units::In)),
            (serde_json::json!({"units": "furlong"}), None),
            (serde_json::json!({"units": 3}), None),
            (serde_json::json!({}), None),
            (serde_json::Value::Null, None),
        ];
        let new = NewJob {
            tenant: "t".into(),
            channel: Channel::Website,
            idempotency_key: "k".into(),
            partner_ref: None,
            model_sha256: "ab".repeat(32),
            format: Format::Obj,
            triangles: 1,
            alloys: vec![],
            options: serde_json::Value::Null,
            rules_version: None,
        };
        let routing = Routing {
            lane: Lane::Small,
            predicted_seconds: 1.0,
        };
        for (options, want) in cases {
            let mut job = Job::submitted(&new, String::new(), &routing, Utc::now());
            job.options = options.clone();
            assert_eq!(job.units(), want, "{options}");
        }
    }
}
