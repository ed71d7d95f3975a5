//! The ranking metrics of BEIR's evaluator (pytrec_eval): nDCG@10 with graded gains,
//! Recall@100 and the reciprocal rank of the first relevant document within ten.

use std::collections::HashMap;

use super::QueryScores;

/// The three metrics for one ranking against one query's judgments.
pub(super) fn score(id: &str, ranking: Vec<String>, judgments: &HashMap<String, u32>) -> QueryScores {
    let grade = |document: &String| judgments.get(document).copied().unwrap_or(0);
    let dcg: f64 = ranking
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, d)| f64::from(grade(d)) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u32> = judgments.values().copied().filter(|&g| g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let ideal_dcg: f64 = ideal
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, &g)| f64::from(g) / (i as f64 + 2.0).log2())
        .sum();
    let relevant = judgments.values().filter(|&&g| g > 0).count();
    let found = ranking.iter().take(100).filter(|d| grade(d) > 0).count();
    let first = ranking.iter().take(10).position(|d| grade(d) > 0);
    QueryScores {
        id: id.to_string(),
        // `+ 0.0` turns the -0.0 an empty sum makes into 0.0.
        ndcg_at_10: if ideal_dcg > 0.0 {
            dcg / ideal_dcg + 0.0
        } else {
            0.0
        },
        recall_at_100: if relevant > 0 {
            found as f64 / relevant as f64
        } else {
            0.0
        },
        rr_at_10: first.map_or(0.0, |rank| 1.0 / (rank as f64 + 1.0)),
        ranking,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judgments(pairs: &[(&str, u32)]) -> HashMap<String, u32> {
        pairs.iter().map(|(d, g)| (d.to_string(), *g)).collect()
    }

    fn ranking(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() < 1e-9
    }

    #[test]
    fn perfect_and_graded_rankings() {
        let judged = judgments(&[("a", 2), ("b", 1), ("c", 0)]);
        let perfect = score("q", ranking(&["a", "b", "c"]), &judged);
        assert_eq!(
            (perfect.ndcg_at_10, perfect.recall_at_100, perfect.rr_at_10),
            (1.0, 1.0, 1.0)
        );
        // x, b, a: DCG = 1/log2(3) + 2/log2(4) = 1.6309297536; ideal = 2/log2(2) + 1/log2(3)
        // = 2.6309297536; nDCG = 0.6199062333.
        let swapped = score("q", ranking(&["x", "b", "a"]), &judged);
        assert!(close(swapped.ndcg_at_10, 0.6199062333), "{swapped:?}");
        assert_eq!(swapped.rr_at_10, 0.5);
        assert_eq!(swapped.recall_at_100, 1.0);
    }

    #[test]
    fn ideal_ranking_counts_judged_documents_that_were_not_retrieved() {
        let judged = judgments(&[("a", 3), ("b", 2), ("c", 1)]);
        // c, x, a: DCG = 1/1 + 3/log2(4) = 2.5; ideal = 3 + 2/log2(3) + 1/log2(4) = 4.7618595071.
        let partial = score("q", ranking(&["c", "x", "a"]), &judged);
        assert!(close(partial.ndcg_at_10, 0.5250049894), "{partial:?}");
        assert!(close(partial.recall_at_100, 2.0 / 3.0));
        assert_eq!(partial.rr_at_10, 1.0);
    }

    #[test]
    fn only_the_best_ten_judgments_make_the_ideal() {
        let ids: Vec<String> = (0..12).map(|i| format!("d{i}")).collect();
        let judged: HashMap<String, u32> = ids.iter().map(|id| (id.clone(), 1)).collect();
        let all = score("q", ids.clone(), &judged);
        assert_eq!((all.ndcg_at_10, all.recall_at_100), (1.0, 1.0));
        // Ten of twelve relevant documents in the first ten is still a perfect nDCG@10.
        let ten = score("q", ids[..10].to_vec(), &judged);
        assert_eq!(ten.ndcg_at_10, 1.0);
        assert!(close(ten.recall_at_100, 10.0 / 12.0));
    }

    #[test]
    fn nothing_relevant_found_scores_zero() {
        let judged = judgments(&[("a", 1), ("b", 1)]);
        let missed = score("q", ranking(&["x", "y"]), &judged);
        assert_eq!(
            (missed.ndcg_at_10, missed.recall_at_100, missed.rr_at_10),
            (0.0, 0.0, 0.0)
        );
        let nothing = score("q", Vec::new(), &judged);
        assert_eq!(
            (nothing.ndcg_at_10, nothing.recall_at_100, nothing.rr_at_10),
            (0.0, 0.0, 0.0)
        );
        // x, b: DCG = 1/log2(3) = 0.6309297536; ideal = 1 + 1/log2(3) = 1.6309297536.
        let half = score("q", ranking(&["x", "b"]), &judged);
        assert_eq!((half.recall_at_100, half.rr_at_10), (0.5, 0.5));
        assert!(close(half.ndcg_at_10, 0.3868528072), "{half:?}");
    }

    #[test]
    fn relevance_beyond_ten_counts_only_for_recall() {
        let judged = judgments(&[("z", 1)]);
        let mut late: Vec<String> = (0..50).map(|i| format!("n{i}")).collect();
        late.push("z".into());
        let scores = score("q", late, &judged);
        assert_eq!(
            (scores.ndcg_at_10, scores.recall_at_100, scores.rr_at_10),
            (0.0, 1.0, 0.0)
        );
    }
}
