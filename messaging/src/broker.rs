//! The transport both modes share: one type, two implementations with the same semantics.

use crate::consumer::Consumer;
use crate::error::Result;
use crate::memory::MemoryBroker;
use crate::message::Publish;
use crate::rabbit::{RabbitBroker, RabbitConfig};
use crate::topology::{QueueSpec, Topology};

/// A message broker: RabbitMQ, or the in-process one used when nothing is configured.
#[derive(Clone)]
pub enum Broker {
    Memory(MemoryBroker),
    Rabbit(RabbitBroker),
}

impl Broker {
    /// A fresh in-process broker (nothing survives the process).
    pub fn memory() -> Self {
        Broker::Memory(MemoryBroker::new())
    }

    pub async fn rabbit(config: RabbitConfig) -> Result<Self> {
        Ok(Broker::Rabbit(RabbitBroker::connect(config).await?))
    }

    /// RabbitMQ at `amqp_url` when one is configured, else the in-process broker: what a
    /// service does at start-up (`pricing serve` with no configuration runs on one machine).
    pub async fn from_url(amqp_url: Option<&str>) -> Result<Self> {
        match amqp_url.map(str::trim).filter(|url| !url.is_empty()) {
            Some(url) => Broker::rabbit(RabbitConfig::new(url)).await,
            None => Ok(Broker::memory()),
        }
    }

    pub fn is_memory(&self) -> bool {
        matches!(self, Broker::Memory(_))
    }

    /// Declares every exchange, queue and binding of `topology`; safe to repeat at every start.
    pub async fn declare(&self, topology: &Topology) -> Result<()> {
        match self {
            Broker::Memory(b) => b.declare(topology),
            Broker::Rabbit(b) => b.declare(topology).await,
        }
    }

    /// Deletes `topology`'s queues (with their messages) and exchanges. For tests and teardown.
    pub async fn delete(&self, topology: &Topology) -> Result<()> {
        match self {
            Broker::Memory(b) => {
                b.delete(topology);
                Ok(())
            }
            Broker::Rabbit(b) => b.delete(topology).await,
        }
    }

    /// Persistent, mandatory publish that returns once the broker has confirmed it stored the
    /// message. [`crate::MessagingError::Unroutable`] if no queue is bound for the route.
    pub async fn publish(&self, publish: &Publish) -> Result<()> {
        match self {
            Broker::Memory(b) => b.publish(publish),
            Broker::Rabbit(b) => b.publish(publish).await,
        }
    }

    /// Subscribes with manual acknowledgement; at most `prefetch` deliveries are unsettled at a
    /// time (0 = unlimited).
    pub async fn consume(&self, queue: &QueueSpec, prefetch: u16) -> Result<Consumer> {
        match self {
            Broker::Memory(b) => b.consume(queue, prefetch),
            Broker::Rabbit(b) => b.consume(queue, prefetch).await,
        }
    }

    /// Messages waiting in `queue` and consumers subscribed to it now, in one look.
    pub async fn queue_counts(&self, queue: &str) -> Result<QueueCounts> {
        match self {
            Broker::Memory(b) => b.queue_counts(queue),
            Broker::Rabbit(b) => b.queue_counts(queue).await,
        }
    }

    /// Messages waiting in `queue`, not counting delivered-but-unsettled ones.
    pub async fn ready_count(&self, queue: &str) -> Result<u32> {
        match self {
            Broker::Memory(b) => b.ready_count(queue),
            Broker::Rabbit(b) => b.ready_count(queue).await,
        }
    }
}

/// What [`Broker::queue_counts`] reads of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounts {
    /// Waiting, not counting delivered-but-unsettled messages.
    pub ready: u32,
    pub consumers: u32,
}
