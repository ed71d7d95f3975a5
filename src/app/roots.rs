//! The folders an index remembers: `citedex index` (add or update them), `citedex remove`
//! (forget one with its documents) and `citedex status` (what the index holds, and from where).

use std::path::{Path, PathBuf};

use citedex::Index;
use citedex::indexer::{self, BuildOptions, RootSummary};
use serde::Serialize;

use super::console::Console;
use super::{Outcome, build, print, summary};
use crate::render::{self, count};

/// Adds or updates the roots at `paths`, or updates every recorded root when there are none.
pub fn index(
    paths: &[PathBuf],
    dir: &Path,
    full: bool,
    prune: bool,
    console: &Console,
) -> anyhow::Result<Outcome> {
    let options = BuildOptions {
        full,
        prune,
        ..BuildOptions::default()
    };
    let report = build(paths, dir, options, console)?;
    for root in &report.pruned {
        console.note(format_args!("forgot {root}, which no longer exists"));
    }
    console.note(summary(&report, dir));
    Ok(if report.failed() > 0 {
        Outcome::Partial
    } else {
        Outcome::Found
    })
}

/// Forgets the roots at `paths` and removes their documents.
pub fn remove(paths: &[PathBuf], dir: &Path, console: &Console) -> anyhow::Result<Outcome> {
    let report = indexer::remove_roots(paths, dir)?;
    console.note(format_args!(
        "removed {} and {} from {}; {} and {} remain",
        report.roots.join(", "),
        count(report.removed, "document", "documents"),
        dir.display(),
        count(report.info.documents, "document", "documents"),
        count(report.info.passages, "passage", "passages")
    ));
    Ok(Outcome::Found)
}

/// `citedex status --json`: the library's status, and each root's document count.
#[derive(Serialize)]
struct StatusAnswer<'a> {
    #[serde(flatten)]
    status: &'a citedex::Status,
    /// Documents in the index by root, as recorded.
    root_documents: std::collections::BTreeMap<&'a str, usize>,
}

/// Prints what the index holds: its roots, counts, size, last build and schema.
pub fn status(index: &Index, json: bool) -> anyhow::Result<Outcome> {
    let status = index.status()?;
    let roots: Vec<RootSummary> = indexer::root_summaries(index)?;
    print(anstream::ColorChoice::Auto, |out| {
        if json {
            let root_documents = roots
                .iter()
                .map(|root| (root.path.as_str(), root.documents))
                .collect();
            render::json(
                out,
                &StatusAnswer {
                    status: &status,
                    root_documents,
                },
            )
        } else {
            render::status(out, &status, &roots)
        }
    })?;
    Ok(Outcome::Found)
}
