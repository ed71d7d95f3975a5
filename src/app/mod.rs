//! Runs a validated [`Config`] by calling the library: building and updating the index and its
//! roots, searching and showing passages, listing, exporting, evaluating and watching. Results
//! go to standard output through [`crate::render`]; notes, warnings and summaries to standard
//! error through [`Console`].

pub mod console;
mod lookup;
mod manual;
mod mcp;
mod roots;
mod watch;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use citedex::Index;
use citedex::eval::{self, Collection};
use citedex::indexer::{self, BuildOptions, BuildReport};

use crate::cli::{Action, Config, DEFAULT_CORPUS_DIR, EvalFiles};
use crate::render::{self, count};
use console::Console;

/// How a successful run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Results were found, or the command did its job.
    Found,
    /// The search matched nothing.
    NoMatch,
    /// The command did its job, but some files had to be skipped.
    Partial,
}

/// Runs the command.
pub fn run(config: &Config, console: &Console) -> anyhow::Result<Outcome> {
    let dir = &config.index_dir;
    match &config.action {
        Action::Index { paths, full, prune } => roots::index(paths, dir, *full, *prune, console),
        Action::Remove { paths } => roots::remove(paths, dir, console),
        Action::Status { json } => roots::status(&Index::open(dir)?, *json),
        Action::Search { query, output, color } => {
            lookup::search(&open_or_build(config, console)?, query, *output, *color, console)
        }
        Action::Show {
            target,
            context,
            json,
            color,
        } => lookup::show(
            &open_or_build(config, console)?,
            target,
            *context,
            *json,
            *color,
            console,
        ),
        Action::Watch { paths } => watch::run(paths, dir, console),
        Action::Mcp => mcp::serve(open_or_build(config, console)?),
        Action::Export => export(&open_or_build(config, console)?),
        Action::Sources { json } => {
            let catalog = open_or_build(config, console)?.catalog()?;
            print(anstream::ColorChoice::Auto, |out| {
                if *json {
                    render::json(out, &catalog)
                } else {
                    render::sources(out, &catalog)
                }
            })?;
            Ok(Outcome::Found)
        }
        Action::Check => check(dir, console),
        Action::Eval {
            files,
            per_query,
            baseline,
            json,
        } => evaluate(files, *per_query, *baseline, *json, console),
        Action::Completions { shell } => manual::completions(*shell),
        Action::Man { dir } => manual::man(dir.as_deref(), console),
    }
}

/// Prints every passage as JSON Lines.
fn export(index: &Index) -> anyhow::Result<Outcome> {
    let passages = index.passages()?;
    let mut exported = 0;
    // A damaged index stops the export with its own message, not as a failed write.
    let mut unreadable = None;
    print(anstream::ColorChoice::Never, |out| {
        for passage in passages {
            match passage {
                Ok(passage) => render::json(out, &passage)?,
                Err(error) => {
                    unreadable = Some(error);
                    break;
                }
            }
            exported += 1;
        }
        Ok(())
    })?;
    if let Some(error) = unreadable {
        return Err(error.into());
    }
    Ok(if exported == 0 {
        Outcome::NoMatch
    } else {
        Outcome::Found
    })
}

/// Evaluates ranking on a test collection and prints the figures.
fn evaluate(
    files: &EvalFiles,
    per_query: bool,
    baseline: bool,
    json: bool,
    console: &Console,
) -> anyhow::Result<Outcome> {
    let collection = match files {
        EvalFiles::Folder(folder) => Collection::in_folder(folder),
        EvalFiles::Files {
            corpus,
            queries,
            qrels,
        } => Collection {
            corpus: corpus.clone(),
            queries: queries.clone(),
            qrels: qrels.clone(),
        },
    };
    let report = eval::evaluate(&collection, &eval::EvalOptions { per_query, baseline })?;
    if report.truncated_queries > 0 {
        console.warn(format_args!(
            "{} over {} characters cut at a word boundary",
            count(report.truncated_queries, "query", "queries"),
            citedex::MAX_QUERY_CHARS
        ));
    }
    console.note(eval_summary(&report));
    print(anstream::ColorChoice::Never, |out| {
        if json {
            render::json(out, &report)
        } else {
            render::eval_report(out, &report)
        }
    })?;
    Ok(Outcome::Found)
}

/// Checks the index whole and says what is wrong with it, if anything: found damage is an error.
fn check(dir: &Path, console: &Console) -> anyhow::Result<Outcome> {
    let report = Index::check(dir)?;
    for problem in &report.problems {
        console.warn(format_args!("damage: {problem}"));
    }
    if report.unlisted > 0 {
        console.warn(format_args!("damage: {} more not listed", report.unlisted));
    }
    if !report.is_sound() {
        let found = report.problems.len() + report.unlisted;
        anyhow::bail!(citedex::IndexError::Corrupt {
            path: dir.to_path_buf(),
            detail: format!("{} found", count(found, "problem", "problems")),
        });
    }
    console.note(format_args!(
        "the index at {} is sound: {}, {} checked, {} decoded",
        dir.display(),
        count(report.segments, "segment", "segments"),
        count(report.files, "file", "files"),
        count(report.entries, "entry", "entries")
    ));
    Ok(Outcome::Found)
}

fn color_choice(choice: clap::ColorChoice) -> anstream::ColorChoice {
    match choice {
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
    }
}

/// Prints to standard output; a reader that closed the pipe early (`| head`) is not an error.
fn print(
    color: anstream::ColorChoice,
    write: impl FnOnce(&mut dyn io::Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    match render::to_stdout(color, write) {
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing output"),
    }
}

/// Opens the index, first building it from the default corpus when there is none yet.
fn open_or_build(config: &Config, console: &Console) -> anyhow::Result<Index> {
    let corpus = Path::new(DEFAULT_CORPUS_DIR);
    if !Index::exists(&config.index_dir) && corpus.is_dir() {
        console.note(format_args!(
            "no index at {}, building it from {}/ first",
            config.index_dir.display(),
            corpus.display()
        ));
        let report = build(&[], &config.index_dir, BuildOptions::default(), console)?;
        console.note(summary(&report, &config.index_dir));
    }
    Ok(Index::open(&config.index_dir)?)
}

/// Builds or updates the index with a progress bar on standard error; without paths, every
/// recorded root, or the default corpus when the index records none.
fn build(
    paths: &[PathBuf],
    index_dir: &Path,
    options: BuildOptions,
    console: &Console,
) -> anyhow::Result<BuildReport> {
    let options = BuildOptions {
        default_root: Some(Path::new(DEFAULT_CORPUS_DIR)),
        ..options
    };
    let report = indexer::build(paths, index_dir, options, console);
    console.finish();
    Ok(report?)
}

/// The one-line summary of a build.
fn summary(report: &BuildReport, index_dir: &Path) -> String {
    let mut line = format!(
        "indexed {}, {} into {} in {} ({} added, {} changed, {} removed, {} unchanged)",
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
        .filter(|s| s.reason == citedex::corpus::SkipReason::Unsupported)
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
        "evaluated {} on {}, {} in {} (indexing {})",
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
    line
}

fn seconds(elapsed: Duration) -> String {
    format!("{:.2} s", elapsed.as_secs_f64())
}
