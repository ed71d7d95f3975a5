//! Runs a validated [`Config`]: the glue between the command line, the index, search and
//! rendering. Progress, warnings and summaries go to standard error here.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{Action, Config, DEFAULT_CORPUS_DIR};
use crate::index::{self, IndexError};
use crate::indexer::{self, BuildError, BuildReport, Progress};
use crate::render;
use crate::search::{self, SearchError, SearchOptions};

/// How a successful run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Results were found, or the command did its job.
    Found,
    /// The search matched nothing.
    NoMatch,
    /// The index was built, but some files had to be skipped.
    Partial,
}

/// Any failure of a command.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Building the index failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Opening the index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The search failed.
    #[error(transparent)]
    Search(#[from] SearchError),
    /// Writing the output failed.
    #[error("writing output: {0}")]
    Output(#[from] io::Error),
}

/// Runs the command.
pub fn run(config: &Config) -> Result<Outcome, Error> {
    let outcome = match &config.action {
        Action::Index { roots, full } => {
            let report = build_with_progress(roots, &config.index_dir, *full)?;
            if report.failed() > 0 {
                Outcome::Partial
            } else {
                Outcome::Found
            }
        }
        Action::Search {
            query,
            limit,
            json,
            color,
        } => {
            let open = open_or_build(config)?;
            let results = search::search(&open, query, SearchOptions { limit: *limit })?;
            for note in &results.notes {
                eprintln!("citedex: {note}");
            }
            let color = render::use_color(*color);
            finish_output(render::to_stdout(|out| {
                if *json {
                    render::json(out, &results)
                } else {
                    render::search_results(out, &results, color)
                }
            }))?;
            if results.results.is_empty() {
                Outcome::NoMatch
            } else {
                Outcome::Found
            }
        }
        Action::Sources { json } => {
            let open = open_or_build(config)?;
            let color = render::use_color(crate::cli::ColorChoice::Auto);
            finish_output(render::to_stdout(|out| {
                if *json {
                    render::json(out, &open.catalog)
                } else {
                    render::sources(out, &open.catalog, color)
                }
            }))?;
            Outcome::Found
        }
    };
    Ok(outcome)
}

/// A reader that closed the pipe early (`| head`) is not an error.
fn finish_output(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Opens the index, first building it from the default corpus when there is none yet.
fn open_or_build(config: &Config) -> Result<index::OpenIndex, Error> {
    let corpus = PathBuf::from(DEFAULT_CORPUS_DIR);
    if !index::exists(&config.index_dir) && corpus.is_dir() {
        eprintln!(
            "citedex: no index at {}, building it from {}/ first",
            config.index_dir.display(),
            corpus.display()
        );
        build_with_progress(&[corpus], &config.index_dir, false)?;
    }
    Ok(index::open(&config.index_dir)?)
}

fn build_with_progress(roots: &[PathBuf], index_dir: &Path, full: bool) -> Result<BuildReport, Error> {
    let progress = StderrProgress::new();
    let report = indexer::build(roots, index_dir, full, &progress)?;
    progress.finish();
    eprintln!("{}", summary(&report, index_dir));
    Ok(report)
}

/// The one-line summary of a build.
fn summary(report: &BuildReport, index_dir: &Path) -> String {
    let mut line = format!(
        "citedex: indexed {} documents, {} passages into {} in {} ({} added, {} changed, {} removed, {} unchanged)",
        report.documents,
        report.passages,
        index_dir.display(),
        seconds(report.elapsed),
        report.added,
        report.changed,
        report.removed,
        report.unchanged
    );
    let failed = report.failed();
    let unsupported = report.skipped.len() - failed;
    if failed > 0 {
        line.push_str(&format!("; {failed} files skipped (see above)"));
    }
    if unsupported > 0 {
        line.push_str(&format!("; {unsupported} files of unsupported types ignored"));
    }
    if !report.unresolved.is_empty() {
        line.push_str(&format!(
            "; {} references match no document (`citedex sources` lists them)",
            report.unresolved.len()
        ));
    }
    line
}

fn seconds(elapsed: Duration) -> String {
    format!("{:.2} s", elapsed.as_secs_f64())
}

/// Progress on standard error: a bar on a terminal, warnings always.
struct StderrProgress {
    bar: Option<ProgressBar>,
}

impl StderrProgress {
    fn new() -> StderrProgress {
        let bar = io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template("{spinner} indexing [{bar:30}] {pos}/{len} files {wide_msg}")
                    .expect("the template is valid")
                    .progress_chars("=> "),
            );
            bar
        });
        StderrProgress { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for StderrProgress {
    fn start(&self, files: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(files as u64);
        }
    }

    fn advance(&self, path: &Path) {
        if let Some(bar) = &self.bar {
            bar.set_message(path.display().to_string());
            bar.inc(1);
        }
    }

    fn warn(&self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("citedex: warning: {message}")),
            None => eprintln!("citedex: warning: {message}"),
        }
    }
}
