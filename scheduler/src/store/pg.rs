//! PostgreSQL job store, for the cluster.

use sqlx::postgres::{PgPool, PgPoolOptions};

use super::rows::{self, Shared};
use super::sql;
use crate::config::StoreConfig;
use crate::error::StoreError;
use crate::outbox::{OutboxPublisher, RelayReport};

/// Reads a job and locks its row until the transaction ends.
const LOCK_JOB: &str = concat!(
    "SELECT ",
    sql::job_columns!(),
    " FROM jobs WHERE id = $1 FOR UPDATE"
);

/// Takes unsent outbox rows for one relay pass; concurrent relays skip each other's rows.
const LOCK_OUTBOX: &str = concat!(
    "SELECT ",
    sql::outbox_columns!(),
    " FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED"
);

/// The PostgreSQL implementation of [`super::JobStore`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    shared: std::sync::Arc<Shared>,
}

impl PgStore {
    /// Connects, applies the migrations in `migrations/postgres` and loads the cost model.
    pub async fn connect(url: &str, config: StoreConfig) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(2))
            .connect(url)
            .await?;
        Self::from_pool(pool, config).await
    }

    /// Uses an existing pool (migrations are applied).
    pub async fn from_pool(pool: PgPool, config: StoreConfig) -> Result<Self, StoreError> {
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let store = Self {
            pool,
            shared: std::sync::Arc::new(Shared::new(config)),
        };
        super::JobStore::reload_cost_model(&store).await?;
        store.finish_legacy_outbox().await?;
        Ok(store)
    }

    /// The pool, for callers that need raw access (benchmarks, operations tooling).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn shared(&self) -> &Shared {
        &self.shared
    }

    fn read_pool(&self) -> &PgPool {
        &self.pool
    }

    fn write_pool(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, sqlx::Error> {
        self.pool.begin().await
    }

    async fn watch_outbox_impl(
        &self,
        wake: std::sync::Arc<tokio::sync::Notify>,
        stop: tokio_util::sync::CancellationToken,
    ) {
        loop {
            match sqlx::postgres::PgListener::connect_with(&self.pool).await {
                Ok(mut listener) => match listener.listen(OUTBOX_CHANNEL).await {
                    Ok(()) => loop {
                        tokio::select! {
                            () = stop.cancelled() => return,
                            // recv reconnects by itself when the connection drops; a
                            // reconnection may have missed notices, so wake then too.
                            got = listener.recv() => match got {
                                Ok(_) => wake.notify_one(),
                                Err(e) => {
                                    tracing::warn!(error = %e, "outbox listener failed; listening again");
                                    wake.notify_one();
                                    break;
                                }
                            },
                        }
                    },
                    Err(e) => tracing::warn!(error = %e, "LISTEN on the outbox channel failed"),
                },
                Err(e) => tracing::warn!(error = %e, "outbox listener could not connect"),
            }
            // The relay still polls meanwhile; try again shortly.
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            }
        }
    }

    async fn relay_outbox_impl(
        &self,
        limit: u32,
        publisher: &dyn OutboxPublisher,
    ) -> Result<RelayReport, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows = sqlx::query(LOCK_OUTBOX)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        let mut report = RelayReport::default();
        let now = rows::now();
        for r in &rows {
            let msg = outbox_from_row(r)?;
            if let Err(e) = publisher.publish(&msg).await {
                tracing::warn!(seq = msg.seq, error = %e, "outbox publish failed; stopping this pass");
                report.stopped_on_error = true;
                break;
            }
            sqlx::query(sql::MARK_OUTBOX_SENT)
                .bind(now)
                .bind(msg.seq)
                .execute(&mut *tx)
                .await?;
            report.published += 1;
        }
        tx.commit().await?;
        Ok(report)
    }
}

/// The channel the outbox's insert trigger notifies (migrations/postgres/0008_outbox_notify.sql).
const OUTBOX_CHANNEL: &str = "pricing_outbox";

impl_job_store!(PgStore, sqlx::Postgres, lock_job = LOCK_JOB);
