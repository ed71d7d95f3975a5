//! The `citedex` binary: parse arguments, run, report errors, exit 0 (found), 1 (no match) or 2 (error).

use std::process::ExitCode;

use citedex::app::{self, Outcome};
use citedex::cli::Cli;
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = cli
        .into_config()
        .map_err(anyhow::Error::from)
        .and_then(|config| app::run(&config).map_err(anyhow::Error::from));
    match result {
        Ok(Outcome::Found) => ExitCode::SUCCESS,
        Ok(Outcome::NoMatch) => ExitCode::from(1),
        Ok(Outcome::Partial) => ExitCode::from(2),
        Err(error) => {
            eprintln!("citedex: error: {error:#}");
            ExitCode::from(2)
        }
    }
}
