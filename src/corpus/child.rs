//! The reader child: a `citedex` process that reads one PDF from standard input under an
//! address-space limit and answers with the document as JSON; and the parent's side of it.

use std::io::{self, Read, Write};
use std::panic::{self};
use std::path::Path;
use std::process::{ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::isolation::{run_isolated, start_thread};
use super::{READER_CHILD_ENV, SkipReason};
use crate::document::Document;
use crate::formats::{self, Format};

/// Most of a reader child's standard error kept to explain how it died.
const CHILD_STDERR_BYTES: u64 = 64 * 1024;
/// Stack of the threads that feed a reader child and collect its output.
const PIPE_THREAD_STACK_BYTES: usize = 256 * 1024;

/// Reads a PDF in a child process of `program`: the bytes go to its standard input, the document
/// (or the reason it was refused) comes back as JSON on its standard output. The child is killed
/// when `deadline` passes.
pub(super) fn read_in_child(
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
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        unreachable!("all three streams were piped");
    };
    let (sender, receiver) = mpsc::channel();
    let threads = start_pipe_threads((stdin, stdout, stderr), bytes, sender, deadline);
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
        Ok(PipeThreads { feeder, explainer }) => {
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

/// Starts the threads that feed a reader child `bytes`, keep the start of its standard error
/// (drained to the end, so a chatty child never blocks on a full pipe) and send its answer
/// through `sender`.
fn start_pipe_threads(
    (mut stdin, mut stdout, mut stderr): (ChildStdin, ChildStdout, ChildStderr),
    bytes: Vec<u8>,
    sender: mpsc::Sender<io::Result<Vec<u8>>>,
    deadline: Instant,
) -> io::Result<PipeThreads> {
    let feeder = start_thread(
        "citedex-reader-input",
        PIPE_THREAD_STACK_BYTES,
        deadline,
        move || {
            // A child that dies early closes its end; the write error says nothing its exit does not.
            let _ = stdin.write_all(&bytes);
        },
    )?;
    let explainer = start_thread(
        "citedex-reader-errors",
        PIPE_THREAD_STACK_BYTES,
        deadline,
        move || {
            let mut kept = Vec::new();
            let _ = (&mut stderr).take(CHILD_STDERR_BYTES).read_to_end(&mut kept);
            let _ = io::copy(&mut stderr, &mut io::sink());
            String::from_utf8_lossy(&kept).into_owned()
        },
    )?;
    start_thread(
        "citedex-reader-output",
        PIPE_THREAD_STACK_BYTES,
        deadline,
        move || {
            let mut answer = Vec::new();
            let _ = sender.send(stdout.read_to_end(&mut answer).map(|_| answer));
        },
    )?;
    Ok(PipeThreads { feeder, explainer })
}

/// The threads of a reader child's pipes that are joined once it is done.
struct PipeThreads {
    /// Writes its input.
    feeder: JoinHandle<Option<()>>,
    /// Keeps the start of its standard error.
    explainer: JoinHandle<Option<String>>,
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
    use std::fs;

    use crate::corpus::test_file as file;
    use crate::corpus::{Isolation, READER_TIME_LIMIT};

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
