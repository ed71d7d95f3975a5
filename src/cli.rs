//! Command-line arguments as clap parses them, and their validation into a [`Config`]. The same
//! definitions generate the shell completions and the manual page ([`Cli::command`]).

use std::path::PathBuf;

use clap::{ColorChoice, Parser, Subcommand, ValueHint};
use clap_complete::Shell;

/// Default index directory, relative to the current directory.
pub const DEFAULT_INDEX_DIR: &str = ".citedex";
/// Default knowledge base folder, relative to the current directory.
pub const DEFAULT_CORPUS_DIR: &str = "corpus";
/// Most results one search may ask for.
pub const MAX_LIMIT: usize = 10_000;
/// Results a search shows unless told otherwise.
const DEFAULT_LIMIT: usize = 10;
/// Most neighbours `show` prints on each side of a passage.
pub const MAX_CONTEXT: usize = 100;

/// A searchable local index of articles and the sources they cite.
#[derive(Debug, Parser)]
#[command(name = "citedex", version, about, max_term_width = 100)]
pub struct Cli {
    /// Index directory [default: .citedex]
    #[arg(long, global = true, env = "CITEDEX_INDEX", value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub index: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Index folders or files; without a path, update every folder the index records.
    Index {
        /// Rebuild every recorded folder from scratch instead of updating only what changed.
        #[arg(long)]
        full: bool,
        /// Forget recorded folders that no longer exist, and their documents.
        #[arg(long)]
        prune: bool,
        /// Folders or files to add or update [default: every recorded folder, else corpus]
        #[arg(value_name = "PATH", value_hint = ValueHint::AnyPath)]
        paths: Vec<PathBuf>,
    },
    /// Forget indexed folders and remove their documents from the index.
    Remove {
        /// Folders or files, as `citedex status` lists them.
        #[arg(required = true, value_name = "PATH", value_hint = ValueHint::AnyPath)]
        paths: Vec<PathBuf>,
    },
    /// Say what the index holds: folders, documents, passages, size, last build.
    Status {
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Search the index and print ranked passages with their section, source and line.
    Search {
        /// Most results to show [default: 10; with --files, every matching file]
        #[arg(short = 'n', long, value_name = "N")]
        limit: Option<usize>,
        /// Print one JSON object instead of text.
        #[arg(long, conflicts_with = "files")]
        json: bool,
        /// Show how each result's score was computed.
        #[arg(long, conflicts_with = "files")]
        explain: bool,
        /// Print only the matching files, best first, one per line.
        #[arg(short = 'l', long)]
        files: bool,
        /// When to colour the output.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
        /// The query: words, "phrases", AND/OR/NOT, field:term.
        #[arg(required = true, value_name = "QUERY")]
        query: Vec<String>,
    },
    /// Print a passage with its neighbours in its section and its full heading path.
    Show {
        /// The passage: its id (`path#N`, as search shows it) or `path:LINE`.
        #[arg(value_name = "ID")]
        target: String,
        /// Passages to show before and after it, within its section.
        #[arg(short = 'C', long, default_value_t = 2, value_name = "N")]
        context: usize,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// When to colour the output.
        #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
        color: ColorChoice,
    },
    /// Index, then keep the index up to date as files change (Ctrl-C stops).
    Watch {
        /// Folders or files to watch [default: every recorded folder, else corpus]
        #[arg(value_name = "PATH", value_hint = ValueHint::AnyPath)]
        paths: Vec<PathBuf>,
    },
    /// Print every indexed passage with its attribution, one JSON object per line.
    Export,
    /// Measure ranking quality on a test collection in BEIR layout (nDCG@10, Recall@100, MRR@10).
    Eval {
        /// A BEIR folder holding corpus.jsonl, queries.jsonl and qrels/test.tsv.
        #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath,
              conflicts_with_all = ["corpus", "queries", "qrels"])]
        dataset: Option<PathBuf>,
        /// The collection's documents (BEIR corpus.jsonl).
        #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires_all = ["queries", "qrels"])]
        corpus: Option<PathBuf>,
        /// The queries (BEIR queries.jsonl).
        #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires_all = ["corpus", "qrels"])]
        queries: Option<PathBuf>,
        /// Relevance judgments (TSV: query-id, corpus-id, score).
        #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath, requires_all = ["corpus", "queries"])]
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
    /// Print a shell's completion script for citedex.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
    /// Print citedex's manual page (roff), or write one page per command into a folder.
    Man {
        /// Write citedex.1 and citedex-COMMAND.1 pages into this folder.
        #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
        dir: Option<PathBuf>,
    },
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
    /// Build or update the index.
    Index {
        /// Folders or files; none means every recorded root.
        paths: Vec<PathBuf>,
        /// Rebuild from scratch.
        full: bool,
        /// Forget roots that no longer exist.
        prune: bool,
    },
    /// Forget roots and their documents.
    Remove {
        /// The roots.
        paths: Vec<PathBuf>,
    },
    /// Describe the index.
    Status {
        /// JSON instead of text.
        json: bool,
    },
    /// Search.
    Search {
        /// The query words joined by spaces.
        query: String,
        /// What to print, and how much.
        output: SearchOutput,
        /// Colour choice for text.
        color: ColorChoice,
    },
    /// Print a passage in context.
    Show {
        /// Its id or `path:line`.
        target: String,
        /// Neighbours on each side.
        context: usize,
        /// JSON instead of text.
        json: bool,
        /// Colour choice for text.
        color: ColorChoice,
    },
    /// Keep the index up to date.
    Watch {
        /// Folders or files; none means every recorded root.
        paths: Vec<PathBuf>,
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
    /// Print a completion script.
    Completions {
        /// For this shell.
        shell: Shell,
    },
    /// Print or write the manual.
    Man {
        /// Where to write one page per command; standard output when `None`.
        dir: Option<PathBuf>,
    },
}

/// How search results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchOutput {
    /// Passages for people.
    Text {
        /// Most passages.
        limit: usize,
        /// With score explanations.
        explain: bool,
    },
    /// One JSON object.
    Json {
        /// Most passages.
        limit: usize,
        /// With score explanations.
        explain: bool,
    },
    /// The matching files only, one per line.
    Files {
        /// Most files; `None` for every matching file.
        limit: Option<usize>,
    },
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
    /// `--context` out of range.
    #[error("--context must be at most {MAX_CONTEXT}, not {0}")]
    Context(usize),
    /// `eval` without a collection.
    #[error("eval needs --dataset DIR, or --corpus, --queries and --qrels")]
    Collection,
}

impl Cli {
    /// The clap definition of the whole command line, for completions and the manual.
    pub fn command() -> clap::Command {
        <Cli as clap::CommandFactory>::command()
    }

    /// Checks the arguments and fills in defaults.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let index_dir = self.index.unwrap_or_else(|| PathBuf::from(DEFAULT_INDEX_DIR));
        let action = match self.command {
            Command::Index { full, prune, paths } => Action::Index { paths, full, prune },
            Command::Remove { paths } => Action::Remove { paths },
            Command::Status { json } => Action::Status { json },
            Command::Search {
                limit,
                json,
                explain,
                files,
                color,
                query,
            } => {
                if let Some(limit) = limit.filter(|limit| !(1..=MAX_LIMIT).contains(limit)) {
                    return Err(ConfigError::Limit(limit));
                }
                let output = match (files, json) {
                    (true, _) => SearchOutput::Files { limit },
                    (false, true) => SearchOutput::Json {
                        limit: limit.unwrap_or(DEFAULT_LIMIT),
                        explain,
                    },
                    (false, false) => SearchOutput::Text {
                        limit: limit.unwrap_or(DEFAULT_LIMIT),
                        explain,
                    },
                };
                Action::Search {
                    query: query.join(" "),
                    output,
                    color,
                }
            }
            Command::Show {
                target,
                context,
                json,
                color,
            } => {
                if context > MAX_CONTEXT {
                    return Err(ConfigError::Context(context));
                }
                Action::Show {
                    target,
                    context,
                    json,
                    color,
                }
            }
            Command::Watch { paths } => Action::Watch { paths },
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
            Command::Completions { shell } => Action::Completions { shell },
            Command::Man { dir } => Action::Man { dir },
        };
        Ok(Config { index_dir, action })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        Cli::try_parse_from(std::iter::once("citedex").chain(args.iter().copied()))
            .expect("arguments parse")
            .into_config()
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_file_listing_shows_every_file_unless_limited() {
        let Action::Search { output, .. } = config(&["search", "--files", "legs"]).unwrap().action else {
            panic!("not a search")
        };
        assert_eq!(output, SearchOutput::Files { limit: None });
        let Action::Search { output, .. } = config(&["search", "legs"]).unwrap().action else {
            panic!("not a search")
        };
        assert_eq!(
            output,
            SearchOutput::Text {
                limit: DEFAULT_LIMIT,
                explain: false
            }
        );
        assert_eq!(
            config(&["search", "-n", "0", "legs"]).unwrap_err(),
            ConfigError::Limit(0)
        );
        assert_eq!(
            config(&["show", "-C", "101", "a.md#0"]).unwrap_err(),
            ConfigError::Context(101)
        );
    }
}
