//! Standard error: notes, warnings, errors and the progress bar. The one place that writes the
//! `citedex:` prefix, and the one printer of an error with its causes.

use std::fmt::Display;
use std::io::{self, IsTerminal};
use std::path::Path;
use std::sync::OnceLock;

use citedex::indexer::Progress;
use indicatif::{ProgressBar, ProgressStyle};

use crate::render;

/// Writes messages to standard error, around a progress bar on a terminal.
#[derive(Default)]
pub struct Console {
    /// The bar, made when the number of files is known, and only on a terminal.
    bar: OnceLock<ProgressBar>,
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
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }

    fn print(&self, line: std::fmt::Arguments) {
        // Messages name files and quote their text: what a terminal would obey is shown instead.
        let line = line.to_string();
        let line = render::visible(&line);
        match self.bar.get() {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

impl Progress for Console {
    fn start(&self, files: usize) {
        if !io::stderr().is_terminal() {
            return;
        }
        let bar = self.bar.get_or_init(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} indexing [{bar:30}] {pos}/{len} files {wide_msg}")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar
        });
        bar.reset();
        bar.set_length(files as u64);
    }

    fn advance(&self, path: &Path) {
        if let Some(bar) = self.bar.get() {
            bar.set_message(render::visible(&path.display().to_string()).into_owned());
            bar.inc(1);
        }
    }

    fn warn(&self, message: &str) {
        Console::warn(self, message);
    }
}
