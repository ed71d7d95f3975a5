//! Finding and reading the files of a knowledge base: walks the corpus folders (respecting
//! ignore files and hidden files, following links only inside the corpus), reads each file with
//! a size cap, and hands the bytes to the format readers. Files that cannot be read are
//! reported, not fatal.

use std::fs::{self, File};
use std::io::Read;
use std::panic;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use crate::document::Document;
use crate::formats::{self, Format};

/// Threads that run format readers are named with this prefix, so the binary's panic hook can stay
/// quiet about their panics: they are reported as skipped files instead.
pub const READER_THREAD_PREFIX: &str = "citedex-reader: ";
/// Stack of a reader thread; only the pages a reader touches are ever allocated.
const READER_STACK_BYTES: usize = 256 * 1024 * 1024;
/// Longest a reader may take over one file before the file is skipped.
const READER_TIME_LIMIT: Duration = Duration::from_secs(60);

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
/// Symbolic links are followed only while they stay inside their corpus root; loops and links
/// that lead out are reported, as are FIFOs, sockets and devices, which are never opened.
pub fn walk(roots: &[PathBuf]) -> Result<(Vec<CorpusFile>, Vec<Skipped>), CorpusError> {
    let mut files = Vec::new();
    let skipped = Arc::new(Mutex::new(Vec::new()));
    let skip = |path: PathBuf, reason: String| Skipped {
        path,
        reason,
        unsupported: false,
    };
    for root in roots {
        let Ok(inside) = fs::canonicalize(root) else {
            return Err(CorpusError::Missing(root.clone()));
        };
        let outside_links = Arc::clone(&skipped);
        let walker = ignore::WalkBuilder::new(root)
            .follow_links(true)
            .hidden(true)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(move |entry| {
                if !entry.path_is_symlink() {
                    return true;
                }
                match fs::canonicalize(entry.path()) {
                    Ok(target) if target.starts_with(&inside) => true,
                    Ok(target) => {
                        let reason = format!("symbolic link to {}, outside the corpus", target.display());
                        outside_links
                            .lock()
                            .expect("no panics while locked")
                            .push(skip(entry.path().to_path_buf(), reason));
                        false
                    }
                    // A dangling or looping link fails when the walker follows it, which reports it.
                    Err(_) => true,
                }
            })
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(entry) => entry,
                Err(error) => {
                    let (path, reason) = describe_walk_error(&error);
                    let path = path.unwrap_or_else(|| root.clone());
                    skipped
                        .lock()
                        .expect("no panics while locked")
                        .push(skip(path, reason));
                    continue;
                }
            };
            let Some(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                continue;
            }
            let path = entry.into_path();
            if !file_type.is_file() {
                skipped
                    .lock()
                    .expect("no panics while locked")
                    .push(skip(path, "not a regular file".into()));
                continue;
            }
            match path
                .extension()
                .and_then(|e| e.to_str())
                .and_then(Format::from_extension)
            {
                Some(format) => files.push(CorpusFile { path, format }),
                None => skipped.lock().expect("no panics while locked").push(Skipped {
                    path,
                    reason: "unsupported file type".into(),
                    unsupported: true,
                }),
            }
        }
    }
    let skipped = std::mem::take(&mut *skipped.lock().expect("no panics while locked"));
    Ok((files, skipped))
}

/// The file a walk error is about, and the reason to report, without the path repeated in it.
fn describe_walk_error(error: &ignore::Error) -> (Option<PathBuf>, String) {
    match error {
        ignore::Error::WithPath { path, err } => (Some(path.clone()), describe_walk_error(err).1),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            describe_walk_error(err)
        }
        ignore::Error::Loop { ancestor, child } => (
            Some(child.clone()),
            format!("symbolic link loop back to {}", ancestor.display()),
        ),
        // Walk errors wrap the operating system's error in one that repeats the path.
        other => match other.io_error() {
            Some(io) => {
                let innermost = io.get_ref().and_then(|wrapper| wrapper.source());
                (
                    None,
                    innermost.map_or_else(|| io.to_string(), |os| os.to_string()),
                )
            }
            None => (None, other.to_string()),
        },
    }
}

/// Reads a file's bytes, refusing files over [`MAX_FILE_BYTES`]; the error is the reason to report.
pub fn read(file: &CorpusFile) -> Result<Vec<u8>, Skipped> {
    read_capped(&file.path).map_err(|reason| file.skipped(reason))
}

/// Parses bytes read from `file` in its format, isolated: in a thread with a large stack (parsers
/// of nested formats recurse on crafted input), a panic caught and a time limit enforced, so one
/// hostile file is skipped with its reason and never stops the run. A file with nothing but white
/// space is skipped as empty.
pub fn parse(file: &CorpusFile, bytes: Vec<u8>) -> Result<Document, Skipped> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(file.skipped("empty file".into()));
    }
    let fallback_title = file
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let format = file.format;
    let (sender, receiver) = mpsc::channel();
    let reader = std::thread::Builder::new()
        .name(format!("{READER_THREAD_PREFIX}{}", file.path.display()))
        .stack_size(READER_STACK_BYTES)
        .spawn(move || {
            let result = panic::catch_unwind(|| formats::read(format, &bytes, &fallback_title));
            // The receiver is gone only when the time limit passed; nobody wants the result then.
            let _ = sender.send(result);
        });
    if let Err(error) = reader {
        return Err(file.skipped(format!("could not start a reader thread: {error}")));
    }
    match receiver.recv_timeout(READER_TIME_LIMIT) {
        Ok(Ok(Ok(document))) => Ok(document),
        Ok(Ok(Err(error))) => Err(file.skipped(error.to_string())),
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("no message");
            Err(file.skipped(format!("the {format:?} reader failed on this file ({message})")))
        }
        Err(_) => Err(file.skipped(format!(
            "reading took longer than {} s; abandoned",
            READER_TIME_LIMIT.as_secs()
        ))),
    }
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
