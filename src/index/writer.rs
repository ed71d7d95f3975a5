//! Writing an index: documents go in as values, already parsed ([`PreparedDocument`] is the pure
//! step from a [`Document`] to passages and a catalog entry); each commit stores the passages,
//! one record per document (hash, references, citation links) and the abbreviations learnt, and
//! only records whose links changed are rewritten. Nothing is visible to searches until
//! [`IndexWriter::commit`].

use std::collections::BTreeMap;
use std::path::Path;

use tantivy::Term;
use tantivy::indexer::UserOperation;
use tantivy::schema::Schema;

use super::layout::{self, Locked};
use super::schema::{self, EntryKind, Fields};
use super::{Committed, IndexError, stored, tantivy_error};
use crate::catalog::{Catalog, Entry};
use crate::chunker::{self, ChunkSize, Passage};
use crate::document::Document;

/// Memory the tantivy writer may use for buffering, shared by its threads. A search pays for
/// every segment it opens, and each thread's buffer becomes a segment when full: at 192 MiB,
/// the scale bench's 4x corpus (205,000 passages) is 2 segments rather than 4, which cut a
/// search there from 3.4 to 3.0 ms, for 58 MiB more at the peak of that build. Smaller corpora
/// never fill it.
const WRITER_MEMORY_BYTES: usize = 192 * 1024 * 1024;

/// A document made ready for the index: its passages and its catalog entry. Making one is pure
/// (no disk, no index), so it can run wherever the document was read.
#[derive(Debug, Clone)]
pub struct PreparedDocument {
    /// The catalog entry: metadata, hash, parsed references, abbreviations.
    pub entry: Entry,
    /// The passages, in document order.
    pub passages: Vec<Passage>,
}

impl PreparedDocument {
    /// Chunks `document`, stored at `path`, and describes it; `fingerprint` (a hash of the file's
    /// bytes) lets a later update tell whether the file changed.
    pub fn new(path: &str, document: &Document, fingerprint: Option<&str>) -> PreparedDocument {
        let passages = chunker::chunk(document, ChunkSize::default());
        let entry = Entry::new(path, fingerprint.unwrap_or_default(), document, passages.len());
        PreparedDocument { entry, passages }
    }
}

/// Adds and removes documents, then commits them in one step. Holds the index's write lock: a
/// second writer on the same directory fails at once with [`IndexError::Locked`].
pub struct IndexWriter {
    lock: Locked,
    /// The generation being written.
    generation: String,
    /// Whether the generation is new and becomes the live one at commit (a full build).
    replaces_live: bool,
    writer: tantivy::IndexWriter,
    fields: Fields,
    /// Every document as it will stand after the commit, by path.
    entries: BTreeMap<String, Entry>,
    /// The records and abbreviations as last committed, to rewrite only what changed.
    committed: Catalog,
    /// Whether the hashes in `committed` come from this release (another may read files otherwise).
    trusted: bool,
    /// Whether anything was added or removed since the writer opened.
    changed: bool,
    /// The corpus folders the index was built from, as recorded.
    roots: Vec<String>,
}

impl IndexWriter {
    /// Starts an empty index at `dir` that replaces the live one (if any) when committed; until
    /// then searches keep the live one. Its [`roots`](IndexWriter::roots) are those the live one
    /// records, until [`set_roots`](IndexWriter::set_roots).
    pub fn create(dir: &Path) -> Result<IndexWriter, IndexError> {
        let lock = layout::lock(dir)?;
        let live = layout::current_generation(dir).ok().flatten();
        lock.remove_generations_except(live.as_deref());
        let roots = live
            .as_deref()
            .map(|live| super::recorded_roots(dir, live))
            .unwrap_or_default();
        let generation = lock.new_generation()?;
        let directory = layout::generation_directory(dir, &generation)?;
        let (schema, fields) = schema::build();
        let index = tantivy::Index::create(directory, schema, tantivy::IndexSettings::default())
            .map_err(tantivy_error(dir))?;
        schema::register_analyzers(&index);
        let writer = tantivy_writer(&index, dir)?;
        Ok(IndexWriter {
            writer,
            lock,
            generation,
            replaces_live: true,
            fields,
            entries: BTreeMap::new(),
            committed: Catalog::default(),
            trusted: false,
            changed: true,
            roots,
        })
    }

    /// Opens the index at `dir` for changes in place, or starts one when there is none.
    pub fn update(dir: &Path) -> Result<IndexWriter, IndexError> {
        let lock = layout::lock(dir)?;
        let Some(generation) = layout::current_generation(dir)? else {
            drop(lock);
            return IndexWriter::create(dir);
        };
        lock.remove_generations_except(Some(&generation));
        let live = super::guarded(dir, || super::open_generation(dir, &generation))?;
        // Segments are merged and rewritten from the live generation: a damaged file must stop
        // the update, or it would be built upon and the damage kept.
        super::check::verify_checksums(dir, &generation)?;
        let committed = live.catalog()?;
        let writer = tantivy_writer(&live.index, dir)?;
        // A writer killed before its commit leaves files of the commit it never made; the next
        // writer reuses their names (delete files are named by opstamp), so they go first.
        writer
            .garbage_collect_files()
            .wait()
            .map_err(tantivy_error(dir))?;
        Ok(IndexWriter {
            writer,
            lock,
            generation,
            replaces_live: false,
            fields: live.fields,
            entries: committed
                .documents
                .iter()
                .map(|entry| (entry.source.path.clone(), entry.clone()))
                .collect(),
            committed,
            trusted: live.info.written_by == super::RELEASE,
            changed: false,
            roots: live.info.roots,
        })
    }

    /// The fingerprint recorded for the document at `path`, when it can be trusted to tell an
    /// unchanged file (an index written by another release read files its own way).
    pub fn fingerprint(&self, path: &str) -> Option<&str> {
        self.entries
            .get(path)
            .filter(|_| self.trusted)
            .map(|entry| entry.hash.as_str())
    }

    /// The catalog entry of the document at `path`, if the index holds it.
    pub fn entry(&self, path: &str) -> Option<&Entry> {
        self.entries.get(path)
    }

    /// The paths of every document the index holds, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The corpus folders recorded with the index.
    pub fn roots(&self) -> &[String] {
        &self.roots
    }

    /// Records the corpus folders the index is built from.
    pub fn set_roots(&mut self, roots: Vec<String>) {
        if roots != self.roots {
            self.roots = roots;
            self.changed = true;
        }
    }

    /// Adds `document` under `path`, replacing what the index holds there.
    pub fn add(&mut self, path: &str, document: &Document) -> Result<(), IndexError> {
        self.add_prepared(PreparedDocument::new(path, document, None))
    }

    /// Adds a prepared document, replacing what the index holds at its path.
    pub fn add_prepared(&mut self, prepared: PreparedDocument) -> Result<(), IndexError> {
        let PreparedDocument { entry, passages } = prepared;
        self.remove(&entry.source.path);
        let words = passages
            .iter()
            .map(|passage| stored::content_words(&entry.source, passage))
            .sum();
        // One batch goes to one segment, in order: a document's passages stay side by side, so
        // that a search finds a passage's document from its position alone (`passages_after`).
        let batch: Vec<UserOperation> = passages
            .iter()
            .enumerate()
            .map(|(position, passage)| {
                let after = passages.len() - 1 - position;
                UserOperation::Add(stored::passage_document(
                    self.fields,
                    &entry.source,
                    passage,
                    words,
                    after,
                ))
            })
            .collect();
        self.writer.run(batch).map_err(tantivy_error(self.lock.root()))?;
        self.entries.insert(entry.source.path.clone(), entry);
        self.changed = true;
        Ok(())
    }

    /// Removes the document at `path`; returns whether the index held it.
    pub fn remove(&mut self, path: &str) -> bool {
        if self.entries.remove(path).is_none() {
            return false;
        }
        // The record goes at commit, unless the document is added again with the same one.
        self.writer
            .delete_term(Term::from_field_text(self.fields.path, path));
        self.changed = true;
        true
    }

    /// Links citations across all documents, writes the records and abbreviations that changed,
    /// and commits everything at once; a full build then becomes the live index. A writer with
    /// nothing to change commits nothing.
    pub fn commit(self) -> Result<Committed, IndexError> {
        let IndexWriter {
            lock,
            generation,
            replaces_live,
            mut writer,
            fields: f,
            entries,
            committed,
            trusted,
            changed,
            roots,
        } = self;
        let catalog = Catalog::new(entries.into_values().collect());
        let described = Committed::describe(&catalog, roots);
        if !changed && trusted && catalog == committed {
            return Ok(described);
        }
        let root = lock.root().to_path_buf();
        for gone in &committed.documents {
            if catalog.get(&gone.source.path).is_none() {
                writer.delete_term(stored::record_term(f, &gone.source.path));
            }
        }
        for entry in &catalog.documents {
            if committed.get(&entry.source.path) != Some(entry) {
                writer.delete_term(stored::record_term(f, &entry.source.path));
                writer
                    .add_document(stored::record_document(f, entry))
                    .map_err(tantivy_error(&root))?;
            }
        }
        if catalog.abbreviations != committed.abbreviations {
            writer.delete_term(Term::from_field_text(f.entry, EntryKind::Abbreviation.as_str()));
            for (short, long) in &catalog.abbreviations {
                writer
                    .add_document(stored::abbreviation_document(f, short, long))
                    .map_err(tantivy_error(&root))?;
            }
        }
        let payload = serde_json::to_string(&described.info).expect("commit information is plain data");
        let mut prepared = writer.prepare_commit().map_err(tantivy_error(&root))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(tantivy_error(&root))?;
        // Merges left running would pile up segments and orphan files over many runs.
        writer.wait_merging_threads().map_err(tantivy_error(&root))?;
        if replaces_live {
            lock.publish(&generation)?;
            lock.remove_generations_except(Some(&generation));
        }
        Ok(described)
    }
}

fn tantivy_writer(index: &tantivy::Index, root: &Path) -> Result<tantivy::IndexWriter, IndexError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
    index
        .writer_with_num_threads(threads, WRITER_MEMORY_BYTES)
        .map_err(tantivy_error(root))
}

/// Whether an index's schema is the one this release writes.
pub(crate) fn same_schema(found: &Schema) -> bool {
    *found == schema::build().0
}
