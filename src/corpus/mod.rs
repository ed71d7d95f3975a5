//! Finding and reading the files of a knowledge base: walks the corpus folders (respecting
//! ignore files and hidden files, following links only inside the corpus), reads each file with
//! a size cap (decompressing `.gz` files under the same cap), and runs the format readers
//! isolated with a time limit: in a thread, or, for PDFs when the caller names a reader program,
//! in a child process with an address-space limit, since a stack overflow or an exhausted memory
//! aborts a whole process. Files left out are reported with a typed [`SkipReason`], never fatal.

mod child;
mod isolation;

pub use child::{is_reader_child, serve_reader_child};
pub use isolation::{Isolation, configure_isolation, parse, parse_with};

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::formats::{Format, ReadError};

/// Threads that run format readers are named with this prefix, so the binary's panic hook can stay
/// quiet about their panics: they are reported as skipped files instead.
pub const READER_THREAD_PREFIX: &str = "citedex-reader: ";
/// Longest reading (and the caller's processing) may take over one file before it is skipped.
pub const READER_TIME_LIMIT: Duration = Duration::from_secs(60);
/// Address space a reader child may use.
pub const READER_MEMORY_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
/// Set in a reader child's environment to its address-space limit in bytes; a `citedex` process
/// that finds it serves one reader request ([`serve_reader_child`]) instead of its command line.
pub const READER_CHILD_ENV: &str = "CITEDEX_READER_CHILD";

/// Files larger than this are skipped rather than read into memory; a `.gz` file's content is held
/// to the same size.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// A file the walk found in a format citedex reads.
#[derive(Debug, Clone)]
pub struct CorpusFile {
    /// Path as walked from the root given by the user.
    pub path: PathBuf,
    /// How to read it (for a `.gz` file, the format of what it holds).
    pub format: Format,
    /// Whether the file is gzip-compressed (`notes.md.gz`); [`read`] decompresses it.
    pub gzip: bool,
}

/// A file left out of the index, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was left out.
    pub reason: SkipReason,
}

/// Why a file was left out of the index. Some reasons are errors: the file was meant to be
/// indexed and could not be; the others are warnings ([`SkipReason::is_error`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum SkipReason {
    /// No reader for this type of file (a warning, counted but not named).
    #[error("unsupported file type")]
    Unsupported,
    /// Nothing but white space (a warning).
    #[error("empty file")]
    Empty,
    /// A FIFO, socket or device, never opened (a warning).
    #[error("not a regular file")]
    NotRegularFile,
    /// A symbolic link that leads out of the corpus root (a warning).
    #[error("symbolic link to {}, outside the corpus", .target.display())]
    LinkOutside {
        /// Where the link leads.
        target: PathBuf,
    },
    /// A symbolic link that leads back to itself or to a folder above it (a warning).
    #[error("symbolic link loop{}", .ancestor.as_ref().map(|a| format!(" back to {}", a.display())).unwrap_or_default())]
    LinkLoop {
        /// The folder the link leads back to, when the walk knows it.
        ancestor: Option<PathBuf>,
    },
    /// A symbolic link whose target does not exist (a warning).
    #[error("symbolic link to {}, which does not exist", .target.display())]
    BrokenLink {
        /// Where the link leads.
        target: PathBuf,
    },
    /// Bigger than the cap on files read into memory.
    #[error("larger than {} MiB", .limit / (1024 * 1024))]
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// A compressed file whose content is bigger than the cap.
    #[error("decompresses to more than {} MiB", .limit / (1024 * 1024))]
    DecompressedTooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
    /// The operating system refused to list or read it.
    #[error("{0}")]
    Unreadable(String),
    /// NUL bytes in a file of a text format.
    #[error("binary content (NUL bytes), not a text document")]
    Binary,
    /// The reader found the content malformed (or over one of its own caps).
    #[error("{0}")]
    Unparsable(String),
    /// The reader panicked, overflowed its stack or ran out of memory.
    #[error("the {reader} reader failed on this file ({message})")]
    ReaderCrashed {
        /// The format whose reader failed.
        reader: String,
        /// What happened.
        message: String,
    },
    /// Reading and processing took longer than the time limit.
    #[error("reading took longer than {limit:?}; abandoned")]
    TimedOut {
        /// The time limit.
        limit: Duration,
    },
    /// No thread or child process could be started to read the file.
    #[error("could not start an isolated reader: {0}")]
    Isolation(String),
}

impl SkipReason {
    /// Whether this is an error (content meant for the index is missing from it), as opposed to a
    /// warning about an unsupported, empty or special file or a link that was not followed.
    pub fn is_error(&self) -> bool {
        !matches!(
            self,
            SkipReason::Unsupported
                | SkipReason::Empty
                | SkipReason::NotRegularFile
                | SkipReason::LinkOutside { .. }
                | SkipReason::LinkLoop { .. }
                | SkipReason::BrokenLink { .. }
        )
    }

    fn from_read_error(error: ReadError) -> SkipReason {
        match error {
            ReadError::Binary => SkipReason::Binary,
            other => SkipReason::Unparsable(other.to_string()),
        }
    }
}

/// Why a corpus root cannot be walked at all.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    /// The root does not exist.
    #[error("corpus path {0} does not exist")]
    Missing(PathBuf),
}

/// Lists the readable files under `roots` in a stable order, and those it must leave out; the
/// folder `left_out` (the index's own, when it lies in a root) is not entered.
/// Symbolic links are followed only while they stay inside their corpus root; loops and links
/// that lead out are reported, as are FIFOs, sockets and devices, which are never opened.
pub fn walk(roots: &[PathBuf], left_out: &Path) -> Result<(Vec<CorpusFile>, Vec<Skipped>), CorpusError> {
    let mut files = Vec::new();
    let skipped = Arc::new(Mutex::new(Vec::new()));
    let skip = |path: PathBuf, reason: SkipReason| {
        skipped
            .lock()
            .expect("no panics while locked")
            .push(Skipped { path, reason });
    };
    for root in roots {
        let Ok(inside) = fs::canonicalize(root) else {
            return Err(CorpusError::Missing(root.clone()));
        };
        let outside_links = Arc::clone(&skipped);
        let left_out = left_out.to_path_buf();
        let walker = ignore::WalkBuilder::new(root)
            .follow_links(true)
            .hidden(true)
            .require_git(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .filter_entry(move |entry| {
                if entry.path().starts_with(&left_out) {
                    return false;
                }
                if !entry.path_is_symlink() {
                    return true;
                }
                match fs::canonicalize(entry.path()) {
                    Ok(target) if target.starts_with(&inside) => true,
                    Ok(target) => {
                        outside_links
                            .lock()
                            .expect("no panics while locked")
                            .push(Skipped {
                                path: entry.path().to_path_buf(),
                                reason: SkipReason::LinkOutside { target },
                            });
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
                    skip(path.unwrap_or_else(|| root.clone()), reason);
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
                skip(path, SkipReason::NotRegularFile);
                continue;
            }
            match format_of(&path) {
                Some((format, gzip)) => files.push(CorpusFile { path, format, gzip }),
                None => skip(path, SkipReason::Unsupported),
            }
        }
    }
    let skipped = std::mem::take(&mut *skipped.lock().expect("no panics while locked"));
    Ok((files, skipped))
}

/// The format of a file by its extension; for `name.ext.gz`, that of `name.ext`, compressed.
fn format_of(path: &Path) -> Option<(Format, bool)> {
    let extension = path.extension()?.to_str()?;
    if !extension.eq_ignore_ascii_case("gz") {
        return Some((Format::from_extension(extension)?, false));
    }
    let inner = Path::new(path.file_stem()?).extension()?.to_str()?;
    Some((Format::from_extension(inner)?, true))
}

/// The file a walk error is about, and the reason to report, without the path repeated in it.
fn describe_walk_error(error: &ignore::Error) -> (Option<PathBuf>, SkipReason) {
    match error {
        ignore::Error::WithPath { path, err } => {
            let reason = link_problem(path).unwrap_or_else(|| describe_walk_error(err).1);
            (Some(path.clone()), reason)
        }
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            describe_walk_error(err)
        }
        ignore::Error::Loop { ancestor, child } => (
            Some(child.clone()),
            SkipReason::LinkLoop {
                ancestor: Some(ancestor.clone()),
            },
        ),
        // Walk errors wrap the operating system's error in one that repeats the path.
        other => match other.io_error() {
            Some(io) => {
                let innermost = io.get_ref().and_then(|wrapper| wrapper.source());
                let message = innermost.map_or_else(|| io.to_string(), |os| os.to_string());
                (None, SkipReason::Unreadable(message))
            }
            None => (None, SkipReason::Unreadable(other.to_string())),
        },
    }
}

/// A symbolic link that cannot be followed, told apart from other errors on the same path.
fn link_problem(path: &Path) -> Option<SkipReason> {
    let target = fs::read_link(path).ok()?;
    match fs::metadata(path) {
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => {
            Some(SkipReason::LinkLoop { ancestor: None })
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Some(SkipReason::BrokenLink { target }),
        _ => None,
    }
}

/// Reads a file's bytes, refusing files over [`MAX_FILE_BYTES`]; a `.gz` file is decompressed,
/// and refused when its content is over the same size.
pub fn read(file: &CorpusFile) -> Result<Vec<u8>, Skipped> {
    let bytes = read_capped(&file.path).map_err(|reason| file.skipped(reason))?;
    if !file.gzip {
        return Ok(bytes);
    }
    let mut content = Vec::new();
    MultiGzDecoder::new(bytes.as_slice())
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut content)
        .map_err(|error| file.skipped(SkipReason::Unparsable(format!("gzip: {error}"))))?;
    if content.len() as u64 > MAX_FILE_BYTES {
        return Err(file.skipped(SkipReason::DecompressedTooLarge {
            limit: MAX_FILE_BYTES,
        }));
    }
    Ok(content)
}

fn read_capped(path: &Path) -> Result<Vec<u8>, SkipReason> {
    let unreadable = |error: io::Error| SkipReason::Unreadable(error.to_string());
    let too_large = SkipReason::TooLarge {
        limit: MAX_FILE_BYTES,
    };
    let file = File::open(path).map_err(unreadable)?;
    let size = file.metadata().map_err(unreadable)?.len();
    if size > MAX_FILE_BYTES {
        return Err(too_large);
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // The cap holds even if the file grows while it is read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large);
    }
    Ok(bytes)
}

impl CorpusFile {
    fn skipped(&self, reason: SkipReason) -> Skipped {
        Skipped {
            path: self.path.clone(),
            reason,
        }
    }

    /// The file's name without its format's extension and `.gz` (`notes` for `notes.md.gz`), to
    /// name untitled documents.
    fn fallback_title(&self) -> String {
        let stem = self.path.file_stem().map(Path::new);
        let stem = if self.gzip {
            stem.and_then(Path::file_stem).map(Path::new)
        } else {
            stem
        };
        stem.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
    }
}

/// A corpus file of the given path, for tests: its format from the name, else `format`.
#[cfg(test)]
fn test_file(path: &str, format: Format) -> CorpusFile {
    let (format, gzip) = format_of(Path::new(path)).unwrap_or((format, false));
    CorpusFile {
        path: PathBuf::from(path),
        format,
        gzip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_files_take_the_format_of_what_they_hold() {
        assert_eq!(
            format_of(Path::new("a/notes.md.gz")),
            Some((Format::Markdown, true))
        );
        assert_eq!(format_of(Path::new("page.HTML.GZ")), Some((Format::Html, true)));
        assert_eq!(format_of(Path::new("paper.pdf")), Some((Format::Pdf, false)));
        assert_eq!(format_of(Path::new("archive.tar.gz")), None);
        assert_eq!(format_of(Path::new("plain.gz")), None);
        assert_eq!(test_file("a/notes.md.gz", Format::Text).fallback_title(), "notes");
        assert_eq!(
            test_file("a/notes.v2.md", Format::Text).fallback_title(),
            "notes.v2"
        );
    }

    #[test]
    fn links_unsupported_special_and_empty_files_are_warnings() {
        let warnings = [
            SkipReason::Unsupported,
            SkipReason::Empty,
            SkipReason::NotRegularFile,
            SkipReason::LinkOutside {
                target: "/etc".into(),
            },
            SkipReason::LinkLoop { ancestor: None },
            SkipReason::BrokenLink {
                target: "gone.md".into(),
            },
        ];
        assert!(warnings.iter().all(|reason| !reason.is_error()));
        let errors = [
            SkipReason::TooLarge { limit: 1 },
            SkipReason::DecompressedTooLarge { limit: 1 },
            SkipReason::Unreadable("Permission denied".into()),
            SkipReason::Binary,
            SkipReason::Unparsable("front matter: x".into()),
            SkipReason::TimedOut {
                limit: Duration::from_secs(1),
            },
        ];
        assert!(errors.iter().all(SkipReason::is_error));
        assert_eq!(
            SkipReason::LinkLoop {
                ancestor: Some("kb".into())
            }
            .to_string(),
            "symbolic link loop back to kb"
        );
    }
}
