//! Lookups in the index vocabulary. Typo fallback: a query word the index has never seen is
//! replaced by the closest indexed word (by edit distance, the more common word winning ties),
//! shown in a form that occurs in the text rather than as its stem. Prefixes: `thromb*` becomes
//! the indexed words that start with it.

use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{Searcher, TantivyDocument, Term};

/// Edit distance allowed for a word of `chars` characters: none for short words and one for
/// middling ones, whose near neighbours are mostly other real words ("cookies" is two edits
/// from "look").
fn allowed_distance(chars: usize) -> usize {
    match chars {
        0..=3 => 0,
        4..=8 => 1,
        _ => 2,
    }
}

/// Corrects the unknown words of `words`; `None` when every word is known or none can be fixed.
/// `field` is the ranked field whose vocabulary is searched; `text_fields` hold the stored text
/// in which a readable form of a corrected stem is looked for.
pub fn correct(
    searcher: &Searcher,
    field: Field,
    text_fields: &[Field],
    words: &[&str],
) -> tantivy::Result<Option<Vec<String>>> {
    let mut analyzer = searcher.index().tokenizer_for_field(field)?;
    let mut corrected = Vec::with_capacity(words.len());
    let mut changed = false;
    for word in words {
        let mut stems = Vec::new();
        analyzer
            .token_stream(word)
            .process(&mut |token| stems.push(token.text.clone()));
        let [stem] = stems.as_slice() else {
            corrected.push(word.to_string());
            continue;
        };
        if searcher.doc_freq(&Term::from_field_text(field, stem))? > 0 {
            corrected.push(word.to_string());
            continue;
        }
        match closest_term(searcher, field, stem, allowed_distance(word.chars().count()))? {
            Some(term) => {
                corrected.push(readable_form(searcher, field, text_fields, &term, word)?.unwrap_or(term));
                changed = true;
            }
            None => corrected.push(word.to_string()),
        }
    }
    Ok(changed.then_some(corrected))
}

/// The vocabulary term nearest to `stem` within `max_distance` edits, the commonest among equals.
fn closest_term(
    searcher: &Searcher,
    field: Field,
    stem: &str,
    max_distance: usize,
) -> tantivy::Result<Option<String>> {
    if max_distance == 0 {
        return Ok(None);
    }
    let target: Vec<char> = stem.chars().collect();
    let mut best: Option<(usize, std::cmp::Reverse<u32>, String)> = None;
    for_each_term(searcher, field, |term, doc_freq| {
        if term.len().abs_diff(stem.len()) > max_distance {
            return;
        }
        if let Some(distance) = bounded_levenshtein(&target, term, max_distance) {
            let candidate = (distance, std::cmp::Reverse(doc_freq), term.to_string());
            if best.as_ref().is_none_or(|known| candidate < *known) {
                best = Some(candidate);
            }
        }
    })?;
    Ok(best.map(|(_, _, term)| term))
}

/// The word of the best passage holding `term` whose stem is `term` and that looks most like what
/// was typed, lower-cased ("numbness" rather than "numb" for "numbnes").
fn readable_form(
    searcher: &Searcher,
    field: Field,
    text_fields: &[Field],
    term: &str,
    typed: &str,
) -> tantivy::Result<Option<String>> {
    let query = tantivy::query::TermQuery::new(Term::from_field_text(field, term), IndexRecordOption::Basic);
    let top = searcher.search(
        &query,
        &tantivy::collector::TopDocs::with_limit(1).order_by_score(),
    )?;
    let Some((_, address)) = top.first() else {
        return Ok(None);
    };
    let stored: TantivyDocument = searcher.doc(*address)?;
    // The ranked field also holds the title and headings, so the word may stand in any of them.
    let text: String = text_fields
        .iter()
        .flat_map(|&field| {
            stored
                .get_all(field)
                .filter_map(|v| v.as_str().map(str::to_string))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let text = text.as_str();
    let mut analyzer = searcher.index().tokenizer_for_field(field)?;
    let typed: Vec<char> = typed.to_lowercase().chars().collect();
    let mut best: Option<(usize, String)> = None;
    analyzer.token_stream(text).process(&mut |token| {
        if token.text == term {
            let surface = text[token.offset_from..token.offset_to].to_lowercase();
            let distance = bounded_levenshtein(&typed, &surface, usize::MAX).unwrap_or(usize::MAX);
            if best.as_ref().is_none_or(|(known, _)| distance < *known) {
                best = Some((distance, surface));
            }
        }
    });
    Ok(best.map(|(_, surface)| surface))
}

/// Most indexed words one prefix expands to; the commonest are kept.
const MAX_PREFIX_TERMS: usize = 64;

/// The indexed terms of `field` that start with `prefix` (or with its stem, since the index holds
/// stems: `thrombosis*` must find `thrombosi`), commonest first.
pub fn with_prefix(searcher: &Searcher, field: Field, prefix: &str) -> tantivy::Result<Vec<String>> {
    let mut analyzer = searcher.index().tokenizer_for_field(field)?;
    let lowered = prefix.to_lowercase();
    let mut starts = vec![lowered.clone()];
    analyzer
        .token_stream(&lowered)
        .process(&mut |token| starts.push(token.text.clone()));
    let mut found: std::collections::BTreeMap<String, u32> = std::collections::BTreeMap::new();
    for_each_term(searcher, field, |term, doc_freq| {
        if starts.iter().any(|start| term.starts_with(start.as_str())) {
            *found.entry(term.to_string()).or_default() += doc_freq;
        }
    })?;
    let mut terms: Vec<(u32, String)> = found.into_iter().map(|(term, freq)| (freq, term)).collect();
    terms.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(terms
        .into_iter()
        .take(MAX_PREFIX_TERMS)
        .map(|(_, term)| term)
        .collect())
}

/// Calls `visit` with every term of `field` in every segment, and its document frequency there.
fn for_each_term(searcher: &Searcher, field: Field, mut visit: impl FnMut(&str, u32)) -> tantivy::Result<()> {
    for segment in searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted.terms().stream()?;
        while stream.advance() {
            if let Ok(term) = std::str::from_utf8(stream.key()) {
                visit(term, stream.value().doc_freq);
            }
        }
    }
    Ok(())
}

/// Levenshtein distance between `a` and `b`, or `None` once it must exceed `max`.
fn bounded_levenshtein(a: &[char], b: &str, max: usize) -> Option<usize> {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        if current.iter().min().is_some_and(|&lowest| lowest > max) {
            return None;
        }
        previous = current;
    }
    previous.last().copied().filter(|&distance| distance <= max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_stops_past_the_bound() {
        let numbness: Vec<char> = "numbness".chars().collect();
        assert_eq!(bounded_levenshtein(&numbness, "numbnes", 2), Some(1));
        assert_eq!(bounded_levenshtein(&numbness, "nubmness", 2), Some(2));
        assert_eq!(bounded_levenshtein(&numbness, "sciatica", 2), None);
        assert_eq!(allowed_distance(3), 0);
    }
}
