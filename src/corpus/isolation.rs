//! Running format readers isolated: in a thread with a large stack, a caught panic and a time
//! limit, or (for PDFs, when a reader program is configured) in a reader child process.

use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::child::read_in_child;
use super::{CorpusFile, READER_MEMORY_LIMIT, READER_THREAD_PREFIX, READER_TIME_LIMIT, SkipReason, Skipped};
use crate::document::Document;
use crate::formats::{self, Format};

/// Stack of a reader thread; only the pages a reader touches are ever allocated.
const READER_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Where format readers run and within which limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Isolation {
    /// A program that serves reader requests
    /// ([`serve_reader_child`](super::serve_reader_child) when
    /// [`READER_CHILD_ENV`](super::READER_CHILD_ENV) is set; the binary names itself). When set,
    /// PDFs are read in a child process per file; when not, in a thread of this process, where a
    /// stack overflow or exhausted memory would abort the process.
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

/// Runs `job` in a named thread with a large stack, catching a panic; gives up waiting when
/// `deadline` passes (the thread is abandoned) and reports `limit` as the time limit.
pub(super) fn run_isolated<R: Send + 'static>(
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

/// Pause before asking again for a thread the system refused.
const THREAD_RETRY_PAUSE: Duration = Duration::from_millis(20);

/// Starts a named thread, asking again while the system refuses for want of threads or address
/// space (under `ulimit -v`, the large stacks of readers still finishing), until `deadline`.
pub(super) fn start_thread<T: Send + 'static>(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::test_file as file;

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
}
