//! Finding and reading the files of a knowledge base: walks the corpus folders (respecting
//! ignore files and hidden files, following links only inside the corpus), reads each file with
//! a size cap (decompressing `.gz` files under the same cap), and runs the format readers
//! isolated with a time limit: in a thread, or, for PDFs when the caller names a reader program,
//! in a child process with an address-space limit, since a stack overflow or an exhausted memory
//! aborts a whole process. Files left out are reported with a typed [`SkipReason`], never fatal.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};

use crate::document::Document;
use crate::formats::{self, Format, ReadError};

/// Threads that run format readers are named with this prefix, so the binary's panic hook can stay
/// quiet about their panics: they are reported as skipped files instead.
pub const READER_THREAD_PREFIX: &str = "citedex-reader: ";
/// Stack of a reader thread; only the pages a reader touches are ever allocated.
const READER_STACK_BYTES: usize = 256 * 1024 * 1024;
/// Longest reading (and the caller's processing) may take over one file before it is skipped.
pub const READER_TIME_LIMIT: Duration = Duration::from_secs(60);
/// Address space a reader child may use.
pub const READER_MEMORY_LIMIT: u64 = 2 * 1024 * 1024 * 1024;
/// Set in a reader child's environment to its address-space limit in bytes; a `citedex` process
/// that finds it serves one reader request ([`serve_reader_child`]) instead of its command line.
pub const READER_CHILD_ENV: &str = "CITEDEX_READER_CHILD";
/// Most of a reader child's standard error kept to explain how it died.
const CHILD_STDERR_BYTES: u64 = 64 * 1024;

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

/// Lists the readable files under `roots` in a stable order, and those it must leave out.
/// Symbolic links are followed only while they stay inside their corpus root; loops and links
/// that lead out are reported, as are FIFOs, sockets and devices, which are never opened.
pub fn walk(roots: &[PathBuf]) -> Result<(Vec<CorpusFile>, Vec<Skipped>), CorpusError> {
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

/// Where format readers run and within which limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isolation {
    /// A program that serves reader requests ([`serve_reader_child`] when [`READER_CHILD_ENV`] is
    /// set; the binary names itself). When set, PDFs are read in a child process per file; when
    /// not, in a thread of this process, where a stack overflow or exhausted memory would abort
    /// the process.
    pub reader_program: Option<PathBuf>,
    /// Longest reading and the caller's processing may take over one file.
    pub time_limit: Duration,
    /// Address space a reader child may use, in bytes.
    pub memory_limit: u64,
}

impl Default for Isolation {
    fn default() -> Isolation {
        Isolation {
            reader_program: None,
            time_limit: READER_TIME_LIMIT,
            memory_limit: READER_MEMORY_LIMIT,
        }
    }
}

static ISOLATION: OnceLock<Isolation> = OnceLock::new();

/// Sets how [`parse`] and [`parse_with`] isolate readers in this process; only the first call
/// counts, and it must come before the first file is parsed (the default is [`Isolation`]'s).
pub fn configure_isolation(isolation: Isolation) {
    let _ = ISOLATION.set(isolation);
}

/// Parses bytes read from `file` in its format under the process's [`Isolation`]; see
/// [`Isolation::parse_with`].
pub fn parse(file: &CorpusFile, bytes: Vec<u8>) -> Result<Document, Skipped> {
    parse_with(file, bytes, |document| document)
}

/// Parses bytes read from `file` and runs `then` on the document, both under the process's
/// [`Isolation`]; see [`Isolation::parse_with`].
pub fn parse_with<T, F>(file: &CorpusFile, bytes: Vec<u8>, then: F) -> Result<T, Skipped>
where
    T: Send + 'static,
    F: FnOnce(Document) -> T + Send + 'static,
{
    ISOLATION
        .get_or_init(Isolation::default)
        .parse_with(file, bytes, then)
}

impl Isolation {
    /// Parses bytes read from `file` in its format, then runs `then` (the caller's processing:
    /// chunking, reference parsing) on the document. Both run isolated, within one time limit: a
    /// panic is caught, the thread has a large stack (parsers of nested formats recurse on crafted
    /// input), and a PDF is read in a child process when [`Isolation::reader_program`] is set. So
    /// one hostile file is skipped with its reason and never stops the run. A file with nothing
    /// but white space is skipped as empty.
    pub fn parse_with<T, F>(&self, file: &CorpusFile, bytes: Vec<u8>, then: F) -> Result<T, Skipped>
    where
        T: Send + 'static,
        F: FnOnce(Document) -> T + Send + 'static,
    {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(file.skipped(SkipReason::Empty));
        }
        let deadline = (Instant::now() + self.time_limit, self.time_limit);
        let title = file.fallback_title();
        let format = file.format;
        let name = file.path.display().to_string();
        let result = match &self.reader_program {
            Some(program) if format == Format::Pdf => {
                read_in_child(program, self.memory_limit, &title, bytes, deadline)
                    .and_then(|document| run_isolated(&name, format, deadline, move || then(document)))
            }
            _ => run_isolated(&name, format, deadline, move || {
                formats::read(format, &bytes, &title).map(then)
            })
            .and_then(|read| read.map_err(SkipReason::from_read_error)),
        };
        result.map_err(|reason| file.skipped(reason))
    }
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

/// Runs `job` in a named thread with a large stack, catching a panic; gives up waiting when
/// `deadline` passes (the thread is abandoned) and reports `limit` as the time limit.
fn run_isolated<R: Send + 'static>(
    name: &str,
    format: Format,
    (deadline, limit): (Instant, Duration),
    job: impl FnOnce() -> R + Send + 'static,
) -> Result<R, SkipReason> {
    let (sender, receiver) = mpsc::channel();
    let name = format!("{READER_THREAD_PREFIX}{name}");
    start_thread(&name, READER_STACK_BYTES, deadline, move || {
        let result = panic::catch_unwind(AssertUnwindSafe(job));
        // The receiver is gone only when the time limit passed; nobody wants the result then.
        let _ = sender.send(result);
    })
    .map_err(|error| SkipReason::Isolation(format!("no reader thread: {error}")))?;
    let outcome = receiver
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .map_err(|_| SkipReason::TimedOut { limit })?;
    outcome.map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        SkipReason::ReaderCrashed {
            reader: format!("{format:?}"),
            message: message.to_string(),
        }
    })
}

/// Stack of the threads that feed a reader child and collect its output.
const PIPE_THREAD_STACK_BYTES: usize = 256 * 1024;
/// Pause before asking again for a thread the system refused.
const THREAD_RETRY_PAUSE: Duration = Duration::from_millis(20);

/// Starts a named thread, asking again while the system refuses for want of threads or address
/// space (under `ulimit -v`, the large stacks of readers still finishing), until `deadline`.
fn start_thread<T: Send + 'static>(
    name: &str,
    stack_bytes: usize,
    deadline: Instant,
    job: impl FnOnce() -> T + Send + 'static,
) -> io::Result<JoinHandle<Option<T>>> {
    // A refused spawn drops its closure; the job waits here for the attempt that succeeds.
    let job = Arc::new(Mutex::new(Some(job)));
    loop {
        let slot = Arc::clone(&job);
        let started = std::thread::Builder::new()
            .name(name.to_string())
            .stack_size(stack_bytes)
            .spawn(move || {
                let job = slot.lock().expect("no panics while locked").take();
                job.map(|job| job())
            });
        match started {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(THREAD_RETRY_PAUSE);
            }
            other => return other,
        }
    }
}

/// Reads a PDF in a child process of `program`: the bytes go to its standard input, the document
/// (or the reason it was refused) comes back as JSON on its standard output. The child is killed
/// when `deadline` passes.
fn read_in_child(
    program: &Path,
    memory_limit: u64,
    title: &str,
    bytes: Vec<u8>,
    (deadline, limit): (Instant, Duration),
) -> Result<Document, SkipReason> {
    let mut child = Command::new(program)
        .arg(title)
        .env(READER_CHILD_ENV, memory_limit.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| SkipReason::Isolation(format!("{}: {error}", program.display())))?;
    let (Some(mut stdin), Some(mut stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        unreachable!("all three streams were piped");
    };
    let (sender, receiver) = mpsc::channel();
    let pipe_thread = |name: &str, job: Box<dyn FnOnce() -> String + Send>| {
        start_thread(name, PIPE_THREAD_STACK_BYTES, deadline, job)
    };
    let threads = pipe_thread(
        "citedex-reader-input",
        // A child that dies early closes its end; the write error says nothing its exit does not.
        Box::new(move || {
            let _ = stdin.write_all(&bytes);
            String::new()
        }),
    )
    .and_then(|feeder| {
        let explainer = pipe_thread(
            "citedex-reader-errors",
            Box::new(move || {
                let mut kept = Vec::new();
                let mut stderr = stderr;
                let _ = (&mut stderr).take(CHILD_STDERR_BYTES).read_to_end(&mut kept);
                // Drained to the end, so a chatty child never blocks on a full pipe.
                let _ = io::copy(&mut stderr, &mut io::sink());
                String::from_utf8_lossy(&kept).into_owned()
            }),
        )?;
        pipe_thread(
            "citedex-reader-output",
            Box::new(move || {
                let mut answer = Vec::new();
                let _ = sender.send(stdout.read_to_end(&mut answer).map(|_| answer));
                String::new()
            }),
        )?;
        Ok((feeder, explainer))
    });
    let answer = match &threads {
        Ok(_) => receiver
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .map_err(|_| SkipReason::TimedOut { limit }),
        Err(error) => Err(SkipReason::Isolation(format!(
            "no thread for the reader's pipes: {error}"
        ))),
    };
    if answer.is_err() {
        // The child is ours and still running: end it.
        let _ = child.kill();
    }
    let status = child.wait();
    let stderr = match threads {
        Ok((feeder, explainer)) => {
            let _ = feeder.join();
            explainer.join().ok().flatten().unwrap_or_default()
        }
        Err(_) => String::new(),
    };
    let answer =
        answer?.map_err(|error| SkipReason::Isolation(format!("reading the reader's answer: {error}")))?;
    let status = status.map_err(|error| SkipReason::Isolation(format!("waiting for the reader: {error}")))?;
    if !status.success() {
        return Err(SkipReason::ReaderCrashed {
            reader: format!("{:?}", Format::Pdf),
            message: describe_death(status, &stderr, memory_limit),
        });
    }
    serde_json::from_slice::<Result<Document, SkipReason>>(&answer)
        .map_err(|error| SkipReason::Isolation(format!("the reader's answer is not valid: {error}")))?
}

/// How a reader child died, from its exit status and what the Rust runtime printed.
fn describe_death(status: ExitStatus, stderr: &str, memory_limit: u64) -> String {
    if stderr.contains("overflowed its stack") {
        return "stack overflow".into();
    }
    if stderr.contains("memory allocation of") {
        return format!("out of memory, over {} MiB", memory_limit / (1024 * 1024));
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return format!("killed by signal {signal}");
    }
    match status.code() {
        Some(code) => format!("exit code {code}"),
        None => "ended without an exit code".into(),
    }
}

/// Whether this process was started as a reader child (see [`READER_CHILD_ENV`]).
pub fn is_reader_child() -> bool {
    std::env::var_os(READER_CHILD_ENV).is_some()
}

/// Serves one reader request as a child process: limits its own address space to the bytes
/// [`READER_CHILD_ENV`] gives, reads a PDF from standard input, and writes the JSON of
/// `Result<Document, SkipReason>` to `answer` (the binary's standard output). Its first argument
/// names untitled documents. A crash ends the process, which the parent reports; a panic is an
/// answer. An error here means no answer could be given.
pub fn serve_reader_child(answer: &mut dyn Write) -> io::Result<()> {
    // Panics come back as answers; the default hook would only print them.
    panic::set_hook(Box::new(|_| {}));
    if let Some(limit) = std::env::var(READER_CHILD_ENV)
        .ok()
        .and_then(|value| value.parse::<u64>().ok())
    {
        limit_address_space(limit)?;
    }
    let title = std::env::args_os()
        .nth(1)
        .map(|title| title.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut bytes = Vec::new();
    io::stdin().read_to_end(&mut bytes)?;
    // The parent keeps the time; the child takes as long as reading takes.
    let unlimited = Duration::from_secs(365 * 24 * 60 * 60);
    let read = run_isolated(
        "child",
        Format::Pdf,
        (Instant::now() + unlimited, unlimited),
        move || formats::read(Format::Pdf, &bytes, &title),
    )
    .and_then(|read| read.map_err(SkipReason::from_read_error));
    serde_json::to_writer(answer, &read).map_err(io::Error::from)
}

/// Lowers this process's address-space limit to `bytes` (never raises it).
#[cfg(unix)]
fn limit_address_space(bytes: u64) -> io::Result<()> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read or fill the one struct passed and touch nothing else.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_AS, &mut limit) != 0 {
            return Err(io::Error::last_os_error());
        }
        let wanted = libc::rlim_t::try_from(bytes).unwrap_or(libc::RLIM_INFINITY);
        limit.rlim_cur = limit.rlim_cur.min(wanted);
        limit.rlim_max = limit.rlim_max.min(wanted);
        if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn limit_address_space(_bytes: u64) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, format: Format) -> CorpusFile {
        let (format, gzip) = format_of(Path::new(path)).unwrap_or((format, false));
        CorpusFile {
            path: PathBuf::from(path),
            format,
            gzip,
        }
    }

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
        assert_eq!(file("a/notes.md.gz", Format::Text).fallback_title(), "notes");
        assert_eq!(file("a/notes.v2.md", Format::Text).fallback_title(), "notes.v2");
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

    #[test]
    fn processing_shares_the_reader_isolation_and_time_limit() {
        let isolation = Isolation::default();
        let notes = file("notes.md", Format::Markdown);
        let words = isolation.parse_with(&notes, b"# Notes\n\nSome words.\n".to_vec(), |document| {
            document.meta.title
        });
        assert_eq!(words, Ok("Notes".to_string()));
        let crashed =
            isolation.parse_with(&notes, b"# Notes\n".to_vec(), |_| -> () { panic!("chunker bug") });
        assert_eq!(
            crashed.unwrap_err().reason,
            SkipReason::ReaderCrashed {
                reader: "Markdown".into(),
                message: "chunker bug".into()
            }
        );
        let impatient = Isolation {
            time_limit: Duration::from_millis(200),
            ..Isolation::default()
        };
        let slow = impatient.parse_with(&notes, b"# Notes\n".to_vec(), |_| {
            std::thread::sleep(Duration::from_secs(5))
        });
        assert_eq!(
            slow.unwrap_err().reason,
            SkipReason::TimedOut {
                limit: Duration::from_millis(200)
            }
        );
        let empty = isolation.parse_with(&notes, b" \n\t".to_vec(), |document| document);
        assert_eq!(empty.unwrap_err().reason, SkipReason::Empty);
    }

    /// Reader programs that fail in each way a child can; all in one test, so no other test's
    /// process starts while a script is being written (which would make it busy to execute).
    #[cfg(unix)]
    #[test]
    fn a_reader_child_that_dies_hangs_or_babbles_costs_its_file_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("crash", "kill -SEGV $$", "killed by signal 11"),
            (
                "overflow",
                "echo \"thread 'x' has overflowed its stack\" >&2; kill -ABRT $$",
                "stack overflow",
            ),
            ("hang", "exec sleep 30", "timed out"),
            ("babble", "cat >/dev/null; echo not json", "not valid"),
        ];
        for (name, script, _) in &cases {
            let program = dir.path().join(name);
            fs::write(&program, format!("#!/bin/sh\n{script}\n")).unwrap();
            fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        }
        let paper = file("paper.pdf", Format::Pdf);
        for (name, _, expected) in cases {
            // Only the hanging reader is waited for briefly; the others end at once.
            let time_limit = match name {
                "hang" => Duration::from_millis(500),
                _ => READER_TIME_LIMIT,
            };
            let isolation = Isolation {
                reader_program: Some(dir.path().join(name)),
                time_limit,
                ..Isolation::default()
            };
            let reason = isolation
                .parse_with(&paper, b"%PDF-1.5".to_vec(), |document| document)
                .unwrap_err()
                .reason;
            let described = match &reason {
                SkipReason::ReaderCrashed { message, .. } => message.clone(),
                SkipReason::TimedOut { .. } => "timed out".into(),
                other => other.to_string(),
            };
            assert!(described.contains(expected), "{name}: {reason:?}");
        }
    }
}
