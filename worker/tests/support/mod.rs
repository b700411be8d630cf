//! Test harness: a real job store (a fresh PostgreSQL database, or SQLite in a temp dir), a real
//! broker (RabbitMQ with a random topology prefix, or the in-process broker), a blob store in a
//! temp dir, and helpers to submit jobs and watch what comes out. Everything is removed when the
//! harness is dropped, also after a failed assertion.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use contracts::Channel;
use messaging::{Broker, Consumer, Delivery, RabbitConfig, Topology};
use pricing_core::Limits;
use pricing_core::pricing::Rules;
use scheduler::intake::{self, IntakeRequest, StoredModel};
use scheduler::roles::RelayConfig;
use scheduler::{BlobConfig, BlobStore, Job, JobStatus, JobStore, StoreConfig};
use test_support::PgDatabase;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use worker::{TimeLimit, WorkerConfig, WorkerContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// RabbitMQ + PostgreSQL: the cluster.
    Cluster,
    /// In-process broker + SQLite: `pricing serve` with no configuration.
    Embedded,
}

pub fn rabbit_config(name: &str) -> RabbitConfig {
    RabbitConfig::from_env().with_connection_name(name.to_owned())
}

pub struct Harness {
    pub backend: Backend,
    pub store: Arc<dyn JobStore>,
    pub database_url: String,
    pub blobs: BlobStore,
    pub blob_dir: std::path::PathBuf,
    pub broker: Broker,
    pub topology: Topology,
    pub rules: Arc<Rules>,
    /// Dropped with the harness, after the topology.
    pg_database: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new(backend: Backend) -> Harness {
        Harness::with_config(backend, StoreConfig::default()).await
    }

    pub async fn with_config(backend: Backend, config: StoreConfig) -> Harness {
        init_tracing();
        let dir = tempfile::tempdir().unwrap();
        let (database_url, pg_database) = match backend {
            Backend::Cluster => {
                let db = PgDatabase::create("test_worker").await;
                (db.url().to_owned(), Some(db))
            }
            Backend::Embedded => (test_support::sqlite_url(dir.path()), None),
        };
        let store = scheduler::connect(&database_url, config).await.unwrap();
        let blob_dir = dir.path().join("blobs");
        let blobs = BlobStore::from_config(&BlobConfig::Local {
            dir: blob_dir.clone(),
        })
        .unwrap();
        let topology = Topology::new(test_support::unique_name("test_worker"));
        let broker = match backend {
            Backend::Cluster => Broker::rabbit(rabbit_config(topology.prefix()))
                .await
                .expect("RabbitMQ must be running (AMQP_URL or 127.0.0.1:5672)"),
            Backend::Embedded => Broker::memory(),
        };
        broker.declare(&topology).await.unwrap();
        Harness {
            backend,
            store,
            database_url,
            blobs,
            blob_dir,
            broker,
            topology,
            rules: Arc::new(Rules::default_shipped().unwrap()),
            pg_database,
            _dir: dir,
        }
    }

    pub fn context(&self) -> WorkerContext {
        WorkerContext::new(
            self.store.clone(),
            self.blobs.clone(),
            self.broker.clone(),
            self.topology.clone(),
            self.rules.clone(),
        )
    }

    pub async fn put_model(&self, bytes: Vec<u8>) -> String {
        self.blobs.put(bytes.into()).await.unwrap().sha256
    }

    /// Submits a job for a stored model the way the API and MES intake do.
    pub async fn submit(&self, sha256: &str, channel: Channel, partner_ref: Option<&str>) -> Job {
        let bytes = self.blobs.get(sha256).await.unwrap();
        let model = StoredModel {
            sha256,
            size: bytes.len() as u64,
            prefix: &bytes[..bytes.len().min(4096)],
        };
        let request = IntakeRequest {
            tenant: "acme".into(),
            channel,
            idempotency_key: format!("key-{}", Uuid::new_v4()),
            partner_ref: partner_ref.map(str::to_owned),
            alloys: vec!["au750y".into()],
            units: None,
            format_hint: None,
            rules_version: None,
        };
        intake::submit_model(
            self.store.as_ref(),
            &self.blobs,
            model,
            request,
            intake::Probing {
                limits: &Limits::default(),
                slots: None,
            },
            &intake::Open,
        )
        .await
        .unwrap()
        .submission
        .job
        .job
    }

    pub async fn consume(&self, queue: &messaging::QueueSpec) -> Consumer {
        self.broker.consume(queue, 0).await.unwrap()
    }

    /// Polls the store until `job` is in `status`.
    pub async fn wait_status(&self, job: Uuid, status: JobStatus, within: Duration) -> Job {
        test_support::poll(within, Duration::from_millis(20), || async {
            let j = self.store.get_job(job).await.unwrap().job;
            if j.status == status {
                Ok(j)
            } else {
                Err(format!(
                    "job {job} is {} (reason {:?}), expected {status}",
                    j.status, j.reason
                ))
            }
        })
        .await
    }

    pub async fn wait_until<F, Fut>(&self, what: &str, within: Duration, check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        test_support::wait_until(what, within, check).await;
    }

    /// Starts the outbox relay with fresh stop and wake signals, for the tasks a scenario starts
    /// next to share.
    pub fn start(&self) -> Running {
        let stop = CancellationToken::new();
        let wake = Arc::new(tokio::sync::Notify::new());
        let relay = self.relay(wake.clone(), &stop);
        Running { stop, wake, relay }
    }

    /// Starts a worker on `run`'s signals.
    pub fn start_worker(&self, run: &Running, id: &str, slots: u16) -> Task {
        self.worker(worker_config(id, slots), run.wake.clone(), &run.stop)
    }

    /// Starts the dead-letter watcher on `run`'s signals.
    pub fn start_dead_letter_watcher(&self, run: &Running) -> Task {
        let ctx = self
            .context()
            .with_outbox_notify(run.wake.clone())
            .role_context();
        let stop = run.stop.clone();
        tokio::spawn(async move { Ok(scheduler::roles::run_dead_letter_watcher(ctx, stop).await?) })
    }

    /// Starts the MES inbound consumer on `run`'s signals.
    pub fn start_mes_inbound(&self, run: &Running) -> Task {
        let ctx = self
            .context()
            .with_outbox_notify(run.wake.clone())
            .role_context();
        let stop = run.stop.clone();
        tokio::spawn(async move { Ok(scheduler::roles::run_mes_inbound(ctx, stop).await?) })
    }

    /// A consumer on MES's results queue.
    pub async fn mes(&self) -> Consumer {
        self.consume(&self.topology.mes_results_queue()).await
    }

    /// Waits (up to [`WAIT`]) until `job` is priced.
    pub async fn wait_priced(&self, job: Uuid) -> Job {
        self.wait_status(job, JobStatus::PriceCalculated, WAIT)
            .await
    }

    /// Waits (up to [`WAIT`]) until `queue` holds `ready` messages.
    pub async fn wait_ready(&self, what: &str, queue: &str, ready: u32) {
        self.wait_until(what, WAIT, || async {
            self.broker.ready_count(queue).await.unwrap() == ready
        })
        .await;
    }

    /// Waits until the small lane's queue is empty.
    pub async fn wait_small_lane_empty(&self) {
        let lane = self.topology.lane_queue(contracts::Lane::Small).name;
        self.wait_ready("the lane to be empty", &lane, 0).await;
    }

    /// Waits (up to [`WAIT`]) until `worker_id` is calculating `job`.
    pub async fn wait_started_by(&self, job: Uuid, worker_id: &str) {
        self.wait_until("the worker to start the job", WAIT, || async {
            let j = self.store.get_job(job).await.unwrap().job;
            j.status == JobStatus::Calculating && j.worker_id.as_deref() == Some(worker_id)
        })
        .await;
    }

    /// How many times `job` moved to `status`.
    pub async fn transitions_to(&self, job: Uuid, status: JobStatus) -> usize {
        let history = self.store.history(job).await.unwrap();
        history.iter().filter(|t| t.to_status == status).count()
    }

    /// Starts the outbox relay, woken by `wake`.
    pub fn relay(
        &self,
        wake: Arc<tokio::sync::Notify>,
        stop: &CancellationToken,
    ) -> JoinHandle<()> {
        let config = RelayConfig {
            poll_every: Duration::from_millis(100),
            retry_after: Duration::from_millis(200),
            ..RelayConfig::default()
        }
        .with_wake(wake);
        let (store, broker, topology, stop) = (
            self.store.clone(),
            self.broker.clone(),
            self.topology.clone(),
            stop.clone(),
        );
        tokio::spawn(async move {
            scheduler::roles::run_relay_with(store, broker, topology, config, stop)
                .await
                .unwrap();
        })
    }

    /// Starts a worker sharing `wake` with a relay.
    pub fn worker(
        &self,
        cfg: WorkerConfig,
        wake: Arc<tokio::sync::Notify>,
        stop: &CancellationToken,
    ) -> JoinHandle<Result<(), worker::WorkerError>> {
        let ctx = self.context().with_outbox_notify(wake);
        tokio::spawn(worker::run_worker(ctx, cfg, stop.clone()))
    }
}

/// A worker's or watcher's task.
pub type Task = JoinHandle<Result<(), worker::WorkerError>>;

/// What runs beside a scenario's workers: the outbox relay, and the stop and wake signals the
/// tasks the scenario starts share.
pub struct Running {
    pub stop: CancellationToken,
    pub wake: Arc<tokio::sync::Notify>,
    relay: JoinHandle<()>,
}

impl Running {
    /// Tells the relay and the tasks on `stop` to stop; each must end cleanly, the relay last.
    pub async fn shutdown(self, tasks: impl IntoIterator<Item = Task>) {
        self.stop.cancel();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        self.relay.await.unwrap();
    }
}

impl Harness {
    /// What a re-executed worker process (test child, benchmark worker) needs to join this harness:
    /// database, blob directory, topology prefix and its worker id, one per line.
    pub fn child_spec(&self, worker_id: &str) -> String {
        format!(
            "{}\n{}\n{}\n{worker_id}",
            self.database_url,
            self.blob_dir.display(),
            self.topology.prefix()
        )
    }
}

/// The worker id and context a re-executed worker process builds from [`Harness::child_spec`]:
/// its own store pool, blob store and RabbitMQ connection (named after the worker).
pub async fn child_context(spec: &str) -> (String, WorkerContext) {
    let [database_url, blob_dir, prefix, worker_id]: [&str; 4] =
        spec.split('\n').collect::<Vec<_>>().try_into().unwrap();
    let store = scheduler::connect(database_url, StoreConfig::default())
        .await
        .unwrap();
    let blobs = BlobStore::from_config(&BlobConfig::Local {
        dir: blob_dir.into(),
    })
    .unwrap();
    let broker = Broker::rabbit(rabbit_config(worker_id)).await.unwrap();
    let ctx = WorkerContext::new(
        store,
        blobs,
        broker,
        Topology::new(prefix),
        Arc::new(Rules::default_shipped().unwrap()),
    );
    (worker_id.to_owned(), ctx)
}

pub fn worker_config(id: &str, slots: u16) -> WorkerConfig {
    WorkerConfig {
        heartbeat_every: Duration::from_millis(200),
        drain_grace: Duration::from_secs(20),
        store_retry_backoff: Duration::from_millis(100),
        retry_backoff: Duration::from_millis(100),
        ..WorkerConfig::new(id)
    }
    .with_slots(slots)
    .with_time_limit(TimeLimit::fixed(Duration::from_secs(120)))
}

impl Drop for Harness {
    fn drop(&mut self) {
        if self.backend != Backend::Cluster {
            return;
        }
        let topology = self.topology.clone();
        test_support::on_own_runtime(move || async move {
            if let Ok(broker) = Broker::rabbit(rabbit_config("test-cleanup")).await {
                let _ = broker.delete(&topology).await;
            }
        });
    }
}

pub const WAIT: Duration = Duration::from_secs(60);
/// How long "nothing more arrives" is observed for.
pub const QUIET: Duration = Duration::from_millis(1500);

/// The next delivery, failing the test if none arrives in time.
pub async fn recv(consumer: &mut Consumer) -> Delivery {
    tokio::time::timeout(WAIT, consumer.next())
        .await
        .expect("timed out waiting for a delivery")
        .expect("consumer ended")
}

/// A delivery as the tests compare it: message id, payload, correlation id.
pub type Event = (String, Vec<u8>, Option<String>);

fn event(d: &Delivery) -> Event {
    (
        d.message_id().unwrap_or_default().to_owned(),
        d.payload().to_vec(),
        d.correlation_id().map(str::to_owned),
    )
}

/// Everything that arrives until the queue stays quiet for [`QUIET`], acknowledged.
pub async fn drain_quiet(consumer: &mut Consumer) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(Some(d)) = tokio::time::timeout(QUIET, consumer.next()).await {
        out.push(event(&d));
        d.ack().await.unwrap();
    }
    out
}

/// The `expected` deliveries (each within [`WAIT`]) and whatever follows until the queue stays
/// quiet, acknowledged.
pub async fn receive(consumer: &mut Consumer, expected: usize) -> Vec<Event> {
    let mut out = Vec::new();
    for _ in 0..expected {
        let d = recv(consumer).await;
        out.push(event(&d));
        d.ack().await.unwrap();
    }
    out.extend(drain_quiet(consumer).await);
    out
}

pub fn stl_bytes(mesh: &fixtures::PolyMesh) -> Vec<u8> {
    let mut out = Vec::new();
    fixtures::write_stl_binary(&mesh.to_f32(), &mut out).unwrap();
    out
}

/// The 2,304-triangle torus ring of the committed fixture set.
pub fn torus() -> Vec<u8> {
    let f = fixtures::committed()
        .into_iter()
        .find(|f| f.name == "torus_ring")
        .unwrap();
    stl_bytes(&f.mesh)
}

/// A ring with about `triangles` triangles.
pub fn ring(triangles: usize) -> Vec<u8> {
    stl_bytes(&fixtures::big_ring(triangles).0)
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

/// Runs the async scenario `$name(backend)` as two tests: `$name::cluster` (RabbitMQ +
/// PostgreSQL) and `$name::embedded` (in-process broker + SQLite).
#[macro_export]
macro_rules! on_both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn cluster() {
                super::$name($crate::support::Backend::Cluster).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn embedded() {
                super::$name($crate::support::Backend::Embedded).await;
            }
        }
    };
}
