//! The `citedex` binary: parse arguments, run, report errors, exit 0 (found), 1 (no match) or 2 (error).

mod app;
mod cli;
mod render;

use std::process::ExitCode;

use app::Outcome;
use app::console::Console;
use citedex::corpus::{self, Isolation, READER_THREAD_PREFIX};
use clap::Parser;
use cli::Cli;

fn main() -> ExitCode {
    // Before any argument parsing: a reader child's arguments are not a command line.
    if corpus::is_reader_child() {
        return serve_reader_child();
    }
    quiet_reader_panics();
    limit_malloc_arenas();
    // PDFs are read in child processes of this very binary, so none can abort this one.
    if let Ok(program) = std::env::current_exe() {
        corpus::configure_isolation(Isolation {
            reader_program: Some(program),
            ..Isolation::default()
        });
    }
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

/// Serves one reader request as a child process ([`corpus::serve_reader_child`]): its answer is
/// JSON on standard output, written through the one module that writes there, as it is.
fn serve_reader_child() -> ExitCode {
    match render::to_stdout(anstream::ColorChoice::AlwaysAnsi, corpus::serve_reader_child) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("citedex reader: {error}");
            ExitCode::FAILURE
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

/// glibc gives each thread that allocates an arena of its own, up to eight per core; the reader
/// threads of a build hold on to theirs, which raised peak memory of a full build by about half.
/// Two per core keep allocation uncontended.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let arenas = i32::try_from(2 * cores).unwrap_or(i32::MAX);
    // SAFETY: mallopt only changes an allocator setting; it runs before any other thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
