//! The integration tests, one binary as in ripgrep: each module drives the library or the
//! `citedex` binary on temporary knowledge bases.

mod cli;
mod formats;
mod hostile;
mod library;
mod mcp;
mod ranking;
mod reliability;
mod util;
