//! Jobs: what a client submits, what the store keeps, and what a read returns.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::eta::Eta;
use crate::routing::Lane;
use crate::status::JobStatus;

/// Where a job came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Website,
    Partner,
    Mes,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Website, Channel::Partner, Channel::Mes];

    pub const fn as_str(self) -> &'static str {
        match self {
            Channel::Website => "website",
            Channel::Partner => "partner",
            Channel::Mes => "mes",
        }
    }

    /// The price list a job from this channel is quoted on (whose margin applies): the website
    /// sells retail. The two vocabularies stay apart on purpose: jobs, keys and the API say
    /// `website`, the rules and the run message say `retail`.
    pub const fn sales_channel(self) -> pricing_core::pricing::Channel {
        match self {
            Channel::Website => pricing_core::pricing::Channel::Retail,
            Channel::Partner => pricing_core::pricing::Channel::Partner,
            Channel::Mes => pricing_core::pricing::Channel::Mes,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A channel name that is not website, partner or mes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown channel {0:?}")]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownChannel(s.to_owned()))
    }
}

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
    /// Format from the probe ("stl", "obj", "gltf", ...).
    pub format: String,
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
    pub format: String,
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

impl Job {
    /// The job a submission creates, before it is queued or answered from the quote cache:
    /// SUBMITTED, version 1, no attempts. `format` is the normalized one the routing used.
    pub fn submitted(
        new: &NewJob,
        format: String,
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
            format,
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

    #[test]
    fn every_channel_has_its_price_list() {
        let cases = [
            (Channel::Website, "retail"),
            (Channel::Partner, "partner"),
            (Channel::Mes, "mes"),
        ];
        for (channel, price_list) in cases {
            assert_eq!(channel.sales_channel().as_str(), price_list, "{channel}");
        }
    }
}
