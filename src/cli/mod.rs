//! Subcommands of `pricing`.

mod against;
mod analyze;
mod bench;
mod capacity;
mod capacity_plot;
mod input;
mod keys;
mod quote;
mod roles;
mod serve;
mod settings;
mod telemetry;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub const EXIT_INTERNAL: u8 = 1;
/// The input could not be read or is not a valid model.
pub const EXIT_BAD_INPUT: u8 = 2;
/// The model was read but cannot be cast as it is (not watertight, inverted, walls too thin, too large).
pub const EXIT_NOT_MANUFACTURABLE: u8 = 3;

/// A batch command's exit: [`EXIT_BAD_INPUT`] when any of its models failed, else success.
fn batch_exit(any_failed: bool) -> ExitCode {
    if any_failed {
        ExitCode::from(EXIT_BAD_INPUT)
    } else {
        ExitCode::SUCCESS
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "pricing",
    version,
    about = "Alexandrite 3D-model pricing: analyze, quote, and run the cluster roles"
)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Measure a model: volume, area, bounding box, shells, watertightness.
    Analyze(analyze::AnalyzeArgs),
    /// Price a model: metal weight, line items and total per alloy, with manufacturability checks.
    Quote(quote::QuoteArgs),
    /// Run API, scheduler and workers in one process (embedded store and queue unless configured).
    Serve(serve::ServeArgs),
    /// Run the HTTP API alone (needs AMQP_URL; DATABASE_URL for PostgreSQL).
    Api(roles::ApiArgs),
    /// Run the scheduler alone: outbox relay, MES inbound, cost-model recalibration.
    Scheduler(roles::SchedulerArgs),
    /// Run a pricing worker alone.
    Worker(roles::WorkerArgs),
    /// Manage API keys: create, list, revoke.
    Keys(keys::KeysArgs),
    /// Time the pricing pipeline per stage on model files or folders (a table, --json or --csv).
    Bench(bench::BenchArgs),
    /// The capacity plan: worker cores needed month by month as orders grow, one worker's
    /// headroom, and the KEDA thresholds (plots with --plots DIR).
    Capacity(capacity::CapacityArgs),
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Analyze(a) => analyze::run(a),
        Command::Quote(a) => quote::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Api(a) => roles::run_api_role(a),
        Command::Scheduler(a) => roles::run_scheduler_role(a),
        Command::Worker(a) => roles::run_worker_role(a),
        Command::Keys(a) => keys::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Capacity(a) => capacity::run(a),
    }
}
