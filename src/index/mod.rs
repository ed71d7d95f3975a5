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
use tantivy::{Index, IndexWriter};

use crate::catalog::{Catalog, Entry};
use crate::chunker::Passage;
pub use schema::{Fields, SCHEMA_VERSION};

/// The file naming the live generation.
const CURRENT_FILE: &str = "CURRENT";
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
    /// The index files are missing or unreadable.
    #[error("index at {path} is damaged ({detail}); rebuild it with `citedex index --full`")]
    Corrupt {
        /// The index directory.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// tantivy failed while writing.
    #[error("index at {path}: {source}")]
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
    catalog: Catalog,
}

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

/// Writes a new generation of the index; nothing is visible to searches until [`IndexBuilder::commit`].
pub struct IndexBuilder {
    root: PathBuf,
    generation: PathBuf,
    writer: IndexWriter,
    fields: Fields,
}

impl IndexBuilder {
    /// Starts a new generation under `root`, creating `root` (private to the user) if needed.
    pub fn create(root: &Path) -> Result<IndexBuilder, IndexError> {
        create_private_dir(root)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let generation = root.join(format!("{GENERATION_PREFIX}{stamp:x}-{}", std::process::id()));
        fs::create_dir(&generation).map_err(io_error(&generation))?;
        let (schema, fields) = schema::build();
        let index = Index::create_in_dir(&generation, schema).map_err(tantivy_error(root))?;
        schema::register_analyzers(&index);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
        let writer = index
            .writer_with_num_threads(threads, WRITER_MEMORY_BYTES)
            .map_err(tantivy_error(root))?;
        Ok(IndexBuilder {
            root: root.to_path_buf(),
            generation,
            writer,
            fields,
        })
    }

    /// Adds the passages of one document.
    pub fn add(&mut self, entry: &Entry, passages: &[Passage]) -> Result<(), IndexError> {
        let f = self.fields;
        for passage in passages {
            let mut document = TantivyDocument::new();
            document.add_text(f.id, passage_id(&entry.source.path, passage.ordinal));
            document.add_text(f.path, &entry.source.path);
            document.add_text(f.title, &entry.source.title);
            for heading in &passage.section {
                document.add_text(f.section, heading);
            }
            document.add_text(f.body, &passage.text);
            document.add_text(f.kind, entry.source.kind.as_str());
            document.add_text(f.role, passage.role.as_str());
            for (field, value) in [
                (f.publisher, &entry.source.publisher),
                (f.date, &entry.source.date),
                (f.url, &entry.source.url),
            ] {
                if let Some(value) = value {
                    document.add_text(field, value);
                }
            }
            document.add_u64(f.ordinal, passage.ordinal as u64);
            self.writer
                .add_document(document)
                .map_err(tantivy_error(&self.root))?;
        }
        Ok(())
    }

    /// Commits the generation with `catalog`, makes it the live one and removes older ones.
    pub fn commit(mut self, catalog: Catalog) -> Result<(), IndexError> {
        let payload = serde_json::to_string(&Payload {
            schema_version: SCHEMA_VERSION,
            catalog,
        })
        .expect("the catalog is plain data and always serializes");
        let mut prepared = self.writer.prepare_commit().map_err(tantivy_error(&self.root))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(tantivy_error(&self.root))?;
        let IndexBuilder {
            root,
            generation,
            writer,
            ..
        } = self;
        writer.wait_merging_threads().map_err(tantivy_error(&root))?;
        let name = generation
            .file_name()
            .expect("generation paths end in a name")
            .to_string_lossy()
            .into_owned();
        let pending = root.join(format!("{CURRENT_FILE}.tmp"));
        let mut file = fs::File::create(&pending).map_err(io_error(&pending))?;
        file.write_all(name.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(io_error(&pending))?;
        fs::rename(&pending, root.join(CURRENT_FILE)).map_err(io_error(&root))?;
        remove_stale_generations(&root, &name);
        Ok(())
    }
}

/// The stable identifier of a passage: its document's path and its position.
pub fn passage_id(path: &str, ordinal: usize) -> String {
    format!("{path}#{ordinal}")
}

/// Deletes generations other than `live`: earlier ones and leftovers of interrupted builds.
fn remove_stale_generations(root: &Path, live: &str) {
    let Ok(entries) = fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(GENERATION_PREFIX) && name != live {
            // Best effort: a file still held open elsewhere is removed on the next build.
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
}

/// Whether `root` holds a citedex index (it may still fail to open).
pub fn exists(root: &Path) -> bool {
    root.join(CURRENT_FILE).is_file()
}

/// Opens the live generation under `root`, checking its schema version.
pub fn open(root: &Path) -> Result<OpenIndex, IndexError> {
    let corrupt = |detail: String| IndexError::Corrupt {
        path: root.to_path_buf(),
        detail,
    };
    let current = match fs::read_to_string(root.join(CURRENT_FILE)) {
        Ok(name) => name.trim().to_string(),
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            return Err(IndexError::NotFound(root.to_path_buf()));
        }
        Err(source) => {
            return Err(IndexError::Io {
                path: root.join(CURRENT_FILE),
                source,
            });
        }
    };
    if !current.starts_with(GENERATION_PREFIX) || current.contains(['/', '\\']) {
        return Err(corrupt(format!("{CURRENT_FILE} names {current:?}")));
    }
    let index = Index::open_in_dir(root.join(&current)).map_err(|error| corrupt(error.to_string()))?;
    schema::register_analyzers(&index);
    let metas = index.load_metas().map_err(|error| corrupt(error.to_string()))?;
    let payload: Payload = metas
        .payload
        .as_deref()
        .ok_or_else(|| corrupt("no catalog in the last commit".into()))
        .and_then(|text| {
            let version: serde_json::Value =
                serde_json::from_str(text).map_err(|error| corrupt(error.to_string()))?;
            let found = version
                .get("schema_version")
                .and_then(|v| v.as_u64())
                .unwrap_or(0) as u32;
            if found != SCHEMA_VERSION {
                return Err(IndexError::SchemaMismatch {
                    path: root.to_path_buf(),
                    found,
                    expected: SCHEMA_VERSION,
                });
            }
            serde_json::from_value(version).map_err(|error| corrupt(format!("catalog: {error}")))
        })?;
    let (schema, fields) = schema::build();
    if index.schema() != schema {
        return Err(IndexError::SchemaMismatch {
            path: root.to_path_buf(),
            found: SCHEMA_VERSION,
            expected: SCHEMA_VERSION,
        });
    }
    Ok(OpenIndex {
        index,
        fields,
        catalog: payload.catalog,
    })
}
