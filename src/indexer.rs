//! Building and updating an index from corpus folders, as one caller of the library's
//! [`IndexWriter`]: take the write lock, walk, hash every file, read and prepare the new and
//! changed ones in parallel batches, hand them to the writer in a stable order, remove what
//! disappeared, and commit once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

use crate::corpus::{self, CorpusError, CorpusFile, SkipReason, Skipped};
use crate::index::{IndexError, IndexWriter, PreparedDocument};

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
    Unchanged(String),
    /// New or changed: the document made ready for the index.
    Read(Box<PreparedDocument>),
    /// Could not be read or parsed; what the index holds for it (if anything) is kept, not lost.
    Failed(String, Skipped),
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
    // The lock comes first: a second writer fails before it scans anything.
    let mut writer = if full {
        IndexWriter::create(index_dir)?
    } else {
        IndexWriter::update(index_dir)?
    };
    let (files, mut skipped) = corpus::walk(roots)?;
    for skip in skipped.iter().filter(|s| s.reason != SkipReason::Unsupported) {
        progress.warn(&format!("skipping {}: {}", skip.path.display(), skip.reason));
    }
    let mut report = BuildReport::default();
    let mut seen: HashSet<String> = HashSet::with_capacity(files.len());
    progress.start(files.len());
    for batch in files.chunks(BATCH_FILES) {
        let states: Vec<FileState> = batch
            .par_iter()
            .map(|file| {
                let path = document_path(&file.path);
                let state = examine(file, path.clone(), writer.fingerprint(&path), progress);
                progress.advance(&file.path);
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
                FileState::Failed(path, skip) => {
                    let kept = if writer.entry(&path).is_some() {
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
                    seen.insert(path);
                }
            }
        }
    }
    let gone: Vec<String> = writer
        .paths()
        .filter(|path| !seen.contains(*path))
        .map(str::to_string)
        .collect();
    for path in gone {
        writer.remove(&path);
        report.removed += 1;
    }
    let committed = writer.commit()?;
    report.documents = committed.info.documents;
    report.passages = committed.info.passages;
    report.unresolved = committed.unresolved;
    report.skipped = skipped;
    report.elapsed = started.elapsed();
    Ok(report)
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

/// The path under which a file is indexed: its path as walked, in UTF-8. Bytes that are not UTF-8
/// are written `\xHH` and a backslash `\\`, so that two file names never share one path.
pub fn document_path(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    #[cfg(not(unix))]
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                text.push('\\');
            }
            text.push(c);
        }
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02X}"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn names_differing_only_in_invalid_bytes_keep_their_own_paths() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let path = |bytes: &[u8]| document_path(Path::new(OsStr::from_bytes(bytes)));
        assert_eq!(path(b"kb/a\xff.md"), "kb/a\\xFF.md");
        assert_ne!(path(b"kb/a\xff.md"), path(b"kb/a\xfe.md"));
        // A name that spells an escape is not taken for the escaped byte.
        assert_ne!(path(b"kb/a\\xFF.md"), path(b"kb/a\xff.md"));
        assert_eq!(path("kb/café.md".as_bytes()), "kb/café.md");
    }
}
