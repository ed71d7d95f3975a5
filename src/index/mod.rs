//! The on-disk index: opening it for reading ([`Index`]) and writing it ([`IndexWriter`]).
//!
//! An index directory holds generations, each a tantivy index, and a `CURRENT` file naming the
//! live one ([`layout`] owns the directory). A full build writes a fresh generation and makes it
//! live by renaming `CURRENT` after its commit; an update commits into the live generation. Each
//! commit records its [`IndexInfo`] (schema version, release, counts, roots) as tantivy's commit
//! payload, which is all an open reads whole: passages, document records and abbreviations are
//! tantivy documents, read one at a time as a search needs them.

mod check;
mod layout;
mod passages;
pub mod schema;
pub(crate) mod stored;
mod writer;

use std::cell::Cell;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, ReloadPolicy, Searcher, TantivyDocument, Term};

use crate::catalog::{Catalog, Entry};
pub use check::CheckReport;
pub use passages::PassageInContext;
pub use schema::SCHEMA_VERSION;
use schema::{EntryKind, Fields};
pub(crate) use stored::read_passage;
pub use stored::{StoredPassage, passage_id};
pub use writer::{IndexWriter, PreparedDocument};

/// The citedex release this build is.
pub(crate) const RELEASE: &str = env!("CARGO_PKG_VERSION");
/// How often an open retries when a writer replaced or tidied the generation it was opening.
const OPEN_ATTEMPTS: usize = 20;
/// Pause between attempts to open.
const OPEN_RETRY_PAUSE: Duration = Duration::from_millis(25);

/// What can go wrong opening or writing an index; every variant names the index directory.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// No index has been built at this path.
    #[error("no index at {0}; build one with `citedex index`")]
    NotFound(PathBuf),
    /// The folder holds other files and no mark of citedex: it is not ours to write into.
    #[error("{0} is not empty and is not a citedex index; choose another folder with --index")]
    NotAnIndex(PathBuf),
    /// The index was written by a citedex with another schema.
    #[error(
        "index at {path} has schema version {found}, this citedex needs {expected}: rebuild needed, run `citedex index --full`"
    )]
    SchemaMismatch {
        /// The index directory.
        path: PathBuf,
        /// Version recorded in the index.
        found: u32,
        /// Version this build of citedex writes.
        expected: u32,
    },
    /// Another process is writing this index.
    #[error("index at {0} is being written by another citedex process; try again when it finishes")]
    Locked(PathBuf),
    /// The index files are missing, garbled or unreadable.
    #[error("the index at {path} is damaged ({detail}); rebuild it with `citedex index --full`")]
    Corrupt {
        /// The index directory.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// A file operation failed.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// tantivy failed.
    #[error("index at {path}")]
    Tantivy {
        /// The index directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: tantivy::TantivyError,
    },
}

pub(crate) fn tantivy_error(path: &Path) -> impl FnOnce(tantivy::TantivyError) -> IndexError + '_ {
    move |source| IndexError::Tantivy {
        path: path.to_path_buf(),
        source,
    }
}

/// What a failed read of an index file says about the file, in a few words.
fn describe_damage(error: &tantivy::TantivyError) -> String {
    use tantivy::TantivyError;
    use tantivy::directory::error::OpenReadError;
    match error {
        TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(file)) => {
            format!("{} is missing", file.display())
        }
        TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath })
            if io_error.kind() == io::ErrorKind::InvalidData =>
        {
            format!("{} is garbled or cut short", filepath.display())
        }
        TantivyError::OpenReadError(OpenReadError::IoError { io_error, filepath }) => {
            format!("{}: {io_error}", filepath.display())
        }
        TantivyError::IoError(io_error) => format!("a read failed: {io_error}"),
        TantivyError::DataCorruption(corruption) => format!("{corruption:?}"),
        other => other.to_string(),
    }
}

thread_local! {
    /// How many guarded reads of an index are under way on this thread.
    static GUARDED_READS: Cell<usize> = const { Cell::new(0) };
}

/// Whether a panic on this thread would now happen inside a read of an index, where citedex
/// catches it and reports the index as damaged, so a panic hook need not print it.
pub fn panics_are_caught() -> bool {
    GUARDED_READS.with(|depth| depth.get() > 0)
}

/// Runs `read`, a read of the index at `root`. A damaged segment file can make tantivy panic (a
/// slice out of range, a bit width over 32) rather than fail; such a panic stops here and
/// becomes [`IndexError::Corrupt`], so that it never reaches the user.
pub(crate) fn guarded<T, E: From<IndexError>>(
    root: &Path,
    read: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    GUARDED_READS.with(|depth| depth.set(depth.get() + 1));
    let outcome = panic::catch_unwind(AssertUnwindSafe(read));
    GUARDED_READS.with(|depth| depth.set(depth.get() - 1));
    outcome.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| text.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(E::from(IndexError::Corrupt {
            path: root.to_path_buf(),
            detail: format!("a read failed: {message}"),
        }))
    })
}

/// What each commit records about the index: the commit payload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexInfo {
    /// The schema version the index was written with.
    pub schema_version: u32,
    /// The citedex release that wrote the commit: another release may read files differently.
    pub written_by: String,
    /// Documents in the index.
    pub documents: usize,
    /// Passages in the index.
    pub passages: usize,
    /// Documents with a publisher; `None` in commits written before it was counted.
    #[serde(default)]
    pub documents_with_publisher: Option<usize>,
    /// The corpus folders the index was built from.
    pub roots: Vec<String>,
    /// When the commit was made, in seconds since the Unix epoch.
    pub committed_at: u64,
}

/// What a commit stored, with the references that name no indexed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The commit's record.
    pub info: IndexInfo,
    /// `(article path, reference)` for every reference or cited key that matches no document.
    pub unresolved: Vec<(String, String)>,
}

impl Committed {
    fn describe(catalog: &Catalog, roots: Vec<String>) -> Committed {
        let mut unresolved: Vec<(String, String)> = catalog
            .missing_references()
            .map(|(entry, reference)| (entry.source.path.clone(), reference.cited.reference.text.clone()))
            .collect();
        unresolved.extend(
            catalog
                .unknown_keys()
                .into_iter()
                .map(|(path, key)| (path.to_string(), format!("cites key {key:?}"))),
        );
        Committed {
            info: IndexInfo {
                schema_version: SCHEMA_VERSION,
                written_by: RELEASE.to_string(),
                documents: catalog.documents.len(),
                passages: catalog.documents.iter().map(|d| d.passages).sum(),
                documents_with_publisher: Some(
                    catalog
                        .documents
                        .iter()
                        .filter(|d| d.source.publisher.is_some())
                        .count(),
                ),
                roots,
                committed_at: SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |elapsed| elapsed.as_secs()),
            },
            unresolved,
        }
    }
}

/// What an index holds and where, as `citedex status` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The index directory.
    pub dir: PathBuf,
    /// What the last commit recorded: counts, roots, time, schema version, release.
    #[serde(flatten)]
    pub info: IndexInfo,
    /// Size of the live generation on disk, in bytes.
    pub bytes: u64,
}

/// The live generation of an index, opened for searching. It is a snapshot: commits made after
/// it was opened are not seen ([`Index::is_current`] tells), and the generation it reads is kept
/// on disk while it is open.
pub struct Index {
    root: PathBuf,
    generation: String,
    pub(crate) index: tantivy::Index,
    pub(crate) searcher: Searcher,
    pub(crate) fields: Fields,
    info: IndexInfo,
    /// The opstamp of the commit this snapshot reads, to tell a later commit into its generation.
    opstamp: u64,
    _hold: Option<layout::ReaderHold>,
}

impl Index {
    /// Opens the live index at `dir`, checking its schema version. A full build that replaces
    /// the live generation meanwhile is waited out, never half seen.
    pub fn open(dir: &Path) -> Result<Index, IndexError> {
        let mut attempt = 0;
        loop {
            let generation =
                layout::current_generation(dir)?.ok_or_else(|| IndexError::NotFound(dir.to_path_buf()))?;
            let opened = layout::hold(dir, &generation)
                .map_err(|error| IndexError::Corrupt {
                    path: dir.to_path_buf(),
                    detail: format!("{generation}, which CURRENT names, cannot be read: {error}"),
                })
                .and_then(|hold| {
                    let mut index = guarded(dir, || open_generation(dir, &generation))?;
                    index._hold = Some(hold);
                    Ok(index)
                });
            attempt += 1;
            match opened {
                // A writer may have replaced the generation or removed files of an old commit
                // between reading `CURRENT` and opening: read it again.
                Err(IndexError::Corrupt { .. }) if attempt < OPEN_ATTEMPTS => {
                    std::thread::sleep(OPEN_RETRY_PAUSE);
                }
                result => return result,
            }
        }
    }

    /// Whether `dir` holds a citedex index (it may still fail to open).
    pub fn exists(dir: &Path) -> bool {
        layout::exists(dir)
    }

    /// The index directory.
    pub fn dir(&self) -> &Path {
        &self.root
    }

    /// What the last commit recorded.
    pub fn info(&self) -> &IndexInfo {
        &self.info
    }

    /// Whether any document may have a publisher: searches leave the field out when none has,
    /// as tantivy builds an empty term dictionary, at a cost, for a field without terms.
    pub(crate) fn has_publishers(&self) -> bool {
        self.info.documents_with_publisher != Some(0)
    }

    /// Whether this snapshot still shows the live index: `CURRENT` names its generation and no
    /// commit was made into that generation since it was opened. It reads two small files, so a
    /// long-lived reader can ask before each use and [`Index::open`] again when it is not.
    pub fn is_current(&self) -> Result<bool, IndexError> {
        if layout::current_generation(&self.root)?.as_deref() != Some(self.generation.as_str()) {
            return Ok(false);
        }
        let metas = self
            .index
            .load_metas()
            .map_err(|error| self.corrupt(describe_damage(&error)))?;
        Ok(metas.opstamp == self.opstamp)
    }

    /// Every document with its citation links, and the abbreviations learnt: a read of all the
    /// records, for listings.
    pub fn catalog(&self) -> Result<Catalog, IndexError> {
        guarded(&self.root, || self.read_catalog())
    }

    fn read_catalog(&self) -> Result<Catalog, IndexError> {
        let mut documents = Vec::new();
        for stored in self.entries(EntryKind::Document)? {
            documents.push(stored::read_record(self.fields, &stored).map_err(|detail| self.corrupt(detail))?);
        }
        let abbreviations = self
            .entries(EntryKind::Abbreviation)?
            .iter()
            .filter_map(|stored| stored::read_abbreviation(self.fields, stored))
            .collect();
        documents.sort_by(|a, b| a.source.path.cmp(&b.source.path));
        Ok(Catalog {
            documents,
            abbreviations,
        })
    }

    /// The record of the document at `path`, if the index holds it.
    pub fn record(&self, path: &str) -> Result<Option<Entry>, IndexError> {
        guarded(&self.root, || self.read_record(path))
    }

    fn read_record(&self, path: &str) -> Result<Option<Entry>, IndexError> {
        let Some(address) = self.first_with(stored::record_term(self.fields, path))? else {
            return Ok(None);
        };
        let stored: TantivyDocument = self.searcher.doc(address).map_err(self.tantivy())?;
        stored::read_record(self.fields, &stored)
            .map(Some)
            .map_err(|detail| self.corrupt(detail))
    }

    /// What the index holds and where: counts, roots, last commit, schema, size on disk.
    pub fn status(&self) -> Result<Status, IndexError> {
        let generation = self.root.join(&self.generation);
        let mut bytes = 0;
        for entry in std::fs::read_dir(&generation).map_err(|source| IndexError::Io {
            path: generation.clone(),
            source,
        })? {
            let metadata = entry.and_then(|entry| entry.metadata());
            bytes += metadata.map_or(0, |metadata| metadata.len());
        }
        Ok(Status {
            dir: self.root.clone(),
            info: self.info.clone(),
            bytes,
        })
    }

    /// The stored documents of one kind of entry.
    fn entries(&self, kind: EntryKind) -> Result<Vec<TantivyDocument>, IndexError> {
        self.addresses(kind)?
            .into_iter()
            .map(|address| self.searcher.doc(address).map_err(self.tantivy()))
            .collect()
    }

    /// The addresses of every entry of one kind, in index order.
    fn addresses(&self, kind: EntryKind) -> Result<Vec<DocAddress>, IndexError> {
        let query = TermQuery::new(
            Term::from_field_text(self.fields.entry, kind.as_str()),
            IndexRecordOption::Basic,
        );
        let mut addresses: Vec<DocAddress> = self
            .searcher
            .search(&query, &DocSetCollector)
            .map_err(self.tantivy())?
            .into_iter()
            .collect();
        addresses.sort();
        Ok(addresses)
    }

    /// The first live entry holding `term`.
    pub(crate) fn first_with(&self, term: Term) -> Result<Option<DocAddress>, IndexError> {
        let query = TermQuery::new(term, IndexRecordOption::Basic);
        let top = self
            .searcher
            .search(
                &query,
                &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
            )
            .map_err(self.tantivy())?;
        Ok(top.first().map(|(_, address)| *address))
    }

    /// Reading an index that opened can fail only on a damaged file.
    pub(crate) fn tantivy(&self) -> impl FnOnce(tantivy::TantivyError) -> IndexError + '_ {
        |error| self.corrupt(describe_damage(&error))
    }

    pub(crate) fn corrupt(&self, detail: String) -> IndexError {
        IndexError::Corrupt {
            path: self.root.clone(),
            detail,
        }
    }
}

/// The corpus folders the last commit of `generation` records, read from the commit alone, so
/// that a full rebuild keeps them when the index can no longer be opened (another schema version,
/// a damaged segment); none when even that record cannot be read.
fn recorded_roots(root: &Path, generation: &str) -> Vec<String> {
    let payload = layout::generation_directory(root, generation)
        .ok()
        .and_then(|directory| tantivy::Index::open(directory).ok())
        .and_then(|index| index.load_metas().ok())
        .and_then(|metas| metas.payload);
    payload
        .and_then(|payload| serde_json::from_str::<serde_json::Value>(&payload).ok())
        .and_then(|value| serde_json::from_value(value.get("roots")?.clone()).ok())
        .unwrap_or_default()
}

/// Opens one generation and checks that this release can read it.
fn open_generation(root: &Path, generation: &str) -> Result<Index, IndexError> {
    let corrupt = |detail: String| IndexError::Corrupt {
        path: root.to_path_buf(),
        detail,
    };
    let directory = layout::generation_directory(root, generation)?;
    let index = tantivy::Index::open(directory).map_err(|error| corrupt(describe_damage(&error)))?;
    schema::register_analyzers(&index);
    let metas = index
        .load_metas()
        .map_err(|error| corrupt(describe_damage(&error)))?;
    let payload = metas
        .payload
        .as_deref()
        .ok_or_else(|| corrupt("no record of its last commit".into()))?;
    let value: serde_json::Value =
        serde_json::from_str(payload).map_err(|error| corrupt(error.to_string()))?;
    let found = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if found != SCHEMA_VERSION {
        return Err(IndexError::SchemaMismatch {
            path: root.to_path_buf(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    let info: IndexInfo =
        serde_json::from_value(value).map_err(|error| corrupt(format!("commit record: {error}")))?;
    if !writer::same_schema(&index.schema()) {
        return Err(corrupt(format!(
            "its fields differ from schema version {SCHEMA_VERSION}"
        )));
    }
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(|error: tantivy::TantivyError| corrupt(describe_damage(&error)))?;
    let (_, fields) = schema::build();
    Ok(Index {
        root: root.to_path_buf(),
        generation: generation.to_string(),
        searcher: reader.searcher(),
        index,
        fields,
        info,
        opstamp: metas.opstamp,
        _hold: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_a_read_becomes_a_damaged_index() {
        let root = Path::new("/somewhere/.citedex");
        assert!(!panics_are_caught());
        let outcome: Result<(), IndexError> = guarded(root, || {
            assert!(panics_are_caught());
            panic!("Num bits must be <= 32")
        });
        assert!(!panics_are_caught());
        let message = outcome.unwrap_err().to_string();
        assert_eq!(
            message,
            "the index at /somewhere/.citedex is damaged (a read failed: Num bits must be <= 32); \
             rebuild it with `citedex index --full`"
        );
        // What does not panic passes through untouched.
        assert_eq!(guarded(root, || Ok::<_, IndexError>(7)).unwrap(), 7);
    }
}
