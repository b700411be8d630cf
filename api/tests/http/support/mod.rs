//! A real API over a real database: a SQLite file in a temp directory, or a fresh PostgreSQL
//! database per test (dropped with the fixture). Requests go through the router with `oneshot`.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the support module"
)]

use std::sync::Arc;

use api::{ApiConfig, AppState, Backends, NewKey, Role};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use messaging::{Broker, Topology};
use scheduler::{BlobConfig, BlobStore, JobStore, StoreConfig};
use test_support::PgDatabase;
pub use test_support::fixture;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub state: AppState,
    pub store: Arc<dyn JobStore>,
    pub dir: tempfile::TempDir,
    /// The database's URL, for [`TestApp::replica`].
    url: String,
    /// Where the blobs are (in `dir`, or in the first replica's).
    blob_dir: std::path::PathBuf,
    /// Dropped with this fixture; `None` for SQLite and for replicas (the first one drops it).
    pg_database: Option<PgDatabase>,
}

pub async fn start(backend: Backend) -> TestApp {
    start_with(backend, ApiConfig::default(), StoreConfig::default()).await
}

/// An API where every job is routed to the large lane and a tenant may run one large job at a time,
/// for the per-tenant gate on heavy jobs.
pub async fn start_with_one_heavy_job_per_tenant(backend: Backend) -> TestApp {
    let config = ApiConfig {
        max_heavy_jobs_per_tenant: 1,
        ..ApiConfig::default()
    };
    let mut store_config = StoreConfig::default();
    store_config.lanes.small_max_seconds = 0.0;
    store_config.lanes.medium_max_seconds = 0.0;
    start_with(backend, config, store_config).await
}

pub async fn start_with(backend: Backend, config: ApiConfig, store_config: StoreConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let (url, pg_database) = match backend {
        Backend::Sqlite => (test_support::sqlite_url(dir.path()), None),
        Backend::Postgres => {
            let db = PgDatabase::create("test_api").await;
            (db.url().to_owned(), Some(db))
        }
    };
    let blob_dir = dir.path().join("blobs");
    let (state, store) = open_state(&url, &blob_dir, config, store_config).await;
    TestApp {
        state,
        store,
        dir,
        url,
        blob_dir,
        pg_database,
    }
}

/// An API process's state on the database at `url` and the blobs in `blob_dir`.
async fn open_state(
    url: &str,
    blob_dir: &std::path::Path,
    config: ApiConfig,
    store_config: StoreConfig,
) -> (AppState, Arc<dyn JobStore>) {
    let (store, db) = scheduler::store::open(url, store_config).await.unwrap();
    let blobs = BlobStore::from_config(&BlobConfig::Local {
        dir: blob_dir.to_owned(),
    })
    .unwrap();
    let broker = Broker::memory();
    let topology = Topology::new(test_support::unique_name("t"));
    broker.declare(&topology).await.unwrap();
    let backends = Backends {
        store: store.clone(),
        blobs,
        db,
        broker: Some(broker),
        topology,
        rules: Arc::new(pricing_core::pricing::Rules::default_shipped().unwrap()),
        outbox_notify: None,
    };
    let state = AppState::new(backends, config).unwrap();
    (state, store)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }

    /// The error code of an error answer, checking the shape on the way.
    pub fn code(&self) -> String {
        let v = self.json();
        assert!(v["message"].is_string(), "error shape: {v}");
        assert!(v.get("details").is_some(), "error shape: {v}");
        v["code"].as_str().unwrap().to_owned()
    }
}

impl TestApp {
    /// Another API process on the same database and blob store: a second replica behind the
    /// balancer, or this one restarted. Nothing in memory is shared (rate-limit buckets, key
    /// cache); the database is dropped with the first fixture, so keep that one alive.
    pub async fn replica(&self) -> TestApp {
        self.replica_with((*self.state.config).clone()).await
    }

    /// [`TestApp::replica`] with another API configuration.
    pub async fn replica_with(&self, config: ApiConfig) -> TestApp {
        let (state, store) = open_state(
            &self.url,
            &self.blob_dir,
            config,
            self.store.config().clone(),
        )
        .await;
        TestApp {
            state,
            store,
            dir: tempfile::tempdir().unwrap(),
            url: self.url.clone(),
            blob_dir: self.blob_dir.clone(),
            pg_database: None,
        }
    }

    /// How many jobs the store holds (up to 1,000).
    pub async fn job_count(&self) -> usize {
        self.store
            .list_jobs(&scheduler::JobQuery {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .jobs
            .len()
    }

    pub async fn key(&self, role: Role, tenant: Option<&str>) -> String {
        self.key_with(NewKey {
            role: Some(role),
            tenant: tenant.map(str::to_owned),
            ..NewKey::default()
        })
        .await
    }

    pub async fn key_with(&self, new: NewKey) -> String {
        self.state.keys.create(new).await.unwrap().0
    }

    pub async fn send(&self, req: Request<Body>) -> Reply {
        let resp = api::app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec();
        Reply {
            status,
            headers,
            bytes,
        }
    }

    /// The status alone, without reading the body (for streams that stay open).
    pub async fn status_of(&self, uri: &str, key: &str) -> StatusCode {
        let req = request(Method::GET, uri, Some(key), Vec::new(), &[]);
        api::app(self.state.clone())
            .oneshot(req)
            .await
            .unwrap()
            .status()
    }

    pub async fn call(&self, method: Method, uri: &str, key: Option<&str>, body: Vec<u8>) -> Reply {
        self.send(request(method, uri, key, body, &[])).await
    }

    pub async fn get(&self, uri: &str, key: &str) -> Reply {
        self.call(Method::GET, uri, Some(key), Vec::new()).await
    }

    /// Uploads `body` as a raw model.
    pub async fn upload(&self, key: &str, body: Vec<u8>, idempotency: Option<&str>) -> Reply {
        let headers: Vec<(&str, &str)> = idempotency
            .map(|k| vec![("idempotency-key", k)])
            .unwrap_or_default();
        self.send(request(Method::POST, "/v1/jobs", Some(key), body, &headers))
            .await
    }

    /// Drives a job through the store as a worker would: start, then complete with `outcome`.
    pub async fn finish(&self, id: uuid::Uuid, outcome: scheduler::Outcome) -> scheduler::Job {
        match self.store.start_job(id, "test-worker").await.unwrap() {
            scheduler::StartOutcome::Started(_) => {}
            other => panic!("not started: {other:?}"),
        }
        match self
            .store
            .complete_job(scheduler::Completion {
                job_id: id,
                message_id: uuid::Uuid::new_v4(),
                worker_id: "test-worker".into(),
                outcome,
                duration_seconds: 0.25,
            })
            .await
            .unwrap()
        {
            scheduler::CompletionOutcome::Applied(job) => *job,
            other => panic!("not applied: {other:?}"),
        }
    }
}

pub fn request(
    method: Method,
    uri: &str,
    key: Option<&str>,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    b.body(Body::from(body)).unwrap()
}

pub fn priced() -> scheduler::Outcome {
    scheduler::Outcome::Priced {
        quote: serde_json::json!({"alloys": [{"alloy": "au750y", "total": "123.45"}]}),
        rules_version: "test".into(),
    }
}

/// Runs an async test body once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)(Backend::Postgres).await
            }
        }
    };
}
