//! Outbox: the finished messages a state change calls for — exchange, routing key, message id,
//! headers, body — written in the same transaction as the change and published afterwards by a
//! relay exactly as written (at least once; consumers dedupe by `message_id`).
//!
//! - [`compose`]: a job's state → its messages (pure: the contracts, their ids, trace context
//!   and bodies).
//! - `legacy.rs`: rows written before the outbox held finished messages are finished once, when
//!   the store opens, so the relay has one kind of row.
//! - [`trail`]: one job's rows, sent or pending, for the console's job page.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use contracts::Exchange;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub mod backlog;
pub mod compose;
pub(crate) mod legacy;
pub mod trail;

/// Who an outbox message is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Destination {
    /// "Run this job": the lane's work queue (routing key: the lane).
    Run,
    /// A result event for the MES (`price.*`).
    Mes,
    /// A result event for the CRM (`crm.*`).
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

/// String-valued AMQP application headers (`traceparent`, ...).
pub type Headers = BTreeMap<String, String>;

/// A message as it will be published.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub destination: Destination,
    /// The exchange by its contracts name; the relay's topology adds the deployment's prefix.
    pub exchange: Exchange,
    pub routing_key: String,
    /// The contract's deterministic dedup key: every copy of the same fact has the same id.
    pub message_id: String,
    /// AMQP `type`: the contract's name.
    pub message_type: String,
    /// The job's idempotency key (for MES, its `request_id`).
    pub correlation_id: Option<String>,
    pub headers: Headers,
    /// The contract as JSON.
    pub body: Vec<u8>,
    /// The fair queue's priority 0..=9 for run messages; 0 for events.
    pub priority: u8,
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxMessage {
    /// Insertion order; the relay publishes in this order.
    pub seq: i64,
    pub job_id: Uuid,
    pub message: Message,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
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
