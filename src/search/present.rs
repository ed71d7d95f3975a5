//! Presenting ranked passages: for the passages that will be shown, and only those, read the
//! stored passage and its document's citation links, cut a snippet around the query terms with
//! their highlights, and explain the score on request.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tantivy::snippet::{Snippet, SnippetGenerator};
use tantivy::{TantivyDocument, Term};

use super::explain::{self, Explanation};
use super::{Note, Ranking, SearchError};
use crate::catalog::DocumentLink;
use crate::index::{Index, StoredPassage, guarded, read_passage};

/// Most results explained in one search: an explanation walks every clause of the query.
pub const MAX_EXPLAINED: usize = 100;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 240;
/// Marks a snippet that starts or ends inside its passage.
const ELLIPSIS: &str = "…";

/// How much to build for each presented passage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PresentOptions {
    /// Attach score explanations (to the first [`MAX_EXPLAINED`] passages).
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
    /// Score: the passage's BM25 and its document's (higher is better, within the two rules that
    /// come first).
    pub score: f32,
    /// The passage and where it comes from.
    #[serde(flatten)]
    pub passage: StoredPassage,
    /// The best-matching excerpt of the passage.
    pub snippet: String,
    /// Byte ranges of `snippet` that match query terms.
    pub highlights: Vec<[usize; 2]>,
    /// How the score was computed, when asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

impl Index {
    /// Builds the hits of every passage in `ranking`: the caller ranks as many as it will show.
    pub fn present(&self, ranking: &Ranking, options: &PresentOptions) -> Result<SearchResults, SearchError> {
        guarded(self.dir(), || self.present_hits(ranking, options))
    }

    fn present_hits(
        &self,
        ranking: &Ranking,
        options: &PresentOptions,
    ) -> Result<SearchResults, SearchError> {
        let snippets = self.snippet_generator(ranking)?;
        let mut notes = ranking.notes.clone();
        let explainer = if options.explain {
            if ranking.passages.len() > MAX_EXPLAINED {
                notes.push(Note::ExplainedFirst { count: MAX_EXPLAINED });
            }
            Some(explain::Explainer::new(self, &ranking.plan)?)
        } else {
            None
        };
        let mut cited_by: HashMap<String, Vec<DocumentLink>> = HashMap::new();
        let mut results = Vec::with_capacity(ranking.passages.len());
        for (position, ranked) in ranking.passages.iter().enumerate() {
            let stored: TantivyDocument = self.searcher.doc(ranked.address).map_err(self.tantivy())?;
            let mut passage = read_passage(self.fields, &stored);
            if !cited_by.contains_key(&passage.source.path) {
                let links = self
                    .record(&passage.source.path)?
                    .map(|entry| entry.cited_by)
                    .unwrap_or_default();
                cited_by.insert(passage.source.path.clone(), links);
            }
            passage.cited_by = cited_by[&passage.source.path].clone();
            let (snippet, highlights) = excerpt(&passage.text, &snippets.snippet(&passage.text));
            let explanation = match &explainer {
                Some(explainer) if position < MAX_EXPLAINED => {
                    Some(explainer.explain(ranked.address, &ranked.parts)?)
                }
                _ => None,
            };
            results.push(Hit {
                rank: position + 1,
                score: ranked.score,
                passage,
                snippet,
                highlights,
                explanation,
            });
        }
        Ok(SearchResults {
            query: ranking.query.clone(),
            total_hits: ranking.total_hits,
            results,
            notes: notes.iter().map(Note::to_string).collect(),
        })
    }

    /// A snippet generator over the stored passage text for the terms the query seeks in
    /// `content` (the field that holds that text for ranking), rarer terms weighing more.
    fn snippet_generator(&self, ranking: &Ranking) -> Result<SnippetGenerator, SearchError> {
        let f = self.fields;
        let mut terms = BTreeMap::new();
        for term in ranking.plan.terms_in(f.content) {
            let Some(text) = term.value().as_str().map(str::to_string) else {
                continue;
            };
            let doc_freq = self
                .searcher
                .doc_freq(&Term::from_field_text(f.content, &text))
                .map_err(self.tantivy())?;
            if doc_freq > 0 {
                terms.insert(text, 1.0 / (1.0 + doc_freq as f32));
            }
        }
        // The stored text is analysed as `content`, where its terms were indexed.
        let tokenizer = self
            .index
            .tokenizer_for_field(f.content)
            .map_err(self.tantivy())?;
        Ok(SnippetGenerator::new(terms, tokenizer, f.body, SNIPPET_CHARS))
    }
}

/// How far a snippet may reach beyond tantivy's fragment to start or end at a sentence or line.
const SNIPPET_SLACK: usize = 80;

/// The snippet text and its highlight ranges: tantivy's best fragment, widened to sentence or
/// line boundaries when they are near, with an ellipsis where it cuts the passage.
fn excerpt(text: &str, snippet: &Snippet) -> (String, Vec<[usize; 2]>) {
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
