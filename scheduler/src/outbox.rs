//! Outbox: messages written in the same transaction as the state change that causes them, and
//! published afterwards by a relay (at least once; consumers dedupe by `message_id`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::Job;
use contracts::{Channel, Format, Lane};

use crate::status::JobStatus;

/// Who an outbox message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    /// "Run this job": the lane's work queue (routing key: the lane), with an AMQP priority.
    Run,
    /// A result event for the MES (routing key `mes.job.<status>`).
    Mes,
    /// A result event for the CRM (routing key `crm.job.<status>`).
    Crm,
}

impl Destination {
    pub const fn as_str(self) -> &'static str {
        match self {
            Destination::Run => "run",
            Destination::Mes => "mes",
            Destination::Crm => "crm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Destination::Run, Destination::Mes, Destination::Crm]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// Insertion order; the relay publishes in this order.
    pub seq: i64,
    /// Deterministic (job, destination, job version): see [`crate::hashing::message_id`].
    pub message_id: Uuid,
    pub destination: Destination,
    pub routing_key: String,
    pub job_id: Uuid,
    /// [`RunJobPayload`] or [`JobEventPayload`] as JSON.
    pub payload: serde_json::Value,
    /// AMQP priority 0..=9 for run messages (see [`crate::fairness`]); 0 for events.
    pub priority: u8,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Payload of a run message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunJobPayload {
    pub job_id: Uuid,
    pub tenant: String,
    pub lane: Lane,
    pub model_sha256: String,
    pub format: Format,
    pub triangles: u64,
    pub alloys: Vec<String>,
    pub options: serde_json::Value,
    pub predicted_seconds: f64,
    /// Job version when queued; a worker may use it to spot a stale message.
    pub version: i64,
    /// The run message's attempt: how many times the job has been queued, this time included.
    /// Absent in rows written before the job row counted it (the relay then counts the history).
    #[serde(default)]
    pub attempt: Option<u32>,
}

impl RunJobPayload {
    pub fn from_job(job: &Job) -> Self {
        Self {
            job_id: job.id,
            tenant: job.tenant.clone(),
            lane: job.lane,
            model_sha256: job.model_sha256.clone(),
            format: job.format,
            triangles: job.triangles,
            alloys: job.alloys.clone(),
            options: job.options.clone(),
            predicted_seconds: job.predicted_seconds,
            version: job.version,
            attempt: Some(job.queued_count.max(1)),
        }
    }
}

/// Payload of a MES/CRM result event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEventPayload {
    pub job_id: Uuid,
    pub tenant: String,
    pub channel: Channel,
    pub partner_ref: Option<String>,
    pub status: JobStatus,
    pub quote: Option<serde_json::Value>,
    pub reason: Option<String>,
    pub version: i64,
    pub at: DateTime<Utc>,
}

impl JobEventPayload {
    pub fn from_job(job: &Job) -> Self {
        Self {
            job_id: job.id,
            tenant: job.tenant.clone(),
            channel: job.channel,
            partner_ref: job.partner_ref.clone(),
            status: job.status,
            quote: job.result.clone(),
            reason: job.reason.clone(),
            version: job.version,
            at: job.updated_at,
        }
    }
}

/// The routing key of an event for `status` to `destination`.
pub fn event_routing_key(destination: Destination, status: JobStatus) -> String {
    format!(
        "{}.job.{}",
        destination.as_str(),
        status.as_str().to_ascii_lowercase()
    )
}

/// Error from a publisher: the relay stops at the first failure and leaves the rest unsent.
#[derive(Debug, thiserror::Error)]
#[error("publish failed: {0}")]
pub struct PublishError(pub String);

/// Something that delivers outbox messages (RabbitMQ, an in-process queue, a test collector).
#[async_trait::async_trait]
pub trait OutboxPublisher: Send + Sync {
    /// Publish one message; return only once the broker has it (publisher confirm).
    async fn publish(&self, message: &OutboxMessage) -> Result<(), PublishError>;
}

/// What one relay pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RelayReport {
    pub published: u32,
    /// True when the publisher failed; the failed message and those after it stay unsent.
    pub stopped_on_error: bool,
}
