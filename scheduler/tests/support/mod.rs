//! Real databases for the store suite: a fresh PostgreSQL database per test (dropped when the
//! fixture is dropped, also after a failed assertion), or a SQLite file in a temp directory.

use std::sync::Arc;

use scheduler::{JobStore, StoreConfig, connect};
use test_support::PgDatabase;

pub struct Fixture {
    pub store: Arc<dyn JobStore>,
    pub url: String,
    _pg: Option<PgDatabase>,
    _dir: Option<tempfile::TempDir>,
}

impl Fixture {
    /// Another store instance on the same database (e.g. with another configuration).
    #[allow(
        dead_code,
        reason = "each test binary compiles this module; not all reopen"
    )]
    pub async fn reopen(&self, config: StoreConfig) -> Arc<dyn JobStore> {
        connect(&self.url, config).await.unwrap()
    }
}

pub async fn postgres(config: StoreConfig) -> Fixture {
    let db = PgDatabase::create("test_sched").await;
    let url = db.url().to_owned();
    let store = connect(&url, config).await.unwrap();
    Fixture {
        store,
        url,
        _pg: Some(db),
        _dir: None,
    }
}

pub async fn sqlite(config: StoreConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = test_support::sqlite_url(dir.path());
    let store = connect(&url, config).await.unwrap();
    Fixture {
        store,
        url,
        _pg: None,
        _dir: Some(dir),
    }
}
