//! SQLite job store, the embedded default.
//!
//! One writer connection (every write transaction is `BEGIN IMMEDIATE` on it, so writers queue
//! in the pool instead of failing with "database is locked") and a pool of readers; WAL mode lets
//! readers run while the writer writes. Use a file: `sqlite::memory:` would give each pool its
//! own empty database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::rows::{self, Shared};
use super::sql;
use crate::config::StoreConfig;
use crate::error::StoreError;
use crate::outbox::{OutboxPublisher, RelayReport};

/// Under `BEGIN IMMEDIATE` the transaction already holds the write lock: a plain read is enough.
const LOCK_JOB: &str = sql::SELECT_JOB;

/// The SQLite implementation of [`super::JobStore`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    shared: std::sync::Arc<Shared>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file, applies `migrations/sqlite` and loads the
    /// cost model.
    pub async fn connect(url: &str, config: StoreConfig) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        if let Some(dir) = opts.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Invalid(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(opts.clone())
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .connect_with(opts.read_only(true))
            .await?;
        let store = Self {
            writer,
            reader,
            shared: std::sync::Arc::new(Shared::new(config)),
        };
        super::JobStore::reload_cost_model(&store).await?;
        store.finish_legacy_outbox().await?;
        Ok(store)
    }

    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn read_pool(&self) -> &SqlitePool {
        &self.reader
    }

    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, sqlx::Error> {
        self.writer.begin_with("BEGIN IMMEDIATE").await
    }

    /// One process writes the file and wakes its relay itself: nothing to watch.
    async fn watch_outbox_impl(
        &self,
        _wake: std::sync::Arc<tokio::sync::Notify>,
        stop: tokio_util::sync::CancellationToken,
    ) {
        stop.cancelled().await;
    }

    /// Reads, publishes, then marks: the single writer is not held while publishing (an
    /// in-process consumer may need it to start the job it just received).
    async fn relay_outbox_impl(
        &self,
        limit: u32,
        publisher: &dyn OutboxPublisher,
    ) -> Result<RelayReport, StoreError> {
        let rows = sqlx::query(sql::PENDING_OUTBOX)
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await?;
        let mut report = RelayReport::default();
        let mut sent = Vec::with_capacity(rows.len());
        for r in &rows {
            let msg = outbox_from_row(r)?;
            if let Err(e) = publisher.publish(&msg).await {
                tracing::warn!(seq = msg.seq, error = %e, "outbox publish failed; stopping this pass");
                report.stopped_on_error = true;
                break;
            }
            sent.push(msg.seq);
            report.published += 1;
        }
        if !sent.is_empty() {
            let now = rows::now();
            let mut tx = self.begin_write().await?;
            for seq in sent {
                sqlx::query(sql::MARK_OUTBOX_SENT)
                    .bind(now)
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        }
        Ok(report)
    }
}

impl_job_store!(SqliteStore, sqlx::Sqlite, lock_job = LOCK_JOB);
