//! The `citedex` binary: parse arguments, run, report errors, exit 0 (found), 1 (no match) or 2 (error).

mod app;
mod cli;
mod render;

use std::process::ExitCode;

use app::Outcome;
use app::console::Console;
use citedex::corpus::READER_THREAD_PREFIX;
use clap::Parser;
use cli::Cli;

fn main() -> ExitCode {
    quiet_reader_panics();
    let console = Console::default();
    let config = Cli::parse().into_config();
    match config
        .map_err(anyhow::Error::from)
        .and_then(|config| app::run(&config, &console))
    {
        Ok(Outcome::Found) => ExitCode::SUCCESS,
        Ok(Outcome::NoMatch) => ExitCode::from(1),
        Ok(Outcome::Partial) => ExitCode::from(2),
        Err(error) => {
            console.error(&error);
            ExitCode::from(2)
        }
    }
}

/// A format reader that panics on a hostile file is reported as a skipped file with its reason,
/// and a read that panics on a damaged index as a damaged index; the default hook's multi-line
/// message would only repeat them.
fn quiet_reader_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let reader = std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with(READER_THREAD_PREFIX));
        if !reader && !citedex::panics_are_caught() {
            default_hook(info);
        }
    }));
}
