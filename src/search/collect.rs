//! Collecting a query's matches: every one with tantivy's score, or, for a short list, the best
//! ones per segment with every match counted; and taking the best of them in rounds.

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// How many hits the first round of [`super::scoring::Scores::passages`] scores in full, at
/// least.
const FIRST_ROUND: usize = 64;
/// How many first rounds' worth of hits a short list keeps per segment; the rest are counted
/// and only looked at again if the kept ones cannot settle the list.
const KEPT_ROUNDS: usize = 8;

/// How many hits the first round of a short list of `limit` scores in full.
pub(super) fn first_round(limit: usize) -> usize {
    limit.saturating_mul(4).max(FIRST_ROUND)
}

/// A matched passage: its segment, its doc id and tantivy's score for the query itself.
pub(super) type Hit = (SegmentOrdinal, DocId, Score);

/// Collects the matching passages with their scores and counts them all: every one, or, for a
/// short list, those with the best scores for the query itself (at least `keep` per segment).
#[derive(Debug, Clone, Copy)]
pub(super) struct Matches {
    /// At least this many hits are kept per segment.
    pub(super) keep: usize,
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
    pub(super) dropped_best: Option<Score>,
}

/// [`Matches`] within one segment.
pub(super) struct SegmentMatchCollector {
    segment: SegmentOrdinal,
    keep: usize,
    /// Scores under this are not kept.
    floor: Score,
    /// The best score not kept (negative infinity for none); [`Collected::dropped_best`] once
    /// harvested.
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
        self.collected.dropped_best = (self.dropped_best > Score::NEG_INFINITY).then_some(self.dropped_best);
        self.collected
    }
}

/// A score as an integer that orders as [`f32::total_cmp`] orders scores.
pub(super) fn ascending_bits(score: f32) -> u32 {
    let bits = score.to_bits() as i32;
    // The transformation total_cmp makes: negative floats in reverse, as signed integers.
    ((bits ^ (((bits >> 31) as u32) >> 1) as i32) as u32) ^ 0x8000_0000
}

/// Moves out of `hits` at least `count` of those with the highest own scores (more where scores
/// fall close together), chosen by a histogram of the scores' leading bits: two passes, no
/// sorting or selecting. Returns them, and the highest own score of the hits left, if any.
pub(super) fn take_best(hits: &mut Vec<Hit>, count: usize) -> (Vec<Hit>, Option<Score>) {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
