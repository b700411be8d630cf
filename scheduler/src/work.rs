//! What workers send to the store: starts, completions and heartbeats.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::job::Job;
use contracts::Lane;

/// Result of `JobStore::start_job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StartOutcome {
    /// Now CALCULATING with `attempts` incremented: price it.
    Started(Job),
    /// It had used up its attempts (a poison job that keeps killing workers): now FAILED and
    /// dead-lettered; do not price it.
    DeadLettered(Job),
    /// Already finished (a stale or duplicate run message): acknowledge and drop.
    AlreadyFinished(Job),
}

/// How a pricing run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    /// Priced. `rules_version` keys the quote cache.
    Priced {
        quote: serde_json::Value,
        rules_version: String,
    },
    /// Bad or unmanufacturable model: final, with the reason for the customer.
    Rejected { reason: String },
    /// The run failed. A retryable failure is re-queued until `max_attempts` starts have been
    /// made, then FAILED; a non-retryable one is FAILED at once.
    Failed { reason: String, retryable: bool },
}

/// A worker's report of one run, applied exactly once per `message_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    pub job_id: Uuid,
    /// Id of the run message being answered; a second completion with the same id is a no-op.
    pub message_id: Uuid,
    pub worker_id: String,
    pub outcome: Outcome,
    /// Seconds the job has held its worker slot: from the delivery through the start, the blob
    /// read and pricing (the store adds its own time up to the record). Feeds the cost-model
    /// calibration when priced, so predictions count the per-job work around pricing as well,
    /// which is what a queue of small jobs waits on.
    pub duration_seconds: f64,
}

/// Result of `JobStore::complete_job`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CompletionOutcome {
    /// Applied: the job after the change.
    Applied(Box<Job>),
    /// This message id was already processed; nothing changed.
    Duplicate,
}

/// A worker's periodic sign of life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub worker_id: String,
    pub lanes: Vec<Lane>,
    pub current_job: Option<Uuid>,
    /// Jobs it prices at once.
    pub slots: u32,
}

/// A worker as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerInfo {
    pub worker_id: String,
    pub lanes: Vec<Lane>,
    pub current_job: Option<Uuid>,
    /// Jobs it prices at once (1 for workers older than the column).
    pub slots: u32,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}
