//! The in-process broker's state machine: exchanges, quorum-like queues, consumers.
//!
//! All of it runs under one mutex and never awaits. Semantics copied from RabbitMQ 3.10 quorum
//! queues (see the crate docs): returned messages are delivered before never-delivered ones,
//! every return increments the delivery count, and a return that takes the count above the
//! delivery limit dead-letters the message with reason `delivery_limit`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, Weak};

use tokio::sync::mpsc;

use super::MemorySettler;
use super::topic::topic_matches;
use crate::delivery::{self, Delivery, DeliveryParts, Settler};
use crate::error::{MessagingError, Result};
use crate::message::{DeadLetterInfo, Headers, Publish};
use crate::topology::{BindingSpec, ExchangeKind, ExchangeSpec, QueueSpec};

pub(crate) type SharedState = Weak<Mutex<State>>;

#[derive(Default)]
pub(crate) struct State {
    exchanges: HashMap<String, Exchange>,
    queues: HashMap<String, Queue>,
    next_tag: u64,
    next_consumer: u64,
    /// Queues that may be able to deliver; drained by `flush`.
    pending: Vec<String>,
}

struct Exchange {
    kind: ExchangeKind,
    /// (binding key, queue)
    bindings: Vec<(String, String)>,
}

struct Queue {
    spec: QueueSpec,
    /// Returned messages, served before `ready` as rabbit_fifo does.
    returns: VecDeque<Stored>,
    ready: VecDeque<Stored>,
    unacked: HashMap<u64, Unacked>,
    consumers: Vec<QueueConsumer>,
    next_consumer: usize,
}

struct Unacked {
    stored: Stored,
    consumer: u64,
}

struct QueueConsumer {
    id: u64,
    prefetch: u16,
    in_flight: usize,
    tx: mpsc::UnboundedSender<Delivery>,
}

impl QueueConsumer {
    fn has_capacity(&self) -> bool {
        self.prefetch == 0 || self.in_flight < usize::from(self.prefetch)
    }
}

#[derive(Clone)]
struct Stored {
    exchange: String,
    routing_key: String,
    message_id: Option<String>,
    message_type: Option<String>,
    correlation_id: Option<String>,
    headers: Headers,
    payload: Vec<u8>,
    delivery_count: u32,
    redelivered: bool,
    death: Option<DeadLetterInfo>,
}

impl Stored {
    fn from_publish(publish: &Publish) -> Self {
        Stored {
            exchange: publish.route.exchange.clone(),
            routing_key: publish.route.routing_key.clone(),
            message_id: Some(publish.message_id.clone()).filter(|id| !id.is_empty()),
            message_type: publish.message_type.clone(),
            correlation_id: publish.correlation_id.clone(),
            headers: publish.headers.clone(),
            payload: publish.payload.clone(),
            delivery_count: 0,
            redelivered: false,
            death: None,
        }
    }
}

impl Queue {
    fn new(spec: QueueSpec) -> Self {
        Queue {
            spec,
            returns: VecDeque::new(),
            ready: VecDeque::new(),
            unacked: HashMap::new(),
            consumers: Vec::new(),
            next_consumer: 0,
        }
    }

    /// Round robin over the consumers that have prefetch room.
    fn pick_consumer(&mut self) -> Option<usize> {
        let n = self.consumers.len();
        (0..n)
            .map(|i| (self.next_consumer + i) % n)
            .find(|&idx| self.consumers[idx].has_capacity())
            .inspect(|&idx| {
                self.next_consumer = idx + 1;
            })
    }

    fn take_next(&mut self) -> Option<Stored> {
        self.returns.pop_front().or_else(|| self.ready.pop_front())
    }

    fn release(&mut self, consumer: u64) {
        if let Some(c) = self.consumers.iter_mut().find(|c| c.id == consumer) {
            c.in_flight = c.in_flight.saturating_sub(1);
        }
    }
}

fn not_found(kind: &'static str, name: &str) -> MessagingError {
    MessagingError::NotFound {
        kind,
        name: name.to_owned(),
    }
}

fn settle_failed(tag: u64) -> MessagingError {
    MessagingError::SettleFailed {
        tag,
        reason: "unknown delivery (consumer gone or already settled)".into(),
    }
}

impl State {
    pub fn declare_exchange(&mut self, spec: &ExchangeSpec) -> Result<()> {
        match self.exchanges.get(&spec.name) {
            Some(existing) if existing.kind != spec.kind => Err(MessagingError::Conflict {
                name: spec.name.clone(),
            }),
            Some(_) => Ok(()),
            None => {
                self.exchanges.insert(
                    spec.name.clone(),
                    Exchange {
                        kind: spec.kind,
                        bindings: Vec::new(),
                    },
                );
                Ok(())
            }
        }
    }

    pub fn declare_queue(&mut self, spec: &QueueSpec) -> Result<()> {
        match self.queues.get(&spec.name) {
            Some(existing) if existing.spec != *spec => Err(MessagingError::Conflict {
                name: spec.name.clone(),
            }),
            Some(_) => Ok(()),
            None => {
                self.queues
                    .insert(spec.name.clone(), Queue::new(spec.clone()));
                Ok(())
            }
        }
    }

    pub fn bind(&mut self, binding: &BindingSpec) -> Result<()> {
        if !self.queues.contains_key(&binding.queue) {
            return Err(not_found("queue", &binding.queue));
        }
        let exchange = self
            .exchanges
            .get_mut(&binding.exchange)
            .ok_or_else(|| not_found("exchange", &binding.exchange))?;
        let entry = (binding.routing_key.clone(), binding.queue.clone());
        if !exchange.bindings.contains(&entry) {
            exchange.bindings.push(entry);
        }
        Ok(())
    }

    /// Deletes the queue, its messages and its bindings; its consumers' streams end.
    pub fn delete_queue(&mut self, name: &str) {
        self.queues.remove(name);
        for exchange in self.exchanges.values_mut() {
            exchange.bindings.retain(|(_, queue)| queue != name);
        }
    }

    pub fn delete_exchange(&mut self, name: &str) {
        self.exchanges.remove(name);
    }

    pub fn consumer_count(&self, queue: &str) -> Result<usize> {
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| not_found("queue", queue))?;
        Ok(q.consumers.len())
    }

    pub fn ready_count(&self, queue: &str) -> Result<usize> {
        let q = self
            .queues
            .get(queue)
            .ok_or_else(|| not_found("queue", queue))?;
        Ok(q.returns.len() + q.ready.len())
    }

    fn route(&self, exchange: &str, routing_key: &str) -> Result<Vec<String>> {
        let ex = self
            .exchanges
            .get(exchange)
            .ok_or_else(|| not_found("exchange", exchange))?;
        let mut targets: Vec<String> = Vec::new();
        for (key, queue) in &ex.bindings {
            let hit = match ex.kind {
                ExchangeKind::Direct => key == routing_key,
                ExchangeKind::Topic => topic_matches(key, routing_key),
            };
            if hit && !targets.contains(queue) {
                targets.push(queue.clone());
            }
        }
        Ok(targets)
    }

    /// Mandatory publish: an error if no queue receives the message.
    pub fn publish(&mut self, weak: &SharedState, publish: &Publish) -> Result<()> {
        let targets = self.route(&publish.route.exchange, &publish.route.routing_key)?;
        if targets.is_empty() {
            return Err(MessagingError::Unroutable {
                exchange: publish.route.exchange.clone(),
                routing_key: publish.route.routing_key.clone(),
            });
        }
        for queue in targets {
            if let Some(q) = self.queues.get_mut(&queue) {
                q.ready.push_back(Stored::from_publish(publish));
                self.pending.push(queue);
            }
        }
        self.flush(weak);
        Ok(())
    }

    pub fn add_consumer(
        &mut self,
        weak: &SharedState,
        queue: &str,
        prefetch: u16,
        tx: mpsc::UnboundedSender<Delivery>,
    ) -> Result<u64> {
        let q = self
            .queues
            .get_mut(queue)
            .ok_or_else(|| not_found("queue", queue))?;
        self.next_consumer += 1;
        let id = self.next_consumer;
        q.consumers.push(QueueConsumer {
            id,
            prefetch,
            in_flight: 0,
            tx,
        });
        self.pending.push(queue.to_owned());
        self.flush(weak);
        Ok(id)
    }

    /// Unregisters the consumer and returns everything it had not settled.
    pub fn cancel_consumer(&mut self, weak: &SharedState, queue: &str, consumer: u64) {
        self.remove_consumer(queue, consumer);
        self.flush(weak);
    }

    pub fn ack(&mut self, weak: &SharedState, queue: &str, tag: u64) -> Result<()> {
        let q = self
            .queues
            .get_mut(queue)
            .ok_or_else(|| settle_failed(tag))?;
        let unacked = q.unacked.remove(&tag).ok_or_else(|| settle_failed(tag))?;
        q.release(unacked.consumer);
        self.pending.push(queue.to_owned());
        self.flush(weak);
        Ok(())
    }

    pub fn nack(&mut self, weak: &SharedState, queue: &str, tag: u64, requeue: bool) -> Result<()> {
        let q = self
            .queues
            .get_mut(queue)
            .ok_or_else(|| settle_failed(tag))?;
        let unacked = q.unacked.remove(&tag).ok_or_else(|| settle_failed(tag))?;
        q.release(unacked.consumer);
        if requeue {
            self.return_message(queue, unacked.stored);
        } else {
            self.dead_letter(queue, unacked.stored, "rejected");
        }
        self.pending.push(queue.to_owned());
        self.flush(weak);
        Ok(())
    }

    fn remove_consumer(&mut self, queue: &str, consumer: u64) {
        let Some(q) = self.queues.get_mut(queue) else {
            return;
        };
        q.consumers.retain(|c| c.id != consumer);
        let tags: Vec<u64> = q
            .unacked
            .iter()
            .filter(|(_, u)| u.consumer == consumer)
            .map(|(tag, _)| *tag)
            .collect();
        // Return in delivery order so the queue keeps its order for the next consumer.
        let mut returned: Vec<(u64, Stored)> = tags
            .into_iter()
            .filter_map(|tag| q.unacked.remove(&tag).map(|u| (tag, u.stored)))
            .collect();
        returned.sort_by_key(|(tag, _)| *tag);
        for (_, stored) in returned {
            self.return_message(queue, stored);
        }
        self.pending.push(queue.to_owned());
    }

    fn return_message(&mut self, queue: &str, mut stored: Stored) {
        let Some(q) = self.queues.get_mut(queue) else {
            return;
        };
        stored.delivery_count = stored.delivery_count.saturating_add(1);
        stored.redelivered = true;
        match q.spec.delivery_limit {
            Some(limit) if stored.delivery_count > limit => {
                self.dead_letter(queue, stored, "delivery_limit")
            }
            _ => q.returns.push_back(stored),
        }
    }

    fn dead_letter(&mut self, source: &str, mut stored: Stored, reason: &str) {
        let Some(route) = self
            .queues
            .get(source)
            .and_then(|q| q.spec.dead_letter.clone())
        else {
            tracing::warn!(
                queue = source,
                reason,
                "message dropped: queue has no dead-letter exchange"
            );
            return;
        };
        let targets = match self.route(&route.exchange, &route.routing_key) {
            Ok(targets) if !targets.is_empty() => targets,
            _ => {
                tracing::warn!(
                    queue = source,
                    reason,
                    "message dropped: dead-letter route leads nowhere"
                );
                return;
            }
        };
        stored.death = Some(DeadLetterInfo {
            reason: reason.to_owned(),
            queue: source.to_owned(),
            detail: None,
        });
        stored.exchange = route.exchange;
        stored.routing_key = route.routing_key;
        stored.delivery_count = 0;
        stored.redelivered = false;
        for target in targets {
            if let Some(q) = self.queues.get_mut(&target) {
                q.ready.push_back(stored.clone());
                self.pending.push(target);
            }
        }
    }

    /// Delivers whatever can be delivered, until nothing changes.
    fn flush(&mut self, weak: &SharedState) {
        while let Some(queue) = self.pending.pop() {
            self.dispatch(weak, &queue);
        }
    }

    fn dispatch(&mut self, weak: &SharedState, queue: &str) {
        loop {
            let Some(q) = self.queues.get_mut(queue) else {
                return;
            };
            if q.returns.is_empty() && q.ready.is_empty() {
                return;
            }
            let Some(idx) = q.pick_consumer() else { return };
            let Some(stored) = q.take_next() else { return };
            self.next_tag += 1;
            let tag = self.next_tag;
            let parts = DeliveryParts {
                tag,
                queue: queue.to_owned(),
                exchange: stored.exchange.clone(),
                routing_key: stored.routing_key.clone(),
                message_id: stored.message_id.clone(),
                message_type: stored.message_type.clone(),
                correlation_id: stored.correlation_id.clone(),
                headers: stored.headers.clone(),
                payload: stored.payload.clone(),
                redelivered: stored.redelivered,
                delivery_count: stored.delivery_count,
                dead_letter: delivery::death_from_headers(&stored.headers)
                    .or_else(|| stored.death.clone()),
                dead_letter_route: q.spec.dead_letter.clone(),
            };
            let settler = MemorySettler {
                state: weak.clone(),
                queue: queue.to_owned(),
                tag,
            };
            let delivery = Delivery::new(parts, Settler::Memory(settler));
            let consumer = &mut q.consumers[idx];
            match consumer.tx.send(delivery) {
                Ok(()) => {
                    consumer.in_flight += 1;
                    let id = consumer.id;
                    q.unacked.insert(
                        tag,
                        Unacked {
                            stored,
                            consumer: id,
                        },
                    );
                }
                Err(mpsc::error::SendError(mut undelivered)) => {
                    // The consumer's stream is gone: it never saw this message, so it goes back
                    // uncounted; the consumer's unsettled messages are returned as on a crash.
                    undelivered.defuse();
                    q.returns.push_front(stored);
                    let id = consumer.id;
                    self.remove_consumer(queue, id);
                }
            }
        }
    }
}
