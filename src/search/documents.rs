//! BM25 over whole documents, from the postings of their passages: the count of each term's
//! documents and a document's score where ranking needs it, and plain BM25 over every document
//! for the baseline of evaluations. A document's passages sit side by side in one segment, so a
//! passage's position tells its document (see [`DocumentColumns::last_passage`]).

use rustc_hash::FxHashMap;
use tantivy::columnar::{Column, StrColumn};
use tantivy::postings::Postings;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, SegmentOrdinal, SegmentReader, Term};

use super::scoring::Terms;
use crate::index::Index;
use crate::index::schema::EntryKind;

/// BM25's term-frequency saturation for whole documents (tantivy's value for passages).
pub(super) const K1: f32 = 1.2;
/// BM25's length normalisation for whole documents (tantivy's value for passages).
pub(super) const B: f32 = 0.75;

/// Whole documents met in the postings of a query's terms, each in a slot, with its BM25 score:
/// for plain BM25 over documents, which ranks them all. A document is known by its last passage
/// (see [`DocumentColumns::last_passage`]).
#[derive(Default)]
struct Documents {
    /// The slot of each document, by [`slot_key`] of its last passage.
    slots: FxHashMap<u64, usize>,
    /// Per slot: the document's last passage, to name it by.
    passages: Vec<DocAddress>,
    /// Per slot: BM25 of the whole document.
    scores: Vec<f32>,
}

/// The last passage of the document of the passage `doc`, which has `after` passages after it.
fn last_passage(segment: SegmentOrdinal, doc: DocId, after: u64) -> Option<DocAddress> {
    let last = u64::from(doc).checked_add(after)?;
    Some(DocAddress::new(segment, DocId::try_from(last).ok()?))
}

/// A last passage as one number, for [`Documents::slots`].
fn slot_key(last: DocAddress) -> u64 {
    u64::from(last.segment_ord) << 32 | u64::from(last.doc_id)
}

/// The fast columns of one segment that say which document a passage belongs to, where it
/// stands there and how long that document is.
pub(super) struct DocumentColumns {
    /// The key of the passage's document (a hash of its path).
    pub(super) key: Column<u64>,
    /// The passage's position in its document.
    pub(super) ordinal: Column<u64>,
    passages_after: Column<u64>,
    words: Column<u64>,
}

impl DocumentColumns {
    /// The columns of every segment, in segment order.
    pub(super) fn of_segments(index: &Index) -> tantivy::Result<Vec<DocumentColumns>> {
        let columns = |segment: &SegmentReader| {
            Ok(DocumentColumns {
                key: segment.fast_fields().u64("document")?,
                ordinal: segment.fast_fields().u64("ordinal")?,
                passages_after: segment.fast_fields().u64("passages_after")?,
                words: segment.fast_fields().u64("document_words")?,
            })
        };
        index.searcher.segment_readers().iter().map(columns).collect()
    }

    /// The last passage of the document of `doc`, in segment `segment`: a document's passages
    /// are added as one batch, which tantivy keeps side by side in one segment, in order.
    pub(super) fn last_passage(&self, segment: SegmentOrdinal, doc: DocId) -> Option<DocAddress> {
        last_passage(segment, doc, self.passages_after.first(doc)?)
    }
}

/// How many documents the index holds and how many words they have on average, for BM25 over
/// whole documents. Like the passage statistics, these count documents and words not yet merged
/// away.
fn document_statistics(index: &Index) -> tantivy::Result<(f32, f32)> {
    let documents = index
        .searcher
        .doc_freq(&Term::from_field_text(
            index.fields.entry,
            EntryKind::Document.as_str(),
        ))?
        .max(1) as f32;
    let average_words = (index.searcher.total_num_tokens(index.fields.content)? as f32 / documents).max(1.0);
    Ok((documents, average_words))
}

/// BM25's idf of a term that `holding` of `documents` documents hold.
fn idf(documents: f32, holding: usize) -> f32 {
    let holding = holding as f32;
    (1.0 + (documents - holding + 0.5) / (holding + 0.5)).ln()
}

/// Calls `visit` once for each live document holding `term`, with its last passage and the
/// term's frequency summed over its passages (0 when `option` reads no frequencies). A
/// document's passages follow each other, so its extent is read at its first posting, and its
/// other postings need no read at all.
fn for_each_document(
    index: &Index,
    columns: &[DocumentColumns],
    term: &Term,
    option: IndexRecordOption,
    mut visit: impl FnMut(DocAddress, u32),
) -> tantivy::Result<()> {
    for (segment_ord, segment) in index.searcher.segment_readers().iter().enumerate() {
        let inverted = segment.inverted_index(term.field())?;
        let Some(mut block) = inverted.read_block_postings(term, option)? else {
            continue;
        };
        let alive = segment.alive_bitset();
        let column = &columns[segment_ord];
        let mut current: Option<(DocAddress, u32)> = None;
        while !block.docs().is_empty() {
            let frequencies = block.freqs();
            for (at, &doc) in block.docs().iter().enumerate() {
                let frequency = frequencies.get(at).copied().unwrap_or(0);
                if let Some((last, sum)) = &mut current
                    && doc <= last.doc_id
                {
                    *sum += frequency;
                    continue;
                }
                if alive.is_some_and(|alive| !alive.is_alive(doc)) {
                    continue;
                }
                let Some(last) = column.last_passage(segment_ord as SegmentOrdinal, doc) else {
                    continue;
                };
                if let Some((last, sum)) = current.replace((last, frequency)) {
                    visit(last, sum);
                }
            }
            block.advance();
        }
        if let Some((last, sum)) = current {
            visit(last, sum);
        }
    }
    Ok(())
}

/// BM25 of every whole document holding one of the weighted terms, from the postings of their
/// passages: a term's frequency in a document is the sum over its passages.
fn document_bm25(index: &Index, columns: &[DocumentColumns], terms: &Terms) -> tantivy::Result<Documents> {
    let (documents, average_words) = document_statistics(index)?;
    let mut found = Documents::default();
    let mut words: Vec<f32> = Vec::new();
    // Per term: each document holding it (its last passage) and the term's frequency there.
    let mut holding: Vec<(DocAddress, u32)> = Vec::new();
    for (position, term) in terms.ranked.iter().enumerate() {
        holding.clear();
        for_each_document(
            index,
            columns,
            term,
            IndexRecordOption::WithFreqs,
            |last, frequency| holding.push((last, frequency)),
        )?;
        found.slots.reserve(holding.len());
        let weight = terms.weights[position] * idf(documents, holding.len()) * (K1 + 1.0);
        for &(last, frequency) in &holding {
            let slot = *found.slots.entry(slot_key(last)).or_insert_with(|| {
                found.passages.push(last);
                found.scores.push(0.0);
                let length = columns[last.segment_ord as usize].words.first(last.doc_id);
                words.push(length.unwrap_or_default() as f32);
                words.len() - 1
            });
            found.scores[slot] += term_score(weight, frequency, words[slot], average_words);
        }
    }
    Ok(found)
}

/// BM25 over whole documents, as ranking needs it: each term's weight, from the number of live
/// documents holding it, and a bound of any document's score; a document's own score is
/// computed only for the documents of the passages scored in full ([`DocumentTerms::scores`]).
pub(super) struct DocumentTerms {
    /// Per term: the term and its weight (its idf, times its weight in the query, times K1 + 1).
    terms: Vec<(Term, f32)>,
    /// The average document length, in words.
    average_words: f32,
    /// No document scores more than this.
    pub(super) most: f32,
}

impl DocumentTerms {
    /// Counts the documents holding each term (its weight), reading its postings once.
    pub(super) fn of(
        index: &Index,
        columns: &[DocumentColumns],
        terms: &Terms,
    ) -> tantivy::Result<DocumentTerms> {
        let (documents, average_words) = document_statistics(index)?;
        let mut weighted = Vec::with_capacity(terms.ranked.len());
        for (position, term) in terms.ranked.iter().enumerate() {
            let mut holding = 0;
            for_each_document(index, columns, term, IndexRecordOption::Basic, |_, _| {
                holding += 1
            })?;
            let weight = terms.weights[position] * idf(documents, holding) * (K1 + 1.0);
            weighted.push((term.clone(), weight));
        }
        // A term's frequency part stays below 1, so no document scores its weights' sum.
        let most = weighted.iter().map(|(_, weight)| weight).sum();
        Ok(DocumentTerms {
            terms: weighted,
            average_words,
            most,
        })
    }

    /// The score of the document of each of `docs` (doc ids of one segment, ascending): each
    /// term's frequency is summed over the document's passages, sought in its postings.
    pub(super) fn scores(
        &self,
        segment: &SegmentReader,
        segment_ord: SegmentOrdinal,
        column: &DocumentColumns,
        docs: &[DocId],
    ) -> tantivy::Result<Vec<f32>> {
        // Each document's extent, once for its passages side by side in `docs`.
        let mut extents: Vec<(DocId, DocId, f32)> = Vec::new();
        let mut of_doc = Vec::with_capacity(docs.len());
        for &doc in docs {
            if extents.last().is_none_or(|&(_, last, _)| doc > last) {
                let first = column
                    .ordinal
                    .first(doc)
                    .and_then(|ordinal| doc.checked_sub(u32::try_from(ordinal).ok()?));
                let last = column.last_passage(segment_ord, doc).map(|last| last.doc_id);
                let words = column.words.first(doc).unwrap_or_default() as f32;
                extents.push((first.unwrap_or(doc), last.unwrap_or(doc), words));
            }
            of_doc.push(extents.len() - 1);
        }
        let mut scores = vec![0.0f32; extents.len()];
        for (term, weight) in &self.terms {
            let inverted = segment.inverted_index(term.field())?;
            let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::WithFreqs)? else {
                continue;
            };
            for (score, &(first, last, words)) in scores.iter_mut().zip(&extents) {
                if postings.doc() < first {
                    postings.seek(first);
                }
                let mut frequency = 0;
                while postings.doc() <= last {
                    frequency += postings.term_freq();
                    postings.advance();
                }
                if frequency > 0 {
                    *score += term_score(*weight, frequency, words, self.average_words);
                }
            }
        }
        Ok(of_doc.into_iter().map(|extent| scores[extent]).collect())
    }
}

/// BM25 of one term of weight `weight` (its idf times K1 + 1, and its weight in the query) found
/// `frequency` times in a document of `words` words.
fn term_score(weight: f32, frequency: u32, words: f32, average_words: f32) -> f32 {
    let frequency = frequency as f32;
    let length = words / average_words;
    weight * frequency / (frequency + K1 * (1.0 - B + B * length))
}

/// Whole documents ranked by plain BM25 over their text for `terms` (the baseline of
/// evaluations): the best `limit`, with their paths.
pub(super) fn bm25_documents(
    index: &Index,
    terms: &Terms,
    limit: usize,
) -> tantivy::Result<Vec<(String, f32)>> {
    let documents = document_bm25(index, &DocumentColumns::of_segments(index)?, terms)?;
    let mut ranked: Vec<(DocAddress, f32)> = documents.passages.into_iter().zip(documents.scores).collect();
    if ranked.len() > limit && limit > 0 {
        // Documents tied with the last place are kept until their paths are known: ties go by
        // path, so that the ranking never depends on how the index is split into segments.
        let order = |a: &(DocAddress, f32), b: &(DocAddress, f32)| b.1.total_cmp(&a.1);
        let (_, &mut last, _) = ranked.select_nth_unstable_by(limit - 1, order);
        ranked.retain(|document| order(document, &last).is_le());
    }
    let addresses: Vec<DocAddress> = ranked.iter().map(|&(address, _)| address).collect();
    let mut named: Vec<(String, f32)> = paths(index, &addresses)?
        .into_iter()
        .zip(ranked)
        .map(|(path, (_, score))| (path, score))
        .collect();
    named.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    if limit > 0 {
        named.truncate(limit);
    }
    Ok(named)
}

/// The document paths of passages, in the same order.
pub(super) fn paths(index: &Index, passages: &[DocAddress]) -> tantivy::Result<Vec<String>> {
    let segments = index.searcher.segment_readers();
    let columns = segments
        .iter()
        .map(path_column)
        .collect::<tantivy::Result<Vec<_>>>()?;
    let mut wanted: Vec<Vec<(u64, usize)>> = vec![Vec::new(); segments.len()];
    for (position, address) in passages.iter().enumerate() {
        let segment = address.segment_ord as usize;
        if let Some(ord) = columns[segment].ords().first(address.doc_id) {
            wanted[segment].push((ord, position));
        }
    }
    let mut paths = vec![String::new(); passages.len()];
    for (column, mut ords) in columns.iter().zip(wanted) {
        if ords.is_empty() {
            continue;
        }
        ords.sort_unstable();
        let sorted: Vec<u64> = ords.iter().map(|&(ord, _)| ord).collect();
        let mut next = 0;
        // One pass over the dictionary's blocks for all the paths of a segment.
        column.dictionary().sorted_ords_to_term_cb(&sorted, |bytes| {
            paths[ords[next].1] = String::from_utf8_lossy(bytes).into_owned();
            next += 1;
        })?;
    }
    Ok(paths)
}

fn path_column(segment: &SegmentReader) -> tantivy::Result<StrColumn> {
    segment
        .fast_fields()
        .str("path")?
        .ok_or_else(|| tantivy::TantivyError::SchemaError("no path column".into()))
}
