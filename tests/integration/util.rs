//! Helpers shared by the integration tests: a temporary working directory that builds indexes
//! through the library or runs the citedex binary in it, indexes made from documents in memory,
//! and a recorder of what a build reports.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;

use assert_cmd::Command;
use citedex::formats::{self, Format};
use citedex::indexer::{self, BuildError, BuildOptions, BuildReport, Progress};
use citedex::{Index, IndexError, IndexWriter, Query, SearchOptions, SearchResults};
use tempfile::TempDir;

/// The index folder of a sandbox, as the binary names it by default.
pub const INDEX: &str = ".citedex";
/// How often a build through the library tries again when it finds the write lock held.
const LOCK_ATTEMPTS: usize = 50;

/// A temporary working directory with helpers to write files, build indexes and run citedex in it.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A sandbox holding a copy of the bundled corpus as `corpus/`, where citedex looks by
    /// default.
    pub fn with_bundled_corpus() -> Sandbox {
        let sandbox = Sandbox::new();
        copy_tree(&bundled_corpus(), &sandbox.path("corpus"));
        sandbox
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, content: &str) -> &Sandbox {
        self.write_bytes(relative, content.as_bytes())
    }

    pub fn write_bytes(&self, relative: &str, content: &[u8]) -> &Sandbox {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        self
    }

    /// Copies a file of `tests/fixtures` to `relative`, byte for byte.
    pub fn copy_fixture(&self, fixture: &str, relative: &str) -> &Sandbox {
        self.write_bytes(relative, &fs::read(fixture_path(fixture)).unwrap())
    }

    pub fn citedex(&self, args: &[&str]) -> Output {
        Command::cargo_bin("citedex")
            .unwrap()
            .current_dir(self.dir.path())
            .env_remove("CITEDEX_INDEX")
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap()
    }

    /// Runs `search --json` and deserializes the contract.
    pub fn search_json(&self, query: &str) -> SearchResults {
        let output = self.citedex(&["search", "--json", "-n", "50", query]);
        assert!(
            output.status.code() == Some(0) || output.status.code() == Some(1),
            "{output:?}"
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
    }

    /// Builds or updates the index `index` of the sandbox from its folders or files `paths`
    /// through the library, as `citedex --index INDEX index PATHS...` does.
    pub fn try_build(&self, index: &str, paths: &[&str], options: BuildOptions) -> Result<Built, BuildError> {
        let paths: Vec<PathBuf> = paths.iter().map(|path| self.path(path)).collect();
        let mut warnings = Vec::new();
        let report = when_unlocked(|| {
            let recorder = Recorder::default();
            let built = indexer::build(&paths, &self.path(index), options, &recorder);
            warnings = recorder.warnings.into_inner().unwrap();
            built
        })?;
        Ok(Built { report, warnings })
    }

    /// Updates the default index from `paths`, which must succeed.
    pub fn build(&self, paths: &[&str]) -> Built {
        self.try_build(INDEX, paths, BuildOptions::default())
            .unwrap_or_else(|error| panic!("building from {paths:?}: {error}"))
    }

    /// The default index, opened.
    pub fn open(&self) -> Index {
        Index::open(&self.path(INDEX)).unwrap()
    }
}

/// Runs `write`, a write of an index, again while it finds the write lock held. The lock is a
/// lock of the open file: a process another test spawns shares it between its fork and its
/// exec, a moment after this test's last write let go of it.
pub fn when_unlocked<T, E: Locks>(mut write: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let mut attempts = 0;
    loop {
        match write() {
            Err(error) if error.is_locked() && attempts < LOCK_ATTEMPTS => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// An error that may say the write lock was held.
pub trait Locks {
    fn is_locked(&self) -> bool;
}

impl Locks for IndexError {
    fn is_locked(&self) -> bool {
        matches!(self, IndexError::Locked(_))
    }
}

impl Locks for BuildError {
    fn is_locked(&self) -> bool {
        matches!(self, BuildError::Index(error) if error.is_locked())
    }
}

/// What a build through the library reported, and the warnings it gave on the way.
pub struct Built {
    pub report: BuildReport,
    pub warnings: Vec<String>,
}

impl Built {
    /// `(added, changed, removed, unchanged)`.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let r = &self.report;
        (r.added, r.changed, r.removed, r.unchanged)
    }

    /// Asserts that a warning holds `needle`, showing them all otherwise.
    pub fn assert_warned(&self, needle: &str) {
        assert!(
            self.warnings.iter().any(|warning| warning.contains(needle)),
            "no {needle:?} in {:#?}",
            self.warnings
        );
    }
}

/// What a build tells its [`Progress`], in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    Start(usize),
    Advance,
}

/// A [`Progress`] that keeps what it is told.
#[derive(Default)]
pub struct Recorder {
    pub warnings: Mutex<Vec<String>>,
    pub told: Mutex<Vec<Told>>,
}

impl Progress for Recorder {
    fn start(&self, files: usize) {
        self.told.lock().unwrap().push(Told::Start(files));
    }

    fn advance(&self, _path: &Path) {
        self.told.lock().unwrap().push(Told::Advance);
    }

    fn warn(&self, message: &str) {
        self.warnings.lock().unwrap().push(message.to_string());
    }
}

/// The path of a file of `tests/fixtures`.
pub fn fixture_path(fixture: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture)
}

/// The repository's own `corpus/` folder.
pub fn bundled_corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// The live generation folder of the index at `index`, the one its `CURRENT` names.
pub fn live_generation(index: &Path) -> PathBuf {
    index.join(fs::read_to_string(index.join("CURRENT")).unwrap().trim())
}

/// Copies the folder `from`, with everything in it, to `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// An index in a temporary folder holding documents given as (path, text), each read in the
/// format its extension names.
pub fn index_of(documents: &[(&str, &str)]) -> (TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = IndexWriter::create(dir.path()).unwrap();
    for (path, text) in documents {
        let extension = Path::new(path).extension().and_then(|e| e.to_str());
        let format = extension
            .and_then(Format::from_extension)
            .unwrap_or(Format::Markdown);
        let document = formats::read(format, text.as_bytes(), path).unwrap();
        writer.add(path, &document).unwrap();
    }
    writer.commit().unwrap();
    let index = Index::open(dir.path()).unwrap();
    (dir, index)
}

/// Searches `index` for the best 50 passages.
pub fn search(index: &Index, query: &str) -> SearchResults {
    let options = SearchOptions {
        limit: 50,
        explain: false,
    };
    let query = Query::parse(query).unwrap_or_else(|error| panic!("{query}: {error}"));
    index.search(&query, &options).unwrap()
}

/// The ids of the results, best first.
pub fn ids(results: &SearchResults) -> Vec<&str> {
    results
        .results
        .iter()
        .map(|hit| hit.passage.id.as_str())
        .collect()
}

/// The ids of every passage of `index`, sorted.
pub fn all_ids(index: &Index) -> Vec<String> {
    let mut ids: Vec<String> = index.passages().unwrap().map(|p| p.unwrap().id).collect();
    ids.sort();
    ids
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that the command's standard error contains `needle`, showing all of it otherwise.
pub fn assert_stderr_has(output: &Output, needle: &str) {
    let err = stderr(output);
    assert!(err.contains(needle), "no {needle:?} in\n{err}");
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The file an environment variable names, for tests on data kept outside the repository
/// (`.ci/run` sets the variables); `None`, after saying so, when the variable is unset.
pub fn shared_file(variable: &str) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            eprintln!(
                "skipped: {variable} is not set, so this test's data outside the repository is not used"
            );
            None
        }
    }
}

/// A deterministic pseudo-random sequence, so failures reproduce.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

const WORDS: [&str; 16] = [
    "nerve", "blood", "spine", "tingling", "numbness", "pressure", "vitamin", "sugar", "muscle", "reflex",
    "disc", "artery", "vein", "clot", "balance", "posture",
];

/// A Markdown document of one to three sections of random sentences, titled `Topic {title}`.
pub fn random_markdown(rng: &mut Lcg, title: usize) -> String {
    let mut text = format!("---\ntitle: Topic {title}\n---\n");
    for section in 0..1 + rng.below(3) {
        text.push_str(&format!("\n## Part {section}\n\n"));
        for _ in 0..1 + rng.below(12) {
            let words: Vec<&str> = (0..4 + rng.below(10))
                .map(|_| WORDS[rng.below(WORDS.len())])
                .collect();
            text.push_str(&format!("Doc {title} says {}.\n", words.join(" ")));
        }
    }
    text
}
