//! `citedex watch`: index, then update the index after every burst of file changes.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use notify_debouncer_mini::new_debouncer;
use notify_debouncer_mini::notify::RecursiveMode;

use super::console::Console;
use super::{Outcome, build, summary};

/// Quiet time after the last file event before the index is updated.
const WATCH_DEBOUNCE: Duration = Duration::from_millis(300);

/// Builds the index, then updates it after every burst of file changes under `roots`, one
/// summary line per update. Runs until interrupted; a failed update is reported and waited out.
pub fn run(roots: &[PathBuf], index_dir: &Path, console: &Console) -> anyhow::Result<Outcome> {
    let first = build(roots, index_dir, false, console)?;
    console.note(summary(&first, index_dir));
    let (events, updates) = std::sync::mpsc::channel();
    let mut debouncer = new_debouncer(WATCH_DEBOUNCE, events).context("starting the file watcher")?;
    for root in roots {
        debouncer
            .watcher()
            .watch(root, RecursiveMode::Recursive)
            .with_context(|| format!("watching {}", root.display()))?;
    }
    // The index may live inside a watched folder; its own writes must not trigger updates.
    let own_files = std::fs::canonicalize(index_dir).unwrap_or_else(|_| index_dir.to_path_buf());
    console.note(format_args!(
        "watching {} for changes",
        roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for batch in updates {
        let relevant = match batch {
            Ok(events) => events.iter().any(|event| !event.path.starts_with(&own_files)),
            Err(error) => {
                console.warn(format_args!("watcher: {error}"));
                true
            }
        };
        if !relevant {
            continue;
        }
        match build(roots, index_dir, false, console) {
            Ok(report) if report.added + report.changed + report.removed + report.failed() == 0 => {}
            Ok(report) => console.note(summary(&report, index_dir)),
            Err(error) => console.error(&error),
        }
    }
    Ok(Outcome::Found)
}
