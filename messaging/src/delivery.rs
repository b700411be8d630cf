//! A received message and the ways to settle it.

use tokio::sync::OwnedSemaphorePermit;

use crate::error::{MessagingError, Result};
use crate::message::{self, DeadLetterInfo, Headers, Publish};
use crate::topology::{DeadLetterRoute, Route};
use crate::{memory, rabbit};
use contracts::Contract;

/// The broker-specific half of a delivery: how to ack, nack, or publish a dead-letter copy.
pub(crate) enum Settler {
    Memory(memory::MemorySettler),
    Rabbit(rabbit::RabbitSettler),
}

impl Settler {
    async fn ack(&self) -> Result<()> {
        match self {
            Settler::Memory(s) => s.ack(),
            Settler::Rabbit(s) => s.ack().await,
        }
    }

    async fn nack(&self, requeue: bool) -> Result<()> {
        match self {
            Settler::Memory(s) => s.nack(requeue),
            Settler::Rabbit(s) => s.nack(requeue).await,
        }
    }

    async fn publish(&self, message: &Publish) -> Result<()> {
        match self {
            Settler::Memory(s) => s.publish(message),
            Settler::Rabbit(s) => s.publish(message).await,
        }
    }

    /// Returns the message to its queue without waiting (used from `Drop`).
    fn abandon(&self) {
        match self {
            Settler::Memory(s) => s.abandon(),
            Settler::Rabbit(s) => s.abandon(),
        }
    }
}

/// What a broker hands over with a delivery.
pub(crate) struct DeliveryParts {
    pub tag: u64,
    pub queue: String,
    pub exchange: String,
    pub routing_key: String,
    pub message_id: Option<String>,
    pub message_type: Option<String>,
    pub correlation_id: Option<String>,
    pub headers: Headers,
    pub payload: Vec<u8>,
    pub redelivered: bool,
    pub delivery_count: u32,
    pub dead_letter: Option<DeadLetterInfo>,
    pub dead_letter_route: Option<DeadLetterRoute>,
}

/// A message taken from a queue with manual acknowledgement. Settle it exactly once with
/// [`ack`](Self::ack), [`nack`](Self::nack) or [`reject_to_dead_letter`](Self::reject_to_dead_letter).
/// Dropping it unsettled returns it to its queue (counted as a failed delivery), as a crashed
/// consumer would.
pub struct Delivery {
    parts: DeliveryParts,
    settler: Option<Settler>,
    slot: Option<OwnedSemaphorePermit>,
}

impl Delivery {
    pub(crate) fn new(parts: DeliveryParts, settler: Settler) -> Self {
        Delivery {
            parts,
            settler: Some(settler),
            slot: None,
        }
    }

    /// Keeps a lane-selector slot busy until this delivery is settled or dropped.
    pub(crate) fn hold_slot(&mut self, permit: OwnedSemaphorePermit) {
        self.slot = Some(permit);
    }

    /// Forgets the settler without returning the message (the broker already has it back).
    pub(crate) fn defuse(&mut self) {
        self.settler = None;
    }

    pub fn payload(&self) -> &[u8] {
        &self.parts.payload
    }

    pub fn message_id(&self) -> Option<&str> {
        self.parts.message_id.as_deref()
    }

    /// The AMQP `type` property (a contract's [`Contract::TYPE`]).
    pub fn message_type(&self) -> Option<&str> {
        self.parts.message_type.as_deref()
    }

    pub fn correlation_id(&self) -> Option<&str> {
        self.parts.correlation_id.as_deref()
    }

    pub fn headers(&self) -> &Headers {
        &self.parts.headers
    }

    pub fn traceparent(&self) -> Option<&str> {
        self.parts
            .headers
            .get(message::TRACEPARENT)
            .map(String::as_str)
    }

    pub fn queue(&self) -> &str {
        &self.parts.queue
    }

    pub fn exchange(&self) -> &str {
        &self.parts.exchange
    }

    pub fn routing_key(&self) -> &str {
        &self.parts.routing_key
    }

    /// Set by the broker when this message was delivered before (to any consumer).
    pub fn redelivered(&self) -> bool {
        self.parts.redelivered
    }

    /// Failed deliveries before this one: 0 the first time, then RabbitMQ's `x-delivery-count`.
    pub fn delivery_count(&self) -> u32 {
        self.parts.delivery_count
    }

    /// Why the message is in a dead-letter queue; `None` for ordinary deliveries.
    pub fn dead_letter(&self) -> Option<&DeadLetterInfo> {
        self.parts.dead_letter.as_ref()
    }

    /// Broker-local delivery tag (unique per channel on RabbitMQ, per broker in memory).
    pub fn tag(&self) -> u64 {
        self.parts.tag
    }

    /// Decodes the payload as `T`, refusing a message whose `type` property names another contract.
    pub fn decode<T: Contract>(&self) -> Result<T> {
        if let Some(found) = self.message_type()
            && found != T::TYPE
        {
            return Err(MessagingError::UnexpectedType {
                expected: T::TYPE,
                found: found.to_owned(),
            });
        }
        Ok(T::from_json(self.payload())?)
    }

    fn take_settler(&mut self) -> Result<Settler> {
        self.settler.take().ok_or(MessagingError::SettleFailed {
            tag: self.parts.tag,
            reason: "already settled".into(),
        })
    }

    /// Done: the broker forgets the message. An error means the broker will deliver it again.
    pub async fn ack(mut self) -> Result<()> {
        self.take_settler()?.ack().await
    }

    /// Failed. `requeue = true` returns it to the queue (a failed delivery: counts toward the
    /// delivery limit); `false` dead-letters it with reason `rejected`.
    pub async fn nack(mut self, requeue: bool) -> Result<()> {
        self.take_settler()?.nack(requeue).await
    }

    /// Sends the message to its queue's dead-letter queue now, with `detail` recorded
    /// ([`DeadLetterInfo::detail`]), then acks it. The copy is published with confirms before the
    /// ack, so a crash in between leaves a duplicate, never a loss. If the copy cannot be published
    /// the message is rejected instead, and the broker dead-letters it without the detail.
    pub async fn reject_to_dead_letter(mut self, detail: &str) -> Result<()> {
        let settler = self.take_settler()?;
        let Some(route) = self.parts.dead_letter_route.clone() else {
            return settler.nack(false).await;
        };
        let copy = self.dead_letter_copy(route, detail);
        match settler.publish(&copy).await {
            Ok(()) => settler.ack().await,
            Err(error) => {
                tracing::warn!(%error, queue = %self.parts.queue, "dead-letter copy failed; rejecting instead");
                settler.nack(false).await
            }
        }
    }

    fn dead_letter_copy(&self, route: DeadLetterRoute, detail: &str) -> Publish {
        let mut headers = self.parts.headers.clone();
        headers.insert(message::DEATH_REASON.into(), "rejected".into());
        headers.insert(message::DEATH_QUEUE.into(), self.parts.queue.clone());
        headers.insert(message::DEATH_DETAIL.into(), detail.into());
        Publish {
            route: Route {
                exchange: route.exchange,
                routing_key: route.routing_key,
            },
            message_id: self.parts.message_id.clone().unwrap_or_default(),
            message_type: self.parts.message_type.clone(),
            correlation_id: self.parts.correlation_id.clone(),
            headers,
            payload: self.parts.payload.clone(),
        }
    }
}

/// Reads this crate's own dead-letter headers (a copy made by `reject_to_dead_letter`).
pub(crate) fn death_from_headers(headers: &Headers) -> Option<DeadLetterInfo> {
    Some(DeadLetterInfo {
        reason: headers.get(message::DEATH_REASON)?.clone(),
        queue: headers
            .get(message::DEATH_QUEUE)
            .cloned()
            .unwrap_or_default(),
        detail: headers.get(message::DEATH_DETAIL).cloned(),
    })
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(settler) = self.settler.take() {
            settler.abandon();
        }
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("queue", &self.parts.queue)
            .field("tag", &self.parts.tag)
            .field("message_id", &self.parts.message_id)
            .field("message_type", &self.parts.message_type)
            .field("redelivered", &self.parts.redelivered)
            .field("delivery_count", &self.parts.delivery_count)
            .field("dead_letter", &self.parts.dead_letter)
            .field("payload_len", &self.parts.payload.len())
            .finish()
    }
}
