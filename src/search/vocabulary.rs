//! Lookups in the index vocabulary, each a walk of tantivy's term dictionary (an FST) that visits
//! only the terms it can match, never the whole vocabulary. Typo fallback: a query word the index
//! has never seen is replaced by the closest indexed word within a Levenshtein automaton's reach,
//! judged by its written form rather than its stem. Prefixes: `thromb*` becomes the indexed words
//! that start with it. Abbreviations: a word or run of words is looked up among those learnt.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap, FxHashSet};
use tantivy::collector::{DocSetCollector, TopDocs};
use tantivy::query::{FuzzyTermQuery, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{TantivyDocument, Term};

use super::SearchError;
use super::common_words::is_common;
use crate::index::{Index, stored};
use crate::references::normalize_name;

/// Most indexed words one prefix expands to; the commonest are kept.
const MAX_PREFIX_TERMS: usize = 64;
/// Candidate corrections whose written form is compared with the typed word, commonest first.
const MAX_CANDIDATES: usize = 8;
/// Longest long form, in words, looked up among the abbreviations.
const MAX_LONG_FORM_WORDS: usize = 8;

/// Edit distance allowed between a typed word of `chars` characters and its correction: none for
/// short words and one for middling ones, whose near neighbours are mostly other real words
/// ("cookies" is two edits from "look").
fn allowed_distance(chars: usize) -> usize {
    match chars {
        0..=3 => 0,
        4..=8 => 1,
        _ => 2,
    }
}

/// The terms the ranked field's analyzer makes of `text` (lower-cased, folded, stemmed).
pub(super) fn analyze(index: &Index, text: &str) -> Vec<String> {
    let mut analyzer = index
        .index
        .tokenizer_for_field(index.fields.content)
        .expect("the content field has an analyzer");
    let mut terms = Vec::new();
    analyzer
        .token_stream(text)
        .process(&mut |token| terms.push(token.text.clone()));
    terms
}

/// The words of `words` that occur in no passage.
pub(super) fn unknown(index: &Index, words: &[&str]) -> Result<Vec<String>, SearchError> {
    let mut missing = Vec::new();
    for word in words {
        let mut found = false;
        for stem in analyze(index, word) {
            let term = Term::from_field_text(index.fields.content, &stem);
            found |= index.searcher.doc_freq(&term).map_err(index.tantivy())? > 0;
        }
        if !found {
            missing.push(word.to_string());
        }
    }
    Ok(missing)
}

/// Corrects the unknown words of `words`; `None` when every word is known or none can be fixed.
pub(super) fn correct(index: &Index, words: &[&str]) -> Result<Option<Vec<String>>, SearchError> {
    let field = index.fields.content;
    let mut corrected = Vec::with_capacity(words.len());
    let mut changed = false;
    for word in words {
        let stems = analyze(index, word);
        let [stem] = stems.as_slice() else {
            corrected.push(word.to_string());
            continue;
        };
        let known = index
            .searcher
            .doc_freq(&Term::from_field_text(field, stem))
            .map_err(index.tantivy())?
            > 0;
        let correction = if known {
            None
        } else {
            closest_word(index, stem, word)?
        };
        changed |= correction.is_some();
        corrected.push(correction.unwrap_or_else(|| word.to_string()));
    }
    Ok(changed.then_some(corrected))
}

/// The indexed word nearest to `typed` (whose stem is `stem`): among the commonest terms near the
/// stem, the one whose written form is closest to what was typed, within the distance its length
/// allows; the commoner wins ties.
fn closest_word(index: &Index, stem: &str, typed: &str) -> Result<Option<String>, SearchError> {
    let allowed = allowed_distance(typed.chars().count());
    if allowed == 0 || is_common(&typed.to_lowercase()) {
        return Ok(None);
    }
    let field = index.fields.content;
    // A stem may differ from its word more than the word from its typo ("studies" is "studi"):
    // look one edit further among stems, and judge by written forms below. Transpositions count
    // as one edit ("memroy"); the automaton allows at most two.
    let reach = u8::try_from(allowed + 1).unwrap_or(2).min(2);
    let automaton = FuzzyTermQuery::new(Term::from_field_text(field, stem), reach, true)
        .automaton()
        .map_err(index.tantivy())?;
    let Some(initial) = stem.chars().next() else {
        return Ok(None);
    };
    let first = initial.to_string();
    let after_first =
        char::from_u32(u32::from(initial) + 1).map_or_else(|| "\u{10FFFF}".to_string(), String::from);
    let mut near: FxHashMap<String, u64> = FxHashMap::default();
    for segment in index.searcher.segment_readers() {
        let inverted = segment.inverted_index(field).map_err(index.tantivy())?;
        // Typos rarely touch a word's first letter; keeping it bounds the walk to the terms that
        // share it instead of much of the vocabulary.
        let mut stream = inverted
            .terms()
            .search(&automaton)
            .ge(first.as_bytes())
            .lt(after_first.as_bytes())
            .into_stream()
            .map_err(|error| index.tantivy()(error.into()))?;
        while stream.advance() {
            if let Ok(term) = std::str::from_utf8(stream.key()) {
                *near.entry(term.to_string()).or_default() += u64::from(stream.value().doc_freq);
            }
        }
    }
    let mut candidates: Vec<(String, u64)> = near.into_iter().collect();
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let typed: Vec<char> = typed.to_lowercase().chars().collect();
    let mut best: Option<(usize, String)> = None;
    for (term, _) in candidates.into_iter().take(MAX_CANDIDATES) {
        let Some((distance, surface)) = written_form(index, &term, &typed)? else {
            continue;
        };
        let acceptable = distance <= allowed && !is_common(&surface);
        if acceptable && best.as_ref().is_none_or(|(known, _)| distance < *known) {
            best = Some((distance, surface));
        }
    }
    Ok(best.map(|(_, surface)| surface))
}

/// The word, lower-cased, of the best passage holding `term` whose stem is `term` and that looks
/// most like what was typed ("numbness" rather than "numb" for "numbnes"), with its distance.
fn written_form(index: &Index, term: &str, typed: &[char]) -> Result<Option<(usize, String)>, SearchError> {
    let f = index.fields;
    let query = TermQuery::new(Term::from_field_text(f.content, term), IndexRecordOption::Basic);
    let top = index
        .searcher
        .search(&query, &TopDocs::with_limit(1).order_by_score())
        .map_err(index.tantivy())?;
    let Some((_, address)) = top.first() else {
        return Ok(None);
    };
    let stored: TantivyDocument = index.searcher.doc(*address).map_err(index.tantivy())?;
    // The ranked field also holds the title and headings, so the word may stand in any of them.
    let text = [f.body, f.title, f.section]
        .iter()
        .flat_map(|&field| stored.get_all(field).filter_map(|v| v.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    let mut analyzer = index
        .index
        .tokenizer_for_field(f.content)
        .map_err(index.tantivy())?;
    let mut best: Option<(usize, String)> = None;
    analyzer.token_stream(&text).process(&mut |token| {
        if token.text == term {
            let surface = text[token.offset_from..token.offset_to].to_lowercase();
            let distance = distance(typed, &surface);
            if best.as_ref().is_none_or(|(known, _)| distance < *known) {
                best = Some((distance, surface));
            }
        }
    });
    Ok(best)
}

/// The indexed terms of `field` that start with `prefix` (or with its stem, since the index holds
/// stems: `thrombosis*` must find `thrombosi`), commonest first.
pub(super) fn with_prefix(index: &Index, field: Field, prefix: &str) -> Result<Vec<String>, SearchError> {
    let lowered = prefix.to_lowercase();
    let mut starts = vec![lowered.clone()];
    starts.extend(analyze(index, &lowered));
    starts.sort();
    starts.dedup();
    // A start that extends another is covered by it; keeping both would count its terms twice.
    let starts: Vec<&String> = starts
        .iter()
        .filter(|start| {
            !starts
                .iter()
                .any(|other| other != *start && start.starts_with(other.as_str()))
        })
        .collect();
    let mut found: BTreeMap<String, u64> = BTreeMap::new();
    for segment in index.searcher.segment_readers() {
        let inverted = segment.inverted_index(field).map_err(index.tantivy())?;
        for start in &starts {
            let mut stream = inverted
                .terms()
                .range()
                .ge(String::as_bytes(start))
                .into_stream()
                .map_err(|error| index.tantivy()(error.into()))?;
            while stream.advance() && stream.key().starts_with(String::as_bytes(start)) {
                if let Ok(term) = std::str::from_utf8(stream.key()) {
                    *found.entry(term.to_string()).or_default() += u64::from(stream.value().doc_freq);
                }
            }
        }
    }
    let mut terms: Vec<(u64, String)> = found.into_iter().map(|(term, freq)| (freq, term)).collect();
    terms.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(terms
        .into_iter()
        .take(MAX_PREFIX_TERMS)
        .map(|(_, term)| term)
        .collect())
}

/// Extra query text for plain `words`: the long form of each abbreviation they use, as a phrase,
/// and the abbreviation of each long form they spell out, in the order of the short forms.
pub(super) fn abbreviation_expansions(index: &Index, words: &[&str]) -> Vec<String> {
    let f = index.fields;
    let lowered: Vec<String> = words.iter().map(|word| normalize_name(word)).collect();
    let spelled = format!(" {} ", lowered.join(" "));
    let mut additions: BTreeMap<String, String> = BTreeMap::new();
    let mut looked_up = FxHashSet::default();
    for word in words {
        let short = word.to_uppercase();
        if !may_abbreviate(word) || !looked_up.insert(short.clone()) {
            continue;
        }
        if let Some(long) = stored_beside(
            index,
            stored::abbreviation_term(f, f.short_form, &short),
            f.long_form,
        ) && !spelled.contains(&format!(" {long} "))
        {
            additions.insert(short, format!("\"{long}\""));
        }
    }
    for length in 1..=MAX_LONG_FORM_WORDS.min(lowered.len()) {
        for run in lowered.windows(length) {
            let long = run.join(" ");
            if let Some(short) = stored_beside(
                index,
                stored::abbreviation_term(f, f.long_form, &long),
                f.short_form,
            ) && !words.iter().any(|word| word.eq_ignore_ascii_case(&short))
            {
                additions.insert(short.clone(), short);
            }
        }
    }
    additions.into_values().collect()
}

/// Whether a typed word may stand for an abbreviation learnt from the corpus: one typed with
/// capitals after its first letter (`DVT`, `PrP`), or one that is no everyday English word
/// (`dvt`, but not `of` or `all`, which some paper abbreviates).
fn may_abbreviate(word: &str) -> bool {
    word.chars().skip(1).any(char::is_uppercase) || !is_common(&word.to_lowercase())
}

/// The value of `wanted` stored on the entries holding `term`, the least when several do (two
/// abbreviations of one long form), so that the answer never depends on how the index is split
/// into segments; lookups that fail count as no match, as expansions only help.
fn stored_beside(index: &Index, term: Term, wanted: Field) -> Option<String> {
    if index.searcher.doc_freq(&term).ok()? == 0 {
        return None;
    }
    let query = TermQuery::new(term, IndexRecordOption::Basic);
    let addresses = index.searcher.search(&query, &DocSetCollector).ok()?;
    addresses
        .into_iter()
        .filter_map(|address| {
            let stored: TantivyDocument = index.searcher.doc(address).ok()?;
            stored
                .get_first(wanted)
                .and_then(|value| value.as_str())
                .map(str::to_string)
        })
        .min()
}

/// Edit distance between `a` and `b` where swapping two neighbouring letters is one edit, as for
/// the automaton ("memroy" is one edit from "memory"): optimal string alignment.
fn distance(a: &[char], b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut rows: Vec<Vec<usize>> = vec![(0..=b.len()).collect()];
    for (i, ca) in a.iter().enumerate() {
        let mut row = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = rows[i][j] + usize::from(ca != cb);
            row[j + 1] = substitution.min(rows[i][j + 1] + 1).min(row[j] + 1);
            if i > 0 && j > 0 && *ca == b[j - 1] && a[i - 1] == *cb {
                row[j + 1] = row[j + 1].min(rows[i - 1][j - 1] + 1);
            }
        }
        rows.push(row);
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits_on_written_words() {
        let typed: Vec<char> = "willis".chars().collect();
        assert_eq!(distance(&typed, "will"), 2);
        assert_eq!(distance(&"numbnes".chars().collect::<Vec<_>>(), "numbness"), 1);
        assert_eq!(distance(&"memroy".chars().collect::<Vec<_>>(), "memory"), 1);
        assert_eq!(allowed_distance(6), 1);
        assert_eq!(allowed_distance(3), 0);
    }
}
