//! `pricing`: the product's one command. Each subcommand lives in `cli/`; this file only parses arguments
//! and turns outcomes into exit codes.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(cli::EXIT_INTERNAL)
        }
    }
}
