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
//! - [`stall`]: connections whose peer stops reading are closed (hyper has no write timeout).
//! - [`form`]: multipart uploads (the file part, option parts, part limits), shared with the
//!   multipart fuzz target.
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
pub mod form;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod routes;
pub mod stall;
pub mod state;
pub mod stats;
pub mod upload;

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder as AutoBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt as _;

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
    let (header_timeout, drain) = (state.config.header_read_timeout, state.config.drain_timeout);
    let (write_stall, send_buffer) = (
        state.config.write_stall_timeout,
        state.config.send_buffer_bytes,
    );
    let app = app(state);
    let mut builder = AutoBuilder::new(TokioExecutor::new());
    // axum::serve sets no timer, so hyper's header-read timeout never fires; a client sending
    // one header byte a minute would keep its connection (and its task) for ever.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(header_timeout))
        .keep_alive_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(e) = socket2::SockRef::from(&stream).set_send_buffer_size(send_buffer) {
            tracing::debug!(error = %e, "cannot set the connection's send buffer");
        }
        let service = TowerToHyperService::new(app.clone().map_request(
            |req: axum::http::Request<hyper::body::Incoming>| req.map(axum::body::Body::new),
        ));
        let conn = builder
            .serve_connection_with_upgrades(
                TokioIo::new(stall::WriteStall::new(stream, write_stall)),
                service,
            )
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            ?drain,
            "requests still in flight at the end of the drain; closing them"
        );
    }
    Ok(())
}
