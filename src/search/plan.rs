//! A query text turned into the tantivy clauses whose scores add up to a passage's own score:
//! the parsed query over the ranked fields, abbreviation expansions as weaker alternatives and,
//! for plain words, one proximity bonus per pair of consecutive words; and the terms that
//! [`scoring`] weighs beyond that (whole documents, words every passage should hold). Scores use
//! BM25 statistics over passages only, as the index also holds document records and
//! abbreviations.

use rustc_hash::FxHashSet;
use tantivy::collector::Collector;
use tantivy::query::{
    Bm25StatisticsProvider, Bm25Weight, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur,
    PhraseQuery, Query, QueryParser, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Searcher, Term};

use super::collect::Collected;
use super::query::{self, Shape};
use super::scoring::{self, Scores, Terms};
use super::{Note, SearchError, vocabulary};
use crate::index::Index;
use crate::index::schema::EntryKind;

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
/// Weight of an abbreviation's expansion next to the words typed: an abbreviation learnt from one
/// document may mean something else in another ("AMP"), so the expansion finds more passages
/// without outranking the typed words.
const EXPANSION_WEIGHT: f32 = 0.5;
/// Function words: a passage need not hold them to hold every word of the query.
const STOP_WORDS: &str = "a an and are as at be but by can did do does for from has have how if in into is \
    it its no not of on or such that the their then there these they this to was were what when where \
    which who why will with";

/// The clauses of one query text.
pub(super) struct Plan {
    /// The clauses whose scores add up to a passage's score: first the query itself (its
    /// filters scoring nothing), which says what matches, then one proximity bonus per pair of
    /// consecutive plain words, which only adds to it.
    pub(super) clauses: Vec<Box<dyn Query>>,
    /// The part of the query that ranks (no filters, no exclusions), for snippets.
    ranked: Box<dyn Query>,
    /// The pairs of consecutive plain words the proximity bonuses are for, in clause order.
    proximity: Vec<[Term; 2]>,
    /// The terms the final scores look at.
    pub(super) terms: Terms,
}

impl Plan {
    /// Plans a query already rewritten, with its prefixes expanded and split into its `shape`;
    /// what was done on the way (abbreviations added, a syntax error worked around) goes to
    /// `notes`. Filters restrict the results and score nothing; a query of exclusions alone
    /// finds every passage without them.
    pub(super) fn new(index: &Index, shape: &Shape, notes: &mut Vec<Note>) -> Plan {
        let parser = query_parser(index);
        let plain = query::is_plain(&shape.body);
        let words = query::words(&shape.body);
        let (typed, ranked): (Box<dyn Query>, Box<dyn Query>) = if shape.body.trim().is_empty() {
            let every_passage = Term::from_field_text(index.fields.entry, EntryKind::Passage.as_str());
            let every_passage: Box<dyn Query> = Box::new(ConstScoreQuery::new(
                Box::new(TermQuery::new(every_passage, IndexRecordOption::Basic)),
                0.0,
            ));
            (every_passage.box_clone(), every_passage)
        } else if plain {
            // Plain words, and the abbreviations they expand to as weaker alternatives, as one
            // flat union of clauses.
            let typed = flat_words(index, shape.body.split_whitespace(), 1.0);
            let mut all: Vec<Box<dyn Query>> = typed.iter().map(|clause| clause.box_clone()).collect();
            for addition in vocabulary::abbreviation_expansions(index, &words) {
                // A long form comes quoted, as one phrase; a short form is one word.
                let phrase = addition.trim_matches('"');
                all.extend(flat_words(index, [phrase], EXPANSION_WEIGHT));
                notes.push(Note::Expanded { addition });
            }
            (union(typed), union(all))
        } else {
            let typed = parse(&parser, &shape.body, notes);
            (typed.box_clone(), typed)
        };
        let main: Box<dyn Query> = if shape.filters.is_empty() && shape.exclusions.is_empty() {
            ranked.box_clone()
        } else {
            let mut parts = vec![(Occur::Must, ranked.box_clone())];
            for filter in &shape.filters {
                let filter = parse(&parser, filter, notes);
                parts.push((Occur::Must, Box::new(ConstScoreQuery::new(filter, 0.0))));
            }
            for excluded in &shape.exclusions {
                parts.push((Occur::MustNot, parse(&parser, excluded, notes)));
            }
            Box::new(BooleanQuery::new(parts))
        };
        let proximity = if plain {
            proximity_pairs(index, &words.join(" "))
        } else {
            Vec::new()
        };
        let mut clauses = vec![main];
        clauses.extend(proximity.iter().map(proximity_clause));
        let terms = scoring_terms(index, &*typed, shape, plain.then_some(words.as_slice()));
        Plan {
            clauses,
            ranked,
            proximity,
            terms,
        }
    }

    /// Runs the query itself with `collector`, scoring with passage statistics; the bonuses are
    /// added by [`Plan::score`], to the passages that can reach the top.
    pub(super) fn search<C: Collector>(&self, index: &Index, collector: &C) -> tantivy::Result<C::Fruit> {
        let statistics = PassageStatistics::of(index)?;
        index
            .searcher
            .search_with_statistics_provider(&*self.clauses[0], collector, &statistics)
    }

    /// The weight of each clause, scoring with passage statistics.
    pub(super) fn weights(&self, index: &Index) -> tantivy::Result<Vec<Box<dyn Weight>>> {
        weights_of(index, &PassageStatistics::of(index)?, &self.clauses)
    }

    /// The final scores of the passages the plan matched, computed as they are asked for.
    pub(super) fn score<'a>(&self, index: &'a Index, matches: Collected) -> tantivy::Result<Scores<'a>> {
        let statistics = PassageStatistics::of(index)?;
        let bonuses = weights_of(index, &statistics, &self.clauses[1..])?;
        let mut bonus_bound = 0.0;
        for pair in &self.proximity {
            // A BM25 score never reaches its weight: the frequency factor stays below 1.
            let weight = Bm25Weight::for_terms(&statistics, pair)?.boost_by(PROXIMITY_BOOST);
            bonus_bound += weight.score(0, u32::MAX);
        }
        scoring::score(index, &self.terms, matches, bonuses, bonus_bound)
    }

    /// The terms the plan ranks by in `field` (not those it filters or excludes by).
    pub(super) fn terms_in(&self, field: Field) -> Vec<Term> {
        let mut terms = Vec::new();
        self.ranked.query_terms(&mut |term, _| {
            if term.field() == field {
                terms.push(term.clone());
            }
        });
        terms
    }
}

/// The weights of `clauses`, scoring with passage `statistics`.
fn weights_of(
    index: &Index,
    statistics: &PassageStatistics,
    clauses: &[Box<dyn Query>],
) -> tantivy::Result<Vec<Box<dyn Weight>>> {
    let scoring = EnableScoring::enabled_from_statistics_provider(statistics, &index.searcher);
    clauses.iter().map(|clause| clause.weight(scoring)).collect()
}

/// BM25 statistics over passages only: the document records and abbreviations stored beside
/// them hold no searched text, but would count as documents and shorten the average passage.
/// Like tantivy's own, the counts include deleted passages not yet merged away, so that a term's
/// document frequency never exceeds them.
struct PassageStatistics<'a> {
    searcher: &'a Searcher,
    passages: u64,
}

impl<'a> PassageStatistics<'a> {
    fn of(index: &'a Index) -> tantivy::Result<PassageStatistics<'a>> {
        let passages = index.searcher.doc_freq(&Term::from_field_text(
            index.fields.entry,
            EntryKind::Passage.as_str(),
        ))?;
        Ok(PassageStatistics {
            searcher: &index.searcher,
            passages,
        })
    }
}

impl Bm25StatisticsProvider for PassageStatistics<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        self.searcher.total_num_tokens(field)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.passages.max(1))
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.searcher.doc_freq(term)
    }
}

/// Replaces each `word*` with the indexed words it starts, as an `OR` group (tantivy's parser only
/// knows prefixes at the end of phrases); a prefix nothing starts with is left to match nothing.
pub(super) fn expand_prefixes(index: &Index, text: &str) -> Result<String, SearchError> {
    let mut expanded = String::with_capacity(text.len());
    let mut last = 0;
    for prefix in query::prefixes(text) {
        expanded.push_str(&text[last..prefix.range.start]);
        last = prefix.range.end;
        let field = match prefix.field {
            Some(name) => index.index.schema().get_field(name).ok(),
            None => Some(index.fields.content),
        };
        match field {
            // `field:*` is "has a value": every passage has its title, headings and kind, so it is
            // every passage (and not the records and abbreviations stored beside them).
            Some(_) if prefix.prefix.is_empty() => {
                expanded.push_str(&format!("entry:{}", EntryKind::Passage.as_str()));
            }
            Some(field) => {
                let terms = vocabulary::with_prefix(index, field, prefix.prefix)?;
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

/// The content terms the final scores look at: every one the query ranks by, which of them the
/// typed words make (and a passage should hold), and whether the query asks for the non-body
/// parts of documents.
fn scoring_terms(index: &Index, ranked: &dyn Query, shape: &Shape, words: Option<&[&str]>) -> Terms {
    let content = index.fields.content;
    let mut seen = FxHashSet::default();
    let mut terms = Vec::new();
    ranked.query_terms(&mut |term, _| {
        if term.field() == content && seen.insert(term.clone()) {
            terms.push(term.clone());
        }
    });
    let words = words.unwrap_or_default();
    let content_words: Vec<&str> = words
        .iter()
        .copied()
        .filter(|word| {
            !STOP_WORDS
                .split_whitespace()
                .any(|stop| stop.eq_ignore_ascii_case(word))
        })
        .collect();
    let wanted: FxHashSet<String> = vocabulary::analyze(index, &content_words.join(" "))
        .into_iter()
        .collect();
    let required = terms
        .iter()
        .enumerate()
        .filter(|(_, term)| {
            term.value().as_str().is_some_and(|text| wanted.contains(text))
                && index.searcher.doc_freq(term).is_ok_and(|df| df > 0)
        })
        .map(|(i, _)| i)
        .collect();
    let mut typed = vocabulary::analyze(index, &words.join(" "));
    typed.sort_unstable();
    typed.dedup();
    Terms {
        weights: vec![1.0; terms.len()],
        ranked: terms,
        required,
        targets_parts: shape.filters.iter().any(|filter| filter.starts_with("role:")),
        typed,
    }
}

/// The content terms of a text's words, each weighted by how often it occurs there.
pub(super) fn word_terms(index: &Index, text: &str) -> Terms {
    let mut terms = Terms::default();
    for stem in vocabulary::analyze(index, &query::plain_words(text)) {
        let term = Term::from_field_text(index.fields.content, &stem);
        match terms.ranked.iter().position(|known| *known == term) {
            Some(at) => terms.weights[at] += 1.0,
            None => {
                terms.ranked.push(term);
                terms.weights.push(1.0);
            }
        }
    }
    terms
}

/// The ranked fields and their weights: `content` holds the title, headings and text together,
/// and the separate heading fields add a little for passages whose own headings name the query.
fn ranked_fields(index: &Index) -> Vec<(Field, f32)> {
    let f = index.fields;
    let mut fields = vec![
        (f.content, 1.0),
        (f.title, TITLE_BOOST),
        (f.section, SECTION_BOOST),
    ];
    if index.has_publishers() {
        fields.push((f.publisher, PUBLISHER_BOOST));
    }
    fields
}

/// The parser over the ranked fields, for queries with syntax.
fn query_parser(index: &Index) -> QueryParser {
    let fields = ranked_fields(index);
    let mut parser = QueryParser::for_index(&index.index, fields.iter().map(|&(field, _)| field).collect());
    for (field, boost) in fields {
        parser.set_field_boost(field, boost);
    }
    parser
}

/// The clauses the query parser makes of plain words or phrases, each in each ranked field (a
/// term, or a phrase where the analyzer makes several terms of it), weighted by the field's
/// boost times `weight`; kept flat rather than nested per word, which tantivy unions faster.
fn flat_words<'a>(
    index: &Index,
    words: impl IntoIterator<Item = &'a str>,
    weight: f32,
) -> Vec<Box<dyn Query>> {
    let mut clauses = Vec::new();
    let mut analyzers: Vec<_> = ranked_fields(index)
        .into_iter()
        .filter_map(|(field, boost)| Some((field, boost, index.index.tokenizer_for_field(field).ok()?)))
        .collect();
    let mut seen = FxHashSet::default();
    for word in words.into_iter().filter(|word| seen.insert(*word)) {
        for (field, boost, analyzer) in &mut analyzers {
            let mut terms: Vec<(usize, Term)> = Vec::new();
            analyzer.token_stream(word).process(&mut |token| {
                terms.push((token.position, Term::from_field_text(*field, &token.text)))
            });
            let clause: Box<dyn Query> = match terms.len() {
                0 => continue,
                1 => Box::new(TermQuery::new(terms.remove(0).1, IndexRecordOption::WithFreqs)),
                _ => Box::new(PhraseQuery::new_with_offset(terms)),
            };
            let boost = *boost * weight;
            clauses.push(if boost == 1.0 {
                clause
            } else {
                Box::new(BoostQuery::new(clause, boost))
            });
        }
    }
    clauses
}

/// Clauses any of which may match, as one query.
fn union(clauses: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        clauses
            .into_iter()
            .map(|clause| (Occur::Should, clause))
            .collect(),
    ))
}

/// Parses `text`; on a syntax error searches its plain words instead (usually a stray quote or
/// colon), and failing that reads it leniently, saying so in `notes`.
fn parse(parser: &QueryParser, text: &str, notes: &mut Vec<Note>) -> Box<dyn Query> {
    match parser.parse_query(text) {
        Ok(parsed) => parsed,
        Err(error) => {
            let words = query::plain_words(text);
            match parser.parse_query(&words) {
                Ok(parsed) if !words.is_empty() => {
                    notes.push(Note::PlainWords {
                        error: error.to_string(),
                        words,
                    });
                    parsed
                }
                _ => {
                    notes.push(Note::Lenient {
                        error: error.to_string(),
                    });
                    parser.parse_query_lenient(text).0
                }
            }
        }
    }
}

/// The pairs of consecutive query words that earn a proximity bonus.
fn proximity_pairs(index: &Index, words: &str) -> Vec<[Term; 2]> {
    let field = index.fields.content;
    let terms: Vec<Term> = vocabulary::analyze(index, words)
        .into_iter()
        .map(|stem| Term::from_field_text(field, &stem))
        .collect();
    terms
        .windows(2)
        .filter(|pair| pair[0] != pair[1])
        .map(|pair| [pair[0].clone(), pair[1].clone()])
        .collect()
}

/// The bonus clause of a pair of words, matching where they stand close.
fn proximity_clause(pair: &[Term; 2]) -> Box<dyn Query> {
    let phrase = PhraseQuery::new_with_offset_and_slop(
        vec![(0, pair[0].clone()), (1, pair[1].clone())],
        PROXIMITY_SLOP,
    );
    Box::new(BoostQuery::new(Box::new(phrase), PROXIMITY_BOOST))
}
