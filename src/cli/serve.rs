//! `pricing serve`: API, scheduler and workers in one process — the embedded store (SQLite under
//! `.data/`), models under `.data/blobs`, and the in-process broker unless `AMQP_URL` is set.

use std::process::ExitCode;
use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::roles::{self, connect, init_tracing, join_all, load_rules, run_api, runtime};
use super::settings::{ApiSettings, BrokerSettings, RulesSettings, StoreSettings, WorkerSettings};

/// Keys: on the first start (no active key in the store) an admin key is created and printed
/// once on stderr; create more with `pricing keys create`. `--open` instead lets requests without
/// a key act as the website (tenant `public`), on a loopback address only.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub api: ApiSettings,
    #[command(flatten)]
    pub store: StoreSettings,
    #[command(flatten)]
    pub broker: BrokerSettings,
    #[command(flatten)]
    pub worker: WorkerSettings,
    #[command(flatten)]
    pub rules: RulesSettings,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let _telemetry = init_tracing("pricing-serve")?;
    let config = args.api.config()?;
    runtime()?.block_on(async move {
        let shutdown = roles::shutdown_on_signal();
        let s = connect(&args.store, &args.broker).await?;
        let rules = load_rules(args.rules.rules.as_deref())?;
        let outbox = Arc::new(Notify::new());
        let state = api::AppState::new(
            api::Backends {
                store: s.store.clone(),
                blobs: s.blobs.clone(),
                db: s.db,
                broker: Some(s.broker.clone()),
                topology: s.topology.clone(),
                rules: rules.clone(),
                outbox_notify: Some(outbox.clone()),
            },
            config,
        )?;
        if !args.api.open && state.keys.count_active().await? == 0 {
            let (key, record) = state
                .keys
                .create(api::NewKey {
                    role: Some(api::Role::Admin),
                    label: Some("created by the first `pricing serve`".into()),
                    ..api::NewKey::default()
                })
                .await?;
            eprintln!(
                "pricing: no API keys yet; created admin key {} (shown only now):\n{key}",
                record.key_prefix
            );
        }
        let ctx = args.worker.context(
            worker::WorkerContext::new(
                s.store.clone(),
                s.blobs,
                s.broker.clone(),
                s.topology.clone(),
                rules,
            )
            .with_outbox_notify(outbox.clone()),
        );

        let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
        let relay = scheduler::roles::RelayConfig::default().with_wake(outbox);
        let (st, b, t, sd) = (s.store.clone(), s.broker, s.topology, shutdown.clone());
        tasks
            .spawn(async move { Ok(scheduler::roles::run_relay_with(st, b, t, relay, sd).await?) });
        let roles = ctx.role_context();
        let (c, cfg, sd) = (ctx, args.worker.config(), shutdown.clone());
        tasks.spawn(async move { Ok(worker::run_worker(c, cfg, sd).await?) });
        let (c, sd) = (roles.clone(), shutdown.clone());
        tasks.spawn(async move { Ok(scheduler::roles::run_dead_letter_watcher(c, sd).await?) });
        let sd = shutdown.clone();
        tasks.spawn(async move { Ok(scheduler::roles::run_mes_inbound(roles, sd).await?) });
        let (st, sd) = (s.store, shutdown.clone());
        tasks.spawn(async move {
            roles::run_recalibration(st, sd).await;
            Ok(())
        });
        let (sd, addr) = (shutdown.clone(), args.api.listen);
        tasks.spawn(async move {
            let result = run_api(state, addr, sd.clone()).await;
            // The API stopping (or failing to bind) stops the whole process.
            sd.cancel();
            result
        });
        join_all(tasks, shutdown).await?;
        Ok(ExitCode::SUCCESS)
    })
}
