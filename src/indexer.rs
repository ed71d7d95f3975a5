//! Building an index from corpus folders: walk, read and chunk files in parallel batches, feed
//! the passages to the index writer in a stable order, link citations, commit.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::catalog::{Catalog, Entry};
use crate::chunker::{self, ChunkSize, Passage};
use crate::corpus::{self, CorpusError, Skipped};
use crate::index::{IndexBuilder, IndexError};

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
    /// Documents indexed.
    pub documents: usize,
    /// Passages indexed.
    pub passages: usize,
    /// Files left out, with reasons (unsupported types included).
    pub skipped: Vec<Skipped>,
    /// References, by article path, that name no document.
    pub unresolved: Vec<(String, String)>,
    /// Wall time of the whole build.
    pub elapsed: Duration,
}

impl BuildReport {
    /// Files skipped because of a problem, not merely an unsupported type.
    pub fn failed(&self) -> usize {
        self.skipped.iter().filter(|s| !s.unsupported).count()
    }
}

/// Indexes every readable file under `roots` into a new generation at `index_dir`.
pub fn build(
    roots: &[PathBuf],
    index_dir: &Path,
    progress: &dyn Progress,
) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    let (files, mut skipped) = corpus::walk(roots)?;
    for skip in skipped.iter().filter(|s| !s.unsupported) {
        progress.warn(&format!("skipping {}: {}", skip.path.display(), skip.reason));
    }
    progress.start(files.len());
    let mut builder = IndexBuilder::create(index_dir)?;
    let mut entries = Vec::new();
    let mut passages_total = 0;
    let size = ChunkSize::default();
    for batch in files.chunks(BATCH_FILES) {
        let loaded: Vec<Result<(Entry, Vec<Passage>), Skipped>> = batch
            .par_iter()
            .map(|file| {
                let document = corpus::load(file);
                progress.advance(&file.path);
                let document = document?;
                let path = file.path.to_string_lossy();
                for warning in &document.warnings {
                    progress.warn(&format!("{path}: {warning}"));
                }
                let passages = chunker::chunk(&document, size);
                let entry = Entry::new(&path, &document, passages.len());
                for reference in entry
                    .references
                    .iter()
                    .filter_map(|r| r.cited.reference.problem.as_ref().map(|p| (r, p)))
                {
                    progress.warn(&format!(
                        "{path}: malformed reference {:?} ({}), kept",
                        reference.0.cited.reference.text, reference.1
                    ));
                }
                Ok((entry, passages))
            })
            .collect();
        for result in loaded {
            match result {
                Ok((entry, passages)) => {
                    builder.add(&entry, &passages)?;
                    passages_total += passages.len();
                    entries.push(entry);
                }
                Err(skip) => {
                    progress.warn(&format!("skipping {}: {}", skip.path.display(), skip.reason));
                    skipped.push(skip);
                }
            }
        }
    }
    let catalog = Catalog::new(entries);
    let mut unresolved: Vec<(String, String)> = catalog
        .documents
        .iter()
        .flat_map(|d| {
            d.references
                .iter()
                .filter(|r| r.resolved.is_none())
                .map(|r| (d.source.path.clone(), r.cited.reference.text.clone()))
        })
        .collect();
    unresolved.extend(
        catalog
            .unknown_keys()
            .into_iter()
            .map(|(path, key)| (path.to_string(), format!("cites key {key:?}"))),
    );
    let documents = catalog.documents.len();
    builder.commit(catalog)?;
    Ok(BuildReport {
        documents,
        passages: passages_total,
        skipped,
        unresolved,
        elapsed: started.elapsed(),
    })
}
