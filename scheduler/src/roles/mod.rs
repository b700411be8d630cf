//! The scheduler role's loops, each running until its cancellation token is cancelled:
//! - [`run_relay`] (`relay.rs`): publishes the outbox to the broker as written (at least once,
//!   confirmed, deterministic message ids);
//! - [`run_mes_inbound`] (`inbound.rs`): MES `SubmitJob` messages become jobs through the same
//!   intake as an HTTP upload;
//! - [`run_dead_letter_watcher`] (`dead_letters.rs`): records as FAILED the jobs whose run
//!   message the broker dead-lettered before any worker could record an outcome.
//!
//! `pricing scheduler` runs all three; `pricing serve` runs them beside the API and a worker.

use std::sync::Arc;

use messaging::{Broker, Topology};
use tokio::sync::Notify;

use crate::blob::BlobStore;
use crate::store::JobStore;

pub mod dead_letters;
pub mod inbound;
pub mod relay;

pub use dead_letters::{DeadLetterConfig, run_dead_letter_watcher, run_dead_letter_watcher_with};
pub use inbound::{InboundConfig, run_mes_inbound, run_mes_inbound_with};
pub use relay::{BrokerPublisher, RelayConfig, relay_once, run_relay, run_relay_with};

/// What the scheduler's loops talk to. Cheap to clone.
#[derive(Clone)]
pub struct RoleContext {
    pub store: Arc<dyn JobStore>,
    pub blobs: BlobStore,
    pub broker: Broker,
    pub topology: Topology,
    /// The pricing rules' version in force: MES submissions are answered from the quote cache
    /// when a quote under these rules exists.
    pub rules_version: String,
    /// Notified after every change that wrote outbox rows, so a relay in this process publishes
    /// them at once instead of at its next poll.
    pub outbox_written: Arc<Notify>,
}

impl RoleContext {
    pub fn new(
        store: Arc<dyn JobStore>,
        blobs: BlobStore,
        broker: Broker,
        topology: Topology,
        rules_version: impl Into<String>,
    ) -> Self {
        RoleContext {
            store,
            blobs,
            broker,
            topology,
            rules_version: rules_version.into(),
            outbox_written: Arc::new(Notify::new()),
        }
    }

    /// Shares `notify` with a relay ([`RelayConfig::wake`]).
    pub fn with_outbox_notify(mut self, notify: Arc<Notify>) -> Self {
        self.outbox_written = notify;
        self
    }
}

impl std::fmt::Debug for RoleContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoleContext")
            .field("store", &self.store)
            .field("topology", &self.topology.prefix())
            .field("rules_version", &self.rules_version)
            .finish_non_exhaustive()
    }
}

/// Why one of the loops stopped without being asked to. Failures of single messages never stop
/// it: they are settled on the message (retry, dead letter) and recorded on the job.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    /// Declaring the topology or subscribing failed at start-up.
    #[error("broker: {0}")]
    Broker(#[from] messaging::MessagingError),
    /// Every subscription ended (the in-process broker was dropped or its queues deleted).
    #[error("the broker closed every subscription of this role")]
    SubscriptionsEnded,
}
