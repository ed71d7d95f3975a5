//! Helpers shared by the integration tests: a temporary working directory that runs citedex.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use citedex::formats::{self, Format};
use citedex::{Index, IndexWriter, SearchResults};
use tempfile::TempDir;

/// A temporary working directory with helpers to write files and run citedex in it.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub fn write(&self, relative: &str, content: &str) -> &Sandbox {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
        self
    }

    pub fn copy_fixture(&self, fixture: &str, relative: &str) -> &Sandbox {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        self.write(relative, &fs::read_to_string(source).unwrap())
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

/// An index in a temporary folder holding Markdown documents given as (path, text).
pub fn index_of(documents: &[(&str, &str)]) -> (TempDir, Index) {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = IndexWriter::create(dir.path()).unwrap();
    for (path, text) in documents {
        let document = formats::read(Format::Markdown, text.as_bytes(), path).unwrap();
        writer.add(path, &document).unwrap();
    }
    writer.commit().unwrap();
    let index = Index::open(dir.path()).unwrap();
    (dir, index)
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
