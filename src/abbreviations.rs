//! Learning abbreviations from the text itself: "deep vein thrombosis (DVT)" teaches that `DVT`
//! stands for "deep vein thrombosis". The long form is found by matching the abbreviation's
//! letters backwards against the words before the parenthesis, each abbreviation's first letter
//! starting a word (the Schwartz–Hearst method). Pure: text in, pairs out.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::references::normalize_name;

/// An abbreviation and what it stands for, as learnt from a document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Abbreviation {
    /// The short form as written, e.g. `DVT`.
    pub short: String,
    /// The long form in lower case, e.g. `deep vein thrombosis`.
    pub long: String,
}

/// Finds every `long form (SHORT)` pair in `text`.
pub fn find(text: &str) -> Vec<Abbreviation> {
    let mut found = Vec::new();
    let mut rest = text;
    let mut offset = 0;
    while let Some(open) = rest.find('(') {
        let after = &rest[open + 1..];
        let Some(close) = after.find(')') else { break };
        let short = after[..close].trim();
        if is_short_form(short) {
            let before = &text[..offset + open];
            if let Some(long) = long_form(short, before) {
                found.push(Abbreviation {
                    short: short.to_string(),
                    long,
                });
            }
        }
        offset += open + 1;
        rest = &rest[open + 1..];
    }
    found.sort();
    found.dedup();
    found
}

/// Merges pairs learnt from many documents; where one short form has several long forms, the
/// one seen in most documents wins (ties: the alphabetically first, for a stable result). Long
/// forms come out as lower-case words separated by single spaces, as queries are compared.
pub fn merge<'a>(pairs: impl IntoIterator<Item = &'a Abbreviation>) -> BTreeMap<String, String> {
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for pair in pairs {
        *counts
            .entry((pair.short.to_uppercase(), pair.long.clone()))
            .or_default() += 1;
    }
    let mut best: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for ((short, long), count) in counts {
        let slot = best.entry(short).or_insert((0, String::new()));
        if count > slot.0 {
            *slot = (count, long);
        }
    }
    best.into_iter()
        .map(|(short, (_, long))| (short, normalize_name(&long)))
        .collect()
}

/// `DVT`, `EMG`, `HbA1c`: 2 to 10 letters or digits, starting with a letter, at least two capitals.
fn is_short_form(candidate: &str) -> bool {
    let chars: Vec<char> = candidate.chars().collect();
    (2..=10).contains(&chars.len())
        && chars[0].is_alphabetic()
        && chars.iter().all(|c| c.is_alphanumeric() || *c == '-')
        && chars.iter().filter(|c| c.is_uppercase()).count() >= 2
}

/// The shortest run of words ending right before the parenthesis whose letters spell `short`.
fn long_form(short: &str, before: &str) -> Option<String> {
    let sentence = before
        .rsplit(['.', ';', '!', '?', '(', ')', '\n', ':'])
        .next()
        .unwrap_or(before);
    let words: Vec<&str> = sentence.split_whitespace().collect();
    let letters = short.chars().filter(|c| c.is_alphanumeric()).count();
    let window = words.len().min(letters + 5).min(letters * 2);
    let candidate = words[words.len() - window..].join(" ").to_lowercase();
    let candidate = candidate.trim_end_matches([',', ' ']);
    let start = match_backwards(&short.to_lowercase(), candidate)?;
    let long = candidate[start..].trim();
    // A long form as short as its abbreviation explains nothing.
    (long.chars().count() > short.chars().count() && long.split_whitespace().count() <= letters + 2)
        .then(|| long.to_string())
}

/// Matches the short form's characters right to left in `long`; returns where the long form starts.
fn match_backwards(short: &str, long: &str) -> Option<usize> {
    let short: Vec<char> = short.chars().collect();
    let long: Vec<(usize, char)> = long.char_indices().collect();
    let mut l = long.len();
    for s in (0..short.len()).rev() {
        let c = short[s];
        if !c.is_alphanumeric() {
            continue;
        }
        loop {
            if l == 0 {
                return None;
            }
            l -= 1;
            let word_start = l == 0 || !long[l - 1].1.is_alphanumeric();
            if long[l].1 == c && (s > 0 || word_start) {
                break;
            }
        }
    }
    Some(long[l].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        find(text).into_iter().map(|a| (a.short, a.long)).collect()
    }

    #[test]
    fn learns_long_forms_before_the_parenthesis() {
        let text = "Blood clots, such as deep vein thrombosis (DVT), and peripheral artery disease (PAD). \
                    Electromyography (EMG) records muscles. Your A1C (HbA1c) test. Ask a doctor (MD).";
        assert_eq!(
            pairs(text),
            [
                ("DVT".to_string(), "deep vein thrombosis".to_string()),
                ("EMG".to_string(), "electromyography".to_string()),
                ("PAD".to_string(), "peripheral artery disease".to_string()),
            ]
        );
    }

    #[test]
    fn ignores_parentheses_that_are_not_abbreviations() {
        assert!(pairs("Vitamins (such as B12) help. The test (EMG) is quick.").is_empty());
        assert!(pairs("unclosed (DVT").is_empty());
    }

    #[test]
    fn merge_prefers_the_most_common_long_form() {
        let seen = [
            Abbreviation {
                short: "MS".into(),
                long: "multiple sclerosis".into(),
            },
            Abbreviation {
                short: "MS".into(),
                long: "multiple sclerosis".into(),
            },
            Abbreviation {
                short: "MS".into(),
                long: "mass spectrometry".into(),
            },
        ];
        assert_eq!(merge(&seen)["MS"], "multiple sclerosis");
    }
}
