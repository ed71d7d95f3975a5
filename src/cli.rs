//! Command-line arguments as clap parses them, and their validation into a [`Config`].

use std::path::PathBuf;

use clap::{ColorChoice, Parser, Subcommand};

/// Default index directory, relative to the current directory.
pub const DEFAULT_INDEX_DIR: &str = ".citedex";
/// Default knowledge base folder, relative to the current directory.
pub const DEFAULT_CORPUS_DIR: &str = "corpus";
/// Most results one search may ask for.
pub const MAX_LIMIT: usize = 10_000;

/// A searchable local index of articles and the sources they cite.
#[derive(Debug, Parser)]
#[command(name = "citedex", version, about, max_term_width = 100)]
pub struct Cli {
    /// Index directory [default: .citedex]
    #[arg(long, global = true, env = "CITEDEX_INDEX", value_name = "DIR")]
    pub index: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the corpus folders and (re)build the index.
    Index {
        /// Rebuild from scratch instead of updating only what changed.
        #[arg(long)]
        full: bool,
        /// Folders or files to index [default: corpus]
        #[arg(value_name = "CORPUS")]
        corpus: Vec<PathBuf>,
    },
    /// Search the index and print ranked passages with their section and source.
    Search {
        /// Most results to show.
        #[arg(short = 'n', long, default_value_t = 10)]
        limit: usize,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Show how each result's score was computed.
        #[arg(long)]
        explain: bool,
        /// When to colour the output.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
        /// The query: words, "phrases", AND/OR/NOT, field:term.
        #[arg(required = true, value_name = "QUERY")]
        query: Vec<String>,
    },
    /// Index the corpus, then keep the index up to date as files change (Ctrl-C stops).
    Watch {
        /// Folders or files to watch [default: corpus]
        #[arg(value_name = "CORPUS")]
        corpus: Vec<PathBuf>,
    },
    /// Print every indexed passage with its attribution, one JSON object per line.
    Export,
    /// Measure ranking quality on a test collection in BEIR layout (nDCG@10, Recall@100, MRR@10).
    Eval {
        /// A BEIR folder holding corpus.jsonl, queries.jsonl and qrels/test.tsv.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["corpus", "queries", "qrels"])]
        dataset: Option<PathBuf>,
        /// The collection's documents (BEIR corpus.jsonl).
        #[arg(long, value_name = "FILE", requires_all = ["queries", "qrels"])]
        corpus: Option<PathBuf>,
        /// The queries (BEIR queries.jsonl).
        #[arg(long, value_name = "FILE", requires_all = ["corpus", "qrels"])]
        queries: Option<PathBuf>,
        /// Relevance judgments (TSV: query-id, corpus-id, score).
        #[arg(long, value_name = "FILE", requires_all = ["corpus", "queries"])]
        qrels: Option<PathBuf>,
        /// Also print each query's scores.
        #[arg(long)]
        per_query: bool,
        /// Also rank with plain BM25 on the same index and compare, query by query.
        #[arg(long)]
        baseline: bool,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// List the indexed documents, their citations, and references that match no document.
    Sources {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check the index: every file against its checksum and every stored entry decoded.
    Check,
    /// Serve the index to AI assistants: an MCP server on standard input and output.
    Mcp,
}

/// A validated command, ready to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// The index directory.
    pub index_dir: PathBuf,
    /// The command with its validated options.
    pub action: Action,
}

/// What to do, with validated options.
#[derive(Debug, Clone)]
pub enum Action {
    /// Build the index from these roots.
    Index {
        /// Corpus folders or files.
        roots: Vec<PathBuf>,
        /// Rebuild from scratch.
        full: bool,
    },
    /// Search.
    Search {
        /// The query words joined by spaces.
        query: String,
        /// Most results.
        limit: usize,
        /// JSON instead of text.
        json: bool,
        /// Attach score explanations.
        explain: bool,
        /// Colour choice for text.
        color: ColorChoice,
    },
    /// Keep the index up to date.
    Watch {
        /// Corpus folders or files.
        roots: Vec<PathBuf>,
    },
    /// Print every passage.
    Export,
    /// Evaluate ranking on a test collection.
    Eval {
        /// The collection's documents, queries and judgments.
        files: EvalFiles,
        /// Print each query's scores too.
        per_query: bool,
        /// Compare with plain BM25.
        baseline: bool,
        /// JSON instead of text.
        json: bool,
    },
    /// List documents.
    Sources {
        /// JSON instead of text.
        json: bool,
    },
    /// Check the index for damage.
    Check,
    /// Answer MCP tool calls on standard input and output.
    Mcp,
}

/// Where a BEIR-layout test collection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalFiles {
    /// A folder holding `corpus.jsonl`, `queries.jsonl` and `qrels/test.tsv`.
    Folder(PathBuf),
    /// The three files named one by one.
    Files {
        /// `corpus.jsonl`.
        corpus: PathBuf,
        /// `queries.jsonl`.
        queries: PathBuf,
        /// The judgments TSV.
        qrels: PathBuf,
    },
}

/// Why the arguments cannot be run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// `--limit` out of range.
    #[error("--limit must be between 1 and {MAX_LIMIT}, not {0}")]
    Limit(usize),
    /// `eval` without a collection.
    #[error("eval needs --dataset DIR, or --corpus, --queries and --qrels")]
    Collection,
}

impl Cli {
    /// Checks the arguments and fills in defaults.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let index_dir = self.index.unwrap_or_else(|| PathBuf::from(DEFAULT_INDEX_DIR));
        let action = match self.command {
            Command::Index { full, corpus } => Action::Index {
                roots: default_roots(corpus),
                full,
            },
            Command::Search {
                limit,
                json,
                explain,
                color,
                query,
            } => {
                if !(1..=MAX_LIMIT).contains(&limit) {
                    return Err(ConfigError::Limit(limit));
                }
                Action::Search {
                    query: query.join(" "),
                    limit,
                    json,
                    explain,
                    color,
                }
            }
            Command::Watch { corpus } => Action::Watch {
                roots: default_roots(corpus),
            },
            Command::Export => Action::Export,
            Command::Eval {
                dataset,
                corpus,
                queries,
                qrels,
                per_query,
                baseline,
                json,
            } => {
                let files = match (dataset, corpus, queries, qrels) {
                    (Some(folder), ..) => EvalFiles::Folder(folder),
                    (None, Some(corpus), Some(queries), Some(qrels)) => EvalFiles::Files {
                        corpus,
                        queries,
                        qrels,
                    },
                    _ => return Err(ConfigError::Collection),
                };
                Action::Eval {
                    files,
                    per_query,
                    baseline,
                    json,
                }
            }
            Command::Sources { json } => Action::Sources { json },
            Command::Check => Action::Check,
            Command::Mcp => Action::Mcp,
        };
        Ok(Config { index_dir, action })
    }
}

fn default_roots(roots: Vec<PathBuf>) -> Vec<PathBuf> {
    if roots.is_empty() {
        vec![PathBuf::from(DEFAULT_CORPUS_DIR)]
    } else {
        roots
    }
}
