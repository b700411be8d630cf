//! Test harness: a real job store (a fresh PostgreSQL database, or SQLite in a temp dir), a real
//! broker (RabbitMQ with a random topology prefix, or the in-process broker), a blob store in a
//! temp dir, and helpers to submit jobs and watch what comes out. Everything is removed when the
//! harness is dropped, also after a failed assertion.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use messaging::{Broker, Consumer, Delivery, RabbitConfig, Topology};
use pricing_core::Limits;
use pricing_core::pricing::Rules;
use scheduler::intake::{self, IntakeRequest, StoredModel};
use scheduler::{BlobConfig, BlobStore, Channel, Job, JobStatus, JobStore, StoreConfig};
use sqlx::Connection;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;
use worker::{RelayConfig, TimeLimit, WorkerConfig, WorkerContext};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// RabbitMQ + PostgreSQL: the cluster.
    Cluster,
    /// In-process broker + SQLite: `pricing serve` with no configuration.
    Embedded,
}

pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(admin: &str, db: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
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
    pg_database: Option<String>,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub async fn new(backend: Backend) -> Harness {
        Harness::with_config(backend, StoreConfig::default()).await
    }

    pub async fn with_config(backend: Backend, config: StoreConfig) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let suffix = Uuid::new_v4().simple().to_string();
        let (database_url, pg_database) = match backend {
            Backend::Cluster => {
                let admin = admin_url();
                let db = format!("test_worker_{suffix}");
                let mut c = sqlx::PgConnection::connect(&admin)
                    .await
                    .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required: {e}"));
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
                    .execute(&mut c)
                    .await
                    .unwrap();
                (with_database(&admin, &db), Some(db))
            }
            Backend::Embedded => (
                format!("sqlite://{}?mode=rwc", dir.path().join("jobs.db").display()),
                None,
            ),
        };
        let store = scheduler::connect(&database_url, config).await.unwrap();
        let blob_dir = dir.path().join("blobs");
        let blobs = BlobStore::from_config(&BlobConfig::Local {
            dir: blob_dir.clone(),
        })
        .unwrap();
        let topology = Topology::new(format!("test-worker-{suffix}"));
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
            &Limits::default(),
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
        let deadline = Instant::now() + within;
        loop {
            let j = self.store.get_job(job).await.unwrap().job;
            if j.status == status {
                return j;
            }
            assert!(
                Instant::now() < deadline,
                "job {job} is {} (reason {:?}), expected {status}",
                j.status,
                j.reason
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn wait_until<F, Fut>(&self, what: &str, within: Duration, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + within;
        while !check().await {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
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
            worker::run_relay_with(store, broker, topology, config, stop)
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

pub fn worker_config(id: &str, slots: u16) -> WorkerConfig {
    WorkerConfig {
        heartbeat_every: Duration::from_millis(200),
        drain_grace: Duration::from_secs(20),
        store_retry_backoff: Duration::from_millis(100),
        ..WorkerConfig::new(id)
    }
    .with_slots(slots)
    .with_time_limit(TimeLimit::fixed(Duration::from_secs(120)))
}

impl Drop for Harness {
    fn drop(&mut self) {
        let db = self.pg_database.take();
        let topology = (self.backend == Backend::Cluster).then(|| self.topology.clone());
        // Drop cannot await and runs inside the test's runtime: clean up from a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Some(topology) = topology
                    && let Ok(broker) = Broker::rabbit(rabbit_config("test-cleanup")).await
                {
                    let _ = broker.delete(&topology).await;
                }
                if let Some(db) = db
                    && let Ok(mut c) = sqlx::PgConnection::connect(&admin_url()).await
                {
                    let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                }
            });
        })
        .join();
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

/// Everything that arrives until the queue stays quiet for [`QUIET`], acknowledged.
pub async fn drain_quiet(consumer: &mut Consumer) -> Vec<(String, Vec<u8>, Option<String>)> {
    let mut out = Vec::new();
    while let Ok(Some(d)) = tokio::time::timeout(QUIET, consumer.next()).await {
        out.push((
            d.message_id().unwrap_or_default().to_owned(),
            d.payload().to_vec(),
            d.correlation_id().map(str::to_owned),
        ));
        d.ack().await.unwrap();
    }
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
