//! `citedex watch`: index, then update the index once the files under the roots have settled after
//! a change.
//!
//! Only changes count: notify also reports files being opened and read, as every update does when
//! it hashes them, and those must not schedule the next update (a watch would never go idle).
//! A burst of changes (an `rm -rf`, a `git checkout`) is waited out until the tree has been quiet
//! for a moment, so no update commits a half-done state. A root that disappears is waited for,
//! with nothing committed meanwhile, and watched again when it returns; a root replaced by another
//! folder of the same name is watched afresh.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::Context;
use notify::event::{AccessKind, AccessMode, EventKind, ModifyKind};
use notify::{Event, RecommendedWatcher, RecursiveMode, Watcher};

use citedex::indexer::{BuildOptions, Walked};

use super::console::Console;
use super::{Outcome, build, summary};

/// Quiet time after the last change before the index is updated.
const QUIET: Duration = Duration::from_millis(500);
/// Longest wait from the first change of a burst to an update, for files that never stop changing.
const LONGEST_WAIT: Duration = Duration::from_secs(10);
/// How often a root that disappeared is looked for.
const MISSING_ROOT_POLL: Duration = Duration::from_secs(1);

/// Builds the index, then updates it after every burst of changes under the roots at `paths` (or
/// every recorded root), one summary line per update that changed something. Runs until
/// interrupted; a failed update is reported and waited out.
pub fn run(paths: &[PathBuf], index_dir: &Path, console: &Console) -> anyhow::Result<Outcome> {
    let first = build(paths, index_dir, BuildOptions::default(), console)?;
    console.note(summary(&first, index_dir));
    // Later updates walk what the first one did, by canonical path.
    let roots: Vec<PathBuf> = first.walked.iter().map(|walked| walked.path.clone()).collect();
    let (sender, events) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(sender).context("starting the file watcher")?;
    let mut watched: Vec<WatchedRoot> = first.walked.iter().map(WatchedRoot::new).collect();
    for root in &mut watched {
        root.watch(&mut watcher)?;
    }
    // The index may live inside a watched folder; its own writes must not trigger updates.
    let own_files = std::fs::canonicalize(index_dir).unwrap_or_else(|_| index_dir.to_path_buf());
    console.note(format_args!(
        "watching {} for changes",
        first
            .walked
            .iter()
            .map(|walked| walked.label.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let mut burst = Burst::default();
    loop {
        let missing = watched.iter().any(|root| root.identity.is_none());
        let wait = match (burst.deadline(), missing) {
            (Some(deadline), _) => Some(deadline.saturating_duration_since(Instant::now())),
            (None, true) => Some(MISSING_ROOT_POLL),
            (None, false) => None,
        };
        let received = match wait {
            Some(wait) => events.recv_timeout(wait),
            None => events.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(Ok(event)) if is_change(&event, &own_files) => {
                for root in &mut watched {
                    root.lost |= root.is_lost_by(&event);
                }
                burst.record(Instant::now());
            }
            Ok(Ok(_)) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Err(error)) => {
                // An error (such as a full event queue) may hide changes: look again.
                console.warn(format_args!("watcher: {error}"));
                burst.record(Instant::now());
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if !burst.due(Instant::now()) && !missing {
            continue;
        }
        let mut reappeared = false;
        for root in &mut watched {
            reappeared |= root.follow(&mut watcher, console);
        }
        if reappeared {
            // Its files may still be arriving: update once they settle.
            burst.record(Instant::now());
        }
        if watched.iter().any(|root| root.identity.is_none()) {
            // Updating now would remove every document of the missing root.
            burst = Burst::default();
            continue;
        }
        if !burst.due(Instant::now()) {
            continue;
        }
        burst = Burst::default();
        match build(&roots, index_dir, BuildOptions::default(), console) {
            Ok(report) if report.added + report.changed + report.removed + report.failed() == 0 => {}
            Ok(report) => console.note(summary(&report, index_dir)),
            Err(error) => console.error(&error),
        }
    }
    Ok(Outcome::Found)
}

/// Whether an event says that something under a root changed: created, written, removed or
/// renamed, outside the index's own files. Opening and reading a file is not a change, nor is a
/// change of its metadata alone (an update reads by content).
fn is_change(event: &Event, own_files: &Path) -> bool {
    let kind_counts = match event.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Create(_) | EventKind::Modify(_) | EventKind::Remove(_) => true,
        // A full event queue (a rescan) or an event of no known kind may hide anything.
        EventKind::Any | EventKind::Other => true,
    };
    kind_counts && (event.paths.is_empty() || event.paths.iter().any(|path| !path.starts_with(own_files)))
}

/// The changes seen since the last update, timed: an update is due once they have been quiet
/// for [`QUIET`], or [`LONGEST_WAIT`] after the first of them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Burst {
    /// When the first change since the last update came, and the latest.
    span: Option<(Instant, Instant)>,
}

impl Burst {
    fn record(&mut self, now: Instant) {
        let first = self.span.map_or(now, |(first, _)| first);
        self.span = Some((first, now));
    }

    /// When an update becomes due, if any change is pending.
    fn deadline(&self) -> Option<Instant> {
        self.span
            .map(|(first, last)| (last + QUIET).min(first + LONGEST_WAIT))
    }

    fn due(&self, now: Instant) -> bool {
        self.deadline().is_some_and(|deadline| deadline <= now)
    }
}

/// A root as watched: its canonical path, and which folder or file stood there when it was
/// watched.
struct WatchedRoot {
    /// The canonical path, which is also the prefix of the paths events carry.
    path: PathBuf,
    /// How messages name it.
    label: String,
    /// The path watched: the canonical path, made anew if the root was replaced by a link.
    target: PathBuf,
    /// The watched folder or file, or `None` while nothing stands at `path`.
    identity: Option<Identity>,
    /// Whether an event said the watched folder or file itself was removed or moved away: a new
    /// one at the same path may even reuse its inode number.
    lost: bool,
}

impl WatchedRoot {
    fn new(walked: &Walked) -> WatchedRoot {
        WatchedRoot {
            path: walked.path.clone(),
            label: walked.label.clone(),
            target: walked.path.clone(),
            identity: identity(&walked.path),
            lost: false,
        }
    }

    fn watch(&mut self, watcher: &mut RecommendedWatcher) -> anyhow::Result<()> {
        // Event paths then start with the same canonical prefix as the index's own files.
        self.target = std::fs::canonicalize(&self.path).unwrap_or_else(|_| self.path.clone());
        watcher
            .watch(&self.target, RecursiveMode::Recursive)
            .with_context(|| format!("watching {}", self.label))
    }

    /// Whether `event` says that the watched folder or file itself went away.
    fn is_lost_by(&self, event: &Event) -> bool {
        matches!(
            event.kind,
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
        ) && event.paths.contains(&self.target)
    }

    /// Compares what stands at the root's path with what is watched: a root that vanished is
    /// reported, one that came back or was replaced is watched anew. Returns whether the root is
    /// now watched afresh.
    fn follow(&mut self, watcher: &mut RecommendedWatcher, console: &Console) -> bool {
        let now = identity(&self.path);
        if now == self.identity && !self.lost {
            return false;
        }
        let was_missing = self.identity.is_none();
        self.identity = now;
        self.lost = false;
        // The watch of a moved folder lingers under the old path; that of a removed one is gone.
        let _ = watcher.unwatch(&self.target);
        if now.is_none() {
            console.note(format_args!(
                "{} is gone; waiting for it to come back",
                self.label
            ));
            return false;
        }
        match self.watch(watcher) {
            Ok(()) if was_missing => console.note(format_args!("{} is back; watching it again", self.label)),
            Ok(()) => {}
            Err(error) => {
                console.error(&error);
                // Try again at the next look.
                self.identity = None;
                return false;
            }
        }
        true
    }
}

/// What tells one folder or file from another that later takes its path: device, inode and, where
/// the file system records it, the creation time (an inode number is soon reused).
type Identity = (u64, u64, Option<std::time::SystemTime>);

#[cfg(unix)]
fn identity(path: &Path) -> Option<Identity> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino(), meta.created().ok()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> Option<Identity> {
    let meta = std::fs::metadata(path).ok()?;
    Some((0, 0, meta.created().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, MetadataKind, RemoveKind, RenameMode};

    fn event(kind: EventKind, path: &str) -> Event {
        Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn reading_files_is_not_a_change() {
        let own = Path::new("/kb/.citedex");
        let counts = |kind, path| is_change(&event(kind, path), own);
        // What every update does to each file it hashes.
        assert!(!counts(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            "/kb/a.md"
        ));
        assert!(!counts(
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            "/kb/a.md"
        ));
        assert!(!counts(
            EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)),
            "/kb/a.md"
        ));
        for kind in [
            EventKind::Create(CreateKind::File),
            EventKind::Modify(ModifyKind::Data(DataChange::Any)),
            EventKind::Modify(ModifyKind::Name(RenameMode::From)),
            EventKind::Remove(RemoveKind::Folder),
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
        ] {
            assert!(counts(kind, "/kb/a.md"), "{kind:?}");
            assert!(!counts(kind, "/kb/.citedex/gen-1/meta.json"), "{kind:?}");
        }
        let rescan = Event::new(EventKind::Other).set_flag(notify::event::Flag::Rescan);
        assert!(is_change(&rescan, own));
    }

    #[test]
    fn an_update_waits_until_a_burst_of_changes_is_over() {
        let start = Instant::now();
        let at = |millis: u64| start + Duration::from_millis(millis);
        let mut burst = Burst::default();
        assert!(!burst.due(at(60_000)));
        // An `rm -rf` that takes two seconds, one deletion every 20 ms.
        for millis in (0..2_000).step_by(20) {
            burst.record(at(millis));
            assert!(!burst.due(at(millis)), "due during the burst, at {millis} ms");
        }
        let last = 1_980;
        assert!(!burst.due(at(last + QUIET.as_millis() as u64 - 1)));
        assert!(burst.due(at(last + QUIET.as_millis() as u64)));
    }

    #[test]
    fn changes_that_never_stop_still_get_an_update() {
        let start = Instant::now();
        let mut burst = Burst::default();
        let mut elapsed = Duration::ZERO;
        while !burst.due(start + elapsed) {
            burst.record(start + elapsed);
            elapsed += QUIET / 2;
        }
        assert!(elapsed >= LONGEST_WAIT && elapsed <= LONGEST_WAIT + QUIET);
    }
}
