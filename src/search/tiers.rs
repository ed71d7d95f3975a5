//! The tiers a passage is ranked in besides its score: whether it is a reference list or author
//! notes, and whether the query names a source (and so asks for those), read from the postings of
//! the role, title and publisher fields.

use rustc_hash::FxHashMap;
use tantivy::postings::Postings;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocId, DocSet, SegmentReader, TERMINATED, Term};

use super::scoring::Terms;
use crate::index::Index;

/// Calls `visit` with each live doc id holding `term` in one segment.
pub(super) fn for_each_posting(
    segment: &SegmentReader,
    term: &Term,
    mut visit: impl FnMut(DocId),
) -> tantivy::Result<()> {
    let inverted = segment.inverted_index(term.field())?;
    if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? {
        let alive = segment.alive_bitset();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|alive| alive.is_alive(doc)) {
                visit(doc);
            }
            doc = postings.advance();
        }
    }
    Ok(())
}

/// The sorted doc ids of one segment's passages that are reference lists or author notes.
pub(super) fn non_body(segment: &SegmentReader, index: &Index) -> tantivy::Result<Vec<DocId>> {
    let mut docs = Vec::new();
    for role in [crate::document::Role::References, crate::document::Role::Authors] {
        let term = Term::from_field_text(index.fields.role, role.as_str());
        for_each_posting(segment, &term, |doc| docs.push(doc))?;
    }
    docs.sort_unstable();
    Ok(docs)
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
