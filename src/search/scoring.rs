//! Final passage scores, from what tantivy matched: each passage's own BM25 (with the field
//! weights and the proximity bonus of its plan) plus BM25 of its whole document, computed here
//! from the passages' postings; passages holding every query word ahead of those that lack one;
//! reference lists and author notes ([`super::tiers`]) behind body text unless the query asks
//! for them.

use rustc_hash::FxHashMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::postings::Postings;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED, Term};

use super::tiers::{for_each_posting, names_a_source, non_body};
use crate::index::Index;
use crate::index::schema::EntryKind;

/// Weight of the whole document's BM25 next to the passage's own score: a passage is read in
/// its document, and a document about the query says more than one passage can.
pub(super) const DOCUMENT_WEIGHT: f32 = 2.0;
/// BM25's term-frequency saturation for whole documents (tantivy's value for passages).
pub(super) const K1: f32 = 1.2;
/// BM25's length normalisation for whole documents (tantivy's value for passages).
pub(super) const B: f32 = 0.75;

/// The passages one segment matched, with tantivy's scores, in document order.
pub(super) struct SegmentMatches {
    segment: SegmentOrdinal,
    hits: Vec<(DocId, Score)>,
}

/// Collects every matching passage with its score.
pub(super) struct Matches;

/// [`Matches`] within one segment.
pub(super) struct SegmentMatchCollector(SegmentMatches);

impl Collector for Matches {
    type Fruit = Vec<SegmentMatches>;
    type Child = SegmentMatchCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _: &SegmentReader,
    ) -> tantivy::Result<SegmentMatchCollector> {
        Ok(SegmentMatchCollector(SegmentMatches {
            segment,
            hits: Vec::new(),
        }))
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, segments: Vec<Vec<SegmentMatches>>) -> tantivy::Result<Vec<SegmentMatches>> {
        Ok(segments.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentMatchCollector {
    type Fruit = Vec<SegmentMatches>;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.0.hits.push((doc, score));
    }

    fn harvest(mut self) -> Vec<SegmentMatches> {
        self.0.hits.sort_unstable_by_key(|&(doc, _)| doc);
        vec![self.0]
    }
}

/// How many passages matched in all.
pub(super) fn total(matches: &[SegmentMatches]) -> usize {
    matches.iter().map(|segment| segment.hits.len()).sum()
}

/// What a passage's rank is made of: two tiers, then the score.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(super) struct ScoreParts {
    /// The passage's own score (BM25 over its fields, abbreviations, proximity bonus).
    pub(super) passage: f32,
    /// BM25 of its whole document, weighted.
    pub(super) document: f32,
    /// Whether the passage lacks a word of the query: it ranks after those holding them all.
    pub(super) lacks_words: bool,
    /// Whether the passage is a reference list or author notes the query does not ask for: it
    /// ranks after body text.
    pub(super) aside: bool,
}

/// A matching passage with its final score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scored {
    pub(super) address: DocAddress,
    /// The key of the passage's document (a hash of its path).
    pub(super) document: u64,
    /// The passage's position in its document; read only for the passages that can reach the
    /// top, as it only breaks ties (zero until then).
    ordinal: u64,
    pub(super) score: f32,
    pub(super) parts: ScoreParts,
}

impl Scored {
    /// Best first: passages holding every query word, then body text, then higher scores, then
    /// by document and position, so that the order never depends on how the index happens to be
    /// split into segments.
    pub(super) fn order(a: &Scored, b: &Scored) -> std::cmp::Ordering {
        Scored::order_by_document(a, b).then_with(|| a.ordinal.cmp(&b.ordinal))
    }

    /// [`Scored::order`] short of the position in the document.
    fn order_by_document(a: &Scored, b: &Scored) -> std::cmp::Ordering {
        a.rank().cmp(&b.rank()).then_with(|| a.document.cmp(&b.document))
    }

    /// The tiers and the score as one number, smaller first, ordered as [`f32::total_cmp`]
    /// orders scores (descending): one integer comparison instead of three.
    fn rank(&self) -> u64 {
        let bits = self.score.to_bits() as i32;
        // The transformation total_cmp makes: negative floats in reverse, as signed integers.
        let ascending = ((bits ^ (((bits >> 31) as u32) >> 1) as i32) as u32) ^ 0x8000_0000;
        (u64::from(self.parts.lacks_words) << 33)
            | (u64::from(self.parts.aside) << 32)
            | u64::from(!ascending)
    }
}

/// What the scoring needs from the plan: the terms that rank, in the `content` field.
#[derive(Debug, Clone, Default)]
pub(super) struct Terms {
    /// Every content term the query ranks by, distinct.
    pub(super) ranked: Vec<Term>,
    /// The weight of each of `ranked` in the query.
    pub(super) weights: Vec<f32>,
    /// The indices in `ranked` of the words a passage should hold (plain queries; no stop words).
    pub(super) required: Vec<usize>,
    /// Whether reference lists and author notes are what the query asks for.
    pub(super) targets_parts: bool,
    /// The typed words' terms, distinct, to tell whether the query names a source by its title
    /// or publisher.
    pub(super) typed: Vec<String>,
}

/// The documents met in the postings of a query's terms, each in a slot, with its BM25 score.
#[derive(Default)]
struct Documents {
    /// The slot of each document key.
    slots: FxHashMap<u64, usize>,
    /// Per slot: the document's key.
    keys: Vec<u64>,
    /// Per slot: how many words the document has.
    words: Vec<f32>,
    /// Per slot: one of the document's passages, to name it by.
    passages: Vec<DocAddress>,
    /// Per slot: BM25 of the whole document.
    scores: Vec<f32>,
}

/// The fast columns of one segment that say which document a passage belongs to and how long
/// that document is.
struct DocumentColumns {
    key: Column<u64>,
    words: Column<u64>,
}

impl DocumentColumns {
    /// The columns of every segment, in segment order.
    fn of_segments(index: &Index) -> tantivy::Result<Vec<DocumentColumns>> {
        let columns = |segment: &SegmentReader| {
            Ok(DocumentColumns {
                key: segment.fast_fields().u64("document")?,
                words: segment.fast_fields().u64("document_words")?,
            })
        };
        index.searcher.segment_readers().iter().map(columns).collect()
    }
}

/// What the postings say of each hit: which of the query's terms it holds (a bit per position in
/// [`Terms::ranked`]) and its document's slot in [`Documents`].
#[derive(Debug, Clone, Copy, Default)]
struct HitTerms {
    held: u64,
    slot: Option<usize>,
}

/// BM25 of whole documents for weighted terms, from the postings of their passages: a term's
/// frequency in a document is the sum over its passages. Fills in `seen` (per segment, per hit)
/// what the postings say of each hit.
fn document_bm25(
    index: &Index,
    columns: &[DocumentColumns],
    terms: &Terms,
    hits: &[Vec<(DocId, Score)>],
    seen: &mut [Vec<HitTerms>],
) -> tantivy::Result<Documents> {
    let segments = index.searcher.segment_readers();
    // Like the passage statistics, these count documents and words not yet merged away.
    let documents = index
        .searcher
        .doc_freq(&Term::from_field_text(
            index.fields.entry,
            EntryKind::Document.as_str(),
        ))?
        .max(1) as f32;
    let average_words = (index.searcher.total_num_tokens(index.fields.content)? as f32 / documents).max(1.0);
    let mut found = Documents::default();
    let mut frequencies: Vec<u32> = Vec::new();
    let mut touched: Vec<usize> = Vec::new();
    for (position, term) in terms.ranked.iter().enumerate() {
        for (segment_ord, segment) in segments.iter().enumerate() {
            let inverted = segment.inverted_index(index.fields.content)?;
            let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::WithFreqs)? else {
                continue;
            };
            let alive = segment.alive_bitset();
            let column = &columns[segment_ord];
            let segment_hits = hits.get(segment_ord).map_or(&[][..], Vec::as_slice);
            let mut next_hit = 0;
            // A document's passages mostly follow each other, so its slot is often the last one.
            let mut last: Option<(u64, usize)> = None;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|alive| alive.is_alive(doc))
                    && let Some(key) = column.key.first(doc)
                {
                    let slot = match last {
                        Some((last_key, slot)) if last_key == key => slot,
                        _ => *found.slots.entry(key).or_insert_with(|| {
                            found.keys.push(key);
                            found
                                .words
                                .push(column.words.first(doc).unwrap_or_default() as f32);
                            found.passages.push(DocAddress::new(segment_ord as u32, doc));
                            found.scores.push(0.0);
                            frequencies.push(0);
                            found.words.len() - 1
                        }),
                    };
                    last = Some((key, slot));
                    if frequencies[slot] == 0 {
                        touched.push(slot);
                    }
                    frequencies[slot] += postings.term_freq();
                    // Postings and hits are both in doc id order.
                    while next_hit < segment_hits.len() && segment_hits[next_hit].0 < doc {
                        next_hit += 1;
                    }
                    if segment_hits.get(next_hit).is_some_and(|&(hit, _)| hit == doc) {
                        let hit = &mut seen[segment_ord][next_hit];
                        hit.slot = Some(slot);
                        if position < 64 {
                            hit.held |= 1 << position;
                        }
                    }
                }
                doc = postings.advance();
            }
        }
        let holding = touched.len() as f32;
        let idf = (1.0 + (documents - holding + 0.5) / (holding + 0.5)).ln();
        let weight = terms.weights[position] * idf * (K1 + 1.0);
        for &slot in &touched {
            let frequency = frequencies[slot] as f32;
            let length = found.words[slot] / average_words;
            found.scores[slot] += weight * frequency / (frequency + K1 * (1.0 - B + B * length));
            frequencies[slot] = 0;
        }
        touched.clear();
    }
    Ok(found)
}

/// Final scores of every matched passage.
pub(super) fn score(index: &Index, terms: &Terms, matches: Vec<SegmentMatches>) -> tantivy::Result<Scores> {
    let segments = index.searcher.segment_readers();
    let mut hits: Vec<Vec<(DocId, Score)>> = vec![Vec::new(); segments.len()];
    for segment in matches {
        hits[segment.segment as usize] = segment.hits;
    }
    let mut seen: Vec<Vec<HitTerms>> = hits
        .iter()
        .map(|hits| vec![HitTerms::default(); hits.len()])
        .collect();
    let columns = DocumentColumns::of_segments(index)?;
    let documents = document_bm25(index, &columns, terms, &hits, &mut seen)?;
    let required: Vec<usize> = terms.required.iter().copied().filter(|&i| i < 64).collect();
    // A word may stand in the publisher's name rather than in the passage ("mayo clinic").
    let in_publisher = if index.has_publishers() {
        &required[..]
    } else {
        &[]
    };
    for &position in in_publisher {
        let publisher = Term::from_field_text(
            index.fields.publisher,
            terms.ranked[position].value().as_str().unwrap_or_default(),
        );
        for (segment_ord, segment) in segments.iter().enumerate() {
            for_each_posting(segment, &publisher, |doc| {
                if let Ok(at) = hits[segment_ord].binary_search_by_key(&doc, |&(hit, _)| hit) {
                    seen[segment_ord][at].held |= 1 << position;
                }
            })?;
        }
    }
    let required_mask: u64 = required.iter().fold(0, |mask, &i| mask | 1 << i);
    let demote_parts = !terms.targets_parts && !names_a_source(index, terms)?;
    let mut scored = Vec::with_capacity(hits.iter().map(Vec::len).sum());
    for (segment_ord, segment_hits) in hits.iter().enumerate() {
        let segment = &segments[segment_ord];
        let asides = if demote_parts {
            non_body(segment, index)?
        } else {
            Vec::new()
        };
        let keys = &columns[segment_ord].key;
        for (&(doc, score), hit) in segment_hits.iter().zip(&seen[segment_ord]) {
            // A passage that holds none of the terms (matched by an abbreviation's expansion
            // alone) was not seen in their postings.
            let (document, slot) = match hit.slot {
                Some(slot) => (documents.keys[slot], Some(slot)),
                None => {
                    let key = keys.first(doc).unwrap_or_default();
                    (key, documents.slots.get(&key).copied())
                }
            };
            let parts = ScoreParts {
                passage: score,
                document: DOCUMENT_WEIGHT * slot.map_or(0.0, |slot| documents.scores[slot]),
                lacks_words: hit.held & required_mask != required_mask,
                aside: asides.binary_search(&doc).is_ok(),
            };
            scored.push(Scored {
                address: DocAddress::new(segment_ord as u32, doc),
                document,
                ordinal: 0,
                score: parts.passage + parts.document,
                parts,
            });
        }
    }
    let ordinals = segments
        .iter()
        .map(|segment| segment.fast_fields().u64("ordinal"))
        .collect::<tantivy::Result<_>>()?;
    Ok(Scores { scored, ordinals })
}

/// Whole documents ranked by plain BM25 over their text for `terms` (the baseline of
/// evaluations): the best `limit`, with their paths.
pub(super) fn bm25_documents(
    index: &Index,
    terms: &Terms,
    limit: usize,
) -> tantivy::Result<Vec<(String, f32)>> {
    let documents = document_bm25(index, &DocumentColumns::of_segments(index)?, terms, &[], &mut [])?;
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
fn paths(index: &Index, passages: &[DocAddress]) -> tantivy::Result<Vec<String>> {
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

/// The best `limit` of `scored`, best first.
fn best(mut scored: Vec<Scored>, limit: usize) -> Vec<Scored> {
    if scored.len() > limit && limit > 0 {
        scored.select_nth_unstable_by(limit - 1, Scored::order);
        scored.truncate(limit);
    }
    scored.sort_by(Scored::order);
    scored
}

/// Keeps the passages up to the `limit`-th under `order`, and those tied with it.
fn keep_up_to(
    scored: &mut Vec<Scored>,
    limit: usize,
    order: impl Fn(&Scored, &Scored) -> std::cmp::Ordering,
) {
    if scored.len() > limit && limit > 0 {
        let (_, &mut last, _) = scored.select_nth_unstable_by(limit - 1, &order);
        scored.retain(|passage| order(passage, &last).is_le());
    }
}

/// Every matched passage, scored.
pub(super) struct Scores {
    scored: Vec<Scored>,
    /// Per segment, the column of passage positions.
    ordinals: Vec<Column<u64>>,
}

impl Scores {
    /// The best `limit` passages, best first.
    pub(super) fn passages(self, limit: usize) -> Vec<Scored> {
        let Scores { mut scored, ordinals } = self;
        if scored.len() > limit && limit > 0 {
            // A first cut on tiers and score alone, selecting among plain integers: selecting
            // among the passages themselves, several times their size, measured slower.
            let mut ranks: Vec<u64> = scored.iter().map(Scored::rank).collect();
            let (_, &mut last_rank, _) = ranks.select_nth_unstable(limit - 1);
            scored.retain(|passage| passage.rank() <= last_rank);
        }
        // Only the passages up to the last place, or tied with it, need their positions read.
        keep_up_to(&mut scored, limit, Scored::order_by_document);
        for passage in &mut scored {
            let address = passage.address;
            passage.ordinal = ordinals[address.segment_ord as usize]
                .first(address.doc_id)
                .unwrap_or_default();
        }
        best(scored, limit)
    }

    /// The best `limit` documents by their best passage, with their paths.
    pub(super) fn documents(self, index: &Index, limit: usize) -> tantivy::Result<Vec<(String, f32)>> {
        let mut by_document: FxHashMap<u64, Scored> = FxHashMap::default();
        // Tied passages of one document give it the same score, so positions are not read.
        for passage in self.scored {
            let known = by_document.entry(passage.document).or_insert(passage);
            if Scored::order_by_document(&passage, known).is_lt() {
                *known = passage;
            }
        }
        let best = best(by_document.into_values().collect(), limit);
        let addresses: Vec<DocAddress> = best.iter().map(|passage| passage.address).collect();
        Ok(paths(index, &addresses)?
            .into_iter()
            .zip(best)
            .map(|(path, passage)| (path, passage.score))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rank_orders_as_tiers_then_descending_scores_do() {
        let scores = [
            f32::NEG_INFINITY,
            -3.5,
            -f32::MIN_POSITIVE,
            -0.0,
            0.0,
            f32::MIN_POSITIVE,
            1.0,
            1.0 + f32::EPSILON,
            7.25,
            f32::INFINITY,
            f32::NAN,
        ];
        let mut passages = Vec::new();
        for lacks_words in [false, true] {
            for aside in [false, true] {
                for score in scores {
                    passages.push(Scored {
                        address: DocAddress::new(0, 0),
                        document: 0,
                        ordinal: 0,
                        score,
                        parts: ScoreParts {
                            lacks_words,
                            aside,
                            ..ScoreParts::default()
                        },
                    });
                }
            }
        }
        for a in &passages {
            for b in &passages {
                let expected = a
                    .parts
                    .lacks_words
                    .cmp(&b.parts.lacks_words)
                    .then(a.parts.aside.cmp(&b.parts.aside))
                    .then(b.score.total_cmp(&a.score));
                assert_eq!(a.rank().cmp(&b.rank()), expected, "{a:?} against {b:?}");
            }
        }
    }
}
