//! Building and updating an index from corpus folders: walk, hash every file, read and chunk the
//! new and changed ones in parallel batches, feed their passages to the index writer in a stable
//! order, delete what disappeared, link citations, and commit once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

use crate::catalog::{Catalog, Entry};
use crate::chunker::{self, ChunkSize, Passage};
use crate::corpus::{self, CorpusError, CorpusFile, SkipReason, Skipped};
use crate::index::{self, IndexBuilder, IndexError};

/// Files read and chunked in parallel before their passages go to the writer in order.
const BATCH_FILES: usize = 256;

/// Why a build failed as a whole (a bad file only skips that file).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A corpus root could not be walked.
    #[error(transparent)]
    Corpus(#[from] CorpusError),
    /// The index could not be written.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Receives progress while an index is built.
pub trait Progress: Sync {
    /// The walk found `files` readable files.
    fn start(&self, files: usize);
    /// One more file was handled.
    fn advance(&self, path: &Path);
    /// A file was skipped or read with a problem worth telling the user.
    fn warn(&self, message: &str);
}

/// What a build did.
#[derive(Debug, Default)]
pub struct BuildReport {
    /// Documents in the index after the build.
    pub documents: usize,
    /// Passages in the index after the build.
    pub passages: usize,
    /// Documents new to the index.
    pub added: usize,
    /// Documents whose content changed and were read again.
    pub changed: usize,
    /// Documents no longer in the corpus, deleted from the index.
    pub removed: usize,
    /// Documents left as they were.
    pub unchanged: usize,
    /// Files left out, with reasons (unsupported types included).
    pub skipped: Vec<Skipped>,
    /// References, by article path, that name no document.
    pub unresolved: Vec<(String, String)>,
    /// Wall time of the whole build.
    pub elapsed: Duration,
}

impl BuildReport {
    /// Files skipped because of an error (see [`SkipReason::is_error`]).
    pub fn failed(&self) -> usize {
        self.skipped.iter().filter(|s| s.reason.is_error()).count()
    }
}

/// How one file of the corpus compares with the index.
enum FileState {
    /// Same bytes as indexed: nothing to do.
    Unchanged(Entry),
    /// New or changed: its fresh entry and passages.
    Read(Entry, Vec<Passage>),
    /// Could not be read or parsed; `previous` is what the index holds for it, kept rather than lost.
    Failed { skip: Skipped, previous: Option<Entry> },
}

/// Brings the index at `index_dir` up to date with the files under `roots`: only new and
/// changed files are read, removed files' passages are deleted, and all of it lands in one commit.
/// With `full`, or when there is no index yet, a new index is built and swapped in.
pub fn build(
    roots: &[PathBuf],
    index_dir: &Path,
    full: bool,
    progress: &dyn Progress,
) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    let (files, mut skipped) = corpus::walk(roots)?;
    for skip in skipped.iter().filter(|s| s.reason != SkipReason::Unsupported) {
        progress.warn(&format!("skipping {}: {}", skip.path.display(), skip.reason));
    }
    let lock = index::lock(index_dir)?;
    let previous = if full {
        None
    } else {
        match index::open(index_dir) {
            Ok(open) => Some(open),
            Err(IndexError::NotFound(_)) => None,
            Err(error) => return Err(error.into()),
        }
    };
    let mut builder = match &previous {
        Some(open) => IndexBuilder::update(index_dir, open, &lock)?,
        None => IndexBuilder::create(index_dir, &lock)?,
    };
    let known = previous.as_ref().map(|open| &open.catalog);
    // An index from another release is updated, but its hashes vouch for nothing.
    let trusted = previous.as_ref().is_some_and(|open| open.same_release);
    let mut report = BuildReport::default();
    let mut entries = Vec::new();
    progress.start(files.len());
    for batch in files.chunks(BATCH_FILES) {
        let states: Vec<FileState> = batch
            .par_iter()
            .map(|file| {
                let path = file.path.to_string_lossy();
                let state = examine(
                    file,
                    known.and_then(|catalog| catalog.get(&path)),
                    trusted,
                    progress,
                );
                progress.advance(&file.path);
                state
            })
            .collect();
        for state in states {
            match state {
                FileState::Unchanged(entry) => {
                    report.unchanged += 1;
                    entries.push(entry);
                }
                FileState::Read(entry, passages) => {
                    match known.and_then(|catalog| catalog.get(&entry.source.path)) {
                        Some(_) => {
                            builder.remove(&entry.source.path);
                            report.changed += 1;
                        }
                        None => report.added += 1,
                    }
                    builder.add(&entry, &passages)?;
                    entries.push(entry);
                }
                FileState::Failed { skip, previous } => {
                    let kept = if previous.is_some() {
                        "; the index keeps its previous version"
                    } else {
                        ""
                    };
                    progress.warn(&format!(
                        "skipping {}: {}{kept}",
                        skip.path.display(),
                        skip.reason
                    ));
                    skipped.push(skip);
                    entries.extend(previous);
                }
            }
        }
    }
    if let Some(catalog) = known {
        let still_there: std::collections::HashSet<&str> =
            entries.iter().map(|e| e.source.path.as_str()).collect();
        for gone in catalog
            .documents
            .iter()
            .filter(|d| !still_there.contains(d.source.path.as_str()))
        {
            builder.remove(&gone.source.path);
            report.removed += 1;
        }
    }
    let catalog = Catalog::new(entries);
    report.unresolved = catalog
        .missing_references()
        .map(|(entry, reference)| (entry.source.path.clone(), reference.cited.reference.text.clone()))
        .collect();
    report.unresolved.extend(
        catalog
            .unknown_keys()
            .into_iter()
            .map(|(path, key)| (path.to_string(), format!("cites key {key:?}"))),
    );
    report.documents = catalog.documents.len();
    report.passages = catalog.documents.iter().map(|d| d.passages).sum();
    report.skipped = skipped;
    let nothing_changed = previous
        .as_ref()
        .is_some_and(|open| open.same_release && open.catalog == catalog);
    if !nothing_changed {
        builder.commit(catalog)?;
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Reads one file, and parses and chunks it unless its bytes are those already indexed (and
/// `trusted`: indexed by this release).
fn examine(file: &CorpusFile, indexed: Option<&Entry>, trusted: bool, progress: &dyn Progress) -> FileState {
    let failed = |skip| FileState::Failed {
        skip,
        previous: indexed.cloned(),
    };
    let bytes = match corpus::read(file) {
        Ok(bytes) => bytes,
        Err(skip) => return failed(skip),
    };
    let hash = format!("{:032x}", xxh3_128(&bytes));
    if let Some(entry) = indexed.filter(|entry| trusted && entry.hash == hash) {
        return FileState::Unchanged(entry.clone());
    }
    let path = file.path.to_string_lossy().into_owned();
    // Chunking and reference parsing run under the reader's isolation and time limit too.
    let read = corpus::parse_with(file, bytes, move |document| {
        let passages = chunker::chunk(&document, ChunkSize::default());
        let entry = Entry::new(&path, &hash, &document, passages.len());
        (entry, passages, document.warnings)
    });
    let (entry, passages, warnings) = match read {
        Ok(read) => read,
        Err(skip) => return failed(skip),
    };
    let path = file.path.to_string_lossy();
    for warning in &warnings {
        progress.warn(&format!("{path}: {warning}"));
    }
    for reference in entry.references.iter().map(|r| &r.cited.reference) {
        if let Some(problem) = &reference.problem {
            progress.warn(&format!(
                "{path}: malformed reference {:?} ({problem}), kept",
                reference.text
            ));
        }
    }
    FileState::Read(entry, passages)
}
