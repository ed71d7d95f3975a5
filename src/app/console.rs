//! Standard error: notes, warnings, errors and the progress bar. The one place that writes the
//! `citedex:` prefix, and the one printer of an error with its causes.

use std::fmt::Display;
use std::io::{self, IsTerminal};
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use citedex::indexer::Progress;
use indicatif::{ProgressBar, ProgressStyle};

use crate::render;

/// Writes messages to standard error, around a progress bar on a terminal.
#[derive(Default)]
pub struct Console {
    /// The bar of the build under way: made once the walk has counted the files, and only on a
    /// terminal, so it never shows an empty `0/0` while the walk runs.
    bar: Mutex<Option<ProgressBar>>,
}

impl Console {
    /// A line of information: `citedex: {message}`.
    pub fn note(&self, message: impl Display) {
        self.print(format_args!("citedex: {message}"));
    }

    /// A problem that did not stop the command: `citedex: warning: {message}`.
    pub fn warn(&self, message: impl Display) {
        self.print(format_args!("citedex: warning: {message}"));
    }

    /// An error with each of its causes once, on one line: `citedex: error: {error}: {cause}`.
    pub fn error(&self, error: &anyhow::Error) {
        self.print(format_args!("citedex: error: {error:#}"));
    }

    /// Clears the progress bar, if one was drawn.
    pub fn finish(&self) {
        if let Some(bar) = self.bar().take() {
            bar.finish_and_clear();
        }
    }

    fn bar(&self) -> std::sync::MutexGuard<'_, Option<ProgressBar>> {
        // A panic while the bar was held leaves nothing half-done in it.
        self.bar.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn print(&self, line: std::fmt::Arguments) {
        // Messages name files and quote their text: what a terminal would obey is shown instead.
        let line = line.to_string();
        let line = render::visible(&line);
        match self.bar().as_ref() {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Progress for Console {
    fn start(&self, files: usize) {
        if !io::stderr().is_terminal() || files == 0 {
            return;
        }
        let bar = ProgressBar::new(files as u64).with_style(
            ProgressStyle::with_template("{spinner} indexing [{bar:30}] {pos}/{len} files {wide_msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        if let Some(previous) = self.bar().replace(bar) {
            previous.finish_and_clear();
        }
    }

    fn advance(&self, path: &Path) {
        if let Some(bar) = self.bar().as_ref() {
            bar.set_message(render::visible(&path.display().to_string()).into_owned());
            bar.inc(1);
        }
    }

    fn warn(&self, message: &str) {
        Console::warn(self, message);
    }
}
