//! The integration tests, one binary as in ripgrep. Most modules call the library on documents
//! made in memory or on temporary folders; `cli` holds the smoke tests of the binary, and
//! `hostile`, `reliability`, `watch` and `mcp` drive it where the behaviour is the process's
//! (crashes, locks, permissions, a long-running watch or server).

mod cli;
mod documents;
mod eval;
mod formats;
mod hostile;
mod indexing;
mod library;
mod mcp;
mod query;
mod ranking;
mod reliability;
mod roots;
mod util;
mod watch;
