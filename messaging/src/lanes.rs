//! Consuming several lanes with one budget of slots, smallest lane first.
//!
//! Guarantee, precisely:
//! - at most `slots` deliveries handed out by [`LaneConsumer::next`] are unsettled at any time
//!   (a delivery holds its slot until it is acked, nacked, dead-lettered or dropped);
//! - `next` waits for a free slot first, then returns a delivery from the first lane, in the
//!   order given (smallest first), that has one already received; if none has, it returns
//!   whichever arrives first, preferring the earlier lane when several arrive together;
//! - each lane is subscribed with prefetch = `slots`, so any lane alone can fill every slot.
//!
//! Limits: the preference applies to deliveries this process has received. With RabbitMQ, a
//! small job still in flight from the broker (typically for one round trip after an ack frees
//! prefetch room) can lose to a larger job already buffered here. And while all slots are busy
//! each lane may hold up to `slots` received-but-not-started messages, unacked at the broker and
//! therefore invisible to other workers until this process starts, drops or settles them.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use tokio::sync::Semaphore;

use crate::broker::Broker;
use crate::consumer::Consumer;
use crate::delivery::Delivery;
use crate::error::Result;
use crate::topology::Topology;
use contracts::Lane;

pub struct LaneConsumer {
    lanes: Vec<(Lane, Consumer)>,
    slots: Arc<Semaphore>,
    capacity: u16,
}

impl LaneConsumer {
    /// Subscribes to every lane of `topology`, smallest first, with `slots` shared slots.
    pub async fn start(broker: &Broker, topology: &Topology, slots: u16) -> Result<Self> {
        Self::start_lanes(broker, topology, &Lane::ALL, slots).await
    }

    /// Subscribes to `lanes` in the given priority order.
    pub async fn start_lanes(
        broker: &Broker,
        topology: &Topology,
        lanes: &[Lane],
        slots: u16,
    ) -> Result<Self> {
        let slots = slots.max(1);
        let mut consumers = Vec::with_capacity(lanes.len());
        for &lane in lanes {
            consumers.push((
                lane,
                broker.consume(&topology.lane_queue(lane), slots).await?,
            ));
        }
        Ok(LaneConsumer::new(consumers, slots))
    }

    /// Combines existing consumers; their order is the priority order.
    pub fn new(lanes: Vec<(Lane, Consumer)>, slots: u16) -> Self {
        let capacity = slots.max(1);
        LaneConsumer {
            lanes,
            slots: Arc::new(Semaphore::new(usize::from(capacity))),
            capacity,
        }
    }

    pub fn capacity(&self) -> u16 {
        self.capacity
    }

    pub fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }

    /// Waits for a free slot, then for the highest-priority delivery available. `None` when
    /// every lane's consumer has ended.
    pub async fn next(&mut self) -> Option<(Lane, Delivery)> {
        let permit = self.slots.clone().acquire_owned().await.ok()?;
        let (lane, mut delivery) = poll_fn(|cx| {
            let mut open = 0;
            for (lane, consumer) in &mut self.lanes {
                match consumer.poll_next_delivery(cx) {
                    Poll::Ready(Some(delivery)) => return Poll::Ready(Some((*lane, delivery))),
                    Poll::Ready(None) => {}
                    Poll::Pending => open += 1,
                }
            }
            if open == 0 {
                Poll::Ready(None)
            } else {
                Poll::Pending
            }
        })
        .await?;
        delivery.hold_slot(permit);
        Some((lane, delivery))
    }
}
