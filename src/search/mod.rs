//! Answers a free-text query against an opened index: validates the query, parses it over the
//! content (title, headings and text together), title, section and publisher fields, ranks with
//! BM25 plus a proximity bonus, and attaches each passage's heading path, source and citing
//! articles.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use tantivy::collector::{Count, DocSetCollector, TopDocs};

use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Explanation, Occur, PhraseQuery, Query, QueryParser};
use tantivy::schema::{Field, TantivyDocument, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{DocAddress, Searcher};

use crate::catalog::{DocumentLink, SourceInfo};
use crate::document::{Kind, Role};
use crate::index::{Fields, OpenIndex, passage_id};

mod query;
mod vocabulary;

pub use query::plain_words;

/// Longest query accepted, in characters; longer ones are refused before parsing.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Deepest parenthesis nesting accepted; the parser recurses on each level.
pub const MAX_QUERY_NESTING: usize = 16;
/// Weight of a match in the document title, next to a match in `content`.
const TITLE_BOOST: f32 = 0.3;
/// Weight of a match in the passage's heading path.
const SECTION_BOOST: f32 = 0.5;
/// Weight of a match in the publisher's name.
const PUBLISHER_BOOST: f32 = 0.2;
/// How many words may stand between two consecutive query words for the proximity bonus.
const PROXIMITY_SLOP: u32 = 3;
/// Weight of the proximity bonus of one pair of query words.
const PROXIMITY_BOOST: f32 = 0.5;
/// A plain-word query matching fewer passages than this is retried with its typos corrected.
const FEW_HITS: usize = 3;
/// Decompressed store blocks kept in memory while exporting.
const STORE_CACHE_BLOCKS: usize = 16;
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
    /// Parsed, but not something this index can answer.
    #[error("{0}")]
    Unsupported(String),
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
    #[error("reading the index")]
    Index(#[from] tantivy::TantivyError),
}

/// How many results to return, and how much to say about them.
#[derive(Debug, Clone, Copy, Default)]
pub struct SearchOptions {
    /// At most this many results.
    pub limit: usize,
    /// Attach each result's score explanation.
    pub explain: bool,
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
    /// The passage and where it comes from.
    #[serde(flatten)]
    pub passage: StoredPassage,
    /// The best-matching excerpt of the passage.
    pub snippet: String,
    /// Byte ranges of `snippet` that match query terms.
    pub highlights: Vec<[usize; 2]>,
    /// How the score was computed (with `--explain`): tantivy's explanation tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<serde_json::Value>,
}

/// A passage as stored in the index, with its attribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPassage {
    /// `path#ordinal`.
    pub id: String,
    /// The whole passage.
    pub text: String,
    /// Heading path, outermost first, never the document title; empty before the first heading.
    pub section: Vec<String>,
    /// Body text, reference list or author notes.
    pub role: Role,
    /// The page of the document the passage stands on (PDF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
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
    let reader = open.index.reader()?;
    let searcher = reader.searcher();
    let effective = expand_prefixes(&searcher, open, &query::rewrite(query))?;
    let mut run = Run::new(open, &searcher, query, &effective, options.limit)?;
    let words = query::words(&effective);
    let stored_text = [open.fields.body, open.fields.title, open.fields.section];
    let corrected = if query::is_plain(&effective) {
        vocabulary::correct(&searcher, open.fields.content, &stored_text, &words)?
    } else {
        None
    };
    // Only a query that finds little is rewritten; otherwise the correction is only suggested, as
    // a word missing from the index (a name, a rare term) is not always a typo.
    if let Some(corrected) = corrected {
        let text = corrected.join(" ");
        if run.total_hits < FEW_HITS {
            let retried = Run::new(open, &searcher, query, &text, options.limit)?;
            if retried.total_hits > run.total_hits {
                run = retried;
                run.notes.insert(0, format!("showing results for {text:?}"));
            }
        } else {
            let missing: Vec<String> = words
                .iter()
                .zip(&corrected)
                .filter(|(word, correction)| *word != correction)
                .map(|(word, _)| format!("{word:?}"))
                .collect();
            let verb = if missing.len() == 1 { "occurs" } else { "occur" };
            run.notes.push(format!(
                "{} {verb} in no passage; did you mean {text:?}?",
                missing.join(", ")
            ));
        }
    }
    let Run {
        clauses,
        ranked,
        total_hits,
        top,
        notes,
    } = run;
    let snippets = snippet_generator(&searcher, &*ranked, open.fields)?;
    // tantivy's phrase explanation asserts (in debug builds) on documents the phrase does not
    // match, so each clause is explained only where it matches.
    let matching: Vec<HashSet<DocAddress>> = if options.explain {
        clauses
            .iter()
            .map(|clause| searcher.search(clause, &DocSetCollector))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let mut results = Vec::with_capacity(top.len());
    for (rank, (score, address)) in top.into_iter().enumerate().take(options.limit) {
        let mut hit = hit(open, &searcher, &snippets, rank + 1, score, address)?;
        if options.explain {
            let explanation = explain(&searcher, &clauses, &matching, address)?;
            hit.explanation = Some(serde_json::to_value(&explanation).expect("explanations are plain data"));
        }
        results.push(hit);
    }
    Ok(SearchResults {
        query: query.to_string(),
        total_hits,
        results,
        notes,
    })
}

/// One query text run against the index: the clauses it became, and what they found.
struct Run {
    /// The clauses whose scores add up to a passage's score.
    clauses: Vec<Box<dyn Query>>,
    /// The clauses as one query.
    ranked: Box<dyn Query>,
    /// How many passages match.
    total_hits: usize,
    /// The best passages, best first.
    top: Vec<(f32, DocAddress)>,
    /// What was done to the query on the way, for the user.
    notes: Vec<String>,
}

impl Run {
    /// Runs `effective`, the rewritten form of the user's `query`, for the best `limit` passages.
    fn new(
        open: &OpenIndex,
        searcher: &Searcher,
        query: &str,
        effective: &str,
        limit: usize,
    ) -> Result<Run, SearchError> {
        let mut notes = Vec::new();
        let clauses = query_clauses(open, searcher, effective, &mut notes)?;
        let ranked: Box<dyn Query> = match clauses.as_slice() {
            [only] => only.box_clone(),
            _ => Box::new(BooleanQuery::new(
                clauses.iter().map(|q| (Occur::Should, q.box_clone())).collect(),
            )),
        };
        let collector = (Count, TopDocs::with_limit(limit.max(1)).order_by_score());
        let (total_hits, top) = searcher
            .search(&ranked, &collector)
            .map_err(|error| match error {
                // Some queries parse but cannot run on this schema (a range over a text field).
                tantivy::TantivyError::SchemaError(_)
                | tantivy::TantivyError::FieldNotFound(_)
                | tantivy::TantivyError::InvalidArgument(_) => SearchError::Query {
                    query: query.to_string(),
                    error: QueryError::Unsupported(error.to_string()),
                },
                other => SearchError::Index(other),
            })?;
        Ok(Run {
            clauses,
            ranked,
            total_hits,
            top,
            notes,
        })
    }
}

/// The clauses whose scores add up to a passage's score for the rewritten query `effective`: the
/// parsed query, then for a plain-word query one proximity bonus per pair of consecutive words.
/// Abbreviation expansions are added on the way and reported in `notes`.
fn query_clauses(
    open: &OpenIndex,
    searcher: &Searcher,
    effective: &str,
    notes: &mut Vec<String>,
) -> Result<Vec<Box<dyn Query>>, SearchError> {
    let plain = query::is_plain(effective);
    let words = query::words(effective);
    let mut parse_text = effective.to_string();
    if plain {
        for extra in query::abbreviation_expansions(&words, &open.catalog.abbreviations) {
            notes.push(format!("also searching for {extra}"));
            parse_text.push(' ');
            parse_text.push_str(&extra);
        }
    }
    let mut clauses = vec![parse(&query_parser(open), &parse_text, notes)];
    if plain {
        clauses.extend(proximity_clauses(
            searcher,
            open.fields.content,
            &words.join(" "),
        )?);
    }
    Ok(clauses)
}

/// The explanation of a passage's score: the parts of the clauses that match it, summed.
fn explain(
    searcher: &Searcher,
    clauses: &[Box<dyn Query>],
    matching: &[HashSet<DocAddress>],
    address: DocAddress,
) -> tantivy::Result<Explanation> {
    let mut parts = Vec::new();
    for (clause, matched) in clauses.iter().zip(matching) {
        if matched.contains(&address) {
            parts.push(clause.explain(searcher, address)?);
        }
    }
    Ok(match parts.len() {
        1 => parts.pop().expect("one part"),
        _ => {
            let mut sum = Explanation::new("sum of", parts.iter().map(Explanation::value).sum());
            parts.into_iter().for_each(|part| sum.add_detail(part));
            sum
        }
    })
}

/// Replaces each `word*` with the indexed words it starts, as an `OR` group (tantivy's parser only
/// knows prefixes at the end of phrases); a prefix nothing starts with is left to match nothing.
fn expand_prefixes(searcher: &Searcher, open: &OpenIndex, text: &str) -> tantivy::Result<String> {
    let mut expanded = String::with_capacity(text.len());
    let mut last = 0;
    for prefix in query::prefixes(text) {
        expanded.push_str(&text[last..prefix.range.start]);
        last = prefix.range.end;
        let field = match prefix.field {
            Some(name) => open.index.schema().get_field(name).ok(),
            None => Some(open.fields.content),
        };
        match field {
            // tantivy reads `field:*` as "has a value", which needs a fast field: every passage has
            // its title, headings and kind, so it is all of them.
            Some(_) if prefix.prefix.is_empty() => expanded.push('*'),
            Some(field) => {
                let terms = vocabulary::with_prefix(searcher, field, prefix.prefix)?;
                let field_prefix = prefix.field.map(|name| format!("{name}:")).unwrap_or_default();
                let alternatives = if terms.is_empty() {
                    prefix.prefix.to_string()
                } else {
                    terms.join(" OR ")
                };
                expanded.push_str(&format!("{field_prefix}({alternatives})"));
            }
            // An unknown field is a word: its name and prefix are what the user typed.
            None => {
                expanded.push_str(prefix.field.unwrap_or_default());
                expanded.push(' ');
                expanded.push_str(prefix.prefix);
            }
        }
    }
    expanded.push_str(&text[last..]);
    Ok(expanded)
}

/// The parser over the ranked fields: `content` holds the title, headings and text together, and
/// the separate heading fields add a little for passages whose own headings name the query.
fn query_parser(open: &OpenIndex) -> QueryParser {
    let f = open.fields;
    let mut parser = QueryParser::for_index(&open.index, vec![f.content, f.title, f.section, f.publisher]);
    parser.set_field_boost(f.title, TITLE_BOOST);
    parser.set_field_boost(f.section, SECTION_BOOST);
    parser.set_field_boost(f.publisher, PUBLISHER_BOOST);
    parser
}

/// Parses `text`; on a syntax error searches its plain words instead (usually a stray quote or
/// colon), and failing that reads it leniently, saying so in `notes`.
fn parse(parser: &QueryParser, text: &str, notes: &mut Vec<String>) -> Box<dyn Query> {
    match parser.parse_query(text) {
        Ok(parsed) => parsed,
        Err(error) => {
            let words = query::plain_words(text);
            match parser.parse_query(&words) {
                Ok(parsed) if !words.is_empty() => {
                    notes.push(format!(
                        "query syntax: {error}; searching for the words {words:?}"
                    ));
                    parsed
                }
                _ => {
                    notes.push(format!("query syntax: {error}; read leniently"));
                    parser.parse_query_lenient(text).0
                }
            }
        }
    }
}

/// A bonus clause for each pair of consecutive query words, matching where they stand close.
fn proximity_clauses(searcher: &Searcher, field: Field, words: &str) -> tantivy::Result<Vec<Box<dyn Query>>> {
    let mut analyzer = searcher.index().tokenizer_for_field(field)?;
    let mut terms = Vec::new();
    analyzer
        .token_stream(words)
        .process(&mut |token| terms.push(Term::from_field_text(field, &token.text)));
    Ok(terms
        .windows(2)
        .filter(|pair| pair[0] != pair[1])
        .map(|pair| {
            let phrase = PhraseQuery::new_with_offset_and_slop(
                vec![(0, pair[0].clone()), (1, pair[1].clone())],
                PROXIMITY_SLOP,
            );
            Box::new(BoostQuery::new(Box::new(phrase), PROXIMITY_BOOST)) as Box<dyn Query>
        })
        .collect())
}

fn hit(
    open: &OpenIndex,
    searcher: &Searcher,
    snippets: &SnippetGenerator,
    rank: usize,
    score: f32,
    address: DocAddress,
) -> Result<Hit, SearchError> {
    let passage = stored_passage(open, &searcher.doc(address)?);
    let (snippet, highlights) = excerpt(&passage.text, &snippets.snippet(&passage.text));
    Ok(Hit {
        rank,
        score,
        passage,
        snippet,
        highlights,
        explanation: None,
    })
}

/// Reads a passage and its attribution back from its stored fields.
fn stored_passage(open: &OpenIndex, stored: &TantivyDocument) -> StoredPassage {
    let f = open.fields;
    let text_of = |field: Field| {
        stored
            .get_first(field)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let path = text_of(f.path).unwrap_or_default();
    let ordinal = stored
        .get_first(f.ordinal)
        .and_then(|v| v.as_u64())
        .and_then(|ordinal| usize::try_from(ordinal).ok())
        .unwrap_or_default();
    let role = match text_of(f.role).as_deref() {
        Some("references") => Role::References,
        Some("authors") => Role::Authors,
        _ => Role::Body,
    };
    StoredPassage {
        id: passage_id(&path, ordinal),
        text: text_of(f.body).unwrap_or_default(),
        section: stored
            .get_all(f.section)
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        role,
        page: stored
            .get_first(f.page)
            .and_then(|v| v.as_u64())
            .and_then(|page| u32::try_from(page).ok()),
        cited_by: open
            .catalog
            .get(&path)
            .map(|entry| entry.cited_by.clone())
            .unwrap_or_default(),
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
    }
}

/// Every passage of the index, in document and passage order, for export.
pub fn all_passages(open: &OpenIndex) -> Result<Vec<StoredPassage>, SearchError> {
    let searcher = open.index.reader()?.searcher();
    let mut passages = Vec::new();
    for segment in searcher.segment_readers() {
        let store = segment
            .get_store_reader(STORE_CACHE_BLOCKS)
            .map_err(tantivy::TantivyError::from)?;
        for doc_id in segment.doc_ids_alive() {
            let stored: TantivyDocument = store.get(doc_id)?;
            passages.push(stored_passage(open, &stored));
        }
    }
    let order = |p: &StoredPassage| {
        let (path, ordinal) = p.id.rsplit_once('#').unwrap_or((&p.id, ""));
        (path.to_string(), ordinal.parse::<usize>().unwrap_or(0))
    };
    passages.sort_by_cached_key(order);
    Ok(passages)
}

/// A snippet generator over the stored passage text for the terms the query seeks in `content`
/// (the field that holds that text for ranking), rarer terms weighing more.
fn snippet_generator(searcher: &Searcher, query: &dyn Query, f: Fields) -> tantivy::Result<SnippetGenerator> {
    let mut terms = BTreeMap::new();
    let mut wanted = Vec::new();
    query.query_terms(&mut |term, _| {
        if term.field() == f.content {
            wanted.push(term.clone());
        }
    });
    for term in wanted {
        let Some(text) = term.value().as_str().map(str::to_string) else {
            continue;
        };
        let doc_freq = searcher.doc_freq(&term)?;
        if doc_freq > 0 {
            terms.insert(text, 1.0 / (1.0 + doc_freq as f32));
        }
    }
    // The stored text is analysed as `content`, where its terms were indexed.
    let tokenizer = searcher.index().tokenizer_for_field(f.content)?;
    Ok(SnippetGenerator::new(terms, tokenizer, f.body, SNIPPET_CHARS))
}

/// How far a snippet may reach beyond tantivy's fragment to start or end at a sentence or line.
const SNIPPET_SLACK: usize = 80;

/// The snippet text and its highlight ranges: tantivy's best fragment, widened to sentence or
/// line boundaries when they are near, with an ellipsis where it cuts the passage.
fn excerpt(text: &str, snippet: &tantivy::snippet::Snippet) -> (String, Vec<[usize; 2]>) {
    if snippet.is_empty() {
        return (lead(text, SNIPPET_CHARS), Vec::new());
    }
    let range = snippet.fragment_range();
    let window_start = floor_char_boundary(text, range.start.saturating_sub(SNIPPET_SLACK));
    let start = text[window_start..range.start]
        .rmatch_indices(['\n', '.', '!', '?', ':'])
        .find(|&(i, mark)| ends_clause(text, window_start + i, mark))
        .map_or(range.start, |(i, _)| window_start + i + 1);
    let window_end = ceil_char_boundary(text, (range.end + SNIPPET_SLACK).min(text.len()));
    let end = text[range.end..window_end]
        .match_indices(['\n', '.', '!', '?'])
        .find(|&(i, mark)| ends_clause(text, range.end + i, mark))
        .map_or(range.end, |(i, mark)| {
            let stop = range.end + i;
            if mark == "\n" { stop } else { stop + 1 }
        });
    let body = text[start..end].trim();
    let body_start = start + (text[start..end].len() - text[start..end].trim_start().len());
    let open = if body_start > 0 { ELLIPSIS } else { "" };
    let close = if body_start + body.len() < text.trim_end().len() {
        ELLIPSIS
    } else {
        ""
    };
    let shift = |offset: usize| range.start + offset - body_start + open.len();
    let highlights = snippet
        .highlighted()
        .iter()
        .map(|r| [shift(r.start), shift(r.end)])
        .collect();
    (format!("{open}{body}{close}"), highlights)
}

/// Whether the `mark` at byte `at` of `text` ends a line, or a sentence or clause: punctuation
/// counts only before white space, so `3.5`, `e.g` or `asyncio.run` is not cut.
fn ends_clause(text: &str, at: usize, mark: &str) -> bool {
    mark == "\n"
        || text[at + mark.len()..]
            .chars()
            .next()
            .is_none_or(char::is_whitespace)
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

fn ceil_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index += 1;
    }
    index
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
    fn lead_cuts_at_words() {
        assert_eq!(lead("one two three", 100), "one two three");
        assert_eq!(lead("one two three", 9), "one two…");
    }

    #[test]
    fn snippets_end_at_clauses_not_at_dots_inside_words() {
        let code = "call asyncio.run(main) at 3.5 s";
        assert!(!ends_clause(code, code.find('.').unwrap(), "."));
        assert!(!ends_clause(code, code.rfind('.').unwrap(), "."));
        assert!(ends_clause("It works. Then", 8, "."));
        assert!(ends_clause("The end.", 7, "."));
        assert!(ends_clause("line\nnext", 4, "\n"));
    }
}
