//! Checking an index whole, as Lucene's CheckIndex or SQLite's `PRAGMA integrity_check` do: every
//! file of the live generation against the checksum in its footer, then every stored entry
//! decoded, then the counts the last commit recorded against what the entries hold. It reads the
//! whole index, so searches never run it; `citedex check` does, and an update runs the checksum
//! part ([`damaged_files`]) before it builds on the live generation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tantivy::index::{SegmentComponent, SegmentMeta};
use tantivy::schema::Value;
use tantivy::{SegmentReader, TantivyDocument};

use super::schema::Fields;
use super::{Index, IndexError, describe_damage, guarded, layout, open_generation, stored};

/// Most findings a report lists one by one; the rest are counted.
const MAX_LISTED_PROBLEMS: usize = 50;
/// Store blocks a check keeps decompressed while it reads a segment in order.
const STORE_CACHE_BLOCKS: usize = 1;

/// What a check of an index found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The live generation, when `CURRENT` names one.
    pub generation: Option<String>,
    /// Segments in the live generation.
    pub segments: usize,
    /// Segment files whose checksum matched.
    pub files: usize,
    /// Stored entries that decoded: passages, document records and abbreviations.
    pub entries: usize,
    /// What is wrong, one finding each, the first fifty; empty when the index is sound.
    pub problems: Vec<String>,
    /// Findings beyond those listed.
    pub unlisted: usize,
}

impl CheckReport {
    /// Whether the check found nothing wrong.
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, finding: String) {
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(finding);
        } else {
            self.unlisted += 1;
        }
    }
}

impl Index {
    /// Checks the index at `dir` whole: `CURRENT`, each segment file's checksum, each stored
    /// entry, and the counts of the last commit. Reads everything, so it takes about as long as
    /// reading the index from disk. Fails only when `dir` holds no index; whatever is wrong with
    /// one is in the report.
    pub fn check(dir: &Path) -> Result<CheckReport, IndexError> {
        let mut report = CheckReport::default();
        let generation = match layout::current_generation(dir) {
            Ok(Some(generation)) => generation,
            Ok(None) => return Err(IndexError::NotFound(dir.to_path_buf())),
            Err(error) => {
                report.problem(finding(error));
                return Ok(report);
            }
        };
        report.generation = Some(generation.clone());
        // Held so that a full build finishing meanwhile does not remove what is being checked.
        let _hold = match layout::hold(dir, &generation) {
            Ok(hold) => hold,
            Err(error) => {
                report.problem(format!(
                    "{generation}, which CURRENT names, cannot be read: {error}"
                ));
                return Ok(report);
            }
        };
        match guarded(dir, || segment_checksums(dir, &generation)) {
            Ok(checked) => {
                report.segments = checked.segments;
                report.files = checked.verified;
                for damage in checked.damaged {
                    report.problem(damage);
                }
            }
            Err(error) => report.problem(finding(error)),
        }
        if !report.is_sound() {
            // Decoding garbled files would only find the same damage again, or panic on it.
            return Ok(report);
        }
        match guarded(dir, || open_generation(dir, &generation)) {
            Ok(index) => index.check_entries(&mut report),
            Err(error) => report.problem(finding(error)),
        }
        Ok(report)
    }

    /// Decodes every stored entry and compares what they hold with the commit record.
    fn check_entries(&self, report: &mut CheckReport) {
        let mut tally = Tally::default();
        for segment in self.searcher.segment_readers() {
            let read = guarded(&self.root, || {
                tally_segment(self.fields, segment, &mut tally)
                    .map_err(|error| self.corrupt(describe_damage(&error)))
            });
            if let Err(error) = read {
                let name = segment.segment_id().uuid_string();
                report.problem(format!("segment {name}: {}", finding(error)));
            }
        }
        report.entries = tally.entries;
        for problem in tally.problems {
            report.problem(problem);
        }
        if !report.is_sound() {
            // Counts over entries that did not all decode would only repeat the damage.
            return;
        }
        for (path, recorded) in &tally.records {
            let found = tally.passages.get(path).copied().unwrap_or(0);
            if found != *recorded {
                report.problem(format!(
                    "{path}: its record counts {recorded} passages, the index holds {found}"
                ));
            }
        }
        for path in tally
            .passages
            .keys()
            .filter(|path| !tally.records.contains_key(*path))
        {
            report.problem(format!("{path}: passages without a document record"));
        }
        let info = self.info();
        let passages: usize = tally.passages.values().sum();
        if (info.documents, info.passages) != (tally.records.len(), passages) {
            report.problem(format!(
                "the last commit recorded {} documents and {} passages; the index holds {} and {}",
                info.documents,
                info.passages,
                tally.records.len(),
                passages
            ));
        }
    }
}

/// What the entries of an index hold, as a check counts them.
#[derive(Default)]
struct Tally {
    /// Entries decoded.
    entries: usize,
    /// Passages found, by document path.
    passages: HashMap<String, usize>,
    /// Passages each document record says it has, by path.
    records: HashMap<String, usize>,
    /// Entries that decode but make no sense.
    problems: Vec<String>,
}

/// Decodes every live stored entry of one segment into the tally.
fn tally_segment(f: Fields, segment: &SegmentReader, tally: &mut Tally) -> tantivy::Result<()> {
    let store = segment.get_store_reader(STORE_CACHE_BLOCKS)?;
    for entry in store.iter::<TantivyDocument>(segment.alive_bitset()) {
        let entry = entry?;
        tally.entries += 1;
        let text = |field| entry.get_first(field).and_then(|value| value.as_str());
        // The kind of an entry is indexed, not stored: each kind is known by a field only it stores.
        if entry.get_first(f.record).is_some() {
            match stored::read_record(f, &entry) {
                Ok(record) => {
                    tally.records.insert(record.source.path, record.passages);
                }
                Err(detail) => tally.problems.push(detail),
            }
        } else if entry.get_first(f.short_form).is_some() {
            if stored::read_abbreviation(f, &entry).is_none() {
                tally
                    .problems
                    .push("an abbreviation without its long form".to_string());
            }
        } else {
            let ordinal = entry.get_first(f.ordinal).and_then(|value| value.as_u64());
            match (text(f.path), ordinal, text(f.body)) {
                (Some(path), Some(_), Some(_)) => *tally.passages.entry(path.to_string()).or_default() += 1,
                _ => tally
                    .problems
                    .push("an entry that is neither a passage, a record nor an abbreviation".to_string()),
            }
        }
    }
    Ok(())
}

/// The checksums of one generation's segment files.
pub(crate) struct Checksums {
    /// Segments in the generation's last commit.
    pub(crate) segments: usize,
    /// Files whose checksum matched.
    pub(crate) verified: usize,
    /// One line per file that is missing, cut short or garbled.
    pub(crate) damaged: Vec<String>,
}

/// Verifies every file of the last commit of `generation` against the checksum in its footer,
/// reading each file whole.
pub(crate) fn segment_checksums(root: &Path, generation: &str) -> Result<Checksums, IndexError> {
    let corrupt = |error: tantivy::TantivyError| IndexError::Corrupt {
        path: root.to_path_buf(),
        detail: describe_damage(&error),
    };
    let directory = layout::generation_directory(root, generation)?;
    let index = tantivy::Index::open(directory).map_err(corrupt)?;
    let metas = index.load_metas().map_err(corrupt)?;
    let mut checksums = Checksums {
        segments: metas.segments.len(),
        verified: 0,
        damaged: Vec::new(),
    };
    for file in metas.segments.iter().flat_map(segment_files) {
        match index.directory().validate_checksum(&file) {
            Ok(true) => checksums.verified += 1,
            Ok(false) => checksums.damaged.push(format!(
                "{} is garbled: its checksum does not match",
                file.display()
            )),
            Err(error) => checksums.damaged.push(describe_damage(&error.into())),
        }
    }
    Ok(checksums)
}

/// Fails with [`IndexError::Corrupt`], naming the damaged files, when a file of `generation`
/// does not match its checksum: what an update checks before it builds on a generation.
pub(crate) fn verify_checksums(root: &Path, generation: &str) -> Result<(), IndexError> {
    let checksums = guarded(root, || segment_checksums(root, generation))?;
    match checksums.damaged.as_slice() {
        [] => Ok(()),
        [only] => Err(IndexError::Corrupt {
            path: root.to_path_buf(),
            detail: only.clone(),
        }),
        [first, rest @ ..] => Err(IndexError::Corrupt {
            path: root.to_path_buf(),
            detail: format!("{first}, and {} more damaged files", rest.len()),
        }),
    }
}

/// The files a committed segment consists of.
fn segment_files(segment: &SegmentMeta) -> Vec<PathBuf> {
    let mut components = vec![
        SegmentComponent::Postings,
        SegmentComponent::Positions,
        SegmentComponent::Terms,
        SegmentComponent::Store,
        SegmentComponent::FastFields,
        SegmentComponent::FieldNorms,
    ];
    if segment.has_deletes() {
        components.push(SegmentComponent::Delete);
    }
    components
        .into_iter()
        .map(|component| segment.relative_path(component))
        .collect()
}

/// An error as one finding of a check: a damaged index says what is damaged.
fn finding(error: IndexError) -> String {
    match error {
        IndexError::Corrupt { detail, .. } => detail,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IndexWriter;
    use crate::formats::{self, Format};

    #[test]
    fn a_record_that_does_not_decode_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = IndexWriter::create(dir.path()).unwrap();
        let document = formats::read(Format::Markdown, b"# Heron\n\nThe heron waits.\n", "heron").unwrap();
        writer.add("notes/heron.md", &document).unwrap();
        writer.commit().unwrap();
        assert!(Index::check(dir.path()).unwrap().is_sound());

        // A record whose bytes are not a record, committed with the same commit record: the
        // checksums hold, as tantivy wrote the files, but the entry does not decode.
        let generation = layout::current_generation(dir.path()).unwrap().unwrap();
        let directory = layout::generation_directory(dir.path(), &generation).unwrap();
        let index = tantivy::Index::open(directory).unwrap();
        crate::index::schema::register_analyzers(&index);
        let payload = index.load_metas().unwrap().payload.unwrap();
        let (_, f) = crate::index::schema::build();
        let mut raw = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let mut bogus = TantivyDocument::new();
        bogus.add_bytes(f.record, b"not a record".as_slice());
        raw.add_document(bogus).unwrap();
        let mut prepared = raw.prepare_commit().unwrap();
        prepared.set_payload(&payload);
        prepared.commit().unwrap();
        drop(raw);

        let report = Index::check(dir.path()).unwrap();
        assert_eq!(report.problems.len(), 1, "{report:?}");
        assert!(report.problems[0].starts_with("a document record:"), "{report:?}");
        assert_eq!(report.entries, 3);
    }

    #[test]
    fn a_folder_without_an_index_is_not_checked() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Index::check(dir.path()), Err(IndexError::NotFound(_))));
    }
}
