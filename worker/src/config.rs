//! What a worker runs with: its services ([`WorkerContext`]) and its settings ([`WorkerConfig`]).

use std::sync::Arc;
use std::time::Duration;

use contracts::Lane;
use messaging::{Broker, Topology};
use pricing_core::pricing::Rules;
use scheduler::{BlobStore, JobStore};
use tokio::sync::Notify;

use crate::compute::ComputePools;

/// The services a worker talks to. Cheap to clone.
#[derive(Clone)]
pub struct WorkerContext {
    pub store: Arc<dyn JobStore>,
    pub blobs: BlobStore,
    pub broker: Broker,
    pub topology: Topology,
    pub rules: Arc<Rules>,
    /// Notified after every change that wrote outbox rows, so a relay in this process publishes
    /// them at once instead of at its next poll.
    pub outbox_written: Arc<Notify>,
    /// A thread pool for each pricing run in progress ([`ComputePools`]).
    pub compute: Arc<ComputePools>,
}

impl WorkerContext {
    pub fn new(
        store: Arc<dyn JobStore>,
        blobs: BlobStore,
        broker: Broker,
        topology: Topology,
        rules: Arc<Rules>,
    ) -> Self {
        WorkerContext {
            store,
            blobs,
            broker,
            topology,
            rules,
            outbox_written: Arc::new(Notify::new()),
            compute: Arc::new(ComputePools::per_cpu()),
        }
    }

    /// Each run prices with `threads` threads instead of every CPU: runs take the same time
    /// whether or not other runs overlap them (what a promise assumes), at the cost of a lone
    /// large job's speed.
    pub fn with_threads_per_job(mut self, threads: usize) -> Self {
        self.compute = Arc::new(ComputePools::new(threads));
        self
    }

    /// Shares `notify` with a relay ([`scheduler::roles::RelayConfig::wake`]).
    pub fn with_outbox_notify(mut self, notify: Arc<Notify>) -> Self {
        self.outbox_written = notify;
        self
    }

    /// The same services for the scheduler's loops in this process (`pricing serve`), sharing
    /// the outbox notification with the worker.
    pub fn role_context(&self) -> scheduler::roles::RoleContext {
        scheduler::roles::RoleContext::new(
            self.store.clone(),
            self.blobs.clone(),
            self.broker.clone(),
            self.topology.clone(),
            self.rules.version(),
        )
        .with_outbox_notify(self.outbox_written.clone())
    }
}

impl std::fmt::Debug for WorkerContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerContext")
            .field("store", &self.store)
            .field(
                "broker",
                &if self.broker.is_memory() {
                    "memory"
                } else {
                    "rabbitmq"
                },
            )
            .field("topology", &self.topology.prefix())
            .field("rules", &self.rules.version())
            .finish_non_exhaustive()
    }
}

/// How long one pricing run may take: `base + per_million_triangles × triangles / 1e6`, so a
/// large model gets proportionally longer than a small one in the same worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimit {
    pub base: Duration,
    pub per_million_triangles: Duration,
}

impl TimeLimit {
    /// The same limit for every model.
    pub const fn fixed(limit: Duration) -> Self {
        TimeLimit {
            base: limit,
            per_million_triangles: Duration::ZERO,
        }
    }

    pub fn for_triangles(&self, triangles: u64) -> Duration {
        let millions = triangles as f64 / 1e6;
        let extra = self.per_million_triangles.as_secs_f64() * millions;
        self.base
            .saturating_add(Duration::try_from_secs_f64(extra).unwrap_or(Duration::MAX))
    }
}

impl Default for TimeLimit {
    /// The measured default cost model predicts 1.0–1.5 s per million triangles on one slot
    /// (`scheduler::cost::FORMAT_DEFAULTS`); this allows 20 times that, plus 30 s.
    fn default() -> Self {
        TimeLimit {
            base: Duration::from_secs(30),
            per_million_triangles: Duration::from_secs(30),
        }
    }
}

/// A worker's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerConfig {
    /// Shown to operators (heartbeats, job history `worker:<id>`); unique per process.
    pub worker_id: String,
    /// Jobs priced at once; also the prefetch of every lane.
    pub slots: u16,
    /// Lanes consumed, in priority order (smallest first).
    pub lanes: Vec<Lane>,
    pub time_limit: TimeLimit,
    pub heartbeat_every: Duration,
    /// On shutdown, how long in-flight jobs may run before they are returned to their queue.
    pub drain_grace: Duration,
    /// Pause before retrying after the job store failed (it is likely down for a moment).
    pub store_retry_backoff: Duration,
    /// Pause before returning a job whose attempt failed (panic, time-out, unreadable blob),
    /// doubled at each attempt ([`scheduler::backoff::retry_pause`]): a blob store or node down for a
    /// few seconds must not use up a job's attempts in a few milliseconds.
    pub retry_backoff: Duration,
}

impl WorkerConfig {
    /// Defaults with `worker_id`.
    pub fn new(worker_id: impl Into<String>) -> Self {
        WorkerConfig {
            worker_id: worker_id.into(),
            ..WorkerConfig::default()
        }
    }

    pub fn with_slots(mut self, slots: u16) -> Self {
        self.slots = slots.max(1);
        self
    }

    pub fn with_lanes(mut self, lanes: Vec<Lane>) -> Self {
        self.lanes = lanes;
        self
    }

    pub fn with_time_limit(mut self, limit: TimeLimit) -> Self {
        self.time_limit = limit;
        self
    }
}

/// Threads per run for `slots` slots: the CPUs shared among the slots (at least one). Each run
/// then takes as long whether or not other runs overlap it, which is what its promise (and the
/// cost model, fitted per slot) assumes; a lone large job gives up the idle CPUs' speed.
pub fn default_threads_per_job(slots: u16) -> usize {
    (usize::from(available_slots()) / usize::from(slots.max(1))).max(1)
}

/// CPUs available to this process (1 if unknown).
pub fn available_slots() -> u16 {
    std::thread::available_parallelism()
        .map(|n| u16::try_from(n.get()).unwrap_or(u16::MAX))
        .unwrap_or(1)
}

/// `<hostname>-<pid>`: unique per process, readable by operators.
pub fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            worker_id: default_worker_id(),
            slots: available_slots(),
            lanes: Lane::ALL.to_vec(),
            time_limit: TimeLimit::default(),
            heartbeat_every: Duration::from_secs(5),
            drain_grace: Duration::from_secs(30),
            store_retry_backoff: Duration::from_millis(500),
            retry_backoff: Duration::from_secs(2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_per_job_share_the_cpus_among_the_slots() {
        let cpus = usize::from(available_slots());
        // (slots, threads per job)
        let cases = [
            (0, cpus),
            (1, cpus),
            (2, (cpus / 2).max(1)),
            (available_slots(), 1),
            (u16::MAX, 1),
        ];
        for (slots, want) in cases {
            assert_eq!(default_threads_per_job(slots), want, "{slots} slots");
        }
    }

    #[test]
    fn time_limit_grows_with_triangles() {
        let limit = TimeLimit {
            base: Duration::from_secs(2),
            per_million_triangles: Duration::from_secs(10),
        };
        let cases = [
            (0, Duration::from_secs(2)),
            (100_000, Duration::from_secs(3)),
            (1_000_000, Duration::from_secs(12)),
            (10_000_000, Duration::from_secs(102)),
        ];
        for (triangles, want) in cases {
            let got = limit.for_triangles(triangles);
            let diff = got.abs_diff(want);
            assert!(diff < Duration::from_millis(1), "{triangles}: {got:?}");
        }
        let huge = TimeLimit {
            base: Duration::MAX,
            per_million_triangles: Duration::MAX,
        };
        assert_eq!(huge.for_triangles(u64::MAX), Duration::MAX);
        let fixed = TimeLimit::fixed(Duration::from_millis(50));
        assert_eq!(fixed.for_triangles(10_000_000), Duration::from_millis(50));
    }

    #[test]
    fn defaults_are_usable() {
        let c = WorkerConfig::new("w1").with_slots(0);
        assert_eq!(c.worker_id, "w1");
        assert_eq!(c.slots, 1);
        assert_eq!(c.lanes, Lane::ALL.to_vec());
        assert!(available_slots() >= 1);
        assert!(default_worker_id().ends_with(&std::process::id().to_string()));
    }
}
