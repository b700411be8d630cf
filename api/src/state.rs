//! What every handler shares.

use std::sync::Arc;

use messaging::{Broker, Topology};
use pricing_core::pricing::Rules;
use scheduler::{BlobStore, JobStore};
use tokio::sync::{Notify, Semaphore};

use crate::auth::keys::KeyStore;
use crate::config::ApiConfig;
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use crate::stats::Collector;
use scheduler::accounts::Quotas;
use scheduler::store::Db;

/// The service's backends, built by the caller (`pricing serve`, `pricing api`, tests).
#[derive(Clone)]
pub struct Backends {
    pub store: Arc<dyn JobStore>,
    pub blobs: BlobStore,
    /// The API's own pool on the store's database (keys, lane statistics).
    pub db: Db,
    /// For queue depths and readiness; `None` when this process has no broker connection.
    pub broker: Option<Broker>,
    pub topology: Topology,
    pub rules: Arc<Rules>,
    /// Woken after each submission or retry so an in-process outbox relay publishes at once.
    pub outbox_notify: Option<Arc<Notify>>,
}

/// Cheap to clone: everything is behind `Arc`s.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn JobStore>,
    pub blobs: BlobStore,
    pub db: Db,
    pub keys: Arc<KeyStore>,
    pub broker: Option<Broker>,
    pub topology: Topology,
    pub rules: Arc<Rules>,
    pub outbox_notify: Option<Arc<Notify>>,
    pub config: Arc<ApiConfig>,
    pub metrics: Arc<Metrics>,
    /// Request rate limits, per replica.
    pub limiter: Arc<RateLimiter>,
    /// Daily job quotas, in the shared database (global across replicas).
    pub quotas: Arc<Quotas>,
    pub collector: Arc<Collector>,
    /// Bounds full-file probes (each holds a model in memory).
    pub probes: Arc<Semaphore>,
    /// Serialises the count-then-submit of heavy jobs so one process never over-admits.
    pub heavy_gate: Arc<tokio::sync::Mutex<()>>,
    /// The alloys quoted when a request names none.
    pub default_alloys: Arc<Vec<String>>,
}

impl AppState {
    pub fn new(backends: Backends, config: ApiConfig) -> Result<Self, prometheus::Error> {
        let default_alloys = default_alloys(&backends.rules);
        Ok(AppState {
            keys: Arc::new(KeyStore::new(backends.db.clone())),
            quotas: Arc::new(Quotas::new(backends.db.clone())),
            store: backends.store,
            blobs: backends.blobs,
            db: backends.db,
            broker: backends.broker,
            topology: backends.topology,
            rules: backends.rules,
            outbox_notify: backends.outbox_notify,
            probes: Arc::new(Semaphore::new(config.probe_concurrency.max(1))),
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()?),
            limiter: Arc::new(RateLimiter::default()),
            collector: Arc::new(Collector::default()),
            heavy_gate: Arc::new(tokio::sync::Mutex::new(())),
            default_alloys: Arc::new(default_alloys),
        })
    }

    /// Tells an in-process relay that the outbox has new rows.
    pub fn wake_relay(&self) {
        if let Some(n) = &self.outbox_notify {
            n.notify_one();
        }
    }
}

/// 18k yellow gold when the rules have it, else their first alloy.
fn default_alloys(rules: &Rules) -> Vec<String> {
    let codes: Vec<&str> = rules.alloy_codes().collect();
    let pick = codes
        .iter()
        .find(|c| **c == "au750y")
        .or(codes.first())
        .map(|c| (*c).to_owned());
    pick.into_iter().collect()
}
