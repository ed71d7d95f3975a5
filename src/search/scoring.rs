//! Final passage scores, from what tantivy matched: each passage's own BM25 (with the field
//! weights and the proximity bonus of its plan) plus BM25 of its whole document, computed here
//! from the passages' postings; passages holding every query word ahead of those that lack one;
//! reference lists and author notes ([`super::tiers`]) behind body text unless the query asks
//! for them. A short list scores in full only the passages that can still reach it: they are
//! taken in rounds, best first by tantivy's score, until the most any passage left could reach
//! (its own score, every bonus, and a document at the sum of its terms' weights) falls short of
//! the last place. Matches are collected by [`super::collect`]; documents are scored by
//! [`super::documents`].

use rustc_hash::FxHashMap;
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, DocSet, Score, Term};

use super::collect::{Collected, Hit, ascending_bits, first_round, take_best};
use super::documents::{DocumentColumns, DocumentTerms, paths};
use super::tiers::{holding, names_a_source};
use crate::document::Role;
use crate::index::Index;

/// Weight of the whole document's BM25 next to the passage's own score: a passage is read in
/// its document, and a document about the query says more than one passage can.
pub(super) const DOCUMENT_WEIGHT: f32 = 2.0;
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
    /// The passage's position in its document, which breaks ties.
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

/// The best `limit` of `scored`, best first.
fn best(mut scored: Vec<Scored>, limit: usize) -> Vec<Scored> {
    if scored.len() > limit && limit > 0 {
        scored.select_nth_unstable_by(limit - 1, Scored::order);
        scored.truncate(limit);
    }
    scored.sort_by(Scored::order);
    scored
}

/// Keeps the passages up to the `limit`-th by tiers and score, and those tied with it.
fn keep_up_to(scored: &mut Vec<Scored>, limit: usize) {
    if scored.len() > limit && limit > 0 {
        let (_, last, _) = scored.select_nth_unstable_by_key(limit - 1, Scored::rank);
        let last = last.rank();
        scored.retain(|passage| passage.rank() <= last);
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
    /// most its bonuses can add and the most its document can score all fall short of it.
    /// `None` when hits the collection left out might still reach it: then every hit is needed.
    pub(super) fn passages(mut self, limit: usize) -> tantivy::Result<Option<Vec<Scored>>> {
        let limit = limit.max(1);
        let mut pending = std::mem::take(&mut self.hits);
        let mut kept: Vec<Scored> = Vec::new();
        let mut round = first_round(limit);
        loop {
            let (mut chosen, highest_pending) = take_best(&mut pending, round);
            kept.extend(self.score_hits(&mut chosen)?);
            keep_up_to(&mut kept, limit);
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
        // Tied passages of one document give it the same score, so their positions do not matter.
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
    use crate::search::collect::Matches;
    use crate::search::plan::{self, Plan};
    use crate::search::query;

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
