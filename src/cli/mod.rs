//! Subcommands of `pricing`.

mod analyze;
mod input;
mod quote;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub const EXIT_INTERNAL: u8 = 1;
/// The input could not be read or is not a valid model.
pub const EXIT_BAD_INPUT: u8 = 2;
/// The model was read but cannot be cast as it is (not watertight, inverted, walls too thin, too large).
pub const EXIT_NOT_MANUFACTURABLE: u8 = 3;

#[derive(Debug, Parser)]
#[command(name = "pricing", version, about = "Alexandrite 3D-model pricing: analyze, quote, and run the cluster roles")]
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
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.command {
        Command::Analyze(a) => analyze::run(a),
        Command::Quote(a) => quote::run(a),
    }
}
