//! The on-disk index. A citedex index directory holds generations (`gen-*`, each a tantivy
//! index) and a `CURRENT` file naming the live one. A build writes a fresh generation, commits it
//! with the catalog and schema version as the commit payload, and only then swaps `CURRENT`
//! (write a temporary file, rename over), so a crash or an error never leaves a half-written index
//! in place and searches keep the last good generation until the swap.

pub mod schema;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::schema::TantivyDocument;
use tantivy::{Index, IndexWriter, Term};

use crate::catalog::{Catalog, Entry};
use crate::chunker::Passage;
pub use schema::{Fields, SCHEMA_VERSION};

/// The file naming the live generation.
const CURRENT_FILE: &str = "CURRENT";
/// The file whose lock marks a writer at work.
const LOCK_FILE: &str = "lock";
/// Prefix of generation directories.
const GENERATION_PREFIX: &str = "gen-";
/// Memory the tantivy writer may use for buffering, shared by its threads.
const WRITER_MEMORY_BYTES: usize = 96 * 1024 * 1024;

/// What can go wrong opening or writing an index; every variant names the index directory.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// No index has been built at this path.
    #[error("no index at {0}; build one with `citedex index`")]
    NotFound(PathBuf),
    /// The index was written by a citedex with another schema.
    #[error(
        "index at {path} has schema version {found}, this citedex needs {expected}: rebuild needed, run `citedex index --full`"
    )]
    SchemaMismatch {
        /// The index directory.
        path: PathBuf,
        /// Version recorded in the index.
        found: u32,
        /// Version this build of citedex writes.
        expected: u32,
    },
    /// Another process is writing this index.
    #[error("index at {0} is being written by another citedex process; try again when it finishes")]
    Locked(PathBuf),
    /// The index files are missing or unreadable.
    #[error("index at {path} is damaged ({detail}); rebuild it with `citedex index --full`")]
    Corrupt {
        /// The index directory.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// A file operation failed.
    #[error("{path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// tantivy failed while writing.
    #[error("index at {path}")]
    Tantivy {
        /// The index directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: tantivy::TantivyError,
    },
}

/// What a commit stores beside the passages.
#[derive(Serialize, Deserialize)]
struct Payload {
    schema_version: u32,
    /// The citedex release that wrote the commit: another release may read files differently.
    #[serde(default)]
    written_by: String,
    catalog: Catalog,
}

/// The citedex release this build is.
const RELEASE: &str = env!("CARGO_PKG_VERSION");

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn tantivy_error(path: &Path) -> impl FnOnce(tantivy::TantivyError) -> IndexError + '_ {
    move |source| IndexError::Tantivy {
        path: path.to_path_buf(),
        source,
    }
}

/// Holds the index directory's write lock; dropping it releases the lock.
pub struct WriteLock {
    _file: fs::File,
}

/// Takes the write lock of the index at `root` (creating `root`, private to the user), failing at
/// once if another process holds it. Searches never take it.
pub fn lock(root: &Path) -> Result<WriteLock, IndexError> {
    create_private_dir(root)?;
    let path = root.join(LOCK_FILE);
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_error(&path))?;
    match file.try_lock() {
        Ok(()) => Ok(WriteLock { _file: file }),
        Err(fs::TryLockError::WouldBlock) => Err(IndexError::Locked(root.to_path_buf())),
        Err(fs::TryLockError::Error(source)) => Err(IndexError::Io { path, source }),
    }
}

/// Writes passages into an index: either a fresh generation that replaces the live one on commit
/// (a full build), or the live generation itself (an incremental update). Nothing is visible to
/// searches until [`IndexBuilder::commit`].
pub struct IndexBuilder<'lock> {
    root: PathBuf,
    /// The new generation of a full build; `None` when updating the live one.
    new_generation: Option<PathBuf>,
    writer: IndexWriter,
    fields: Fields,
    _lock: &'lock WriteLock,
}

impl<'lock> IndexBuilder<'lock> {
    /// Starts a new, empty generation under `root`.
    pub fn create(root: &Path, lock: &'lock WriteLock) -> Result<IndexBuilder<'lock>, IndexError> {
        // Leftovers of interrupted builds go; the live generation serves searches until the swap.
        let live = current_generation(root)?;
        remove_generations_except(root, live.as_deref());
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let generation = root.join(format!("{GENERATION_PREFIX}{stamp:x}-{}", std::process::id()));
        fs::create_dir(&generation).map_err(io_error(&generation))?;
        let (schema, fields) = schema::build();
        let index = Index::create_in_dir(&generation, schema).map_err(tantivy_error(root))?;
        schema::register_analyzers(&index);
        Ok(IndexBuilder {
            root: root.to_path_buf(),
            writer: writer_for(&index, root)?,
            new_generation: Some(generation),
            fields,
            _lock: lock,
        })
    }

    /// Opens a writer on the live generation of `open`, which was opened from `root`.
    pub fn update(
        root: &Path,
        open: &OpenIndex,
        lock: &'lock WriteLock,
    ) -> Result<IndexBuilder<'lock>, IndexError> {
        remove_generations_except(root, Some(&open.generation));
        let writer = writer_for(&open.index, root)?;
        // A writer killed before its commit leaves files of the commit it never made; the next
        // writer reuses their names (delete files are named by opstamp), so they go first.
        writer
            .garbage_collect_files()
            .wait()
            .map_err(tantivy_error(root))?;
        Ok(IndexBuilder {
            root: root.to_path_buf(),
            writer,
            new_generation: None,
            fields: open.fields,
            _lock: lock,
        })
    }

    /// Deletes every passage of the document at `path`.
    pub fn remove(&mut self, path: &str) {
        self.writer
            .delete_term(Term::from_field_text(self.fields.path, path));
    }

    /// Adds the passages of one document.
    pub fn add(&mut self, entry: &Entry, passages: &[Passage]) -> Result<(), IndexError> {
        let f = self.fields;
        let source = &entry.source;
        for passage in passages {
            let mut document = TantivyDocument::new();
            document.add_text(f.path, &source.path);
            document.add_text(f.title, &source.title);
            for heading in &passage.section {
                document.add_text(f.section, heading);
            }
            document.add_text(f.body, &passage.text);
            let mut content = source.title.clone();
            for part in passage.section.iter().chain([&passage.text]) {
                content.push('\n');
                content.push_str(part);
            }
            document.add_text(f.content, content);
            document.add_text(f.kind, source.kind.as_str());
            document.add_text(f.role, passage.role.as_str());
            for (field, value) in [
                (f.publisher, &source.publisher),
                (f.date, &source.date),
                (f.url, &source.url),
            ] {
                if let Some(value) = value {
                    document.add_text(field, value);
                }
            }
            document.add_u64(f.ordinal, passage.ordinal as u64);
            if let Some(page) = passage.page {
                document.add_u64(f.page, u64::from(page));
            }
            self.writer
                .add_document(document)
                .map_err(tantivy_error(&self.root))?;
        }
        Ok(())
    }

    /// Commits all changes with `catalog` in one commit, waits for merges to finish, and for a
    /// full build makes the new generation the live one.
    pub fn commit(mut self, catalog: Catalog) -> Result<(), IndexError> {
        let payload = serde_json::to_string(&Payload {
            schema_version: SCHEMA_VERSION,
            written_by: RELEASE.to_string(),
            catalog,
        })
        .expect("the catalog is plain data and always serializes");
        let mut prepared = self.writer.prepare_commit().map_err(tantivy_error(&self.root))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(tantivy_error(&self.root))?;
        let IndexBuilder {
            root,
            new_generation,
            writer,
            ..
        } = self;
        // Merges left running would pile up segments and orphan files over many runs.
        writer.wait_merging_threads().map_err(tantivy_error(&root))?;
        if let Some(generation) = new_generation {
            let name = generation
                .file_name()
                .expect("generation paths end in a name")
                .to_string_lossy();
            let pending = root.join(format!("{CURRENT_FILE}.tmp"));
            let mut file = fs::File::create(&pending).map_err(io_error(&pending))?;
            file.write_all(name.as_bytes())
                .and_then(|()| file.sync_all())
                .map_err(io_error(&pending))?;
            fs::rename(&pending, root.join(CURRENT_FILE)).map_err(io_error(&root))?;
            remove_generations_except(&root, Some(&name));
        }
        Ok(())
    }
}

fn writer_for(index: &Index, root: &Path) -> Result<IndexWriter, IndexError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    index
        .writer_with_num_threads(threads, WRITER_MEMORY_BYTES)
        .map_err(tantivy_error(root))
}

/// The stable identifier of a passage: its document's path and its position.
pub fn passage_id(path: &str, ordinal: usize) -> String {
    format!("{path}#{ordinal}")
}

/// Deletes generations other than `live` (all of them when `None`): earlier ones and leftovers of
/// interrupted builds. Only called with the write lock held, so none of them is being written.
fn remove_generations_except(root: &Path, live: Option<&str>) {
    let Ok(entries) = fs::read_dir(root) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(GENERATION_PREFIX) && Some(name.as_str()) != live {
            // Best effort: what cannot be removed now is tried again on the next build.
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(unix)]
fn create_private_dir(path: &Path) -> Result<(), IndexError> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().recursive(true).mode(0o700).create(path) {
        Ok(()) => Ok(()),
        Err(source) => Err(IndexError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(not(unix))]
fn create_private_dir(path: &Path) -> Result<(), IndexError> {
    fs::create_dir_all(path).map_err(io_error(path))
}

/// A live generation opened for searching, with its catalog.
pub struct OpenIndex {
    /// The tantivy index of the live generation.
    pub index: Index,
    /// Field handles.
    pub fields: Fields,
    /// The catalog committed with it.
    pub catalog: Catalog,
    /// Whether the index was written by this citedex release; if not, its readers may have
    /// read the same bytes differently, and an update reads every file again.
    pub same_release: bool,
    /// Name of the live generation directory.
    generation: String,
}

/// Whether `root` holds a citedex index (it may still fail to open).
pub fn exists(root: &Path) -> bool {
    root.join(CURRENT_FILE).is_file()
}

/// Opens the live generation under `root`, checking its schema version.
pub fn open(root: &Path) -> Result<OpenIndex, IndexError> {
    match open_current(root) {
        // A full build may have swapped generations between reading CURRENT and opening it.
        Err(IndexError::Corrupt { .. }) if current_generation(root).ok().flatten().is_some() => {
            open_current(root)
        }
        result => result,
    }
}

/// The name in `CURRENT`, or `None` when there is no index.
fn current_generation(root: &Path) -> Result<Option<String>, IndexError> {
    match fs::read_to_string(root.join(CURRENT_FILE)) {
        Ok(name) => Ok(Some(name.trim().to_string())),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(IndexError::Io {
            path: root.join(CURRENT_FILE),
            source,
        }),
    }
}

fn open_current(root: &Path) -> Result<OpenIndex, IndexError> {
    let corrupt = |detail: String| IndexError::Corrupt {
        path: root.to_path_buf(),
        detail,
    };
    let current = current_generation(root)?.ok_or_else(|| IndexError::NotFound(root.to_path_buf()))?;
    if !current.starts_with(GENERATION_PREFIX) || current.contains(['/', '\\']) {
        return Err(corrupt(format!("{CURRENT_FILE} names {current:?}")));
    }
    let index = Index::open_in_dir(root.join(&current)).map_err(|error| corrupt(error.to_string()))?;
    schema::register_analyzers(&index);
    let metas = index.load_metas().map_err(|error| corrupt(error.to_string()))?;
    let text = metas
        .payload
        .as_deref()
        .ok_or_else(|| corrupt("no catalog in the last commit".into()))?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|error| corrupt(error.to_string()))?;
    let found = value.get("schema_version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if found != SCHEMA_VERSION {
        return Err(IndexError::SchemaMismatch {
            path: root.to_path_buf(),
            found,
            expected: SCHEMA_VERSION,
        });
    }
    let payload: Payload =
        serde_json::from_value(value).map_err(|error| corrupt(format!("catalog: {error}")))?;
    let (schema, fields) = schema::build();
    if index.schema() != schema {
        return Err(corrupt(format!(
            "its fields differ from schema version {SCHEMA_VERSION}"
        )));
    }
    Ok(OpenIndex {
        index,
        fields,
        catalog: payload.catalog,
        same_release: payload.written_by == RELEASE,
        generation: current,
    })
}
