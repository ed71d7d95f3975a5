//! Plain text shaped like a scraped article: the first line is the title; a short line without
//! closing punctuation that is followed by content is a heading; `- ` lines are list items.
//!
//! Scraped text has no heading levels, so they are inferred: a heading that repeats a topic word of
//! the title ("Numbness", "Legs") or is a closing heading ("The Takeaway") opens a top-level
//! section, and other headings nest under the last top-level one. A trailing run of list items
//! shaped like citations is the reference list, and name lines followed by a role line
//! ("Author", "Medical Reviewer") start the author notes; both become sections of their own.

use std::collections::BTreeMap;

use crate::document::{BlockBuilder, Document, Lines, Metadata, Role, collapse_whitespace};
use crate::references::looks_like_citation;

/// Longest line, in words, that can still be a heading.
const MAX_HEADING_WORDS: usize = 12;

/// Heading given to a reference list found by its shape alone.
const REFERENCES_HEADING: &str = "References";
/// Heading given to author notes found by their shape alone.
const AUTHORS_HEADING: &str = "About the Authors";

/// Parses a plain-text article.
pub fn read(text: &str) -> Document {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let Some(title_index) = lines.iter().position(|line| !line.is_empty()) else {
        return Document::default();
    };
    let title = collapse_whitespace(lines[title_index]);
    let rest = &lines[title_index + 1..];

    let authors_start = (0..rest.len().saturating_sub(1))
        .find(|&i| is_name_line(rest[i]) && is_role_line(rest[i + 1]))
        .unwrap_or(rest.len());
    let (body, author_lines) = rest.split_at(authors_start);
    let references_start = trailing_reference_run(body);
    let (body, reference_lines) = body.split_at(references_start);

    // Line numbers of the file, 1-based, for each part.
    let body_line = title_index + 2;
    let references_line = body_line + references_start;
    let authors_line = body_line + authors_start;
    let mut builder = BlockBuilder::default();
    read_numbered_lines(
        body,
        Some(body_line),
        &Headings::Detect { title: title.clone() },
        &[],
        &mut builder,
    );
    if !reference_lines.is_empty() {
        builder.heading_with_role(2, REFERENCES_HEADING, Role::References);
        for (i, line) in reference_lines.iter().enumerate() {
            if let Some(item) = list_item(line) {
                builder.item(item, Some(line_at(references_line + i)));
            }
        }
    }
    read_author_notes(author_lines, authors_line, &mut builder);

    Document {
        meta: Metadata {
            title,
            ..Metadata::default()
        },
        sections: builder.finish(),
        warnings: Vec::new(),
    }
}

/// Where the headings of a run of lines come from.
pub(crate) enum Headings {
    /// Detected from the lines' shape, levels inferred from the document title's topic words.
    Detect {
        /// The document title.
        title: String,
    },
    /// Given by the caller (a PDF outline): by line index, the headings that open there and
    /// whether that line is the heading's own text (and so not body text).
    Given(BTreeMap<usize, Vec<GivenHeading>>),
}

/// A heading placed at a line by the caller.
pub(crate) struct GivenHeading {
    /// Nesting level, 1 outermost.
    pub level: u8,
    /// The heading text.
    pub text: String,
    /// Whether the line at that index is this heading's text.
    pub on_line: bool,
}

/// Reads headings, paragraphs and lists of the main text into `builder`; `first_line` is the
/// line number of `lines[0]` in the source file, when the text has one (a PDF's text has none).
/// `page_starts[k]` is the line where page `k + 1` begins, so sections never run across pages.
pub(crate) fn read_numbered_lines(
    lines: &[&str],
    first_line: Option<usize>,
    headings: &Headings,
    page_starts: &[usize],
    builder: &mut BlockBuilder,
) {
    let detected: Vec<bool> = match headings {
        Headings::Detect { .. } => (0..lines.len()).map(|i| is_heading_at(lines, i)).collect(),
        Headings::Given(_) => vec![false; lines.len()],
    };
    let topic = match headings {
        Headings::Detect { title } => topic_words(title),
        Headings::Given(_) => Vec::new(),
    };
    let any_topical = (0..lines.len()).any(|i| detected[i] && is_top_level(lines[i], &topic));
    let mut open_top_level = false;
    for (i, line) in lines.iter().enumerate() {
        if let Some(page) = page_starts.iter().position(|&start| start == i) {
            builder.page(page as u32 + 1);
        }
        let mut consumed = false;
        if let Headings::Given(given) = headings {
            for heading in given.get(&i).into_iter().flatten() {
                builder.heading(heading.level, &heading.text);
                consumed |= heading.on_line;
            }
        }
        if consumed {
            continue;
        }
        let source_line = first_line.map(|first| line_at(first + i));
        let item = list_item(line);
        if item.is_none() {
            builder.end_list();
        }
        if line.is_empty() || detected[i] {
            builder.end_paragraph();
        }
        if let Some(item) = item {
            builder.item(item, source_line);
        } else if detected[i] {
            let top = !any_topical || is_top_level(line, &topic) || !open_top_level;
            open_top_level |= top;
            builder.heading(if top { 2 } else { 3 }, line);
        } else if !line.is_empty() {
            // Hard-wrapped text continues a sentence on the next line; a finished sentence ends a paragraph.
            builder.space();
            builder.text(line, source_line);
            if ends_sentence(line) {
                builder.end_paragraph();
            }
        }
    }
    builder.end_paragraph();
    builder.end_list();
}

/// The range of the one line numbered `line`.
fn line_at(line: usize) -> Lines {
    Lines::at(u32::try_from(line).unwrap_or(u32::MAX))
}

/// Reads `Name` / `Role` / paragraphs groups into one section per person; `first_line` is the
/// line number of `lines[0]`.
fn read_author_notes(lines: &[&str], first_line: usize, builder: &mut BlockBuilder) {
    if lines.is_empty() {
        return;
    }
    builder.heading_with_role(2, AUTHORS_HEADING, Role::Authors);
    let mut i = 0;
    while i < lines.len() {
        if i + 1 < lines.len() && is_name_line(lines[i]) && is_role_line(lines[i + 1]) {
            builder.heading(3, &format!("{}, {}", lines[i], lines[i + 1]));
            i += 2;
            continue;
        }
        builder.text(lines[i], Some(line_at(first_line + i)));
        builder.end_paragraph();
        i += 1;
    }
}

/// The index where the trailing run of citation-shaped list items starts (`lines.len()` if none).
fn trailing_reference_run(lines: &[&str]) -> usize {
    let end = lines
        .iter()
        .rposition(|line| !line.is_empty())
        .map_or(0, |i| i + 1);
    let mut start = end;
    while start > 0 && list_item(lines[start - 1]).is_some_and(looks_like_citation) {
        start -= 1;
    }
    let preceded_by_heading = lines[..start]
        .iter()
        .rev()
        .find(|line| !line.is_empty())
        .is_some_and(|line| Role::from_heading(line) == Role::References);
    // One citation-like item is too little evidence; an explicit heading already marks the list.
    if end - start < 2 || preceded_by_heading {
        lines.len()
    } else {
        start
    }
}

/// The text of a list item line, without its bullet.
fn list_item(line: &str) -> Option<&str> {
    ["- ", "* ", "• ", "– "]
        .iter()
        .find_map(|bullet| line.strip_prefix(bullet))
        .map(str::trim)
        .filter(|item| !item.is_empty())
}

fn ends_sentence(line: &str) -> bool {
    line.ends_with(['.', '!', '?', ':', ';', '"', '”', '’', ')'])
}

/// A heading is a short line without closing punctuation that starts with a capital and is
/// followed by more text, and does not continue a sentence from the line before.
fn is_heading_at(lines: &[&str], i: usize) -> bool {
    let line = lines[i];
    let starts_capital = line
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
    let words = line.split_whitespace().count();
    // A next line that starts in lower case continues a wrapped sentence instead.
    let followed = lines
        .get(i + 1)
        .is_some_and(|next| next.chars().next().is_some_and(|c| !c.is_lowercase()));
    let continues = i > 0
        && !lines[i - 1].is_empty()
        && list_item(lines[i - 1]).is_none()
        && !ends_sentence(lines[i - 1])
        && !is_heading_at_shape(lines[i - 1]);
    starts_capital && words <= MAX_HEADING_WORDS && is_heading_at_shape(line) && followed && !continues
}

fn is_heading_at_shape(line: &str) -> bool {
    !line.is_empty()
        && list_item(line).is_none()
        && line.split_whitespace().count() <= MAX_HEADING_WORDS
        && !line.ends_with(['.', ',', ';', ':', '!', '"', '”', '’'])
}

/// Whether a heading opens a top-level section: it names the title's topic or closes the article.
fn is_top_level(heading: &str, topic: &[String]) -> bool {
    const CLOSING: [&str; 12] = [
        "takeaway",
        "the takeaway",
        "key takeaways",
        "summary",
        "conclusion",
        "conclusions",
        "bottom line",
        "the bottom line",
        "final thoughts",
        "outlook",
        "faq",
        "frequently asked questions",
    ];
    let lower = heading.trim_end_matches(['?', ':']).to_lowercase();
    CLOSING.contains(&lower.as_str()) || content_words(heading).iter().any(|word| topic.contains(word))
}

/// The title's words that name its subject rather than the kind of page ("causes", "what").
fn topic_words(title: &str) -> Vec<String> {
    const GENERIC: [&str; 22] = [
        "cause",
        "symptom",
        "treatment",
        "diagnosis",
        "type",
        "sign",
        "overview",
        "option",
        "guide",
        "tip",
        "everything",
        "know",
        "need",
        "common",
        "about",
        "understanding",
        "explained",
        "risk",
        "factor",
        "prevention",
        "when",
        "why",
    ];
    content_words(title)
        .into_iter()
        .filter(|word| !GENERIC.contains(&word.as_str()))
        .collect()
}

/// Lowercased words without stop words, plural `s` removed, for comparing headings with the title.
fn content_words(text: &str) -> Vec<String> {
    const STOP: [&str; 33] = [
        "a", "an", "the", "of", "in", "on", "for", "to", "and", "or", "with", "your", "you", "is", "are",
        "what", "how", "can", "do", "does", "it", "vs", "from", "by", "my", "i", "we", "our", "this", "that",
        "be", "should", "will",
    ];
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let word = word.to_lowercase();
            match word.strip_suffix('s') {
                Some(stem) if stem.len() > 2 && !stem.ends_with('s') => stem.to_string(),
                _ => word,
            }
        })
        .filter(|word| !STOP.contains(&word.as_str()))
        .collect()
}

/// A person's name line: short, capitalised words, optionally followed by credentials ("Jane Doe, MD").
fn is_name_line(line: &str) -> bool {
    let name = line.split(',').next().unwrap_or_default();
    let words: Vec<&str> = name.split_whitespace().collect();
    (2..=4).contains(&words.len())
        && words
            .iter()
            .all(|word| word.chars().next().is_some_and(char::is_uppercase))
        && !ends_sentence(line)
}

/// A line that names a contributor's role.
fn is_role_line(line: &str) -> bool {
    const ROLES: [&str; 14] = [
        "author",
        "writer",
        "editor",
        "reviewer",
        "medical reviewer",
        "medical editor",
        "fact checker",
        "fact-checker",
        "contributor",
        "contributing writer",
        "reviewed by",
        "medically reviewed by",
        "illustrator",
        "co-author",
    ];
    ROLES.contains(&line.trim().to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Content, contents};

    fn paths(doc: &Document) -> Vec<String> {
        doc.sections.iter().map(|s| s.path.join(" > ")).collect()
    }

    #[test]
    fn infers_levels_from_title_topic() {
        let text = "Why Knees Hurt\n\nIntro line.\nCommon Causes of Knee Pain\nSeveral things:\n- Arthritis\n- Injury\nSports Injuries\nTorn ligaments hurt.\nTreating Knee Pain\nRest helps.\nThe Takeaway\n- Rest.\n";
        let doc = read(text);
        assert_eq!(doc.meta.title, "Why Knees Hurt");
        assert_eq!(
            paths(&doc),
            [
                "",
                "Common Causes of Knee Pain",
                "Common Causes of Knee Pain > Sports Injuries",
                "Treating Knee Pain",
                "The Takeaway"
            ]
        );
        assert_eq!(
            contents(&doc.sections[1].blocks),
            [
                Content::Paragraph("Several things:".into()),
                Content::List(vec!["Arthritis".into(), "Injury".into()])
            ]
        );
    }

    #[test]
    fn wrapped_lines_join_and_empty_headings_are_kept() {
        let text = "Title Here\n\nFirst Part\nThis sentence is wrapped\nacross two lines.\nEmpty One\nSecond Part\nMore text.\n";
        let doc = read(text);
        assert_eq!(paths(&doc), ["First Part", "Empty One", "Second Part"]);
        assert_eq!(
            contents(&doc.sections[0].blocks),
            [Content::Paragraph(
                "This sentence is wrapped across two lines.".into()
            )]
        );
        assert!(doc.sections[1].blocks.is_empty());
    }

    #[test]
    fn reference_run_and_author_notes_become_sections() {
        let text = "Title Here\n\nSome Heading\n- A long takeaway sentence that is plainly not a citation at all.\n- Numbness. Mayo Clinic. May 4, 2023.\n- Sciatica. Cleveland Clinic.\n\nJane Roe, MD\nMedical Reviewer\nJane trained in Boston.\nJohn Doe\nAuthor\nJohn writes.\n";
        let doc = read(text);
        assert_eq!(
            paths(&doc),
            [
                "Some Heading",
                "References",
                "About the Authors",
                "About the Authors > Jane Roe, MD, Medical Reviewer",
                "About the Authors > John Doe, Author"
            ]
        );
        assert_eq!(doc.sections[0].blocks.len(), 1);
        assert_eq!(doc.sections[1].role, Role::References);
        assert_eq!(
            contents(&doc.sections[1].blocks),
            [Content::List(vec![
                "Numbness. Mayo Clinic. May 4, 2023.".into(),
                "Sciatica. Cleveland Clinic.".into()
            ])]
        );
        assert_eq!(doc.sections[4].role, Role::Authors);
        assert_eq!(
            contents(&doc.sections[4].blocks),
            [Content::Paragraph("John writes.".into())]
        );
    }
}
