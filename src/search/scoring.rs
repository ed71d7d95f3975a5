//! Final passage scores, from what tantivy matched: each passage's own BM25 (with the field
//! weights and the proximity bonus of its plan) plus BM25 of its whole document, computed here
//! from the passages' postings; passages holding every query word ahead of those that lack one;
//! reference lists and author notes ([`super::tiers`]) behind body text unless the query asks
//! for them. A short list scores in full only the passages that can still reach it: they are
//! taken in rounds, best first by tantivy's score, until the most any passage left could reach
//! (its own score, every bonus, the best document) falls short of the last place.

use rustc_hash::FxHashMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::postings::Postings;
use tantivy::query::{Bm25StatisticsProvider, Weight};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, Term};

use super::tiers::{holding, names_a_source};
use crate::document::Role;
use crate::index::Index;
use crate::index::schema::EntryKind;

/// Weight of the whole document's BM25 next to the passage's own score: a passage is read in
/// its document, and a document about the query says more than one passage can.
pub(super) const DOCUMENT_WEIGHT: f32 = 2.0;
/// BM25's term-frequency saturation for whole documents (tantivy's value for passages).
pub(super) const K1: f32 = 1.2;
/// BM25's length normalisation for whole documents (tantivy's value for passages).
pub(super) const B: f32 = 0.75;

/// A matched passage: its segment, its doc id and tantivy's score for the query itself.
pub(super) type Hit = (SegmentOrdinal, DocId, Score);

/// Collects the matching passages with their scores and counts them all: every one, or, for a
/// short list, those with the best scores for the query itself (at least `keep` per segment).
#[derive(Debug, Clone, Copy)]
pub(super) struct Matches {
    keep: usize,
}

impl Matches {
    /// Keeps every match.
    pub(super) fn all() -> Matches {
        Matches { keep: usize::MAX }
    }

    /// Keeps the matches a short list of `limit` is likely to need (see [`Scores::passages`]).
    pub(super) fn for_limit(limit: usize) -> Matches {
        Matches {
            keep: first_round(limit).saturating_mul(KEPT_ROUNDS),
        }
    }
}

/// What a collection found: the matches kept, how many matched in all, and the best score for
/// the query itself among those not kept.
#[derive(Debug, Default)]
pub(super) struct Collected {
    pub(super) hits: Vec<Hit>,
    pub(super) total: usize,
    dropped_best: Option<Score>,
}

/// [`Matches`] within one segment.
pub(super) struct SegmentMatchCollector {
    segment: SegmentOrdinal,
    keep: usize,
    /// Scores under this are not kept.
    floor: Score,
    /// The best score not kept since the last cut (negative infinity for none).
    dropped_best: Score,
    collected: Collected,
}

impl SegmentMatchCollector {
    /// Keeps the best `keep` hits and raises the floor to the last of them.
    #[inline(never)]
    fn cut(&mut self) {
        let keep = self.keep;
        let hits = &mut self.collected.hits;
        hits.select_nth_unstable_by(keep - 1, |a, b| b.2.total_cmp(&a.2));
        for &(_, _, score) in &hits[keep..] {
            self.dropped_best = self.dropped_best.max(score);
        }
        hits.truncate(keep);
        self.floor = hits[keep - 1].2;
    }
}

/// The higher of a score and maybe another.
fn best_of(best: Option<Score>, score: Score) -> Option<Score> {
    Some(best.map_or(score, |best| best.max(score)))
}

impl Collector for Matches {
    type Fruit = Collected;
    type Child = SegmentMatchCollector;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _: &SegmentReader,
    ) -> tantivy::Result<SegmentMatchCollector> {
        Ok(SegmentMatchCollector {
            segment,
            keep: self.keep,
            floor: Score::NEG_INFINITY,
            dropped_best: Score::NEG_INFINITY,
            collected: Collected::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, segments: Vec<Collected>) -> tantivy::Result<Collected> {
        let mut segments = segments.into_iter();
        // Growing the first segment's hits avoids copying them once more.
        let mut all = segments.next().unwrap_or_default();
        for collected in segments {
            all.hits.extend(collected.hits);
            all.total += collected.total;
            if let Some(dropped) = collected.dropped_best {
                all.dropped_best = best_of(all.dropped_best, dropped);
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentMatchCollector {
    type Fruit = Collected;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.collected.total += 1;
        if score < self.floor {
            self.dropped_best = self.dropped_best.max(score);
            return;
        }
        self.collected.hits.push((self.segment, doc, score));
        if self.collected.hits.len() >= self.keep.saturating_mul(2) {
            self.cut();
        }
    }

    fn harvest(mut self) -> Collected {
        if self.dropped_best > Score::NEG_INFINITY {
            self.collected.dropped_best = best_of(self.collected.dropped_best, self.dropped_best);
        }
        self.collected
    }
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
        (u64::from(self.parts.lacks_words) << 33)
            | (u64::from(self.parts.aside) << 32)
            | u64::from(!ascending_bits(self.score))
    }
}

/// A score as an integer that orders as [`f32::total_cmp`] orders scores.
fn ascending_bits(score: f32) -> u32 {
    let bits = score.to_bits() as i32;
    // The transformation total_cmp makes: negative floats in reverse, as signed integers.
    ((bits ^ (((bits >> 31) as u32) >> 1) as i32) as u32) ^ 0x8000_0000
}

/// Moves out of `hits` at least `count` of those with the highest own scores (more where scores
/// fall close together), chosen by a histogram of the scores' leading bits: two passes, no
/// sorting or selecting. Returns them, and the highest own score of the hits left, if any.
fn take_best(hits: &mut Vec<Hit>, count: usize) -> (Vec<Hit>, Option<Score>) {
    if hits.len() <= count {
        return (std::mem::take(hits), None);
    }
    let bucket = |hit: &Hit| (ascending_bits(hit.2) >> 21) as usize;
    let mut counts = vec![0u32; 1 << 11];
    for hit in hits.iter() {
        counts[bucket(hit)] += 1;
    }
    let mut taken = 0;
    let mut lowest = counts.len();
    while (taken as usize) < count {
        lowest -= 1;
        taken += counts[lowest];
    }
    // The chosen hits go to the end, to be split off without moving the rest.
    let mut end = hits.len();
    let mut at = 0;
    let mut highest_left = None;
    while at < end {
        if bucket(&hits[at]) >= lowest {
            end -= 1;
            hits.swap(at, end);
        } else {
            highest_left = best_of(highest_left, hits[at].2);
            at += 1;
        }
    }
    (hits.split_off(end), highest_left)
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
struct DocumentColumns {
    key: Column<u64>,
    ordinal: Column<u64>,
    passages_after: Column<u64>,
    words: Column<u64>,
}

impl DocumentColumns {
    /// The columns of every segment, in segment order.
    fn of_segments(index: &Index) -> tantivy::Result<Vec<DocumentColumns>> {
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
    fn last_passage(&self, segment: SegmentOrdinal, doc: DocId) -> Option<DocAddress> {
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
struct DocumentTerms {
    /// The field the terms are in.
    content: Field,
    /// Per term: the term and its weight (its idf, times its weight in the query, times K1 + 1).
    terms: Vec<(Term, f32)>,
    /// The average document length, in words.
    average_words: f32,
    /// No document scores more than this.
    most: f32,
}

impl DocumentTerms {
    /// Counts the documents holding each term (its weight), reading its postings once.
    fn of(index: &Index, columns: &[DocumentColumns], terms: &Terms) -> tantivy::Result<DocumentTerms> {
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
            content: index.fields.content,
            terms: weighted,
            average_words,
            most,
        })
    }

    /// The score of the document of each of `docs` (doc ids of one segment, ascending): each
    /// term's frequency is summed over the document's passages, sought in its postings.
    fn scores(
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
        let inverted = segment.inverted_index(self.content)?;
        for (term, weight) in &self.terms {
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

/// How many hits the first round of [`Scores::passages`] scores in full, at least.
const FIRST_ROUND: usize = 64;
/// How many first rounds' worth of hits a short list keeps per segment; the rest are counted
/// and only looked at again if the kept ones cannot settle the list.
const KEPT_ROUNDS: usize = 8;

/// How many hits the first round of a short list of `limit` scores in full.
fn first_round(limit: usize) -> usize {
    limit.saturating_mul(4).max(FIRST_ROUND)
}

/// Scores the passages tantivy matched, whole or only those that can reach the top.
pub(super) fn score<'a>(
    index: &'a Index,
    terms: &Terms,
    collected: Collected,
    bonuses: Vec<Box<dyn Weight>>,
    bonus_bound: f32,
) -> tantivy::Result<Scores<'a>> {
    let columns = DocumentColumns::of_segments(index)?;
    let documents = DocumentTerms::of(index, &columns, terms)?;
    let mut required: Vec<Vec<Term>> = Vec::new();
    for &position in &terms.required {
        let term = &terms.ranked[position];
        let mut holders = vec![term.clone()];
        // A word may stand in the publisher's name rather than in the passage ("mayo clinic").
        if index.has_publishers() {
            holders.push(Term::from_field_text(
                index.fields.publisher,
                term.value().as_str().unwrap_or_default(),
            ));
        }
        required.push(holders);
    }
    required.truncate(64);
    let demote_parts = !terms.targets_parts && !names_a_source(index, terms)?;
    Ok(Scores {
        index,
        hits: collected.hits,
        dropped_best: collected.dropped_best,
        documents,
        columns,
        bonuses,
        bonus_bound,
        required,
        demote_parts,
    })
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

/// The passages a query matched and what scores them beyond tantivy's score for the query.
pub(super) struct Scores<'a> {
    index: &'a Index,
    /// The matched passages collected.
    hits: Vec<Hit>,
    /// The best own score of the matches not collected, if any were left out.
    dropped_best: Option<Score>,
    /// BM25 of whole documents for the query's terms.
    documents: DocumentTerms,
    /// Per segment, the document columns.
    columns: Vec<DocumentColumns>,
    /// The weights of the bonus clauses, added to the query's own score.
    bonuses: Vec<Box<dyn Weight>>,
    /// What the bonuses of one passage can add up to, at most.
    bonus_bound: f32,
    /// Per word a passage should hold, the terms that hold it: in `content`, or in `publisher`.
    required: Vec<Vec<Term>>,
    /// Whether reference lists and author notes rank after body text.
    demote_parts: bool,
}

impl Scores<'_> {
    /// The best `limit` passages, best first. Hits are scored in full in rounds, best first by
    /// the query's own score, until no hit left can reach the last place: its own score, the
    /// most its bonuses can add and the best document score all fall short of that place.
    /// `None` when hits the collection left out might still reach it: then every hit is needed.
    pub(super) fn passages(mut self, limit: usize) -> tantivy::Result<Option<Vec<Scored>>> {
        let limit = limit.max(1);
        let mut pending = std::mem::take(&mut self.hits);
        let mut kept: Vec<Scored> = Vec::new();
        let mut round = first_round(limit);
        loop {
            let (mut chosen, highest_pending) = take_best(&mut pending, round);
            kept.extend(self.score_hits(&mut chosen)?);
            keep_up_to(&mut kept, limit, |a, b| a.rank().cmp(&b.rank()));
            let left = [highest_pending, self.dropped_best];
            let Some(highest_left) = left.into_iter().flatten().reduce(f32::max) else {
                break;
            };
            if kept.len() >= limit {
                let last = kept
                    .iter()
                    .max_by_key(|passage| passage.rank())
                    .expect("kept is not empty");
                let top_tier = !last.parts.lacks_words && !last.parts.aside;
                if top_tier && self.most_with(highest_left) < last.score {
                    break;
                }
            }
            if pending.is_empty() {
                return Ok(None);
            }
            round = round.saturating_mul(4);
        }
        Ok(Some(best(kept, limit)))
    }

    /// The best `limit` documents by their best passage, with their paths.
    pub(super) fn documents(mut self, limit: usize) -> tantivy::Result<Vec<(String, f32)>> {
        let mut hits = std::mem::take(&mut self.hits);
        let mut by_document: FxHashMap<u64, Scored> = FxHashMap::default();
        // Tied passages of one document give it the same score, so positions are not read.
        for passage in self.score_hits(&mut hits)? {
            let known = by_document.entry(passage.document).or_insert(passage);
            if Scored::order_by_document(&passage, known).is_lt() {
                *known = passage;
            }
        }
        let best = best(by_document.into_values().collect(), limit);
        let addresses: Vec<DocAddress> = best.iter().map(|passage| passage.address).collect();
        Ok(paths(self.index, &addresses)?
            .into_iter()
            .zip(best)
            .map(|(path, passage)| (path, passage.score))
            .collect())
    }

    /// The highest final score a passage whose own score is `own` could reach, with a margin
    /// for rounding.
    fn most_with(&self, own: f32) -> f32 {
        let most = own + self.bonus_bound + DOCUMENT_WEIGHT * self.documents.most;
        most * (1.0 + 1e-4) + 1e-4
    }

    /// Final scores of `hits`, which are sorted here by segment and doc id.
    fn score_hits(&self, hits: &mut [Hit]) -> tantivy::Result<Vec<Scored>> {
        hits.sort_unstable_by_key(|&(segment, doc, _)| (segment, doc));
        let mut scored = Vec::with_capacity(hits.len());
        for segment_hits in hits.chunk_by(|a, b| a.0 == b.0) {
            self.score_segment(segment_hits, &mut scored)?;
        }
        Ok(scored)
    }

    /// Final scores of hits of one segment, in doc id order.
    fn score_segment(&self, hits: &[Hit], scored: &mut Vec<Scored>) -> tantivy::Result<()> {
        let segment_ord = hits[0].0;
        let segment = self.index.searcher.segment_reader(segment_ord);
        let docs: Vec<DocId> = hits.iter().map(|&(_, doc, _)| doc).collect();
        let mut passage: Vec<f32> = hits.iter().map(|&(_, _, score)| score).collect();
        for weight in &self.bonuses {
            let mut scorer = weight.scorer(segment, 1.0)?;
            for (at, &doc) in docs.iter().enumerate() {
                if scorer.doc() < doc {
                    scorer.seek(doc);
                }
                if scorer.doc() == doc {
                    passage[at] += scorer.score();
                }
            }
        }
        let mut held = vec![0u64; docs.len()];
        for (bit, holders) in self.required.iter().enumerate() {
            for term in holders {
                holding(segment, term, &docs, |at| held[at] |= 1 << bit)?;
            }
        }
        let every_word = if self.required.len() == 64 {
            u64::MAX
        } else {
            (1u64 << self.required.len()) - 1
        };
        let mut aside = vec![false; docs.len()];
        if self.demote_parts {
            for role in [Role::References, Role::Authors] {
                let term = Term::from_field_text(self.index.fields.role, role.as_str());
                holding(segment, &term, &docs, |at| aside[at] = true)?;
            }
        }
        let columns = &self.columns[segment_ord as usize];
        let document_scores = self.documents.scores(segment, segment_ord, columns, &docs)?;
        for (at, &doc) in docs.iter().enumerate() {
            let document = columns.key.first(doc).unwrap_or_default();
            let ordinal = columns.ordinal.first(doc).unwrap_or_default();
            let parts = ScoreParts {
                passage: passage[at],
                document: DOCUMENT_WEIGHT * document_scores[at],
                lacks_words: held[at] != every_word,
                aside: aside[at],
            };
            scored.push(Scored {
                address: DocAddress::new(segment_ord, doc),
                document,
                ordinal,
                score: parts.passage + parts.document,
                parts,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Format};
    use crate::index::IndexWriter;
    use crate::search::plan::{self, Plan};
    use crate::search::query;

    #[test]
    fn a_collection_keeps_the_best_hits_and_counts_and_bounds_the_rest() {
        let mut collector = SegmentMatchCollector {
            segment: 0,
            keep: 3,
            floor: Score::NEG_INFINITY,
            dropped_best: Score::NEG_INFINITY,
            collected: Collected::default(),
        };
        let scores = [4.0, 9.0, 1.0, 7.0, 7.5, 2.0, 8.0, 3.0, 6.0, 5.0];
        for (doc, score) in scores.into_iter().enumerate() {
            collector.collect(doc as DocId, score);
        }
        let collected = collector.harvest();
        assert_eq!(collected.total, scores.len());
        let lowest_kept = collected
            .hits
            .iter()
            .map(|hit| hit.2)
            .fold(f32::INFINITY, f32::min);
        let dropped = collected.dropped_best.unwrap();
        assert!(
            collected.hits.len() >= 3 && dropped <= lowest_kept,
            "{collected:?}"
        );
        let kept: Vec<Score> = collected.hits.iter().map(|hit| hit.2).collect();
        let best_dropped = scores
            .iter()
            .copied()
            .filter(|score| !kept.contains(score))
            .fold(f32::MIN, f32::max);
        assert_eq!(dropped, best_dropped);
    }

    #[test]
    fn a_short_list_from_the_best_hits_alone_is_the_one_from_every_hit() {
        // Notes whose passages score well for the query itself, and guides whose passages score
        // less but gain more from their bonus and their document: when a collection keeps only
        // a few hits per segment, the guides left out can still reach the list, and must.
        let mut texts: Vec<(String, String)> = Vec::new();
        for number in 0..300 {
            texts.push((
                format!("kb/memo-{number}.md"),
                format!("# Memo {number}\n\nthe splint keeps the joint still.\n"),
            ));
        }
        for number in 0..120 {
            let rest = "rest ".repeat(number % 5);
            texts.push((
                format!("kb/note-{number}.md"),
                format!("# Note {number}\n\nnerve pain at night then wrist {rest}.\n"),
            ));
        }
        for number in 0..20 {
            let mut text = format!("# Guide {number}\n\n");
            for section in 0..6 {
                let padding = "while the swelling settles ".repeat((number + section) % 3);
                text.push_str(&format!(
                    "## Step {section}\n\nthe nerve wrist splint keeps the joint {padding}.\n\n"
                ));
            }
            texts.push((format!("kb/guide-{number}.md"), text));
        }
        let dir = tempfile::tempdir().unwrap();
        let mut writer = IndexWriter::create(dir.path()).unwrap();
        for (path, text) in &texts {
            writer
                .add(
                    path,
                    &formats::read(Format::Markdown, text.as_bytes(), path).unwrap(),
                )
                .unwrap();
        }
        writer.commit().unwrap();
        let index = Index::open(dir.path()).unwrap();
        let best = |plan: &Plan, matches: Matches, limit: usize| {
            let collected = plan.search(&index, &matches).unwrap();
            let total = collected.total;
            let best = plan.score(&index, collected).unwrap().passages(limit).unwrap();
            (
                total,
                best.map(|best| {
                    best.iter()
                        .map(|passage| (passage.address, passage.score))
                        .collect::<Vec<_>>()
                }),
            )
        };
        let mut settled_early = 0;
        let mut needed_every_hit = 0;
        for text in [
            "nerve wrist",
            "wrist nerve",
            "nerve",
            "splint",
            "swelling settles",
        ] {
            let shape = query::shape(&plan::expand_prefixes(&index, &query::rewrite(text)).unwrap());
            let plan = Plan::new(&index, &shape, &mut Vec::new());
            for limit in [1, 3, 10] {
                let (total, every) = best(&plan, Matches::all(), limit);
                let every = every.expect("with every hit, the list is settled");
                // Keeping 2 a segment seldom settles a list of 10; keeping them all settles every list.
                for keep in [2, 8, 40, 100_000] {
                    let (kept_total, kept) = best(&plan, Matches { keep }, limit);
                    assert_eq!(kept_total, total, "{text}");
                    match kept {
                        Some(kept) => {
                            assert_eq!(kept, every, "{text}, limit {limit}, keeping {keep}");
                            settled_early += 1;
                        }
                        None => needed_every_hit += 1,
                    }
                }
            }
        }
        assert!(
            settled_early > 0 && needed_every_hit > 0,
            "{settled_early} / {needed_every_hit}"
        );
    }

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
