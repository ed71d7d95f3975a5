//! The tools the MCP server offers: their names, descriptions and argument schemas as an
//! assistant reads them, the checking of a call's arguments, and each tool's answer, computed
//! from one index snapshot by the library. A call the server cannot run (an unknown tool, bad
//! arguments) is refused with a protocol error naming the problem.

use std::collections::BTreeMap;
use std::fmt::Display;

use citedex::catalog::{DocumentLink, SourceInfo};
use citedex::document::Kind;
use citedex::{Index, Query, SearchOptions, StoredPassage};
use rmcp::ErrorData;
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Most passages one `search` call returns: each is up to a few hundred words of an assistant's
/// context.
const MAX_SEARCH_LIMIT: usize = 50;
/// Passages `search` returns when the call does not say.
const DEFAULT_SEARCH_LIMIT: usize = 10;
/// Most passages `show` adds on each side of the one asked for.
const MAX_CONTEXT: usize = 10;
/// Passages `show` adds on each side when the call does not say.
const DEFAULT_CONTEXT: usize = 2;
/// Most documents one `sources` call lists: a large index is listed a page at a time.
const MAX_SOURCES_LIMIT: usize = 500;
/// Documents `sources` lists when the call does not say.
const DEFAULT_SOURCES_LIMIT: usize = 100;

/// What the server tells an assistant about itself when it connects.
pub const INSTRUCTIONS: &str = "citedex searches a local index of articles and the sources they \
cite. `search` finds passages; each comes with its source (title, publisher, date, URL), its \
section and the articles that cite it, so answers can cite where each claim comes from. `show` \
reads around a passage, `sources` lists the documents and their citations, `status` says what \
the index holds.";

/// Arguments of `search`.
#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArguments {
    /// Words to search for, ranked by relevance (word forms match: "numb" finds "numbness").
    /// Also: "exact phrase", -excluded, a OR b, prefix*. At most 1,000 characters.
    #[schemars(length(min = 1, max = citedex::MAX_QUERY_CHARS))]
    query: String,
    /// How many passages to return, best first.
    #[serde(default = "default_search_limit")]
    #[schemars(range(min = 1, max = MAX_SEARCH_LIMIT))]
    limit: usize,
    /// Only passages of articles (documents that cite sources) or only of the sources they cite.
    kind: Option<KindFilter>,
    /// Only passages of documents whose title holds these words, in this order.
    source: Option<String>,
    /// Only passages under a heading that holds these words, in this order.
    section: Option<String>,
    /// Only passages of documents whose publisher's name holds these words, in this order.
    publisher: Option<String>,
}

/// The `kind` filter's values.
#[derive(Debug, Clone, Copy, serde::Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
enum KindFilter {
    /// Documents with a reference list, citing others.
    Article,
    /// Documents that articles cite.
    Source,
}

impl From<KindFilter> for Kind {
    fn from(filter: KindFilter) -> Kind {
        match filter {
            KindFilter::Article => Kind::Article,
            KindFilter::Source => Kind::Source,
        }
    }
}

/// Arguments of `show`.
#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowArguments {
    /// A passage id as `search` returns it, such as "corpus/sources/numbness-mayo-clinic.md#4",
    /// or a line of a document as "path:LINE".
    id: String,
    /// How many passages of the same section to add before it and after it.
    #[serde(default = "default_context")]
    #[schemars(range(max = MAX_CONTEXT))]
    context: usize,
}

/// Arguments of `sources`.
#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourcesArguments {
    /// How many documents to skip, in path order: the `next_offset` of the page before.
    #[serde(default)]
    offset: usize,
    /// How many documents to list.
    #[serde(default = "default_sources_limit")]
    #[schemars(range(min = 1, max = MAX_SOURCES_LIMIT))]
    limit: usize,
}

/// Arguments of the tools that take none.
#[derive(Debug, serde::Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

fn default_search_limit() -> usize {
    DEFAULT_SEARCH_LIMIT
}

fn default_context() -> usize {
    DEFAULT_CONTEXT
}

fn default_sources_limit() -> usize {
    DEFAULT_SOURCES_LIMIT
}

/// A tool call whose arguments have been read and checked.
#[derive(Debug)]
pub enum Call {
    /// Ranked passages for a query.
    Search(SearchArguments),
    /// A passage with its neighbours.
    Show(ShowArguments),
    /// The documents and their citation links.
    Sources(SourcesArguments),
    /// What the index holds.
    Status,
}

/// The tools, as `tools/list` shows them.
pub fn list() -> Vec<Tool> {
    let tool = |name: &'static str, title: &str, description: &'static str| {
        Tool::new(name, description, JsonObject::new()).annotate(
            ToolAnnotations::with_title(title)
                .read_only(true)
                .idempotent(true)
                .open_world(false),
        )
    };
    vec![
        tool(
            "search",
            "Search the knowledge base",
            "Search the indexed articles and the sources they cite. Returns the best passages, \
             best first, each with: `id` (pass it to `show` to read around it), `text` (the whole \
             passage), `section` (its heading path, outermost first), `source` (the document's \
             title, path, kind, publisher, date and url), `cited_by` (the articles that cite that \
             document), `page` for PDFs, `rank` and `score`; and `total_hits` and `notes` (how \
             the query was read, such as a corrected typo). Cite a passage by its source and \
             section. Filters narrow the results to a kind of document, a title, a heading or a \
             publisher.",
        )
        .with_input_schema::<SearchArguments>(),
        tool(
            "show",
            "Read around a passage",
            "The passage with this id (from `search`, or `path:LINE` for the passage at a line of \
             a document) and up to `context` passages of the same \
             section before and after it, in order, with `heading_path` (the document title, then \
             the section's headings) and each passage's source and citing articles. Use it to \
             read a result in its context before quoting it.",
        )
        .with_input_schema::<ShowArguments>(),
        tool(
            "sources",
            "List the documents and their citations",
            "The indexed documents, in path order, a page at a time: each with its title, path, \
             kind, publisher, date, url, authors and number of passages, `cites` (the indexed \
             documents its references name), `cited_by` (the articles that cite it) and \
             `unmatched` (its references that name no indexed document). `total` counts the \
             documents; `next_offset`, when present, is the `offset` of the next page.",
        )
        .with_input_schema::<SourcesArguments>(),
        tool(
            "status",
            "Describe the index",
            "What the index holds: `dir` (the index folder), `roots` (the corpus folders it was \
             built from), `documents` and `passages` counts, `documents_with_publisher`, \
             `committed_at` (when it was last \
             built or updated, in seconds since 1970), `schema_version`, `written_by` (the \
             citedex release) and `bytes` on disk.",
        )
        .with_input_schema::<NoArguments>(),
    ]
}

impl Call {
    /// Reads a call of the tool `name`; an unknown tool or arguments that do not fit its schema
    /// or its limits are refused.
    pub fn parse(name: &str, arguments: JsonObject) -> Result<Call, ErrorData> {
        let call = match name {
            "search" => Call::Search(arguments_of(name, arguments)?),
            "show" => Call::Show(arguments_of(name, arguments)?),
            "sources" => Call::Sources(arguments_of(name, arguments)?),
            "status" => arguments_of::<NoArguments>(name, arguments).map(|_| Call::Status)?,
            unknown => {
                return Err(refuse(format_args!(
                    "unknown tool {unknown:?}; the tools are search, show, sources and status"
                )));
            }
        };
        match &call {
            Call::Search(search) if !(1..=MAX_SEARCH_LIMIT).contains(&search.limit) => {
                Err(refuse(format_args!(
                    "limit must be between 1 and {MAX_SEARCH_LIMIT}, not {}",
                    search.limit
                )))
            }
            Call::Show(show) if show.context > MAX_CONTEXT => Err(refuse(format_args!(
                "context must be between 0 and {MAX_CONTEXT}, not {}",
                show.context
            ))),
            Call::Sources(sources) if !(1..=MAX_SOURCES_LIMIT).contains(&sources.limit) => {
                Err(refuse(format_args!(
                    "limit must be between 1 and {MAX_SOURCES_LIMIT}, not {}",
                    sources.limit
                )))
            }
            _ => Ok(call),
        }
    }

    /// Answers the call from `index`.
    pub fn answer(&self, index: &Index) -> Result<CallToolResult, ErrorData> {
        match self {
            Call::Search(arguments) => search(index, arguments),
            Call::Show(arguments) => show(index, arguments),
            Call::Sources(arguments) => sources(index, arguments),
            Call::Status => answer(&index.status().map_err(failed)?),
        }
    }
}

/// Reads a tool's arguments into their type; a missing, unknown or mistyped field is refused.
fn arguments_of<T: DeserializeOwned>(tool: &str, arguments: JsonObject) -> Result<T, ErrorData> {
    serde_json::from_value(Value::Object(arguments))
        .map_err(|error| refuse(format_args!("bad arguments for {tool}: {error}")))
}

/// A refused call: the protocol's "invalid params" error with `message`.
fn refuse(message: impl Display) -> ErrorData {
    ErrorData::invalid_params(message.to_string(), None)
}

/// An index that could not be read: the protocol's "internal error", with every cause.
fn failed(error: impl Into<anyhow::Error>) -> ErrorData {
    ErrorData::internal_error(format!("{:#}", error.into()), None)
}

/// A tool's answer: `value` as JSON text, its fields in the order they are declared, for clients
/// that read only text, and as structured content read back from that text, so that both carry
/// the very same numbers.
fn answer(value: &impl Serialize) -> Result<CallToolResult, ErrorData> {
    let text = serde_json::to_string(value).map_err(failed)?;
    let mut result = CallToolResult::structured(serde_json::from_str(&text).map_err(failed)?);
    result.content = vec![ContentBlock::text(text)];
    Ok(result)
}

/// One passage of a `search` answer: its rank and score beside everything the index stores
/// about it (line numbers too, once passages carry them).
#[derive(Serialize)]
struct Found<'a> {
    rank: usize,
    score: f32,
    #[serde(flatten)]
    passage: &'a StoredPassage,
}

/// The `search` answer.
#[derive(Serialize)]
struct SearchAnswer<'a> {
    query: &'a str,
    total_hits: usize,
    results: Vec<Found<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

fn search(index: &Index, arguments: &SearchArguments) -> Result<CallToolResult, ErrorData> {
    Query::parse(&arguments.query).map_err(refuse)?;
    let text = filtered_query(arguments)?;
    let query = Query::parse(&text).map_err(|error| refuse(format_args!("with its filters, {error}")))?;
    let options = SearchOptions {
        limit: arguments.limit,
        explain: false,
    };
    let results = index.search(&query, &options).map_err(refuse_or_fail)?;
    answer(&SearchAnswer {
        query: &text,
        total_hits: results.total_hits,
        results: results
            .results
            .iter()
            .map(|hit| Found {
                rank: hit.rank,
                score: hit.score,
                passage: &hit.passage,
            })
            .collect(),
        notes: &results.notes,
    })
}

/// A query the index refuses is the caller's to fix; any other failure is the index's.
fn refuse_or_fail(error: citedex::SearchError) -> ErrorData {
    match error {
        citedex::SearchError::Query { .. } => refuse(error),
        citedex::SearchError::Index(error) => failed(error),
    }
}

/// The query with the call's filters as field clauses in front. Each value is quoted, so it is
/// searched as a phrase and can carry no syntax; the filters come first, so an unclosed quote or
/// parenthesis in the query cannot take them in; and a query with `AND` or `OR` is grouped, as
/// the library reads a top-level `AND`/`OR` as logic over every clause, filters included.
fn filtered_query(arguments: &SearchArguments) -> Result<String, ErrorData> {
    let mut clauses = Vec::new();
    if let Some(kind) = arguments.kind {
        clauses.push(format!("kind:{}", Kind::from(kind).as_str()));
    }
    for (field, value) in [
        ("source", &arguments.source),
        ("section", &arguments.section),
        ("publisher", &arguments.publisher),
    ] {
        if let Some(value) = value {
            clauses.push(format!("{field}:\"{}\"", phrase(field, value)?));
        }
    }
    let query = arguments.query.trim();
    let has_logic = query.split_whitespace().any(|word| matches!(word, "AND" | "OR"));
    if has_logic && !clauses.is_empty() {
        clauses.push(format!("({query})"));
    } else {
        clauses.push(query.to_string());
    }
    Ok(clauses.join(" "))
}

/// A filter value as the words of a phrase: quotes and backslashes, which would end or escape
/// the phrase, become spaces (the index splits words at them anyway).
fn phrase(field: &str, value: &str) -> Result<String, ErrorData> {
    let cleaned = value.replace(['"', '\\'], " ");
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    if !words.iter().any(|word| word.chars().any(char::is_alphanumeric)) {
        return Err(refuse(format_args!(
            "the {field} filter {value:?} has no words to match"
        )));
    }
    Ok(words.join(" "))
}

fn show(index: &Index, arguments: &ShowArguments) -> Result<CallToolResult, ErrorData> {
    let found = index
        .passage_in_context(&arguments.id, arguments.context)
        .map_err(failed)?
        .ok_or_else(|| {
            refuse(format_args!(
                "no passage {:?} in the index (ids look like path#number, as search returns them; \
                 the index may have changed since, so search again)",
                arguments.id
            ))
        })?;
    // The answer of `citedex show --json`.
    answer(&crate::render::Shown::new(&found))
}

/// One document of the `sources` answer.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    source: &'a SourceInfo,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    authors: &'a [String],
    passages: usize,
    cites: Vec<DocumentLink>,
    cited_by: &'a [DocumentLink],
    /// The document's references, and cited keys, that name no indexed document.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unmatched: Vec<String>,
}

/// The `sources` answer: one page of the documents, in path order.
#[derive(Serialize)]
struct SourcesAnswer<'a> {
    /// Documents in the index.
    total: usize,
    offset: usize,
    /// The offset of the next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_offset: Option<usize>,
    documents: Vec<Listed<'a>>,
}

fn sources(index: &Index, arguments: &SourcesArguments) -> Result<CallToolResult, ErrorData> {
    let catalog = index.catalog().map_err(failed)?;
    // The catalog keeps each link on the cited side: a document cites those it is cited by.
    let mut cites: BTreeMap<&str, Vec<DocumentLink>> = BTreeMap::new();
    for cited in &catalog.documents {
        for citing in &cited.cited_by {
            cites.entry(&citing.path).or_default().push(DocumentLink {
                title: cited.source.title.clone(),
                path: cited.source.path.clone(),
            });
        }
    }
    let mut unmatched: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (entry, reference) in catalog.missing_references() {
        let text = reference.cited.reference.text.clone();
        unmatched.entry(&entry.source.path).or_default().push(text);
    }
    for (path, key) in catalog.unknown_keys() {
        unmatched
            .entry(path)
            .or_default()
            .push(format!("cites key {key:?}"));
    }
    let total = catalog.documents.len();
    let end = arguments.offset.saturating_add(arguments.limit).min(total);
    let documents = catalog.documents.get(arguments.offset..end).unwrap_or_default();
    answer(&SourcesAnswer {
        total,
        offset: arguments.offset,
        next_offset: (end < total).then_some(end),
        documents: documents
            .iter()
            .map(|entry| Listed {
                source: &entry.source,
                authors: &entry.authors,
                passages: entry.passages,
                cites: cites.remove(entry.source.path.as_str()).unwrap_or_default(),
                cited_by: &entry.cited_by,
                unmatched: unmatched.remove(entry.source.path.as_str()).unwrap_or_default(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search_call(arguments: Value) -> Result<SearchArguments, ErrorData> {
        let Value::Object(arguments) = arguments else {
            panic!("arguments are an object");
        };
        match Call::parse("search", arguments)? {
            Call::Search(search) => Ok(search),
            other => panic!("{other:?}"),
        }
    }

    fn composed(arguments: Value) -> String {
        filtered_query(&search_call(arguments).unwrap()).unwrap()
    }

    #[test]
    fn filters_come_first_as_quoted_phrases() {
        assert_eq!(
            composed(serde_json::json!({
                "query": "numbness \"pins and",
                "kind": "source",
                "source": "Say \"hi\" \\ (there)",
                "section": "Nerve-Related Causes",
                "publisher": "mayo"
            })),
            "kind:source source:\"Say hi (there)\" section:\"Nerve-Related Causes\" \
             publisher:\"mayo\" numbness \"pins and"
        );
        assert_eq!(composed(serde_json::json!({"query": " legs "})), "legs");
    }

    #[test]
    fn a_query_with_its_own_logic_is_grouped_beside_filters() {
        assert_eq!(
            composed(serde_json::json!({"query": "sciatica OR disc", "kind": "article"})),
            "kind:article (sciatica OR disc)"
        );
        assert_eq!(
            composed(serde_json::json!({"query": "sciatica OR disc"})),
            "sciatica OR disc"
        );
    }

    #[test]
    fn bad_calls_are_refused_with_the_reason() {
        let refused = |name: &str, arguments: Value| {
            let Value::Object(arguments) = arguments else {
                panic!("arguments are an object");
            };
            Call::parse(name, arguments).unwrap_err().message.into_owned()
        };
        let message = refused("frobnicate", serde_json::json!({}));
        assert!(message.contains("unknown tool \"frobnicate\""), "{message}");
        let message = refused("search", serde_json::json!({"query": "legs", "limit": 51}));
        assert_eq!(message, "limit must be between 1 and 50, not 51");
        let message = refused("search", serde_json::json!({"query": "legs", "limit": 0}));
        assert_eq!(message, "limit must be between 1 and 50, not 0");
        let message = refused("search", serde_json::json!({"limit": 3}));
        assert!(message.contains("missing field `query`"), "{message}");
        let message = refused("search", serde_json::json!({"query": "legs", "kind": "book"}));
        assert!(message.contains("unknown variant `book`"), "{message}");
        let message = refused("show", serde_json::json!({"id": "a.md#1", "context": 11}));
        assert_eq!(message, "context must be between 0 and 10, not 11");
        let message = refused("sources", serde_json::json!({"limit": 501}));
        assert_eq!(message, "limit must be between 1 and 500, not 501");
        let message = refused("status", serde_json::json!({"verbose": true}));
        assert!(message.contains("unknown field `verbose`"), "{message}");
        let filter = search_call(serde_json::json!({"query": "legs", "section": " \"-\" "})).unwrap();
        let message = filtered_query(&filter).unwrap_err().message.into_owned();
        assert!(message.contains("section filter"), "{message}");
    }

    #[test]
    fn every_tool_lists_an_object_schema() {
        let tools = list();
        let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        assert_eq!(names, ["search", "show", "sources", "status"]);
        for tool in &tools {
            assert_eq!(tool.input_schema.get("type"), Some(&Value::from("object")));
        }
        let search = &tools[0].input_schema["properties"];
        assert_eq!(search["limit"]["maximum"], Value::from(MAX_SEARCH_LIMIT));
        assert_eq!(
            search["query"]["maxLength"],
            Value::from(citedex::MAX_QUERY_CHARS)
        );
    }
}
