//! A second, small pool on the job store's database for the tables beside the jobs that the
//! API's roles read and write: API keys and their daily usage ([`crate::accounts`]) and the
//! lanes' statistics ([`crate::stats`]). The scheduler's migrations create every table and this
//! crate holds every statement, so the database has one owner; [`open`] opens the job store
//! (applying the migrations) first.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use crate::config::StoreConfig;
use crate::error::StoreError;
use crate::store::JobStore;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// PostgreSQL or SQLite, whichever the job store uses.
#[derive(Debug, Clone)]
pub enum Db {
    Pg(PgPool),
    Sqlite(SqlitePool),
}

/// Runs the same sqlx code against whichever pool `$db` holds (each arm is type-checked with its
/// concrete database; `$n` placeholders work in both dialects).
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::store::Db::Pg($pool) => $body,
            $crate::store::Db::Sqlite($pool) => $body,
        }
    };
}
pub(crate) use on_db;

impl Db {
    /// Opens a small pool on `database_url`; the schema must already exist (see [`connect`]).
    pub async fn open(database_url: &str) -> Result<Db, StoreError> {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(10))
                .connect(database_url)
                .await?;
            Ok(Db::Pg(pool))
        } else if database_url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(database_url)?
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true);
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(opts)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            Err(StoreError::UnsupportedUrl(database_url.to_owned()))
        }
    }

    /// A trivial query: is the database reachable?
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        on_db!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
    }
}

/// Opens the job store (applying its migrations, which create `api_keys` too) and the pool for
/// keys, quotas and statistics: what the API and `pricing serve` connect with. A worker needs
/// only the job store ([`crate::connect`]).
pub async fn open(
    database_url: &str,
    config: StoreConfig,
) -> Result<(Arc<dyn JobStore>, Db), StoreError> {
    let store = super::connect(database_url, config).await?;
    let db = Db::open(database_url).await?;
    Ok((store, db))
}
