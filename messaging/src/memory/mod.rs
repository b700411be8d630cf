//! In-process broker with the semantics of the RabbitMQ topology: durable-looking exchanges and
//! queues (lost with the process), manual acknowledgement, prefetch, redelivery with a delivery
//! count, delivery limits and dead-lettering, direct and topic routing, mandatory publishing.

mod state;
mod topic;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::mpsc;

use crate::consumer::{Cancel, Consumer};
use crate::error::{MessagingError, Result};
use crate::message::Publish;
use crate::topology::{QueueSpec, Topology};
use state::{SharedState, State};

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves the state consistent enough to keep serving: every
    // mutation is a few field updates with no await.
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Cheap to clone; all clones share one broker. The broker lives as long as one clone does.
#[derive(Clone, Default)]
pub struct MemoryBroker {
    state: Arc<Mutex<State>>,
}

impl MemoryBroker {
    pub fn new() -> Self {
        MemoryBroker::default()
    }

    fn weak(&self) -> SharedState {
        Arc::downgrade(&self.state)
    }

    pub fn declare(&self, topology: &Topology) -> Result<()> {
        let mut state = lock(&self.state);
        for exchange in topology.exchanges() {
            state.declare_exchange(&exchange)?;
        }
        for queue in topology.queues() {
            state.declare_queue(&queue)?;
        }
        for binding in topology.bindings() {
            state.bind(&binding)?;
        }
        Ok(())
    }

    pub fn delete(&self, topology: &Topology) {
        let mut state = lock(&self.state);
        for queue in topology.queues() {
            state.delete_queue(&queue.name);
        }
        for exchange in topology.exchanges() {
            state.delete_exchange(&exchange.name);
        }
    }

    pub fn publish(&self, publish: &Publish) -> Result<()> {
        lock(&self.state).publish(&self.weak(), publish)
    }

    pub fn consume(&self, queue: &QueueSpec, prefetch: u16) -> Result<Consumer> {
        let (tx, rx) = mpsc::unbounded_channel();
        let id = lock(&self.state).add_consumer(&self.weak(), &queue.name, prefetch, tx)?;
        let handle = ConsumerHandle {
            state: self.weak(),
            queue: queue.name.clone(),
            id,
        };
        Ok(Consumer::new(
            queue.name.clone(),
            rx,
            Cancel::Memory(handle),
            Arc::new(AtomicU64::new(0)),
        ))
    }

    /// Messages waiting in `queue` (not counting those delivered and unsettled).
    pub fn queue_counts(&self, queue: &str) -> Result<crate::broker::QueueCounts> {
        let state = lock(&self.state);
        let n = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(crate::broker::QueueCounts {
            ready: n(state.ready_count(queue)?),
            consumers: n(state.consumer_count(queue)?),
        })
    }

    pub fn ready_count(&self, queue: &str) -> Result<u32> {
        let n = lock(&self.state).ready_count(queue)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

fn gone(tag: u64) -> MessagingError {
    MessagingError::SettleFailed {
        tag,
        reason: "in-process broker was dropped".into(),
    }
}

/// Settles one in-process delivery.
pub(crate) struct MemorySettler {
    state: Weak<Mutex<State>>,
    queue: String,
    tag: u64,
}

impl MemorySettler {
    pub fn ack(&self) -> Result<()> {
        let state = self.state.upgrade().ok_or_else(|| gone(self.tag))?;
        lock(&state).ack(&self.state, &self.queue, self.tag)
    }

    pub fn nack(&self, requeue: bool) -> Result<()> {
        let state = self.state.upgrade().ok_or_else(|| gone(self.tag))?;
        lock(&state).nack(&self.state, &self.queue, self.tag, requeue)
    }

    pub fn publish(&self, publish: &Publish) -> Result<()> {
        let state = self.state.upgrade().ok_or_else(|| gone(self.tag))?;
        lock(&state).publish(&self.state, publish)
    }

    pub fn abandon(&self) {
        // Already settled or returned with its consumer: nothing left to do.
        let _ = self.nack(true);
    }
}

/// Unregisters an in-process consumer.
pub(crate) struct ConsumerHandle {
    state: Weak<Mutex<State>>,
    queue: String,
    id: u64,
}

impl ConsumerHandle {
    pub fn cancel(self) {
        if let Some(state) = self.state.upgrade() {
            lock(&state).cancel_consumer(&self.state, &self.queue, self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use contracts::Lane;

    fn publish(broker: &MemoryBroker, topology: &Topology, id: &str) {
        let message = Publish::new(topology.job_route(Lane::Small), id, id.as_bytes().to_vec());
        broker.publish(&message).unwrap();
    }

    #[tokio::test]
    async fn a_dropped_consumer_returns_its_buffered_deliveries_in_order() {
        let broker = MemoryBroker::new();
        let topology = Topology::new("m");
        broker.declare(&topology).unwrap();
        let queue = topology.lane_queue(Lane::Small);
        for id in ["a", "b", "c"] {
            publish(&broker, &topology, id);
        }
        let consumer = broker.consume(&queue, 0).unwrap();
        assert_eq!(broker.ready_count(&queue.name).unwrap(), 0);
        drop(consumer);
        assert_eq!(broker.ready_count(&queue.name).unwrap(), 3);

        let mut next = broker.consume(&queue, 0).unwrap();
        for id in ["a", "b", "c"] {
            let d = next.next().await.unwrap();
            assert_eq!((d.payload(), d.delivery_count()), (id.as_bytes(), 1));
            d.ack().await.unwrap();
        }
    }

    #[tokio::test]
    async fn consumers_end_when_the_broker_or_queue_goes_away() {
        let broker = MemoryBroker::new();
        let topology = Topology::new("m");
        broker.declare(&topology).unwrap();
        let mut on_deleted = broker
            .consume(&topology.lane_queue(Lane::Small), 1)
            .unwrap();
        let mut on_dropped = broker
            .consume(&topology.lane_queue(Lane::Large), 1)
            .unwrap();
        publish(&broker, &topology, "x");
        let held = on_deleted.next().await.unwrap();
        broker.delete(&topology);
        assert!(on_deleted.next().await.is_none());
        assert!(held.ack().await.is_err());
        drop(broker);
        assert!(on_dropped.next().await.is_none());
    }

    #[test]
    fn redeclaring_with_other_settings_is_a_conflict() {
        let broker = MemoryBroker::new();
        broker.declare(&Topology::new("m")).unwrap();
        broker.declare(&Topology::new("m")).unwrap();
        let err = broker
            .declare(&Topology::new("m").with_delivery_limit(9))
            .unwrap_err();
        assert!(matches!(err, MessagingError::Conflict { .. }), "{err}");
    }
}
