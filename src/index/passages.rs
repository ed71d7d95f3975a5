//! Reading passages back: a document's passages in order, every passage for an export, and one
//! passage with its neighbours, named by id or by a line of its source file.

use serde::{Deserialize, Serialize};
use tantivy::collector::DocSetCollector;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{TantivyDocument, Term};

use super::{Index, IndexError, StoredPassage, guarded, stored};

/// A passage with its neighbours in the same section, as `citedex show` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassageInContext {
    /// The passages before it, in order.
    pub before: Vec<StoredPassage>,
    /// The passage asked for.
    pub passage: StoredPassage,
    /// The passages after it, in order.
    pub after: Vec<StoredPassage>,
}

/// Where a passage stands in its document.
enum Place {
    /// Its position among the document's passages.
    Ordinal(usize),
    /// A line of the source file it spans, or the line nearest to it.
    Line(u32),
}

impl Place {
    /// The index in `passages` (a document's, in order) of the passage standing here.
    fn position(&self, passages: &[StoredPassage]) -> Option<usize> {
        match *self {
            Place::Ordinal(ordinal) => passages.iter().position(|passage| passage.ordinal == ordinal),
            Place::Line(line) => {
                // Nearest first; then a passage below the line (the line is a heading or blank
                // line above it), the first of them; else the last passage above it.
                let rank = |at: usize, passage: &StoredPassage| {
                    let (start, end) = (passage.line_start?, passage.line_end?);
                    Some(if start > line {
                        (start - line, 0, at)
                    } else if end < line {
                        (line - end, 1, usize::MAX - at)
                    } else {
                        (0, 0, at)
                    })
                };
                passages
                    .iter()
                    .enumerate()
                    .filter_map(|(at, passage)| Some((rank(at, passage)?, at)))
                    .min_by_key(|&(rank, _)| rank)
                    .map(|(_, at)| at)
            }
        }
    }
}

impl Index {
    /// Every passage, in document and passage order, with its attribution: read a document at a
    /// time, so an export never holds the corpus in memory.
    pub fn passages(
        &self,
    ) -> Result<impl Iterator<Item = Result<StoredPassage, IndexError>> + '_, IndexError> {
        let documents = self.catalog()?.documents;
        Ok(documents
            .into_iter()
            .flat_map(move |entry| match self.document_passages(&entry.source.path) {
                Ok(passages) => passages
                    .into_iter()
                    .map(|mut passage| {
                        passage.cited_by = entry.cited_by.clone();
                        Ok(passage)
                    })
                    .collect(),
                Err(error) => vec![Err(error)],
            }))
    }

    /// The passages of the document at `path`, in order, without `cited_by`.
    pub fn document_passages(&self, path: &str) -> Result<Vec<StoredPassage>, IndexError> {
        guarded(&self.root, || self.read_document_passages(path))
    }

    fn read_document_passages(&self, path: &str) -> Result<Vec<StoredPassage>, IndexError> {
        let query = TermQuery::new(
            Term::from_field_text(self.fields.path, path),
            IndexRecordOption::Basic,
        );
        let addresses = self
            .searcher
            .search(&query, &DocSetCollector)
            .map_err(self.tantivy())?;
        let mut passages = addresses
            .into_iter()
            .map(|address| {
                let stored: TantivyDocument = self.searcher.doc(address).map_err(self.tantivy())?;
                Ok(stored::read_passage(self.fields, &stored))
            })
            .collect::<Result<Vec<_>, IndexError>>()?;
        passages.sort_by_key(|passage| passage.ordinal);
        Ok(passages)
    }

    /// The passage `target` names, an id (`path#N`) or a place (`path:LINE`), and up to
    /// `context` passages of the same section on each side, in order, with its document's
    /// citation links; `None` when there is no such passage. A place names the first passage
    /// whose lines hold the line, else the nearest (of passages as near, the first below the
    /// line, which is then a heading or blank line above it); a document without lines (a PDF
    /// has pages) has no places.
    pub fn passage_in_context(
        &self,
        target: &str,
        context: usize,
    ) -> Result<Option<PassageInContext>, IndexError> {
        let by_id = target
            .rsplit_once('#')
            .and_then(|(path, ordinal)| Some((path, Place::Ordinal(ordinal.parse().ok()?))));
        let by_line = target
            .rsplit_once(':')
            .and_then(|(path, line)| Some((path, Place::Line(line.parse().ok()?))));
        for (path, place) in by_id.into_iter().chain(by_line) {
            let passages = self.document_passages(path)?;
            if let Some(at) = place.position(&passages) {
                return Ok(Some(self.in_context(path, passages, at, context)?));
            }
        }
        Ok(None)
    }

    /// The passage at `at` of `passages`, the passages of the document at `path` in order, with
    /// up to `context` neighbours of its section on each side.
    fn in_context(
        &self,
        path: &str,
        mut passages: Vec<StoredPassage>,
        at: usize,
        context: usize,
    ) -> Result<PassageInContext, IndexError> {
        let cited_by = self.record(path)?.map(|entry| entry.cited_by).unwrap_or_default();
        for passage in &mut passages {
            passage.cited_by = cited_by.clone();
        }
        let section = passages[at].section.clone();
        let same_section = |passage: &StoredPassage| passage.section == section;
        let first = (0..at)
            .rev()
            .take(context)
            .take_while(|&i| same_section(&passages[i]))
            .last()
            .unwrap_or(at);
        let last = (at + 1..passages.len())
            .take(context)
            .take_while(|&i| same_section(&passages[i]))
            .last()
            .unwrap_or(at);
        let mut around: Vec<StoredPassage> = passages.drain(first..=last).collect();
        let after = around.split_off(at - first + 1);
        let passage = around.pop().expect("the passage itself");
        Ok(PassageInContext {
            before: around,
            passage,
            after,
        })
    }
}
