//! Messaging for the pricing cluster: the broker topology, and one transport with two
//! implementations — RabbitMQ (lapin) and an in-process broker with the same semantics, used by
//! `pricing serve` when no broker is configured. What travels is the `contracts` crate's.
//!
//! Layout:
//! - [`topology`]: the exchanges, queues and bindings derived from one name prefix, for the
//!   contracts' lanes and routing keys.
//! - [`message`], [`delivery`], [`consumer`]: what is published, what is received, how it is
//!   settled.
//! - [`broker`]: [`Broker`], the transport: `declare`, `publish` (confirmed), `consume`.
//! - [`memory`], [`rabbit`]: the two implementations.
//! - [`lanes`]: [`LaneConsumer`], several lanes sharing N slots, smallest lane first.
//!
//! Semantics shared by both implementations (and tested against both):
//! - `publish` returns after the broker confirmed; persistent; mandatory: an unroutable message
//!   is [`MessagingError::Unroutable`], never silently dropped.
//! - manual acknowledgement; at most `prefetch` unsettled deliveries per consumer; a delivery
//!   nacked with requeue, dropped unsettled, or held by a consumer that goes away is delivered
//!   again with `redelivered` set and its delivery count incremented. Returned messages are
//!   delivered before messages never delivered (RabbitMQ quorum-queue behaviour).
//! - delivery limit (RabbitMQ 3.10 quorum queues, observed): the count starts at 0 and every
//!   return adds 1 — a nack with requeue, a dropped delivery, a closed channel alike; when a
//!   return makes it exceed `x-delivery-limit` the message is dead-lettered with reason
//!   `delivery_limit`. So a message is delivered at most `limit + 1` times.
//! - dead-letter queues receive rejected and over-delivered messages with the reason and the
//!   source queue ([`DeadLetterInfo`]).

pub mod broker;
pub mod consumer;
pub mod delivery;
pub mod error;
pub mod lanes;
pub mod memory;
pub mod message;
pub mod rabbit;
pub mod topology;

pub use broker::{Broker, QueueCounts};
pub use consumer::Consumer;
pub use delivery::Delivery;
pub use error::{MessagingError, Result};
pub use lanes::LaneConsumer;
pub use memory::MemoryBroker;
pub use message::{DeadLetterInfo, Headers, Publish};
pub use rabbit::{RabbitBroker, RabbitConfig};
pub use topology::{DeadLetterRoute, QueueSpec, Route, Topology};
