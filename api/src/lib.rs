//! The HTTP API of the pricing cluster (axum): the website's uploads and instant estimates,
//! partners' and MES's jobs, operators' views and actions, with API keys, limits, metrics and an
//! OpenAPI document generated from the code.
//!
//! Layout (one concept per file):
//! - [`routes`]: the router ([`app`]) and one file per group of endpoints — `submit` (uploads),
//!   `estimate`, `jobs` (status and Server-Sent Events), `ops` (operators), `changes` (the
//!   operators' live feed of status changes, resumable by `Last-Event-ID`), `health` (probes,
//!   metrics, OpenAPI).
//! - [`auth`]: roles and the permission table, API keys ([`auth::keys::KeyStore`], SHA-256 only),
//!   their daily job quotas counted in the database (`scheduler::accounts`, global across
//!   replicas), and the middleware that authenticates, rate-limits, applies deadlines and records metrics.
//! - [`pages`]: the operators' console (`/console`) and the quote page (`/`), built-in files
//!   from `assets/` served with a strict Content-Security-Policy; [`chart`]: the ETA-truth SVG.
//! - [`upload`]: bodies streamed into blob storage (or a temp file) under a size limit.
//! - The instant estimate's readers and price range are `pricing_core::estimate` (pure).
//! - [`limits`]: token buckets (rate limits, per replica), the quota day, the heavy-job gate (pure
//!   parts tested by tables).
//! - [`stats`]: the finished-job collector (the counts are `scheduler::stats`); [`metrics`]: the
//!   Prometheus registry; [`state`], [`config`]. The database is reached only through
//!   `scheduler::store::open`'s job store and `Db`.
//! - [`dto`]: response types; [`error`]: [`AppError`] and the one error shape; [`openapi`].
//!
//! - [`admission`]: the intake's admission step for HTTP uploads (heavy-job gate, daily quota).
//!
//! Jobs are created through [`scheduler::intake::submit_model`] (shared with the MES inbound
//! consumer), with [`admission::HttpAdmission`] as its admission step.
//! Tests: unit tables in each module; `tests/` drives [`app`] with `oneshot` against real SQLite
//! files and real PostgreSQL databases, and checks `deploy/openapi.json` against the code.

pub mod admission;
pub mod auth;
pub mod chart;
pub mod config;
pub mod dto;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod state;
pub mod stats;
pub mod upload;

use std::time::Duration;

pub use auth::keys::{KeyRecord, KeyStore, NewKey};
pub use auth::{Principal, Role};
pub use config::ApiConfig;
pub use error::{AppError, ErrorBody};
pub use routes::app;
pub use scheduler::store::Db;
pub use state::{AppState, Backends};

/// How often the collector looks for finished jobs.
pub const COLLECT_EVERY: Duration = Duration::from_secs(2);

/// How often the collector reloads the persisted cost model. The scheduler role (or a worker's
/// store) refits it; an API process only reads it, and would otherwise predict with the
/// coefficients it loaded at start-up.
pub const COST_MODEL_RELOAD_EVERY: Duration = Duration::from_secs(30);

/// Follows finished jobs into the histograms, and reloads the calibrated cost model, until
/// `shutdown` resolves.
pub async fn run_collector(state: AppState, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut model_loaded = tokio::time::Instant::now();
    loop {
        if let Err(e) = state.collector.collect(&state.db, &state.metrics).await {
            tracing::warn!(error = %e, "metrics collector pass failed");
        }
        if model_loaded.elapsed() >= COST_MODEL_RELOAD_EVERY {
            model_loaded = tokio::time::Instant::now();
            if let Err(e) = state.store.reload_cost_model().await {
                tracing::warn!(error = %e, "cost model reload failed; keeping the previous one");
            }
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(COLLECT_EVERY) => {}
        }
    }
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
