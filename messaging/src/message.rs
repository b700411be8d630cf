//! What is published: a payload plus the properties every message of this project carries.

use std::collections::BTreeMap;

use crate::error::Result;
use crate::topology::Route;
use contracts::Contract;

/// String-valued application headers (`traceparent`, `tracestate`, ...). Non-string header values
/// set by other publishers are rendered as text on the way in.
pub type Headers = BTreeMap<String, String>;

pub use contracts::trace::{TRACEPARENT, TRACESTATE};

/// Headers this crate writes when it dead-letters a message itself (see
/// [`crate::Delivery::reject_to_dead_letter`]); RabbitMQ's own `x-death` is read as well.
pub(crate) const DEATH_REASON: &str = "x-alexandrite-death-reason";
pub(crate) const DEATH_QUEUE: &str = "x-alexandrite-death-queue";
pub(crate) const DEATH_DETAIL: &str = "x-alexandrite-death-detail";

/// A message to publish: persistent, mandatory, and confirmed before `publish` returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Publish {
    pub route: Route,
    /// Deterministic dedup key: every copy of the same fact has the same id.
    pub message_id: String,
    /// AMQP `type` property: the contract name.
    pub message_type: Option<String>,
    pub correlation_id: Option<String>,
    pub headers: Headers,
    pub payload: Vec<u8>,
}

impl Publish {
    pub fn new(route: Route, message_id: impl Into<String>, payload: Vec<u8>) -> Self {
        Publish {
            route,
            message_id: message_id.into(),
            message_type: None,
            correlation_id: None,
            headers: Headers::new(),
            payload,
        }
    }

    /// A contract message as JSON, with its `type` and dedup `message_id`.
    pub fn contract<T: Contract>(route: Route, message: &T) -> Result<Self> {
        let mut publish = Publish::new(route, message.dedup_key(), message.to_json()?);
        publish.message_type = Some(T::TYPE.to_owned());
        Ok(publish)
    }

    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Sets `traceparent` (and `tracestate` when given) so the consumer continues the trace.
    pub fn with_trace_context(
        mut self,
        traceparent: impl Into<String>,
        tracestate: Option<String>,
    ) -> Self {
        self.headers
            .insert(TRACEPARENT.to_owned(), traceparent.into());
        if let Some(state) = tracestate {
            self.headers.insert(TRACESTATE.to_owned(), state);
        }
        self
    }

    pub fn with_correlation_id(mut self, correlation_id: impl Into<String>) -> Self {
        self.correlation_id = Some(correlation_id.into());
        self
    }
}

/// Why and where from a message reached a dead-letter queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetterInfo {
    /// `delivery_limit` (too many failed deliveries), `rejected` (rejected without requeue), or
    /// another RabbitMQ reason (`expired`, `maxlen`).
    pub reason: String,
    /// The queue the message was dead-lettered from.
    pub queue: String,
    /// The consumer's explanation, when it dead-lettered the message with a reason.
    pub detail: Option<String>,
}
