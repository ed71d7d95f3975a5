//! The `citedex` binary: parse arguments, run, report errors, exit 0 (found), 1 (no match) or 2 (error).

use std::process::ExitCode;

use citedex::app::{self, Outcome};
use citedex::cli::Cli;
use citedex::corpus::{self, Isolation, READER_THREAD_PREFIX};
use clap::Parser;

fn main() -> ExitCode {
    // Before any argument parsing: a reader child's arguments are not a command line.
    if corpus::is_reader_child() {
        return corpus::serve_reader_child();
    }
    quiet_reader_panics();
    // PDFs are read in child processes of this very binary, so none can abort this one.
    if let Ok(program) = std::env::current_exe() {
        corpus::configure_isolation(Isolation {
            reader_program: Some(program),
            ..Isolation::default()
        });
    }
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

/// A format reader that panics on a hostile file is reported as a skipped file with its reason;
/// the default hook's multi-line message would only repeat it.
fn quiet_reader_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let reader = std::thread::current()
            .name()
            .is_some_and(|name| name.starts_with(READER_THREAD_PREFIX));
        if !reader {
            default_hook(info);
        }
    }));
}
