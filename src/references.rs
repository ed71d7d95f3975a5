//! Reference lists: what a citation looks like, what it names (authors, title, publisher, date),
//! folding duplicates, and matching a reference to the source document it names.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use serde::{Deserialize, Serialize};

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// One entry of a reference list, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// The entry as written.
    pub text: String,
    /// The cited work's title (empty when none could be found).
    pub title: String,
    /// Authors as written ("Zhou L et al"), when the entry names them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authors: Option<String>,
    /// The publisher, journal or site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<String>,
    /// Publication date, `YYYY-MM-DD` (or `YYYY-MM`, `YYYY`) when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Why the entry is malformed, when it is; a malformed entry is kept, not dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A distinct reference with the number of times the list repeats it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CitedReference {
    /// The parsed entry (its first occurrence).
    #[serde(flatten)]
    pub reference: Reference,
    /// How many lines of the list name this work.
    pub occurrences: usize,
}

/// Parses one reference entry such as `Numbness. Mayo Clinic. May 4, 2023.`
pub fn parse(text: &str) -> Reference {
    let text = text.trim().to_string();
    let mut segments = segments(&text);
    let date = segments
        .iter()
        .rposition(|segment| normalize_date(segment).is_some())
        .map(|i| normalize_date(&segments.remove(i)).expect("position was found by this test"));
    let authors = match segments.first() {
        Some(first) if segments.len() > 1 && is_author_list(first) => Some(segments.remove(0)),
        _ => None,
    };
    let mut problem = None;
    let mut title = String::new();
    let mut publisher = None;
    for segment in segments {
        if let Some(inner) = segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            // Scrapers leave unfilled templates such as `[Source: X Title: URL: ]`; keep what they name.
            problem = Some(format!("unfilled placeholder {segment:?}"));
            let fields = placeholder_fields(inner);
            if publisher.is_none() {
                publisher = fields
                    .iter()
                    .find(|(key, _)| key == "source")
                    .map(|(_, value)| value.clone());
            }
            if title.is_empty() {
                title = fields
                    .into_iter()
                    .find(|(key, _)| key == "title")
                    .map(|(_, value)| value)
                    .unwrap_or_default();
            }
        } else if title.is_empty() {
            title = segment;
        } else if publisher.is_none() {
            publisher = Some(segment);
        }
    }
    if title.is_empty() {
        problem.get_or_insert_with(|| "no title".to_string());
    }
    Reference {
        text,
        title,
        authors,
        publisher: publisher.filter(|p| !p.is_empty()),
        date,
        problem,
    }
}

/// Parses a reference list, folding entries that name the same work; the first occurrence keeps
/// its place. Each entry's identity is computed once and looked up, so a list of any length
/// folds in linear time.
pub fn fold<'a>(entries: impl IntoIterator<Item = &'a str>) -> Vec<CitedReference> {
    let mut folded: Vec<CitedReference> = Vec::new();
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for entry in entries {
        let reference = parse(entry);
        match seen.entry(identity(&reference)) {
            Entry::Occupied(known) => folded[*known.get()].occurrences += 1,
            Entry::Vacant(slot) => {
                slot.insert(folded.len());
                folded.push(CitedReference {
                    reference,
                    occurrences: 1,
                });
            }
        }
    }
    folded
}

/// What makes two entries the same work: title, publisher and date, compared loosely.
fn identity(reference: &Reference) -> (String, String, String) {
    (
        normalize_name(&reference.title),
        normalize_name(reference.publisher.as_deref().unwrap_or_default()),
        reference.date.clone().unwrap_or_default(),
    )
}

/// Whether the publisher a reference names fits a document's publisher (one contains the other,
/// compared loosely; either may be unknown). Titles are compared by [`normalize_name`].
pub fn publishers_agree(cited: Option<&str>, actual: Option<&str>) -> bool {
    match (cited, actual) {
        (Some(cited), Some(actual)) => {
            let (cited, actual) = (normalize_name(cited), normalize_name(actual));
            cited.contains(&actual) || actual.contains(&cited)
        }
        _ => true,
    }
}

/// Whether a list item is shaped like a citation: period-separated parts that are each a date,
/// an author list or a short title-cased name.
pub fn looks_like_citation(item: &str) -> bool {
    let item = item.trim();
    let parts = segments(item);
    item.ends_with(['.', ']'])
        && parts.len() >= 2
        && parts
            .iter()
            .all(|part| normalize_date(part).is_some() || is_author_list(part) || is_title_cased(part))
}

/// Reads `May 4, 2023`, `4 May 2023`, `2023-05-04`, `May 2023` or `2023` into ISO form.
pub fn normalize_date(text: &str) -> Option<String> {
    let text = text.trim().trim_end_matches('.');
    let numbers: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
        .collect();
    let year = |s: &str| (s.len() == 4 && s.chars().all(|c| c.is_ascii_digit())).then(|| s.to_string());
    let day = |s: &str| s.parse::<u32>().ok().filter(|d| (1..=31).contains(d));
    let month = |s: &str| {
        let lower = s.to_lowercase();
        MONTHS
            .iter()
            .position(|m| lower.len() >= 3 && m.starts_with(&lower))
            .map(|i| i as u32 + 1)
    };
    match numbers.as_slice() {
        [y] => year(y),
        [y, m, d] if text.contains('-') => {
            let (m, d) = (m.parse::<u32>().ok().filter(|m| (1..=12).contains(m))?, day(d)?);
            Some(format!("{}-{m:02}-{d:02}", year(y)?))
        }
        [m, y] => Some(format!("{}-{:02}", year(y)?, month(m)?)),
        [m, d, y] if month(m).is_some() => Some(format!("{}-{:02}-{:02}", year(y)?, month(m)?, day(d)?)),
        [d, m, y] => Some(format!("{}-{:02}-{:02}", year(y)?, month(m)?, day(d)?)),
        _ => None,
    }
}

/// Lowercase letters and digits only, single-spaced, for loose comparison of names and titles.
pub fn normalize_name(text: &str) -> String {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits an entry at sentence punctuation followed by a space; brackets are never split.
fn segments(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        let at_boundary = chars.peek().is_none_or(|next| next.is_whitespace());
        if depth == 0 && matches!(c, '.' | '?' | '!') && at_boundary {
            if c != '.' {
                current.push(c);
            }
            parts.push(std::mem::take(&mut current));
            continue;
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|part| part.trim().to_string())
        .filter(|part| !part.is_empty())
        .collect()
}

/// `key: value` pairs of a scraper placeholder such as `Source: MedlinePlus Title: URL: `.
fn placeholder_fields(inner: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for word in inner.split_whitespace() {
        match word.strip_suffix(':') {
            Some(key) => fields.push((key.to_lowercase(), String::new())),
            None => match fields.last_mut() {
                Some((_, value)) => {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(word);
                }
                None => fields.push((String::new(), word.to_string())),
            },
        }
    }
    fields
}

/// `Zhou L et al`, `Smith J, Doe A`: names with initials, or an `et al`.
fn is_author_list(text: &str) -> bool {
    let names: Vec<&str> = text.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    text.contains("et al")
        || (!names.is_empty()
            && names.iter().all(|name| {
                let words: Vec<&str> = name.split_whitespace().collect();
                words.len() == 2 && words[1].len() <= 3 && words[1].chars().all(|c| c.is_uppercase())
            }))
}

/// Most of the longer words start with a capital, as in titles and names.
fn is_title_cased(text: &str) -> bool {
    let long: Vec<&str> = text
        .split_whitespace()
        .map(|word| word.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|word| word.chars().count() >= 4)
        .collect();
    text.split_whitespace().count() <= 16
        && (long.is_empty()
            || long.iter().filter(|w| w.starts_with(char::is_uppercase)).count() * 10 >= long.len() * 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_journal_and_malformed_entries() {
        let plain = parse("Numbness. Mayo Clinic. May 4, 2023.");
        assert_eq!(
            (
                plain.title.as_str(),
                plain.publisher.as_deref(),
                plain.date.as_deref()
            ),
            ("Numbness", Some("Mayo Clinic"), Some("2023-05-04"))
        );
        assert_eq!(plain.problem, None);

        let journal =
            parse("Zhou L et al. Acupuncture for Pain: A Review. Frontiers in Neurology. November 15, 2023.");
        assert_eq!(journal.authors.as_deref(), Some("Zhou L et al"));
        assert_eq!(journal.title, "Acupuncture for Pain: A Review");
        assert_eq!(journal.publisher.as_deref(), Some("Frontiers in Neurology"));

        let broken = parse(
            "Electromyography (EMG) and Nerve Conduction Studies. [Source: MedlinePlus Title: URL: ]. April 10, 2024.",
        );
        assert_eq!(
            broken.title,
            "Electromyography (EMG) and Nerve Conduction Studies"
        );
        assert_eq!(broken.publisher.as_deref(), Some("MedlinePlus"));
        assert_eq!(broken.date.as_deref(), Some("2024-04-10"));
        assert!(broken.problem.unwrap().contains("placeholder"));
    }

    #[test]
    fn a_long_list_folds_in_one_pass() {
        // Every work named twice, 20,000 entries: comparing each entry with every kept one took
        // minutes on lists this long.
        let entries: Vec<String> = (0..20_000)
            .map(|i| format!("Study {} of walking. Gait Journal. 2020.", i % 10_000))
            .collect();
        let folded = fold(entries.iter().map(String::as_str));
        assert_eq!(folded.len(), 10_000);
        assert!(folded.iter().all(|cited| cited.occurrences == 2));
        assert_eq!(folded[9_999].reference.title, "Study 9999 of walking");
    }

    #[test]
    fn folds_duplicates_and_compares_publishers() {
        let folded = fold([
            "Numbness. Mayo Clinic. May 4, 2023.",
            "Numbness. Cleveland Clinic.",
            "Numbness.  Mayo Clinic. May 4, 2023.",
        ]);
        assert_eq!(folded.len(), 2);
        assert_eq!(folded[0].occurrences, 2);
        assert_eq!(
            normalize_name(&folded[0].reference.title),
            normalize_name("numbness")
        );
        let cited = folded[0].reference.publisher.as_deref();
        assert!(publishers_agree(cited, Some("Mayo Clinic")));
        assert!(publishers_agree(cited, Some("mayo clinic health system")));
        assert!(!publishers_agree(cited, Some("Cleveland Clinic")));
        assert!(publishers_agree(cited, None));
    }

    /// The reference list of the seed article, line for line (bibliographic data only).
    const SEED_REFERENCES: [&str; 14] = [
        "Numbness. Mayo Clinic. May 4, 2023.",
        "Numbness. Cleveland Clinic.",
        "Numbness. Mayo Clinic. May 4, 2023.",
        "Peripheral Neuropathy. Mayo Clinic. September 2, 2023.",
        "Herniated Disc. American Association of Neurological Surgeons.",
        "Sciatica. Cleveland Clinic.",
        "Poor Circulation. Cleveland Clinic.",
        "Neuropathy Secondary to Drugs. MedlinePlus. January 23, 2023.",
        "Numbness. Mayo Clinic. May 4, 2023.",
        "Duplex Ultrasound. Stanford Medicine.",
        "Electromyography (EMG) and Nerve Conduction Studies. [Source: MedlinePlus Title: URL: ]. April 10, 2024.",
        "Peripheral Neuropathy: Diagnosis and Treatment. Mayo Clinic. September 2, 2023.",
        "Peripheral Neuropathy. American Diabetes Association.",
        "Zhou L et al. Acupuncture for Painful Diabetic Peripheral Neuropathy: A Systematic Review and Meta-Analysis. Frontiers in Neurology. November 15, 2023.",
    ];

    #[test]
    fn the_seed_reference_list_folds_to_twelve_works_with_one_malformed() {
        assert!(SEED_REFERENCES.iter().all(|line| looks_like_citation(line)));
        let folded = fold(SEED_REFERENCES);
        assert_eq!(folded.len(), 12);
        assert_eq!(folded.iter().map(|r| r.occurrences).sum::<usize>(), 14);
        assert_eq!(folded[0].occurrences, 3);
        let malformed: Vec<&str> = folded
            .iter()
            .filter(|r| r.reference.problem.is_some())
            .map(|r| r.reference.title.as_str())
            .collect();
        assert_eq!(malformed, ["Electromyography (EMG) and Nerve Conduction Studies"]);
        let publishers: Vec<&str> = folded
            .iter()
            .filter_map(|r| r.reference.publisher.as_deref())
            .collect();
        assert_eq!(publishers.len(), 12);
        let zhou = &folded[11].reference;
        assert_eq!(
            normalize_name(&zhou.title),
            normalize_name(
                "Acupuncture for Painful Diabetic Peripheral Neuropathy: A Systematic Review and Meta-Analysis"
            )
        );
        assert!(publishers_agree(
            zhou.publisher.as_deref(),
            Some("Frontiers in Neurology")
        ));
    }

    #[test]
    fn dates_and_citation_shapes() {
        assert_eq!(normalize_date("September 2, 2023").as_deref(), Some("2023-09-02"));
        assert_eq!(normalize_date("2 Sep 2023").as_deref(), Some("2023-09-02"));
        assert_eq!(normalize_date("2023-05-04").as_deref(), Some("2023-05-04"));
        assert_eq!(normalize_date("Mayo Clinic"), None);
        assert!(looks_like_citation("Sciatica. Cleveland Clinic."));
        assert!(!looks_like_citation(
            "Seeing a doctor is important in order to find the cause of your leg numbness. Treatments may help."
        ));
        assert!(!looks_like_citation("Rest."));
    }
}
