//! Real databases for the store suite: a fresh PostgreSQL database per test (dropped when the
//! fixture is dropped, also after a failed assertion), or a SQLite file in a temp directory.

use std::sync::Arc;

use scheduler::{JobStore, StoreConfig, connect};
use sqlx::Connection;

/// The server's maintenance database; `TEST_DATABASE_URL` overrides it.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// `admin` with its database name replaced by `db`.
pub fn with_database(admin: &str, db: &str) -> String {
    let (base, query) = admin
        .split_once('?')
        .map_or((admin, None), |(b, q)| (b, Some(q)));
    let root = base.rsplit_once('/').map_or(base, |(r, _)| r);
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

pub struct Fixture {
    pub store: Arc<dyn JobStore>,
    pub url: String,
    pg_database: Option<String>,
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

impl Drop for Fixture {
    fn drop(&mut self) {
        let Some(db) = self.pg_database.take() else {
            return;
        };
        // Drop runs inside the test's runtime: do the async cleanup on a thread of its own.
        let admin = admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let sql = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut c).await;
                }
            });
        })
        .join();
    }
}

pub async fn postgres(config: StoreConfig) -> Fixture {
    let admin = admin_url();
    let db = format!("test_sched_{}", uuid::Uuid::new_v4().simple());
    let mut c = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is required for the store suite: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut c)
        .await
        .unwrap();
    let url = with_database(&admin, &db);
    let store = connect(&url, config).await.unwrap();
    Fixture {
        store,
        url,
        pg_database: Some(db),
        _dir: None,
    }
}

pub async fn sqlite(config: StoreConfig) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("jobs.db").display());
    let store = connect(&url, config).await.unwrap();
    Fixture {
        store,
        url,
        pg_database: None,
        _dir: Some(dir),
    }
}
