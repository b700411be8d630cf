//! The worker loop: take deliveries from the lanes while slots are free, price each on its own
//! task, drain on shutdown.
//!
//! Slots: the [`LaneConsumer`] hands out at most `slots` unsettled deliveries, smallest lane
//! first, and subscribes every lane with prefetch = `slots`, so an idle slot is filled from any
//! lane and a small job never waits behind a large one taken by this process.
//!
//! Shutdown, in order: stop taking deliveries; let in-flight jobs finish for up to
//! `drain_grace`; abort what is left (its deliveries go back to their queues, its pricing threads
//! are told to stop); then drop the subscriptions, which returns every delivery received but not
//! started. Nothing is acknowledged that was not recorded, so nothing is lost.

use std::sync::Arc;

use messaging::LaneConsumer;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::activity::{self, Activity};
use crate::config::{WorkerConfig, WorkerContext};
use crate::error::WorkerError;
use crate::job;

/// Runs a worker until `shutdown` is cancelled (then drains) or its subscriptions end.
pub async fn run_worker(
    ctx: WorkerContext,
    cfg: WorkerConfig,
    shutdown: CancellationToken,
) -> Result<(), WorkerError> {
    ctx.broker.declare(&ctx.topology).await?;
    let mut lanes =
        LaneConsumer::start_lanes(&ctx.broker, &ctx.topology, &cfg.lanes, cfg.slots).await?;
    tracing::info!(
        worker_id = %cfg.worker_id,
        slots = lanes.capacity(),
        lanes = ?cfg.lanes,
        broker = if ctx.broker.is_memory() { "in-process" } else { "rabbitmq" },
        "worker started"
    );

    let activity = Activity::default();
    let stop_heartbeats = CancellationToken::new();
    // Also stops them when this future is dropped (the worker task aborted).
    let _heartbeats_guard = stop_heartbeats.clone().drop_guard();
    let heartbeats = tokio::spawn(activity::heartbeats(
        ctx.store.clone(),
        cfg.worker_id.clone(),
        cfg.lanes.clone(),
        u32::from(cfg.slots),
        activity.clone(),
        cfg.heartbeat_every,
        stop_heartbeats.clone(),
    ));

    let ctx = Arc::new(ctx);
    let cfg = Arc::new(cfg);
    let mut tasks = JoinSet::new();
    let ended = loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break false,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => report(done),
            next = lanes.next() => match next {
                Some((_lane, delivery)) => {
                    let (ctx, cfg, activity) = (ctx.clone(), cfg.clone(), activity.clone());
                    tasks.spawn(async move { job::handle(&ctx, &cfg, delivery, &activity).await });
                }
                None => break true,
            },
        }
    };

    drain(&mut tasks, &cfg).await;
    // Only now: dropping the subscriptions closes their channels, which would make the broker
    // take back deliveries still being acknowledged.
    drop(lanes);
    stop_heartbeats.cancel();
    if let Err(error) = heartbeats.await {
        tracing::warn!(%error, "heartbeat task failed");
    }
    tracing::info!(worker_id = %cfg.worker_id, "worker stopped");
    if ended && !shutdown.is_cancelled() {
        return Err(WorkerError::SubscriptionsEnded);
    }
    Ok(())
}

fn report(done: Result<job::Settled, tokio::task::JoinError>) {
    match done {
        Ok(settled) => tracing::trace!(?settled, "delivery settled"),
        // A bug in the handler: its delivery was dropped unsettled, so the broker redelivers it.
        Err(error) if error.is_panic() => tracing::error!(%error, "job task panicked"),
        Err(_) => {}
    }
}

async fn drain(tasks: &mut JoinSet<job::Settled>, cfg: &WorkerConfig) {
    if tasks.is_empty() {
        return;
    }
    tracing::info!(in_flight = tasks.len(), grace = ?cfg.drain_grace, "draining");
    let grace = tokio::time::sleep(cfg.drain_grace);
    tokio::pin!(grace);
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                Some(done) => report(done),
                None => return,
            },
            () = &mut grace => break,
        }
    }
    tracing::warn!(
        returned = tasks.len(),
        "grace period over; returning unfinished jobs to their queues"
    );
    // Aborting drops each task's delivery unsettled, which returns it to its queue, and its
    // pricing future, which tells the pricing thread to stop.
    tasks.abort_all();
    while let Some(done) = tasks.join_next().await {
        report(done);
    }
}

/// What `pricing worker` runs: the worker plus an outbox relay woken by its completions, so
/// its results leave at once (the relay also publishes rows other processes left behind).
/// Stops when `shutdown` is cancelled, after the worker drained and the relay's last pass.
pub async fn run_worker_and_relay(
    ctx: WorkerContext,
    cfg: WorkerConfig,
    relay: scheduler::roles::RelayConfig,
    shutdown: CancellationToken,
) -> Result<(), WorkerError> {
    let relay_stop = CancellationToken::new();
    let relay = tokio::spawn(scheduler::roles::run_relay_with(
        ctx.store.clone(),
        ctx.broker.clone(),
        ctx.topology.clone(),
        relay.with_wake(ctx.outbox_written.clone()),
        relay_stop.clone(),
    ));
    let worked = run_worker(ctx, cfg, shutdown).await;
    // The relay outlives the drain so the last completions are published before exiting.
    relay_stop.cancel();
    match relay.await {
        Ok(relayed) => relayed?,
        Err(error) => tracing::error!(%error, "relay task failed"),
    }
    worked
}
