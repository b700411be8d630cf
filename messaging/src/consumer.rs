//! A subscription to one queue: a stream of deliveries, at most `prefetch` unsettled at a time.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

use crate::delivery::Delivery;
use crate::memory;

/// How the subscription is torn down when the consumer is dropped.
pub(crate) enum Cancel {
    /// Unregisters the consumer and returns its unsettled messages at once.
    Memory(memory::ConsumerHandle),
    /// The consuming task notices the closed channel and closes its AMQP channel, which makes
    /// RabbitMQ return the unsettled messages.
    Rabbit,
}

/// Deliveries of one queue. Dropping the consumer returns every message it holds unsettled.
pub struct Consumer {
    queue: String,
    rx: mpsc::UnboundedReceiver<Delivery>,
    cancel: Option<Cancel>,
    resubscriptions: Arc<AtomicU64>,
}

impl Consumer {
    pub(crate) fn new(
        queue: String,
        rx: mpsc::UnboundedReceiver<Delivery>,
        cancel: Cancel,
        resubscriptions: Arc<AtomicU64>,
    ) -> Self {
        Consumer {
            queue,
            rx,
            cancel: Some(cancel),
            resubscriptions,
        }
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// The next delivery; `None` when the in-process broker is dropped or the queue deleted. A
    /// RabbitMQ consumer never ends: it waits through reconnections and re-subscribes (also to a
    /// deleted queue, until it is declared again).
    pub async fn next(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }

    /// A delivery already received, without waiting.
    pub fn try_next(&mut self) -> Option<Delivery> {
        self.rx.try_recv().ok()
    }

    pub fn poll_next_delivery(&mut self, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        self.rx.poll_recv(cx)
    }

    /// How many times the subscription was re-established after a lost connection or a
    /// cancellation by the broker (always 0 in memory).
    pub fn resubscriptions(&self) -> u64 {
        self.resubscriptions.load(Ordering::Relaxed)
    }
}

impl Stream for Consumer {
    type Item = Delivery;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Delivery>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        // Unregister first so that messages returned below are not handed back to this consumer.
        if let Some(Cancel::Memory(handle)) = self.cancel.take() {
            handle.cancel();
        }
        self.rx.close();
        while let Ok(delivery) = self.rx.try_recv() {
            drop(delivery);
        }
    }
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("queue", &self.queue)
            .finish()
    }
}
