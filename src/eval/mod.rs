//! Ranking evaluation on a test collection in BEIR layout (`corpus.jsonl`, `queries.jsonl`, a
//! qrels TSV), as one caller of the library: every document is added to a temporary index as a
//! value, every query with a relevant judgment is ranked as plain words, documents are ranked by
//! their passages, and nDCG@10, Recall@100 and MRR@10 are computed as BEIR (pytrec_eval) does.
//! On request the same index is also ranked with plain BM25, and the two are compared query by
//! query.

mod beir;
mod metrics;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::document::{Block, Document, Kind, Metadata, Section, collapse_whitespace};
use crate::index::{Index, IndexError, IndexWriter, PreparedDocument};
use crate::search::{Query, Ranker, SearchError};
use beir::{CorpusLine, QueryLine};

/// Documents ranked per query, for Recall@100.
const RANKED_DOCUMENTS: usize = 100;
/// How many of the largest gains and losses against the baseline a report names.
const LARGEST_CHANGES: usize = 5;

/// Where a collection's three files are.
#[derive(Debug, Clone)]
pub struct Collection {
    /// BEIR `corpus.jsonl`.
    pub corpus: PathBuf,
    /// BEIR `queries.jsonl`.
    pub queries: PathBuf,
    /// Relevance judgments: `query-id<TAB>corpus-id<TAB>score` after a header line.
    pub qrels: PathBuf,
}

impl Collection {
    /// The files of a BEIR folder: `corpus.jsonl`, `queries.jsonl` and `qrels/test.tsv`.
    pub fn in_folder(folder: &Path) -> Collection {
        Collection {
            corpus: folder.join("corpus.jsonl"),
            queries: folder.join("queries.jsonl"),
            qrels: folder.join("qrels").join("test.tsv"),
        }
    }
}

/// Why an evaluation could not run; file errors name the file and line.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read.
    #[error("{path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of a collection file is malformed.
    #[error("{path}:{line}: {message}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No query of the queries file has a relevant document in the qrels.
    #[error("no query in {0} has a relevant document in the qrels")]
    NothingJudged(PathBuf),
    /// The temporary index could not be written or read.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A search failed.
    #[error(transparent)]
    Search(#[from] SearchError),
}

/// The scores of one query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryScores {
    /// The query's id.
    pub id: String,
    /// nDCG at rank 10, graded gains.
    pub ndcg_at_10: f64,
    /// Share of the relevant documents among the first 100.
    pub recall_at_100: f64,
    /// Reciprocal rank of the first relevant document within the first 10, else 0.
    pub rr_at_10: f64,
    /// The ids of the first 100 documents retrieved, best first.
    pub ranking: Vec<String>,
}

/// Averages over the judged queries, with per-query scores when asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Judged queries evaluated.
    pub queries: usize,
    /// Mean nDCG@10.
    pub ndcg_at_10: f64,
    /// Mean Recall@100.
    pub recall_at_100: f64,
    /// Mean reciprocal rank at 10.
    pub mrr_at_10: f64,
    /// Queries that had to be shortened to the query length limit.
    pub truncated_queries: usize,
    /// One entry per query, in the queries file's order, when requested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_query: Vec<QueryScores>,
    /// The same collection ranked by plain BM25, when requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// How the run went, for the summary on standard error; not part of the JSON figures.
    #[serde(skip)]
    pub run: RunInfo,
}

/// The scores of the baseline ranking, plain BM25 on the same index, and how citedex compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// What the baseline ranks by: `bm25`.
    pub ranker: String,
    /// Mean nDCG@10.
    pub ndcg_at_10: f64,
    /// Mean Recall@100.
    pub recall_at_100: f64,
    /// Mean reciprocal rank at 10.
    pub mrr_at_10: f64,
    /// One entry per query, in the queries file's order, when requested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub per_query: Vec<QueryScores>,
    /// Query by query, citedex against the baseline.
    pub comparison: Comparison,
}

/// citedex against the baseline, query by query, on nDCG@10.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Queries citedex ranks better.
    pub better: usize,
    /// Queries citedex ranks worse.
    pub worse: usize,
    /// Queries with the same nDCG@10.
    pub same: usize,
    /// The largest gains, largest first.
    pub largest_gains: Vec<Change>,
    /// The largest losses, largest first.
    pub largest_losses: Vec<Change>,
}

/// One query's nDCG@10 by citedex and by the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The query's id.
    pub id: String,
    /// The query's text.
    pub query: String,
    /// citedex's nDCG@10.
    pub ndcg_at_10: f64,
    /// The baseline's nDCG@10.
    pub baseline_ndcg_at_10: f64,
}

impl Change {
    /// citedex's nDCG@10 minus the baseline's.
    pub fn difference(&self) -> f64 {
        self.ndcg_at_10 - self.baseline_ndcg_at_10
    }
}

/// What to compute beyond the averages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvalOptions {
    /// Keep each query's scores and ranking.
    pub per_query: bool,
    /// Also rank with plain BM25 on the same index and compare query by query.
    pub baseline: bool,
}

/// Counts and timing of an evaluation run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInfo {
    /// Documents in the corpus file.
    pub documents: usize,
    /// Passages indexed.
    pub passages: usize,
    /// Queries left out because they have no relevant judgment.
    pub unjudged_queries: usize,
    /// Wall time of indexing.
    pub indexing: Duration,
    /// Wall time of the whole evaluation.
    pub elapsed: Duration,
}

/// Indexes the collection in a temporary folder and scores every query with a relevant judgment.
pub fn evaluate(collection: &Collection, options: &EvalOptions) -> Result<EvalReport, EvalError> {
    let started = Instant::now();
    let qrels = beir::read_qrels(&collection.qrels)?;
    let queries: Vec<QueryLine> = beir::read_jsonl(&collection.queries)?;
    // BEIR averages over the queries with at least one relevant document: a query judged only
    // "not relevant" would score 0 whatever the ranking.
    let judged: Vec<(&QueryLine, &HashMap<String, u32>)> = queries
        .iter()
        .filter_map(|q| qrels.get(&q.id).map(|judgments| (q, judgments)))
        .filter(|(_, judgments)| judgments.values().any(|&grade| grade > 0))
        .collect();
    if judged.is_empty() {
        return Err(EvalError::NothingJudged(collection.queries.clone()));
    }
    let documents: Vec<CorpusLine> = beir::read_jsonl(&collection.corpus)?;
    let work = tempfile::Builder::new()
        .prefix("citedex-eval-")
        .tempdir()
        .map_err(|source| EvalError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let index_dir = work.path().join("index");
    let mut writer = IndexWriter::create(&index_dir)?;
    let prepared: Vec<PreparedDocument> = documents
        .par_iter()
        .map(|line| PreparedDocument::new(&line.id, &document(line), None))
        .collect();
    for document in prepared {
        writer.add_prepared(document)?;
    }
    let committed = writer.commit()?;
    let indexing = started.elapsed();
    let index = Index::open(&index_dir)?;

    let searched: Vec<Query> = judged.iter().map(|(line, _)| Query::words(&line.text)).collect();
    let scores = rank_all(&index, &judged, &searched, Ranker::Citedex)?;
    let truncated_queries = searched.iter().filter(|query| query.was_shortened()).count();
    let baseline = if options.baseline {
        let baseline = rank_all(&index, &judged, &searched, Ranker::Bm25)?;
        let comparison = compare(&judged, &scores, &baseline);
        let means = Means::of(&baseline);
        Some(Baseline {
            ranker: "bm25".to_string(),
            ndcg_at_10: means.ndcg_at_10,
            recall_at_100: means.recall_at_100,
            mrr_at_10: means.mrr_at_10,
            per_query: if options.per_query { baseline } else { Vec::new() },
            comparison,
        })
    } else {
        None
    };
    let means = Means::of(&scores);
    Ok(EvalReport {
        queries: scores.len(),
        ndcg_at_10: means.ndcg_at_10,
        recall_at_100: means.recall_at_100,
        mrr_at_10: means.mrr_at_10,
        truncated_queries,
        baseline,
        run: RunInfo {
            documents: documents.len(),
            passages: committed.info.passages,
            unjudged_queries: queries.len() - judged.len(),
            indexing,
            elapsed: started.elapsed(),
        },
        per_query: if options.per_query { scores } else { Vec::new() },
    })
}

/// The three averages over the judged queries.
struct Means {
    ndcg_at_10: f64,
    recall_at_100: f64,
    mrr_at_10: f64,
}

impl Means {
    fn of(scores: &[QueryScores]) -> Means {
        let mean =
            |metric: fn(&QueryScores) -> f64| scores.iter().map(metric).sum::<f64>() / scores.len() as f64;
        Means {
            ndcg_at_10: mean(|s| s.ndcg_at_10),
            recall_at_100: mean(|s| s.recall_at_100),
            mrr_at_10: mean(|s| s.rr_at_10),
        }
    }
}

/// Ranks every judged query, searched as the plain words in `searched` (in the same order), with
/// `ranker` and scores the rankings.
fn rank_all(
    index: &Index,
    judged: &[(&QueryLine, &HashMap<String, u32>)],
    searched: &[Query],
    ranker: Ranker,
) -> Result<Vec<QueryScores>, EvalError> {
    let mut scores = Vec::with_capacity(judged.len());
    for (&(line, judgments), query) in judged.iter().zip(searched) {
        let ranking = if query.text().is_empty() {
            Vec::new()
        } else {
            // BEIR's evaluator leaves out a document that is the query itself.
            index
                .rank_documents(query, RANKED_DOCUMENTS + 1, ranker)?
                .documents
                .into_iter()
                .map(|(id, _)| id)
                .filter(|id| *id != line.id)
                .take(RANKED_DOCUMENTS)
                .collect()
        };
        scores.push(metrics::score(&line.id, ranking, judgments));
    }
    Ok(scores)
}

/// citedex's scores against the baseline's, query by query (both in the judged queries' order).
fn compare(
    judged: &[(&QueryLine, &HashMap<String, u32>)],
    scores: &[QueryScores],
    baseline: &[QueryScores],
) -> Comparison {
    let mut changes: Vec<Change> = judged
        .iter()
        .zip(scores.iter().zip(baseline))
        .map(|((line, _), (ours, theirs))| Change {
            id: line.id.clone(),
            query: line.text.clone(),
            ndcg_at_10: ours.ndcg_at_10,
            baseline_ndcg_at_10: theirs.ndcg_at_10,
        })
        .collect();
    // Differences this small are rounding, not ranking.
    let same = |change: &Change| change.difference().abs() < 1e-9;
    changes.sort_by(|a, b| {
        b.difference()
            .total_cmp(&a.difference())
            .then_with(|| a.id.cmp(&b.id))
    });
    let better = changes
        .iter()
        .filter(|c| !same(c) && c.difference() > 0.0)
        .count();
    let worse = changes
        .iter()
        .filter(|c| !same(c) && c.difference() < 0.0)
        .count();
    let largest_gains = changes
        .iter()
        .take(better.min(LARGEST_CHANGES))
        .cloned()
        .collect();
    let largest_losses = changes
        .iter()
        .rev()
        .take(worse.min(LARGEST_CHANGES))
        .cloned()
        .collect();
    Comparison {
        better,
        worse,
        same: changes.len() - better - worse,
        largest_gains,
        largest_losses,
    }
}

/// A collection document as a citedex document: its title, and its text as one paragraph.
fn document(line: &CorpusLine) -> Document {
    Document {
        meta: Metadata {
            title: collapse_whitespace(&line.title),
            kind: Some(Kind::Source),
            ..Metadata::default()
        },
        sections: vec![Section {
            blocks: vec![Block::paragraph(collapse_whitespace(&line.text))],
            ..Section::default()
        }],
        warnings: Vec::new(),
    }
}
