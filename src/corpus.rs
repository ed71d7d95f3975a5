//! Finding and reading the files of a knowledge base: walks the corpus folders (respecting
//! ignore files, never following links), reads each file with a size cap, and hands the bytes
//! to the format readers. Files that cannot be read are reported, not fatal.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::document::Document;
use crate::formats::{self, Format};

/// Files larger than this are skipped rather than read into memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A file the walk found in a format citedex reads.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Path as walked from the root given by the user.
    pub path: PathBuf,
    /// How to read it.
    pub format: Format,
}

/// A file left out of the index, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was left out, in a few words.
    pub reason: String,
    /// Unsupported formats are expected in any folder and are counted, not warned about.
    pub unsupported: bool,
}

/// Why a corpus root cannot be walked at all.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The root does not exist.
    #[error("corpus path {0} does not exist")]
    Missing(PathBuf),
}

/// Lists the readable files under `roots` in a stable order, and those it must leave out.
pub fn walk(roots: &[PathBuf]) -> Result<(Vec<CorpusFile>, Vec<Skipped>), CorpusError> {
    let mut files = Vec::new();
    let mut skipped = Vec::new();
    for root in roots {
        if std::fs::symlink_metadata(root).is_err() {
            return Err(CorpusError::Missing(root.clone()));
        }
        let walker = ignore::WalkBuilder::new(root)
            .follow_links(false)
            .hidden(true)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let path = error_path(&error).unwrap_or_else(|| root.clone());
                    skipped.push(Skipped {
                        path,
                        reason: error.to_string(),
                        unsupported: false,
                    });
                    continue;
                }
            };
            if !entry.file_type().is_some_and(|kind| kind.is_file()) {
                continue;
            }
            let path = entry.into_path();
            match path
                .extension()
                .and_then(|e| e.to_str())
                .and_then(Format::from_extension)
            {
                Some(format) => files.push(CorpusFile { path, format }),
                None => skipped.push(Skipped {
                    path,
                    reason: "unsupported file type".into(),
                    unsupported: true,
                }),
            }
        }
    }
    Ok((files, skipped))
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => None,
    }
}

/// Reads a file's bytes, refusing files over [`MAX_FILE_BYTES`]; the error is the reason to report.
pub fn read(file: &CorpusFile) -> Result<Vec<u8>, Skipped> {
    read_capped(&file.path).map_err(|reason| file.skipped(reason))
}

/// Parses bytes read from `file` in its format.
pub fn parse(file: &CorpusFile, bytes: &[u8]) -> Result<Document, Skipped> {
    let fallback_title = file
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    formats::read(file.format, bytes, &fallback_title).map_err(|error| file.skipped(error.to_string()))
}

impl CorpusFile {
    fn skipped(&self, reason: String) -> Skipped {
        Skipped {
            path: self.path.clone(),
            reason,
            unsupported: false,
        }
    }
}

fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    let file = File::open(path).map_err(|error| error.to_string())?;
    let size = file.metadata().map_err(|error| error.to_string())?.len();
    if size > MAX_FILE_BYTES {
        return Err(format!("larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024)));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // The cap holds even if the file grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| error.to_string())?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("larger than {} MiB", MAX_FILE_BYTES / (1024 * 1024)));
    }
    Ok(bytes)
}
