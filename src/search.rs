//! Answers a free-text query against an opened index: validates the query, parses it over the
//! title, section, body and publisher fields (title and section boosted), ranks with BM25 and
//! attaches each passage's heading path, source and citing articles.

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::QueryParser;
use tantivy::schema::{Field, TantivyDocument, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Searcher};

use crate::catalog::{DocumentLink, SourceInfo};
use crate::document::{Kind, Role};
use crate::index::OpenIndex;

/// Longest query accepted, in characters; longer ones are refused before parsing.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Deepest parenthesis nesting accepted; the parser recurses on each level.
pub const MAX_QUERY_NESTING: usize = 16;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 240;
/// Marks a snippet that starts or ends inside its passage.
const ELLIPSIS: &str = "…";

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
}

/// Why a search failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query was refused.
    #[error("invalid query {query:?}: {error}")]
    Query {
        /// The query as given.
        query: String,
        /// What is wrong with it.
        error: QueryError,
    },
    /// The index could not be read.
    #[error("reading the index: {0}")]
    Index(#[from] tantivy::TantivyError),
}

/// How many results to return.
#[derive(Debug, Clone, Copy)]
pub struct SearchOptions {
    /// At most this many results.
    pub limit: usize,
}

/// The answer to one query: the JSON contract of `citedex search --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// The query as given.
    pub query: String,
    /// How many passages match in all (results hold at most the limit).
    pub total_hits: usize,
    /// Best first.
    pub results: Vec<Hit>,
    /// Remarks about how the query was read (for example a lenient reading of bad syntax).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One ranked passage with its attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// 1 for the best result.
    pub rank: usize,
    /// BM25 score (higher is better).
    pub score: f32,
    /// `path#ordinal`.
    pub id: String,
    /// The whole passage.
    pub text: String,
    /// The best-matching excerpt of the passage.
    pub snippet: String,
    /// Byte ranges of `snippet` that match query terms.
    pub highlights: Vec<[usize; 2]>,
    /// Heading path, outermost first, never the document title; empty before the first heading.
    pub section: Vec<String>,
    /// Body text, reference list or author notes.
    pub role: Role,
    /// The document the passage comes from.
    pub source: SourceInfo,
    /// Articles that cite that document.
    pub cited_by: Vec<DocumentLink>,
}

/// Checks the limits that protect the parser.
pub fn validate(query: &str) -> Result<(), QueryError> {
    let length = query.chars().count();
    if query.trim().is_empty() {
        return Err(QueryError::Empty);
    }
    if length > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong(length));
    }
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for c in query.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_QUERY_NESTING {
        return Err(QueryError::TooDeep(deepest));
    }
    Ok(())
}

/// Runs `query` and returns ranked, attributed passages.
pub fn search(open: &OpenIndex, query: &str, options: SearchOptions) -> Result<SearchResults, SearchError> {
    validate(query).map_err(|error| SearchError::Query {
        query: query.to_string(),
        error,
    })?;
    let f = open.fields;
    let mut parser = QueryParser::for_index(&open.index, vec![f.title, f.section, f.body, f.publisher]);
    parser.set_field_boost(f.title, 1.5);
    parser.set_field_boost(f.section, 2.0);
    parser.set_field_boost(f.publisher, 0.5);
    let mut notes = Vec::new();
    let parsed = match parser.parse_query(query) {
        Ok(parsed) => parsed,
        Err(error) => {
            // Bad syntax is usually a stray quote or colon: search the plain words instead.
            let words = plain_words(query);
            match parser.parse_query(&words) {
                Ok(parsed) if !words.is_empty() => {
                    notes.push(format!(
                        "query syntax: {error}; searching for the words {words:?}"
                    ));
                    parsed
                }
                _ => {
                    notes.push(format!("query syntax: {error}; read leniently"));
                    parser.parse_query_lenient(query).0
                }
            }
        }
    };
    let reader = open.index.reader()?;
    let searcher = reader.searcher();
    let (total_hits, top) = searcher.search(
        &parsed,
        &(Count, TopDocs::with_limit(options.limit.max(1)).order_by_score()),
    )?;
    let mut snippets = SnippetGenerator::create(&searcher, &*parsed, f.body)?;
    snippets.set_max_num_chars(SNIPPET_CHARS);
    let mut results = Vec::with_capacity(top.len());
    for (rank, (score, address)) in top.into_iter().enumerate().take(options.limit) {
        results.push(hit(open, &searcher, &snippets, rank + 1, score, address)?);
    }
    Ok(SearchResults {
        query: query.to_string(),
        total_hits,
        results,
        notes,
    })
}

fn hit(
    open: &OpenIndex,
    searcher: &Searcher,
    snippets: &SnippetGenerator,
    rank: usize,
    score: f32,
    address: DocAddress,
) -> Result<Hit, SearchError> {
    let f = open.fields;
    let stored: TantivyDocument = searcher.doc(address)?;
    let text_of = |field: Field| {
        stored
            .get_first(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let all_of = |field: Field| {
        stored
            .get_all(field)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect::<Vec<_>>()
    };
    let path = text_of(f.path).unwrap_or_default();
    let text = text_of(f.body).unwrap_or_default();
    let snippet = snippets.snippet(&text);
    let (snippet, highlights) = if snippet.is_empty() {
        (lead(&text, SNIPPET_CHARS), Vec::new())
    } else {
        let range = snippet.fragment_range();
        let (open, close) = (
            if range.start > 0 { ELLIPSIS } else { "" },
            if range.end < text.len() { ELLIPSIS } else { "" },
        );
        let fragment = snippet.fragment();
        let body = fragment.trim();
        // Highlight offsets move by the ellipsis added and the white space trimmed in front.
        let shift = |offset: usize| offset + open.len() - (fragment.len() - fragment.trim_start().len());
        let highlights = snippet
            .highlighted()
            .iter()
            .map(|r| [shift(r.start), shift(r.end)])
            .collect();
        (format!("{open}{body}{close}"), highlights)
    };
    let role = match text_of(f.role).as_deref() {
        Some("references") => Role::References,
        Some("authors") => Role::Authors,
        _ => Role::Body,
    };
    let cited_by = open
        .catalog
        .get(&path)
        .map(|entry| entry.cited_by.clone())
        .unwrap_or_default();
    Ok(Hit {
        rank,
        score,
        id: text_of(f.id).unwrap_or_default(),
        text,
        snippet,
        highlights,
        section: all_of(f.section),
        role,
        source: SourceInfo {
            title: text_of(f.title).unwrap_or_default(),
            path,
            kind: text_of(f.kind)
                .as_deref()
                .and_then(Kind::parse)
                .unwrap_or(Kind::Source),
            publisher: text_of(f.publisher),
            date: text_of(f.date),
            url: text_of(f.url),
        },
        cited_by,
    })
}

/// The start of `text`, cut at a word boundary within `max_chars` characters.
fn lead(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let cut = text.char_indices().nth(max_chars).map_or(text.len(), |(i, _)| i);
    let cut = text[..cut].rfind(char::is_whitespace).unwrap_or(cut);
    format!("{}{ELLIPSIS}", text[..cut].trim_end())
}

/// The query with its syntax characters removed, for a second try after a syntax error.
fn plain_words(query: &str) -> String {
    let spaced: String = query
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    spaced
        .split_whitespace()
        .filter(|word| !matches!(*word, "AND" | "OR" | "NOT" | "IN" | "TO"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_limits() {
        assert_eq!(validate("  "), Err(QueryError::Empty));
        assert_eq!(
            validate(&"a".repeat(MAX_QUERY_CHARS + 1)),
            Err(QueryError::TooLong(MAX_QUERY_CHARS + 1))
        );
        assert_eq!(validate(&"(".repeat(40)), Err(QueryError::TooDeep(40)));
        assert_eq!(validate("(numbness AND legs) OR \"pins and needles\""), Ok(()));
    }

    #[test]
    fn plain_words_drop_syntax() {
        assert_eq!(
            plain_words("\"unclosed phrase AND title:(legs"),
            "unclosed phrase title legs"
        );
        assert_eq!(plain_words("- ( :"), "");
    }

    #[test]
    fn lead_cuts_at_words() {
        assert_eq!(lead("one two three", 100), "one two three");
        assert_eq!(lead("one two three", 9), "one two…");
    }
}
