//! Runs a validated [`Config`]: the glue between the command line, the index, search and
//! rendering. Progress, warnings and summaries go to standard error here.

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use notify_debouncer_mini::new_debouncer;
use notify_debouncer_mini::notify::{self, RecursiveMode};

use crate::cli::{Action, Config, DEFAULT_CORPUS_DIR};
use crate::corpus::SkipReason;
use crate::eval;
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
    /// The evaluation failed.
    #[error(transparent)]
    Eval(#[from] eval::EvalError),
    /// The file watcher could not start.
    #[error("watching {path}")]
    Watch {
        /// The folder that could not be watched.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: notify::Error,
    },
    /// Writing the output failed.
    #[error("writing output")]
    Output(#[from] io::Error),
}

/// Runs the command.
pub fn run(config: &Config) -> Result<Outcome, Error> {
    let outcome = match &config.action {
        Action::Index { roots, full } => {
            let report = build_with_progress(roots, &config.index_dir, *full)?;
            eprintln!("{}", summary(&report, &config.index_dir));
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
            explain,
            color,
        } => {
            let open = open_or_build(config)?;
            let results = search::search(
                &open,
                query,
                SearchOptions {
                    limit: *limit,
                    explain: *explain,
                },
            )?;
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
        Action::Watch { roots } => watch(roots, &config.index_dir)?,
        Action::Eval {
            collection,
            per_query,
            json,
        } => {
            let progress = StderrProgress::new();
            let report = eval::evaluate(collection, *per_query, &progress)?;
            progress.finish();
            if report.truncated_queries > 0 {
                eprintln!(
                    "citedex: warning: {} over {} characters cut at a word boundary",
                    count(report.truncated_queries, "query", "queries"),
                    search::MAX_QUERY_CHARS
                );
            }
            eprintln!("{}", eval_summary(&report));
            finish_output(render::to_stdout(|out| {
                if *json {
                    render::json(out, &report)
                } else {
                    render::eval_report(out, &report)
                }
            }))?;
            // As for `index`: figures from a collection with skipped documents are partial.
            if report.run.skipped_documents > 0 {
                Outcome::Partial
            } else {
                Outcome::Found
            }
        }
        Action::Export => {
            let passages = search::all_passages(&open_or_build(config)?)?;
            finish_output(render::to_stdout(|out| render::json_lines(out, &passages)))?;
            if passages.is_empty() {
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
        let report = build_with_progress(&[corpus], &config.index_dir, false)?;
        eprintln!("{}", summary(&report, &config.index_dir));
    }
    Ok(index::open(&config.index_dir)?)
}

fn build_with_progress(roots: &[PathBuf], index_dir: &Path, full: bool) -> Result<BuildReport, Error> {
    let progress = StderrProgress::new();
    let report = indexer::build(roots, index_dir, full, &progress)?;
    progress.finish();
    Ok(report)
}

/// Quiet time after the last file event before the index is updated.
const WATCH_DEBOUNCE: Duration = Duration::from_millis(300);

/// Builds the index, then updates it after every burst of file changes under `roots`, one
/// summary line per update. Runs until interrupted; a failed update is reported and waited out.
fn watch(roots: &[PathBuf], index_dir: &Path) -> Result<Outcome, Error> {
    let first = build_with_progress(roots, index_dir, false)?;
    eprintln!("{}", summary(&first, index_dir));
    let (events, updates) = std::sync::mpsc::channel();
    let mut debouncer = new_debouncer(WATCH_DEBOUNCE, events).map_err(|source| Error::Watch {
        path: index_dir.to_path_buf(),
        source,
    })?;
    for root in roots {
        debouncer
            .watcher()
            .watch(root, RecursiveMode::Recursive)
            .map_err(|source| Error::Watch {
                path: root.clone(),
                source,
            })?;
    }
    // The index may live inside a watched folder; its own writes must not trigger updates.
    let own_files = std::fs::canonicalize(index_dir).unwrap_or_else(|_| index_dir.to_path_buf());
    eprintln!(
        "citedex: watching {} for changes",
        roots
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for batch in updates {
        let relevant = match batch {
            Ok(events) => events.iter().any(|event| !event.path.starts_with(&own_files)),
            Err(error) => {
                eprintln!("citedex: warning: watcher: {error}");
                true
            }
        };
        if !relevant {
            continue;
        }
        match build_with_progress(roots, index_dir, false) {
            Ok(report) if report.added + report.changed + report.removed + report.failed() == 0 => {}
            Ok(report) => eprintln!("{}", summary(&report, index_dir)),
            Err(error) => eprintln!("citedex: error: {}", error_chain(&error)),
        }
    }
    Ok(Outcome::Found)
}

/// An error and its causes on one line, as the binary prints them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        line.push_str(": ");
        line.push_str(&inner.to_string());
        cause = inner.source();
    }
    line
}

/// The one-line summary of a build.
fn summary(report: &BuildReport, index_dir: &Path) -> String {
    let mut line = format!(
        "citedex: indexed {}, {} into {} in {} ({} added, {} changed, {} removed, {} unchanged)",
        count(report.documents, "document", "documents"),
        count(report.passages, "passage", "passages"),
        index_dir.display(),
        seconds(report.elapsed),
        report.added,
        report.changed,
        report.removed,
        report.unchanged
    );
    let failed = report.failed();
    let unsupported = report
        .skipped
        .iter()
        .filter(|s| s.reason == SkipReason::Unsupported)
        .count();
    let warned = report.skipped.len() - failed - unsupported;
    if failed > 0 {
        line.push_str(&format!(
            "; {} skipped (see above)",
            count(failed, "file", "files")
        ));
    }
    if warned > 0 {
        line.push_str(&format!(
            "; {} left out with a warning (see above)",
            count(warned, "file", "files")
        ));
    }
    if unsupported > 0 {
        line.push_str(&format!(
            "; {} of unsupported types ignored",
            count(unsupported, "file", "files")
        ));
    }
    if !report.unresolved.is_empty() {
        line.push_str(&format!(
            "; {} no document (`citedex sources` lists them)",
            count(report.unresolved.len(), "reference matches", "references match")
        ));
    }
    line
}

/// The one-line summary of an evaluation run.
fn eval_summary(report: &eval::EvalReport) -> String {
    let run = &report.run;
    let mut line = format!(
        "citedex: evaluated {} on {}, {} in {} (indexing {})",
        count(report.queries, "query", "queries"),
        count(run.documents, "document", "documents"),
        count(run.passages, "passage", "passages"),
        seconds(run.elapsed),
        seconds(run.indexing)
    );
    if run.unjudged_queries > 0 {
        line.push_str(&format!(
            "; {} without a relevant judgment left out",
            count(run.unjudged_queries, "query", "queries")
        ));
    }
    if run.skipped_documents > 0 {
        line.push_str(&format!(
            "; {} skipped (see above)",
            count(run.skipped_documents, "document", "documents")
        ));
    }
    line
}

/// `1 query`, `2 queries`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
