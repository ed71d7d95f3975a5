//! Ranking evaluation through the library on BEIR-layout collections: the figures, per-query
//! scores recomputed from the rankings, long queries, and malformed files named by line.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use citedex::eval::{self, Collection, EvalError, EvalOptions, EvalReport};

use crate::util::{Sandbox, fixture_path};

fn beir_mini() -> PathBuf {
    fixture_path("beir-mini")
}

const PER_QUERY: EvalOptions = EvalOptions {
    per_query: true,
    baseline: false,
};

fn evaluate(folder: &Path, options: EvalOptions) -> Result<EvalReport, EvalError> {
    eval::evaluate(&Collection::in_folder(folder), &options)
}

#[test]
fn eval_scores_a_beir_collection() {
    let report = evaluate(&beir_mini(), PER_QUERY).unwrap();
    // q8 has no judgment and q9 only a "not relevant" one: both are left out, as BEIR does.
    assert_eq!(report.queries, 7);
    assert_eq!(
        (
            report.run.documents,
            report.run.passages,
            report.run.unjudged_queries
        ),
        (30, 30, 2)
    );
    let ids: Vec<&str> = report.per_query.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["q1", "q2", "q3", "q4", "q5", "q6", "q7"]);
    for query in &report.per_query {
        for value in [query.ndcg_at_10, query.recall_at_100, query.rr_at_10] {
            assert!((0.0..=1.0).contains(&value), "{query:?}");
        }
    }
    let mean = report.per_query.iter().map(|q| q.ndcg_at_10).sum::<f64>() / 7.0;
    assert!((mean - report.ndcg_at_10).abs() < 1e-9);
    // Every query finds its most relevant document first on this small, easy collection.
    assert_eq!(report.mrr_at_10, 1.0);
    assert!(report.ndcg_at_10 > 0.8, "{report:?}");
    // The three files named one by one are the same collection.
    let folder = beir_mini();
    let files = Collection {
        corpus: folder.join("corpus.jsonl"),
        queries: folder.join("queries.jsonl"),
        qrels: folder.join("qrels/test.tsv"),
    };
    let again = eval::evaluate(&files, &EvalOptions::default()).unwrap();
    assert_eq!(again.ndcg_at_10, report.ndcg_at_10);
    // Without --per-query, the JSON holds the averages only.
    let object = serde_json::to_value(&again).unwrap();
    let mut keys: Vec<&str> = object.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "mrr_at_10",
            "ndcg_at_10",
            "queries",
            "recall_at_100",
            "truncated_queries"
        ]
    );
}

/// nDCG@10, Recall@100 and RR@10 of one ranking, computed afresh from the qrels text.
fn recompute_query_scores(qrels: &str, query: &str, ranking: &[String]) -> (f64, f64, f64) {
    let judged: HashMap<&str, f64> = qrels
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .filter(|fields| fields[0] == query)
        .map(|fields| (fields[1], fields[2].trim().parse().unwrap()))
        .collect();
    let grade = |id: &String| judged.get(id.as_str()).copied().unwrap_or(0.0);
    let discount = |rank: usize| (rank as f64 + 2.0).log2();
    let dcg: f64 = ranking
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, d)| grade(d) / discount(i))
        .sum();
    let mut ideal: Vec<f64> = judged.values().copied().filter(|&g| g > 0.0).collect();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let ideal: f64 = ideal
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, g)| g / discount(i))
        .sum();
    let relevant = judged.values().filter(|&&g| g > 0.0).count() as f64;
    let found = ranking.iter().take(100).filter(|d| grade(d) > 0.0).count() as f64;
    let rr = ranking
        .iter()
        .take(10)
        .position(|d| grade(d) > 0.0)
        .map_or(0.0, |rank| 1.0 / (rank as f64 + 1.0));
    (dcg / ideal, found / relevant, rr)
}

#[test]
fn eval_per_query_figures_follow_from_the_rankings() {
    let dataset = beir_mini();
    let report = evaluate(&dataset, PER_QUERY).unwrap();
    let qrels = fs::read_to_string(dataset.join("qrels/test.tsv")).unwrap();
    for query in &report.per_query {
        let (ndcg, recall, rr) = recompute_query_scores(&qrels, &query.id, &query.ranking);
        assert!((query.ndcg_at_10 - ndcg).abs() < 1e-9, "{query:?}");
        assert!((query.recall_at_100 - recall).abs() < 1e-9, "{query:?}");
        assert!((query.rr_at_10 - rr).abs() < 1e-9, "{query:?}");
        assert!(!query.ranking.is_empty() && query.ranking.len() <= 100);
    }
    // q4 is written in query syntax ("numb fingers" at night -wrist); read as syntax, the phrase
    // and the exclusion would rule out its relevant documents, so it must be searched as words.
    let q4 = report.per_query.iter().find(|q| q.id == "q4").unwrap();
    assert_eq!(q4.ranking[0], "d10");
    // q1's "Glucose control" shares no word with the query: the collection's hard case.
    let q1 = report.per_query.iter().find(|q| q.id == "q1").unwrap();
    assert!(!q1.ranking.contains(&"d3".to_string()), "{q1:?}");
}

/// A one-query BEIR folder `beir/` in the sandbox.
fn write_beir(kb: &Sandbox, query: &str) {
    kb.write(
        "beir/corpus.jsonl",
        "{\"_id\": \"a\", \"title\": \"\", \"text\": \"Numb feet are common with diabetes.\"}\n\
         {\"_id\": \"b\", \"title\": \"Gout\", \"text\": \"Gout pain strikes the big toe.\"}\n",
    );
    kb.write(
        "beir/queries.jsonl",
        &format!("{}\n", serde_json::json!({"_id": "q1", "text": query})),
    );
    kb.write("beir/qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\ta\t1\n");
}

#[test]
fn eval_cuts_a_long_query_at_a_word() {
    let kb = Sandbox::new();
    write_beir(&kb, &format!("numb feet {}", "lengthy ".repeat(200)));
    let report = evaluate(&kb.path("beir"), PER_QUERY).unwrap();
    assert_eq!(report.truncated_queries, 1);
    assert_eq!(report.per_query[0].ranking[0], "a");
    assert_eq!(report.mrr_at_10, 1.0);
}

#[test]
fn eval_errors_name_the_file_and_line() {
    let kb = Sandbox::new();
    let beir = kb.path("beir");
    let error = |kb: &Sandbox| {
        evaluate(&kb.path("beir"), EvalOptions::default())
            .unwrap_err()
            .to_string()
    };
    write_beir(&kb, "numb feet");
    kb.write(
        "beir/qrels/test.tsv",
        "query-id\tcorpus-id\tscore\nq1\ta\t1\nq2 d4 1\n",
    );
    assert_eq!(
        error(&kb),
        format!(
            "{}:3: expected 3 tab-separated fields, found 1",
            beir.join("qrels/test.tsv").display()
        )
    );

    write_beir(&kb, "numb feet");
    kb.write(
        "beir/queries.jsonl",
        "{\"_id\": \"q1\", \"text\": \"numb feet\"}\n{not json}\n",
    );
    assert!(
        error(&kb).starts_with(&format!("{}:2: ", beir.join("queries.jsonl").display())),
        "{}",
        error(&kb)
    );

    write_beir(&kb, "numb feet");
    kb.write(
        "beir/corpus.jsonl",
        "{\"_id\": \"a\", \"text\": \"Numb feet.\"}\n{\"_id\": \"b\", \"text\": 3}\n",
    );
    assert!(
        error(&kb).starts_with(&format!(
            "{}:2: invalid type",
            beir.join("corpus.jsonl").display()
        )),
        "{}",
        error(&kb)
    );

    write_beir(&kb, "numb feet");
    kb.write("beir/qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\ta\t0\n");
    assert_eq!(
        error(&kb),
        format!(
            "no query in {} has a relevant document in the qrels",
            beir.join("queries.jsonl").display()
        )
    );

    write_beir(&kb, "numb feet");
    fs::remove_file(kb.path("beir/corpus.jsonl")).unwrap();
    assert!(error(&kb).contains("corpus.jsonl"), "{}", error(&kb));
}
