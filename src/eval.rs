//! Ranking evaluation on a test collection in BEIR layout (`corpus.jsonl`, `queries.jsonl`, a
//! qrels TSV): the collection is written out as Markdown files and indexed by the ordinary
//! pipeline, every query with a relevant judgment is searched as plain words, documents are ranked
//! by their best passage, and nDCG@10, Recall@100 and MRR@10 are computed as BEIR (pytrec_eval)
//! does.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::index::{self, IndexError};
use crate::indexer::{self, BuildError, Progress};
use crate::search::{self, MAX_QUERY_CHARS, SearchError, SearchOptions};

/// Documents ranked per query, for Recall@100.
const RANKED_DOCUMENTS: usize = 100;
/// Passages first fetched per query to find the best 100 documents among them.
const PASSAGES_PER_QUERY: usize = 1_000;
/// Most passages fetched per query when documents have so many passages that the first fetch
/// holds fewer than 100 documents.
const MAX_PASSAGES_PER_QUERY: usize = 64_000;
/// Title given to a document without one: it indexes no word, where the reader's fallback (the
/// file name, a number) would be a word that queries could match.
const UNTITLED: &str = "-";

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
    /// A file could not be read or written.
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
    /// Indexing the collection failed.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// Opening the index failed.
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
    /// How the run went, for the summary on standard error; not part of the JSON figures.
    #[serde(skip)]
    pub run: RunInfo,
}

/// Counts and timing of an evaluation run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInfo {
    /// Documents in the corpus file.
    pub documents: usize,
    /// Passages indexed.
    pub passages: usize,
    /// Documents the indexer had to skip (each named on standard error as it happened).
    pub skipped_documents: usize,
    /// Queries left out because they have no relevant judgment.
    pub unjudged_queries: usize,
    /// Wall time of indexing.
    pub indexing: Duration,
    /// Wall time of the whole evaluation.
    pub elapsed: Duration,
}

/// One line of `corpus.jsonl`; other fields (`metadata`) are ignored.
#[derive(Debug, Deserialize)]
struct CorpusLine {
    #[serde(rename = "_id")]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    text: String,
}

/// One line of `queries.jsonl`.
#[derive(Debug, Deserialize)]
struct QueryLine {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

/// Indexes the collection in a temporary folder and scores every query with a relevant judgment.
pub fn evaluate(
    collection: &Collection,
    per_query: bool,
    progress: &dyn Progress,
) -> Result<EvalReport, EvalError> {
    let started = Instant::now();
    let qrels = read_qrels(&collection.qrels)?;
    let queries: Vec<QueryLine> = read_jsonl(&collection.queries)?;
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
    // A visible name: the corpus walk skips hidden folders, and tempfile's default is `.tmp…`.
    let work = tempfile::Builder::new()
        .prefix("citedex-eval-")
        .tempdir()
        .map_err(|source| EvalError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
    let documents = work.path().join("documents");
    let (by_path, document_count) = write_documents(&collection.corpus, &documents)?;
    let index_dir = work.path().join("index");
    let build = indexer::build(std::slice::from_ref(&documents), &index_dir, true, progress)?;
    let open = index::open(&index_dir)?;

    let mut scores = Vec::with_capacity(judged.len());
    let mut truncated_queries = 0;
    for &(query, judgments) in &judged {
        let (text, truncated) = searchable(&query.text);
        truncated_queries += usize::from(truncated);
        let ranking = if text.is_empty() {
            Vec::new()
        } else {
            rank_documents(&open, &text, &by_path)?
        };
        scores.push(score(&query.id, ranking, judgments));
    }
    let mean = |metric: fn(&QueryScores) -> f64| scores.iter().map(metric).sum::<f64>() / scores.len() as f64;
    Ok(EvalReport {
        queries: scores.len(),
        ndcg_at_10: mean(|s| s.ndcg_at_10),
        recall_at_100: mean(|s| s.recall_at_100),
        mrr_at_10: mean(|s| s.rr_at_10),
        truncated_queries,
        run: RunInfo {
            documents: document_count,
            passages: build.passages,
            skipped_documents: build.failed(),
            unjudged_queries: queries.len() - judged.len(),
            indexing: build.elapsed,
            elapsed: started.elapsed(),
        },
        per_query: if per_query { scores } else { Vec::new() },
    })
}

/// The first 100 documents for a query, each ranked by its best passage.
fn rank_documents(
    open: &index::OpenIndex,
    text: &str,
    by_path: &HashMap<String, String>,
) -> Result<Vec<String>, EvalError> {
    let mut limit = PASSAGES_PER_QUERY;
    loop {
        let options = SearchOptions {
            limit,
            explain: false,
        };
        let results = search::search(open, text, options)?;
        let mut seen = HashSet::new();
        let ranking: Vec<String> = results
            .results
            .iter()
            .filter_map(|hit| by_path.get(&hit.passage.source.path))
            .filter(|id| seen.insert(*id))
            .take(RANKED_DOCUMENTS)
            .cloned()
            .collect();
        // Documents with many passages can fill the first fetch with fewer than 100 documents.
        let exhausted = results.results.len() >= results.total_hits;
        if ranking.len() >= RANKED_DOCUMENTS || exhausted || limit >= MAX_PASSAGES_PER_QUERY {
            return Ok(ranking);
        }
        limit = (limit * 4).min(MAX_PASSAGES_PER_QUERY);
    }
}

/// A query as plain words (BEIR queries are text, not query syntax), cut at a word boundary to
/// the length limit; whether it was cut.
fn searchable(query: &str) -> (String, bool) {
    let words = search::plain_words(query);
    if words.chars().count() <= MAX_QUERY_CHARS {
        return (words, false);
    }
    let mut cut = String::new();
    for word in words.split(' ') {
        if cut.chars().count() + word.chars().count() + 1 > MAX_QUERY_CHARS {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    (cut, true)
}

/// Writes each corpus document as a Markdown file; returns the map from file path to BEIR id and
/// the number of documents. Files are numbered, not named after ids, which may be any text.
fn write_documents(corpus: &Path, folder: &Path) -> Result<(HashMap<String, String>, usize), EvalError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| EvalError::Io { path, source }
    };
    fs::create_dir_all(folder).map_err(io(folder))?;
    let corpus: Vec<CorpusLine> = read_jsonl(corpus)?;
    let mut by_path = HashMap::with_capacity(corpus.len());
    for (number, document) in corpus.iter().enumerate() {
        let path = folder.join(format!("{number}.md"));
        fs::write(&path, markdown(document)).map_err(io(&path))?;
        by_path.insert(path.to_string_lossy().into_owned(), document.id.clone());
    }
    Ok((by_path, corpus.len()))
}

/// A corpus document as Markdown with front matter.
fn markdown(document: &CorpusLine) -> String {
    let title = if document.title.trim().is_empty() {
        UNTITLED
    } else {
        &document.title
    };
    // A JSON string is a valid YAML double-quoted scalar, so any title survives the front matter.
    let title = serde_json::to_string(title).expect("strings serialize");
    format!(
        "---\ntitle: {title}\nkind: source\n---\n\n{}\n",
        escape_markdown(&document.text)
    )
}

/// Keeps Markdown from reading collection text as markup (a leading `#` or `-`, HTML tags).
fn escape_markdown(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '#' | '-' | '*' | '_' | '`' | '<' | '>' | '[' | ']' | '|' | '+' | '='
        ) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// The non-blank lines of a text file with their 1-based numbers.
fn read_lines(path: &Path) -> Result<Vec<(usize, String)>, EvalError> {
    let bytes = fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut lines = Vec::new();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        // Decoded line by line so that bad bytes are reported with their line number.
        let line = std::str::from_utf8(line).map_err(|error| EvalError::Malformed {
            path: path.to_path_buf(),
            line: index + 1,
            message: format!("not UTF-8 ({error})"),
        })?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = if index == 0 {
            line.trim_start_matches('\u{feff}')
        } else {
            line
        };
        if !line.trim().is_empty() {
            lines.push((index + 1, line.to_string()));
        }
    }
    Ok(lines)
}

/// Every non-blank line of a JSON Lines file, parsed.
fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, EvalError> {
    read_lines(path)?
        .into_iter()
        .map(|(line, text)| {
            serde_json::from_str(&text).map_err(|error| EvalError::Malformed {
                path: path.to_path_buf(),
                line,
                message: error.to_string(),
            })
        })
        .collect()
}

/// Judgments by query id: document id → graded relevance (0 = judged not relevant).
fn read_qrels(path: &Path) -> Result<HashMap<String, HashMap<String, u32>>, EvalError> {
    let mut qrels: HashMap<String, HashMap<String, u32>> = HashMap::new();
    for (line, text) in read_lines(path)? {
        let fields: Vec<&str> = text.split('\t').map(str::trim).collect();
        if line == 1
            && fields
                .first()
                .is_some_and(|first| first.eq_ignore_ascii_case("query-id"))
        {
            continue;
        }
        let malformed = |message: String| EvalError::Malformed {
            path: path.to_path_buf(),
            line,
            message,
        };
        let [query, document, grade] = fields.as_slice() else {
            return Err(malformed(format!(
                "expected 3 tab-separated fields, found {}",
                fields.len()
            )));
        };
        let grade = grade
            .parse::<i64>()
            .map_err(|_| malformed(format!("relevance {grade:?} is not a whole number")))?;
        qrels
            .entry(query.to_string())
            .or_default()
            .insert(document.to_string(), grade.max(0) as u32);
    }
    Ok(qrels)
}

/// The three metrics for one ranking against one query's judgments.
fn score(id: &str, ranking: Vec<String>, judgments: &HashMap<String, u32>) -> QueryScores {
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
        ndcg_at_10: if ideal_dcg > 0.0 { dcg / ideal_dcg } else { 0.0 },
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

    #[test]
    fn qrels_are_read_with_their_header_grades_and_line_endings() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.tsv");
        fs::write(
            &path,
            "query-id\tcorpus-id\tscore\r\nq1\td1\t2\r\nq1\td2\t0\n\nq2\td1\t1\n",
        )
        .unwrap();
        let qrels = read_qrels(&path).unwrap();
        assert_eq!(qrels["q1"], judgments(&[("d1", 2), ("d2", 0)]));
        assert_eq!(qrels["q2"], judgments(&[("d1", 1)]));

        fs::write(&path, "query-id\tcorpus-id\tscore\nq1\td1\thigh\n").unwrap();
        let error = read_qrels(&path).unwrap_err().to_string();
        assert!(
            error.ends_with("test.tsv:2: relevance \"high\" is not a whole number"),
            "{error}"
        );
    }

    #[test]
    fn a_line_that_is_not_utf8_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queries.jsonl");
        fs::write(
            &path,
            b"\xef\xbb\xbf{\"_id\": \"q1\", \"text\": \"a\"}\n{\"_id\": \"q\xff\"}\n",
        )
        .unwrap();
        let error = read_jsonl::<QueryLine>(&path).unwrap_err().to_string();
        assert!(error.contains("queries.jsonl:2: not UTF-8"), "{error}");
    }

    #[test]
    fn documents_survive_the_markdown_reader() {
        let document = CorpusLine {
            id: "x".into(),
            title: "Dose: \"high\" # 2\\3".into(),
            text: "# Not a heading\n---\n- not a list <b>bold</b> 5-HT".into(),
        };
        let read = crate::formats::markdown::read(&markdown(&document)).unwrap();
        assert_eq!(read.meta.title, document.title);
        let texts: Vec<&str> = read
            .sections
            .iter()
            .flat_map(|section| section.blocks.iter().flat_map(|block| block.texts()))
            .collect();
        assert_eq!(texts, ["# Not a heading --- - not a list <b>bold</b> 5-HT"]);
        let untitled = CorpusLine {
            title: " ".into(),
            ..document
        };
        let read = crate::formats::markdown::read(&markdown(&untitled)).unwrap();
        assert_eq!(read.meta.title, UNTITLED);
    }

    #[test]
    fn long_queries_are_cut_at_a_word() {
        let (text, cut) = searchable(&"word ".repeat(400));
        assert!(cut && text.chars().count() <= MAX_QUERY_CHARS && text.ends_with("word"));
        assert_eq!(
            searchable("What is \"DVT\"? (a clot)"),
            ("What is DVT a clot".to_string(), false)
        );
    }

    #[test]
    fn markdown_syntax_in_collection_text_is_escaped() {
        assert_eq!(escape_markdown("# 5-HT <b>"), "\\# 5\\-HT \\<b\\>");
    }
}
