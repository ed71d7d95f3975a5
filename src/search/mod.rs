//! Answering a query, in two steps. [`Index::rank`] reads the query (its syntax, typos,
//! abbreviations, prefixes), scores passages with BM25 (a proximity bonus, their whole document's
//! BM25, the passages holding every query word and body text first; see [`scoring`]) and returns
//! the best ones as scored addresses with notes on how the query was read; it decodes nothing
//! stored.
//! [`Index::present`] then builds what people and programs see, for the passages that will be
//! shown only: text, snippet, highlights, attribution and, on request, score explanations.

mod collect;
mod common_words;
mod documents;
mod explain;
mod plan;
mod present;
mod query;
mod scoring;
mod tiers;
mod vocabulary;

use std::fmt;

use tantivy::DocAddress;

use crate::index::{Index, IndexError, guarded};
pub use explain::Explanation;
use plan::Plan;
pub use present::{Hit, MAX_EXPLAINED, PresentOptions, SearchResults};
use query::Shape;

/// Longest query accepted, in characters; longer ones are refused before parsing.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Deepest parenthesis nesting accepted; the parser recurses on each level.
pub const MAX_QUERY_NESTING: usize = 16;
/// A plain-word query matching fewer passages than this is retried with its typos corrected.
const FEW_HITS: usize = 3;
/// How much of an over-long query an error message quotes, in characters.
const QUOTED_QUERY_CHARS: usize = 60;

/// Why a query was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueryError {
    /// Nothing to search for.
    #[error("empty query")]
    Empty,
    /// Over [`MAX_QUERY_CHARS`].
    #[error("query is {0} characters long; the limit is {MAX_QUERY_CHARS}")]
    TooLong(usize),
    /// Over [`MAX_QUERY_NESTING`].
    #[error("query nests parentheses {0} deep; the limit is {MAX_QUERY_NESTING}")]
    TooDeep(usize),
    /// Parsed, but not something this index can answer.
    #[error("{0}")]
    Unsupported(String),
}

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query was refused.
    #[error("invalid query {}: {error}", quote(query))]
    Query {
        /// The query as given.
        query: String,
        /// What is wrong with it.
        error: QueryError,
    },
    /// The index could not be read.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// The query quoted for a message, cut short when long.
fn quote(query: &str) -> String {
    let count = query.chars().count();
    if count <= QUOTED_QUERY_CHARS {
        return format!("{query:?}");
    }
    let head: String = query.chars().take(QUOTED_QUERY_CHARS).collect();
    format!("{head:?}… ({count} characters)")
}

/// A query to run: its text and whether that text is read as query syntax or as plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    text: String,
    shortened: bool,
}

impl Query {
    /// A query in citedex's query language (words, `"phrases"`, `AND`/`OR`/`NOT`, `-word`,
    /// `field:term`, `prefix*`), checked against the length and nesting limits.
    pub fn parse(text: &str) -> Result<Query, SearchError> {
        let refuse = |error| SearchError::Query {
            query: text.to_string(),
            error,
        };
        if text.trim().is_empty() {
            return Err(refuse(QueryError::Empty));
        }
        let length = text.chars().count();
        if length > MAX_QUERY_CHARS {
            return Err(refuse(QueryError::TooLong(length)));
        }
        let deepest = query::nesting(text);
        if deepest > MAX_QUERY_NESTING {
            return Err(refuse(QueryError::TooDeep(deepest)));
        }
        Ok(Query {
            text: text.to_string(),
            shortened: false,
        })
    }

    /// A query of plain words taken from any text (quotes, colons and operators are not syntax),
    /// cut at a word boundary to the length limit; it may be empty.
    pub fn words(text: &str) -> Query {
        let words = query::plain_words(text);
        if words.chars().count() <= MAX_QUERY_CHARS {
            return Query {
                text: words,
                shortened: false,
            };
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
        Query {
            text: cut,
            shortened: true,
        }
    }

    /// The query text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether [`Query::words`] had to cut the text to the length limit.
    pub fn was_shortened(&self) -> bool {
        self.shortened
    }
}

/// What a search should return and how much to say about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchOptions {
    /// At most this many results.
    pub limit: usize,
    /// Attach score explanations.
    pub explain: bool,
}

impl Default for SearchOptions {
    fn default() -> SearchOptions {
        SearchOptions {
            limit: 10,
            explain: false,
        }
    }
}

/// How [`Index::rank_documents`] ranks documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ranker {
    /// citedex's ranking, as searches rank passages: a document ranks by its best passage.
    #[default]
    Citedex,
    /// Plain BM25 over each whole document (title and text) for the query's words, and nothing
    /// else: no field weights, proximity, abbreviations or typo help. The baseline of evaluations.
    Bm25,
}

/// A remark on how a query was read, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The query found little, so its unknown words were replaced by the closest indexed ones.
    Corrected {
        /// The corrected query.
        query: String,
    },
    /// Words that occur nowhere, and the query with them corrected, not applied.
    Suggestion {
        /// The words that occur in no passage.
        missing: Vec<String>,
        /// The query with them corrected.
        query: String,
    },
    /// An abbreviation or its long form was added to the query.
    Expanded {
        /// What was added.
        addition: String,
    },
    /// The query had a syntax error and its plain words were searched instead.
    PlainWords {
        /// The syntax error.
        error: String,
        /// The words searched.
        words: String,
    },
    /// The query had a syntax error and was read leniently.
    Lenient {
        /// The syntax error.
        error: String,
    },
    /// Nothing matched; these words occur in no passage.
    NothingMatched {
        /// The query's words that occur nowhere in the index.
        missing: Vec<String>,
    },
    /// Only the first results carry score explanations.
    ExplainedFirst {
        /// How many results are explained.
        count: usize,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::Corrected { query } => write!(f, "showing results for {query:?}"),
            Note::Suggestion { missing, query } => {
                let quoted: Vec<String> = missing.iter().map(|word| format!("{word:?}")).collect();
                let verb = if missing.len() == 1 { "occurs" } else { "occur" };
                write!(
                    f,
                    "{} {verb} in no passage; did you mean {query:?}?",
                    quoted.join(", ")
                )
            }
            Note::Expanded { addition } => write!(f, "also searching for {addition}"),
            Note::PlainWords { error, words } => {
                write!(f, "query syntax: {error}; searching for the words {words:?}")
            }
            Note::Lenient { error } => write!(f, "query syntax: {error}; read leniently"),
            Note::NothingMatched { missing } if missing.is_empty() => write!(f, "no passage matches"),
            Note::NothingMatched { missing } => {
                let quoted: Vec<String> = missing.iter().map(|word| format!("{word:?}")).collect();
                let verb = if missing.len() == 1 { "occurs" } else { "occur" };
                write!(
                    f,
                    "no passage matches: {} {verb} nowhere in the index",
                    quoted.join(", ")
                )
            }
            Note::ExplainedFirst { count } => {
                write!(f, "scores are explained for the first {count} results only")
            }
        }
    }
}

impl serde::Serialize for Note {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The documents a query ranks best, and how the query was read.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedDocuments {
    /// The paths and scores of the best documents, best first.
    pub documents: Vec<(String, f32)>,
    /// Remarks on how the query was read (none for [`Ranker::Bm25`], which reads plain words).
    pub notes: Vec<Note>,
}

/// The passages a query ranks best, as scored addresses, and how the query was read.
pub struct Ranking {
    /// The query as given.
    pub query: String,
    /// How many passages match in all.
    pub total_hits: usize,
    /// The best passages, best first.
    pub passages: Vec<RankedPassage>,
    /// Remarks on how the query was read.
    pub notes: Vec<Note>,
    /// The clauses that scored them, for snippets and explanations.
    plan: Plan,
}

/// One ranked passage: where it is and its score; [`Index::present`] reads the rest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedPassage {
    /// Score: the passage's BM25 and its document's (higher is better, within the two rules that
    /// come first).
    pub score: f32,
    address: DocAddress,
    parts: scoring::ScoreParts,
}

impl Index {
    /// Ranks passages for `query` and returns the best `limit`, reading nothing stored.
    pub fn rank(&self, query: &Query, limit: usize) -> Result<Ranking, SearchError> {
        guarded(self.dir(), || self.rank_passages(query, limit))
    }

    fn rank_passages(&self, query: &Query, limit: usize) -> Result<Ranking, SearchError> {
        let mut notes = Vec::new();
        let (plan, total_hits, collected) = self.with_typo_help(query, &mut notes, |plan| {
            let collected = plan.search(self, &collect::Matches::for_limit(limit))?;
            Ok((collected.total, collected))
        })?;
        let best_of = |collected| {
            plan.score(self, collected)
                .and_then(|scores| scores.passages(limit))
        };
        let best = best_of(collected)
            .and_then(|best| match best {
                Some(best) => Ok(best),
                // The matches left out might still reach the list: score them all. With every
                // match kept, the list is always settled.
                None => Ok(best_of(plan.search(self, &collect::Matches::all())?)?.unwrap_or_default()),
            })
            .map_err(|error| self.search_error(query.text(), error))?;
        Ok(Ranking {
            query: query.text().to_string(),
            total_hits,
            passages: best
                .into_iter()
                .map(|scored| RankedPassage {
                    score: scored.score,
                    address: scored.address,
                    parts: scored.parts,
                })
                .collect(),
            notes,
            plan,
        })
    }

    /// Ranks, then presents the best `options.limit` passages.
    pub fn search(&self, query: &Query, options: &SearchOptions) -> Result<SearchResults, SearchError> {
        let ranking = self.rank(query, options.limit)?;
        self.present(
            &ranking,
            &PresentOptions {
                explain: options.explain,
            },
        )
    }

    /// Ranks documents for `query` with `ranker` and returns the paths and scores of the best
    /// `limit`, reading nothing stored (for evaluation, and for listing the matching files).
    pub fn rank_documents(
        &self,
        query: &Query,
        limit: usize,
        ranker: Ranker,
    ) -> Result<RankedDocuments, SearchError> {
        guarded(self.dir(), || self.rank_documents_with(query, limit, ranker))
    }

    fn rank_documents_with(
        &self,
        query: &Query,
        limit: usize,
        ranker: Ranker,
    ) -> Result<RankedDocuments, SearchError> {
        let mut notes = Vec::new();
        let documents = if ranker == Ranker::Bm25 {
            let terms = plan::word_terms(self, query.text());
            documents::bm25_documents(self, &terms, limit)
        } else {
            let (plan, _, matches) = self.with_typo_help(query, &mut notes, |plan| {
                let matches = plan.search(self, &collect::Matches::all())?;
                Ok((matches.total, matches))
            })?;
            plan.score(self, matches)
                .and_then(|scores| scores.documents(limit))
        };
        Ok(RankedDocuments {
            documents: documents.map_err(|error| self.search_error(query.text(), error))?,
            notes,
        })
    }

    /// Plans `query` and runs it with `run`, which returns how many passages match and what it
    /// collected. Plain words with unknown words that find little are run again with them
    /// corrected; words that find plenty are kept, as a word missing from the index (a name, a
    /// rare term) is not always a typo, and the correction is only suggested. A query that finds
    /// nothing says so, and for plain words which of them occur nowhere.
    fn with_typo_help<T>(
        &self,
        query: &Query,
        notes: &mut Vec<Note>,
        run: impl Fn(&Plan) -> tantivy::Result<(usize, T)>,
    ) -> Result<(Plan, usize, T), SearchError> {
        let text = query.text();
        let shape = query::shape(&plan::expand_prefixes(self, &query::rewrite(text))?);
        let plan = Plan::new(self, &shape, notes);
        let (total, found) = run(&plan).map_err(|error| self.search_error(text, error))?;
        let words = query::words(&shape.body);
        let plain = query::is_plain(&shape.body) && !words.is_empty();
        let corrected = if plain {
            vocabulary::correct(self, &words)?
        } else {
            None
        };
        let Some(corrected) = corrected else {
            if total == 0 {
                let missing = if plain {
                    vocabulary::unknown(self, &words)?
                } else {
                    Vec::new()
                };
                notes.push(Note::NothingMatched { missing });
            }
            return Ok((plan, total, found));
        };
        let corrected_shape = Shape {
            body: corrected.join(" "),
            ..shape.clone()
        };
        let missing: Vec<String> = words
            .iter()
            .zip(&corrected)
            .filter(|(word, correction)| *word != correction)
            .map(|(word, _)| word.to_string())
            .collect();
        if total >= FEW_HITS {
            notes.push(Note::Suggestion {
                missing,
                query: corrected_shape.text(),
            });
            return Ok((plan, total, found));
        }
        let mut retried_notes = vec![Note::Corrected {
            query: corrected_shape.text(),
        }];
        let retried = Plan::new(self, &corrected_shape, &mut retried_notes);
        let (retried_total, retried_found) = run(&retried).map_err(|error| self.search_error(text, error))?;
        if retried_total > total {
            *notes = retried_notes;
            Ok((retried, retried_total, retried_found))
        } else {
            if total == 0 {
                notes.push(Note::NothingMatched { missing });
            }
            Ok((plan, total, found))
        }
    }

    /// Some queries parse but cannot run on this schema (a range over a text field): those are
    /// the user's to fix; anything else is the index's fault.
    fn search_error(&self, query: &str, error: tantivy::TantivyError) -> SearchError {
        match error {
            tantivy::TantivyError::SchemaError(_)
            | tantivy::TantivyError::FieldNotFound(_)
            | tantivy::TantivyError::InvalidArgument(_) => SearchError::Query {
                query: query.to_string(),
                error: QueryError::Unsupported(error.to_string()),
            },
            other => SearchError::Index(self.tantivy()(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked_before_parsing() {
        let refused = |text: &str| match Query::parse(text) {
            Err(SearchError::Query { error, .. }) => error,
            other => panic!("{other:?}"),
        };
        assert_eq!(refused("  "), QueryError::Empty);
        assert_eq!(
            refused(&"a".repeat(MAX_QUERY_CHARS + 1)),
            QueryError::TooLong(MAX_QUERY_CHARS + 1)
        );
        assert_eq!(refused(&"(".repeat(40)), QueryError::TooDeep(40));
        assert!(Query::parse("(numbness AND legs) OR \"pins and needles\"").is_ok());
    }

    #[test]
    fn an_error_quotes_a_long_query_only_in_part() {
        let error = Query::parse(&"word ".repeat(20_000)).unwrap_err().to_string();
        assert!(error.len() < 200, "{error}");
        assert!(error.contains("(100000 characters)"), "{error}");
    }

    #[test]
    fn plain_word_queries_are_cut_at_a_word() {
        let long = Query::words(&"word ".repeat(400));
        assert!(long.was_shortened() && long.text().chars().count() <= MAX_QUERY_CHARS);
        assert!(long.text().ends_with("word"));
        let short = Query::words("What is \"DVT\"? (a clot)");
        assert_eq!(
            (short.text(), short.was_shortened()),
            ("What is DVT a clot", false)
        );
    }
}
