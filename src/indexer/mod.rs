//! Building and updating an index from folders of files, as one caller of the library's
//! [`IndexWriter`]: take the write lock, decide what to walk from the roots the index records
//! ([`roots`]), walk, hash every file, read and prepare the new and changed ones in parallel
//! batches, hand them to the writer in a stable order, remove what disappeared, and commit once.

pub mod roots;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;
use xxhash_rust::xxh3::xxh3_128;

use crate::corpus::{self, CorpusError, CorpusFile, SkipReason, Skipped};
use crate::index::{Index, IndexError, IndexInfo, IndexWriter, PreparedDocument};
use roots::Naming;

/// Files read and prepared in parallel before they go to the writer in order.
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
    /// A folder or file given to index does not exist.
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    /// No path was given, the index records no root yet, and there is no default folder.
    #[error("the index records no folder yet{}; name the folders to index: `citedex index PATH`",
        .0.as_ref().map(|default| format!(" and there is no {}", default.display())).unwrap_or_default())]
    NoRoots(Option<PathBuf>),
    /// A full rebuild would silently drop the documents of a root that no longer exists.
    #[error(
        "the root {} no longer exists, and a full rebuild would drop its documents; forget it first \
         with `citedex remove {}`, or add --prune", .0.display(), .0.display()
    )]
    MissingRoot(PathBuf),
    /// A path to remove is not one of the index's roots.
    #[error("{} is not a root of this index; its roots are: {}", .path.display(), .roots.join(", "))]
    NotARoot {
        /// The path given.
        path: PathBuf,
        /// The roots the index records.
        roots: Vec<String>,
    },
}

/// Receives progress while an index is built.
pub trait Progress: Sync {
    /// The walk found `files` readable files; called once per build, before any [`advance`].
    ///
    /// [`advance`]: Progress::advance
    fn start(&self, files: usize);
    /// One more file was handled.
    fn advance(&self, path: &Path);
    /// A file was skipped or read with a problem worth telling the user.
    fn warn(&self, message: &str);
}

/// What to bring up to date, beside the paths given to [`build`].
#[derive(Debug, Clone, Copy, Default)]
pub struct BuildOptions<'a> {
    /// Rebuild every root from scratch into a new generation, swapped in at the end.
    pub full: bool,
    /// Forget recorded roots that no longer exist, with their documents.
    pub prune: bool,
    /// The folder to index when no path is given and the index records no root yet.
    pub default_root: Option<&'a Path>,
}

/// A folder or file a build walked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walked {
    /// Its canonical path.
    pub path: PathBuf,
    /// Its name, as its documents are named (`.` for the folder holding the index).
    pub label: String,
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
    /// Files left out, with reasons (unsupported types included), named as documents are.
    pub skipped: Vec<Skipped>,
    /// References, by article path, that name no document.
    pub unresolved: Vec<(String, String)>,
    /// The folders and files walked.
    pub walked: Vec<Walked>,
    /// The roots the index records after the build.
    pub roots: Vec<String>,
    /// Recorded roots that no longer exist, kept with their documents.
    pub missing: Vec<String>,
    /// Recorded roots that no longer existed and were forgotten with their documents.
    pub pruned: Vec<String>,
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
    Unchanged(String),
    /// New or changed: the document made ready for the index.
    Read(Box<PreparedDocument>),
    /// Could not be read or parsed; what the index holds for it (if anything) is kept, not lost.
    Failed(String, Skipped),
}

/// Brings the index at `index_dir` up to date with the folders and files at `paths`, or with
/// every root it records when `paths` is empty: only new and changed files are read, removed
/// files' passages are deleted, and all of it lands in one commit. A path is an existing root, a
/// part of one (only that part is updated) or a new root; documents of other roots are left
/// alone. With `options.full`, or when there is no index yet, a new index is built and swapped in.
pub fn build(
    paths: &[PathBuf],
    index_dir: &Path,
    options: BuildOptions,
    progress: &dyn Progress,
) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    // The lock comes first: a second writer fails before it scans anything.
    let mut writer = if options.full {
        IndexWriter::create(index_dir)?
    } else {
        IndexWriter::update(index_dir)?
    };
    let recorded = decoded(writer.roots());
    let naming = naming(index_dir)?;
    let plan = roots::plan(
        &recorded,
        paths,
        options.default_root,
        options.full,
        options.prune,
    )?;
    let mut report = BuildReport {
        walked: plan
            .walk
            .iter()
            .map(|path| Walked {
                path: path.clone(),
                label: naming.label(path),
            })
            .collect(),
        missing: plan.missing.iter().map(|root| roots::encode(root)).collect(),
        pruned: plan.pruned.iter().map(|root| roots::encode(root)).collect(),
        ..BuildReport::default()
    };
    for root in &plan.missing {
        let label = naming.label(root);
        progress.warn(&format!(
            "{label} no longer exists; its documents are kept until `citedex remove {label}` or \
             `citedex index --prune`"
        ));
    }
    let (files, mut skipped) = corpus::walk(&plan.walk, naming.own())?;
    for skip in &mut skipped {
        skip.path = naming.relative(&skip.path).to_path_buf();
        if let SkipReason::LinkLoop {
            ancestor: Some(ancestor),
        } = &mut skip.reason
        {
            *ancestor = naming.relative(ancestor).to_path_buf();
        }
    }
    for skip in skipped.iter().filter(|s| s.reason != SkipReason::Unsupported) {
        progress.warn(&format!("skipping {}: {}", skip.path.display(), skip.reason));
    }
    let mut seen: HashSet<String> = HashSet::with_capacity(files.len());
    progress.start(files.len());
    for batch in files.chunks(BATCH_FILES) {
        let states: Vec<FileState> = batch
            .par_iter()
            .map(|file| {
                let path = naming.name(&file.path);
                let state = examine(file, path.clone(), writer.fingerprint(&path), progress);
                progress.advance(naming.relative(&file.path));
                state
            })
            .collect();
        for state in states {
            match state {
                FileState::Unchanged(path) => {
                    report.unchanged += 1;
                    seen.insert(path);
                }
                FileState::Read(prepared) => {
                    let path = prepared.entry.source.path.clone();
                    if writer.entry(&path).is_some() {
                        report.changed += 1;
                    } else {
                        report.added += 1;
                    }
                    writer.add_prepared(*prepared)?;
                    seen.insert(path);
                }
                FileState::Failed(path, mut skip) => {
                    let kept = if writer.entry(&path).is_some() {
                        "; the index keeps its previous version"
                    } else {
                        ""
                    };
                    progress.warn(&format!("skipping {path}: {}{kept}", skip.reason));
                    skip.path = naming.relative(&skip.path).to_path_buf();
                    skipped.push(skip);
                    seen.insert(path);
                }
            }
        }
    }
    let scopes: Vec<String> = plan
        .walk
        .iter()
        .chain(&plan.pruned)
        .map(|p| naming.name(p))
        .collect();
    let kept: Vec<String> = plan.roots.iter().map(|root| naming.name(root)).collect();
    let gone: Vec<String> = writer
        .paths()
        .filter(|path| !seen.contains(*path))
        .filter(|path| {
            scopes.iter().any(|scope| roots::within(path, scope))
                || (plan.everything && !kept.iter().any(|root| roots::within(path, root)))
        })
        .map(str::to_string)
        .collect();
    for path in gone {
        writer.remove(&path);
        report.removed += 1;
    }
    report.roots = plan.roots.iter().map(|root| roots::encode(root)).collect();
    writer.set_roots(report.roots.clone());
    let committed = writer.commit()?;
    report.documents = committed.info.documents;
    report.passages = committed.info.passages;
    report.unresolved = committed.unresolved;
    report.skipped = skipped;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// What [`remove_roots`] did.
#[derive(Debug)]
pub struct RemoveReport {
    /// The roots forgotten.
    pub roots: Vec<String>,
    /// Documents removed with them.
    pub removed: usize,
    /// What the index holds afterwards.
    pub info: IndexInfo,
}

/// Forgets the roots at `paths` and removes their documents, in one commit. A path names a root
/// by any spelling, and a root that no longer exists by the path it had.
pub fn remove_roots(paths: &[PathBuf], index_dir: &Path) -> Result<RemoveReport, BuildError> {
    let mut writer = IndexWriter::update(index_dir)?;
    let naming = naming(index_dir)?;
    let mut recorded = decoded(writer.roots());
    let mut forgotten = Vec::new();
    for path in paths {
        let spellings = [roots::canonical(path).ok(), Some(roots::lexical(path))];
        let Some(at) = recorded
            .iter()
            .position(|root| spellings.iter().flatten().any(|spelling| spelling == root))
        else {
            return Err(BuildError::NotARoot {
                path: path.clone(),
                roots: recorded.iter().map(|root| naming.label(root)).collect(),
            });
        };
        forgotten.push(recorded.remove(at));
    }
    let scopes: Vec<String> = forgotten.iter().map(|root| naming.name(root)).collect();
    let gone: Vec<String> = writer
        .paths()
        .filter(|path| scopes.iter().any(|scope| roots::within(path, scope)))
        .map(str::to_string)
        .collect();
    for path in &gone {
        writer.remove(path);
    }
    writer.set_roots(recorded.iter().map(|root| roots::encode(root)).collect());
    let committed = writer.commit()?;
    Ok(RemoveReport {
        roots: forgotten.iter().map(|root| naming.label(root)).collect(),
        removed: gone.len(),
        info: committed.info,
    })
}

/// One root of an index, as `citedex status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RootSummary {
    /// The canonical path, as recorded.
    pub path: String,
    /// How its documents are named (`.` for the folder holding the index).
    pub name: String,
    /// Documents of this root in the index.
    pub documents: usize,
    /// Whether the folder or file still exists.
    pub exists: bool,
}

/// The roots `index` records, each with its document count.
pub fn root_summaries(index: &Index) -> Result<Vec<RootSummary>, BuildError> {
    let naming = naming(index.dir())?;
    let catalog = index.catalog()?;
    Ok(decoded(&index.info().roots)
        .into_iter()
        .map(|root| {
            let scope = naming.name(&root);
            RootSummary {
                path: roots::encode(&root),
                name: naming.label(&root),
                documents: catalog
                    .documents
                    .iter()
                    .filter(|entry| roots::within(&entry.source.path, &scope))
                    .count(),
                exists: root.exists(),
            }
        })
        .collect())
}

fn decoded(recorded: &[String]) -> Vec<PathBuf> {
    recorded.iter().map(|root| roots::decode(root)).collect()
}

fn naming(index_dir: &Path) -> Result<Naming, IndexError> {
    Naming::of_index(index_dir).map_err(|source| IndexError::Io {
        path: index_dir.to_path_buf(),
        source,
    })
}

/// Reads one file, and parses and prepares it unless its bytes hash to `indexed`, the
/// fingerprint of what the index holds for it.
fn examine(file: &CorpusFile, path: String, indexed: Option<&str>, progress: &dyn Progress) -> FileState {
    let bytes = match corpus::read(file) {
        Ok(bytes) => bytes,
        Err(skip) => return FileState::Failed(path, skip),
    };
    let hash = format!("{:032x}", xxh3_128(&bytes));
    if indexed == Some(hash.as_str()) {
        return FileState::Unchanged(path);
    }
    let prepare_at = path.clone();
    // Chunking and reference parsing run under the reader's isolation and time limit too.
    let read = corpus::parse_with(file, bytes, move |document| {
        let prepared = PreparedDocument::new(&prepare_at, &document, Some(&hash));
        (prepared, document.warnings)
    });
    let (prepared, warnings) = match read {
        Ok(read) => read,
        Err(skip) => return FileState::Failed(path, skip),
    };
    for warning in &warnings {
        progress.warn(&format!("{path}: {warning}"));
    }
    for reference in prepared.entry.references.iter().map(|r| &r.cited.reference) {
        if let Some(problem) = &reference.problem {
            progress.warn(&format!(
                "{path}: malformed reference {:?} ({problem}), kept",
                reference.text
            ));
        }
    }
    FileState::Read(Box::new(prepared))
}
