//! The tiers a passage is ranked in besides its score: whether it holds every word of the query,
//! whether it is a reference list or author notes, and whether the query names a source (and so
//! asks for those), read from the postings of the content, role, title and publisher fields.

use rustc_hash::FxHashMap;
use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, SegmentReader, TERMINATED, Term};

use super::scoring::Terms;
use crate::index::Index;

/// Calls `mark` with the position in `docs` (doc ids of one segment, ascending) of each that
/// holds `term`, skipping through its postings.
pub(super) fn holding(
    segment: &SegmentReader,
    term: &Term,
    docs: &[DocId],
    mut mark: impl FnMut(usize),
) -> tantivy::Result<()> {
    let inverted = segment.inverted_index(term.field())?;
    let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? else {
        return Ok(());
    };
    for (at, &doc) in docs.iter().enumerate() {
        if postings.doc() < doc {
            postings.seek(doc);
        }
        if postings.doc() == doc {
            mark(at);
        }
    }
    Ok(())
}

/// Whether the query names a source and says nothing else: every word it ranks by stands in one
/// passage's document title or publisher, and the query holds all of that title or publisher
/// ("mayo clinic", "neuropathy secondary to drugs", but not "numbness in the legs").
pub(super) fn names_a_source(index: &Index, terms: &Terms) -> tantivy::Result<bool> {
    let required: Vec<String> = terms
        .required
        .iter()
        .filter_map(|&i| terms.ranked[i].value().as_str().map(str::to_string))
        .collect();
    if required.is_empty() || required.len() > 64 {
        return Ok(false);
    }
    let every_word = (1u64 << required.len()) - 1;
    for segment in index.searcher.segment_readers() {
        // Per passage: which required words its title or publisher holds, and how many of the
        // query's words stand in each of the two.
        let mut found: FxHashMap<DocId, (u64, [u32; 2])> = FxHashMap::default();
        for (side, field) in [index.fields.title, index.fields.publisher]
            .into_iter()
            .enumerate()
            .take(if index.has_publishers() { 2 } else { 1 })
        {
            let inverted = segment.inverted_index(field)?;
            for word in &terms.typed {
                let term = Term::from_field_text(field, word);
                let bit = required
                    .iter()
                    .position(|required| required == word)
                    .map_or(0, |at| 1u64 << at);
                if let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::WithFreqs)? {
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        let (mask, counts) = found.entry(doc).or_default();
                        *mask |= bit;
                        counts[side] += postings.term_freq();
                        doc = postings.advance();
                    }
                }
            }
        }
        let norms = [
            segment.get_fieldnorms_reader(index.fields.title)?,
            segment.get_fieldnorms_reader(index.fields.publisher)?,
        ];
        let names = |doc: DocId, counts: [u32; 2]| {
            (0..2).any(|side| {
                let length = norms[side].fieldnorm(doc);
                length > 0 && counts[side] >= length
            })
        };
        if found
            .iter()
            .any(|(&doc, &(mask, counts))| mask == every_word && names(doc, counts))
        {
            return Ok(true);
        }
    }
    Ok(false)
}
