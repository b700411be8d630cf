//! In-process broker with the semantics of the RabbitMQ topology: durable-looking exchanges and
//! queues (lost with the process), manual acknowledgement, prefetch, redelivery with a delivery
//! count, delivery limits and dead-lettering, direct and topic routing, mandatory publishing.

mod state;

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
