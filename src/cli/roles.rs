//! `pricing api`, `pricing scheduler`, `pricing worker`: the roles of the cluster run separately,
//! sharing RabbitMQ (`AMQP_URL`), the job store (`DATABASE_URL`, PostgreSQL) and blob storage
//! (`BLOB_DIR` on a shared volume, or S3). Also the start-up pieces `serve` shares with them.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use messaging::{Broker, Topology};
use pricing_core::pricing::Rules;
use scheduler::{BlobStore, JobStore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::settings::{
    ApiSettings, BrokerSettings, RECALIBRATE_EVERY, RulesSettings, StoreSettings, WorkerSettings,
};

#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    #[command(flatten)]
    pub api: ApiSettings,
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub broker: BrokerSettings,
    #[command(flatten)]
    pub rules: RulesSettings,
}

#[derive(Debug, clap::Args)]
pub struct SchedulerArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub broker: BrokerSettings,
    #[command(flatten)]
    pub rules: RulesSettings,
}

#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub broker: BrokerSettings,
    #[command(flatten)]
    pub worker: WorkerSettings,
    #[command(flatten)]
    pub rules: RulesSettings,
}

/// Logs to stderr; `RUST_LOG` filters (default `info`), `LOG_FORMAT=json` for JSON lines; and
/// job traces over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (keep the guard alive until
/// the end of `main`'s work: dropping it flushes the spans).
pub fn init_tracing(service: &'static str) -> anyhow::Result<super::telemetry::Telemetry> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let json = std::env::var("LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    // A second initialisation (tests in one process) is harmless: keep the first.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    super::telemetry::init(service)
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Cancelled on Ctrl-C or SIGTERM.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        t.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        t.cancel();
    });
    token
}

/// Everything a role connects to.
pub struct Services {
    pub store: Arc<dyn JobStore>,
    pub db: scheduler::store::Db,
    pub blobs: BlobStore,
    pub broker: Broker,
    pub topology: Topology,
}

pub async fn connect(store: &StoreSettings, broker: &BrokerSettings) -> anyhow::Result<Services> {
    let (job_store, db) = scheduler::store::open(&store.database_url, store.config())
        .await
        .with_context(|| {
            format!(
                "cannot open the job store at {}",
                redact(&store.database_url)
            )
        })?;
    let blobs = BlobStore::from_config(&store.blob_config()).context("blob storage")?;
    let b = Broker::from_url(broker.amqp_url.as_deref())
        .await
        .context("cannot connect to the broker")?;
    let topology = Topology::new(broker.topology_prefix.clone());
    b.declare(&topology)
        .await
        .context("cannot declare the broker topology")?;
    Ok(Services {
        store: job_store,
        db,
        blobs,
        broker: b,
        topology,
    })
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

pub fn load_rules(path: Option<&std::path::Path>) -> anyhow::Result<Arc<Rules>> {
    Ok(Arc::new(worker::load_rules(path)?))
}

fn require_broker(broker: &BrokerSettings, role: &str) -> anyhow::Result<()> {
    if broker
        .amqp_url
        .as_deref()
        .is_none_or(|u| u.trim().is_empty())
    {
        anyhow::bail!(
            "`pricing {role}` needs a shared broker: set AMQP_URL (or use `pricing serve` for one process)"
        );
    }
    Ok(())
}

/// Refits the cost model now and then, until `shutdown`.
pub async fn run_recalibration(store: Arc<dyn JobStore>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RECALIBRATE_EVERY) => {}
        }
        if let Err(e) = store.recalibrate().await {
            tracing::warn!(error = %e, "cost model recalibration failed");
        }
    }
}

/// Binds `addr` and serves the API until `shutdown`, with the metrics collector beside it.
pub async fn run_api(
    state: api::AppState,
    addr: std::net::SocketAddr,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if let Some(key) = &state.config.page_key {
        let record = state.keys.authenticate(key).await?;
        if !record.is_some_and(|r| r.role == api::Role::Website) {
            anyhow::bail!("--quote-page-key (QUOTE_PAGE_KEY) is not an active website key");
        }
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    eprintln!("pricing: API listening on http://{local}");
    let collector = tokio::spawn(api::run_collector(state.clone(), {
        let s = shutdown.clone();
        async move { s.cancelled().await }
    }));
    let s = shutdown.clone();
    api::serve(listener, state, async move { s.cancelled().await }).await?;
    let _ = collector.await;
    Ok(())
}

/// Waits for every task; the first error is returned after all have stopped.
pub async fn join_all(
    mut tasks: JoinSet<anyhow::Result<()>>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut first_error = None;
    while let Some(done) = tasks.join_next().await {
        let result = done.map_err(anyhow::Error::from).and_then(|r| r);
        if let Err(e) = result {
            tracing::error!(error = %format!("{e:#}"), "a role stopped with an error; shutting down");
            shutdown.cancel();
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

pub fn run_api_role(args: ApiArgs) -> anyhow::Result<ExitCode> {
    let _telemetry = init_tracing("pricing-api")?;
    require_broker(&args.broker, "api")?;
    let config = args.api.config()?;
    runtime()?.block_on(async move {
        let shutdown = shutdown_on_signal();
        let s = connect(&args.store, &args.broker).await?;
        let rules = load_rules(args.rules.rules.as_deref())?;
        let state = api::AppState::new(
            api::Backends {
                store: s.store,
                blobs: s.blobs,
                db: s.db,
                broker: Some(s.broker),
                topology: s.topology,
                rules,
                outbox_notify: None,
            },
            config,
        )?;
        run_api(state, args.api.listen, shutdown).await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn run_scheduler_role(args: SchedulerArgs) -> anyhow::Result<ExitCode> {
    let _telemetry = init_tracing("pricing-scheduler")?;
    require_broker(&args.broker, "scheduler")?;
    runtime()?.block_on(async move {
        let shutdown = shutdown_on_signal();
        let s = connect(&args.store, &args.broker).await?;
        let rules = load_rules(args.rules.rules.as_deref())?;
        let ctx = scheduler::roles::RoleContext::new(
            s.store.clone(),
            s.blobs,
            s.broker.clone(),
            s.topology.clone(),
            rules.version(),
        );
        let mut tasks = JoinSet::new();
        let (st, b, t, sd) = (s.store.clone(), s.broker, s.topology, shutdown.clone());
        tasks.spawn(async move { Ok(scheduler::roles::run_relay(st, b, t, sd).await?) });
        let (c, sd) = (ctx.clone(), shutdown.clone());
        tasks.spawn(async move { Ok(scheduler::roles::run_dead_letter_watcher(c, sd).await?) });
        let sd = shutdown.clone();
        tasks.spawn(async move { Ok(scheduler::roles::run_mes_inbound(ctx, sd).await?) });
        let (st, sd) = (s.store, shutdown.clone());
        tasks.spawn(async move {
            run_recalibration(st, sd).await;
            Ok(())
        });
        eprintln!(
            "pricing: scheduler running (outbox relay, MES inbound, dead-letter watcher, recalibration)"
        );
        join_all(tasks, shutdown).await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn run_worker_role(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let _telemetry = init_tracing("pricing-worker")?;
    require_broker(&args.broker, "worker")?;
    runtime()?.block_on(async move {
        let shutdown = shutdown_on_signal();
        let s = connect(&args.store, &args.broker).await?;
        let rules = load_rules(args.rules.rules.as_deref())?;
        let ctx = args.worker.context(worker::WorkerContext::new(
            s.store, s.blobs, s.broker, s.topology, rules,
        ));
        worker::run_worker(ctx, args.worker.config(), shutdown).await?;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("sqlite://.data/p.db"), "sqlite://.data/p.db");
    }
}
