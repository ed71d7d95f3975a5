//! Splits a [`Document`] into passages: never across sections, at sentence boundaries, to a word
//! budget, keeping each list with the sentence that introduces it. Pure: no disk, no index.

use crate::document::{Block, Content, Document, Lines, Role};

/// Passage size bounds, in words.
#[derive(Debug, Clone, Copy)]
pub struct ChunkSize {
    /// A passage shorter than this is merged with its neighbour when the section allows.
    pub min_words: usize,
    /// A passage is split before it grows past this.
    pub max_words: usize,
}

impl Default for ChunkSize {
    fn default() -> Self {
        ChunkSize {
            min_words: 40,
            max_words: 200,
        }
    }
}

/// A searchable piece of one section of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// Position of the passage in its document, from 0.
    pub ordinal: usize,
    /// The heading path of the section it comes from (never the document title).
    pub section: Vec<String>,
    /// Body text, reference list or author notes.
    pub role: Role,
    /// The passage text: paragraphs on their own lines, list items as `- item` lines.
    pub text: String,
    /// The page it stands on, for paged formats.
    pub page: Option<u32>,
    /// The first source line of the blocks it holds, where the format has lines (not PDF).
    pub line_start: Option<u32>,
    /// The last source line of the blocks it holds.
    pub line_end: Option<u32>,
}

/// A piece that is never split further: a sentence, or a list with its introducing sentence.
struct Unit {
    text: String,
    words: usize,
    /// Index of the block it came from, so sentences of one paragraph rejoin with a space.
    block: usize,
    /// Lines of preformatted text, which rejoin with a line break.
    preformatted: bool,
    /// The source lines of the block (or blocks, for a list with its introduction).
    lines: Option<Lines>,
}

/// Splits every non-empty section of `document` into passages.
pub fn chunk(document: &Document, size: ChunkSize) -> Vec<Passage> {
    let mut passages = Vec::new();
    for section in &document.sections {
        for (text, lines) in pack(units(&section.blocks, size), size) {
            passages.push(Passage {
                ordinal: passages.len(),
                section: section.path.clone(),
                role: section.role,
                text,
                page: section.page,
                line_start: lines.map(|lines| lines.first),
                line_end: lines.map(|lines| lines.last),
            });
        }
    }
    passages
}

fn units(blocks: &[Block], size: ChunkSize) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    for (index, block) in blocks.iter().enumerate() {
        let lines = block.lines;
        match &block.content {
            Content::Paragraph(text) => {
                for sentence in split_sentences(text) {
                    for piece in split_words(sentence, size.max_words) {
                        units.push(Unit {
                            words: word_count(&piece),
                            text: piece,
                            block: index,
                            preformatted: false,
                            lines,
                        });
                    }
                }
            }
            Content::Preformatted(text) => {
                for piece in split_lines(text, size) {
                    units.push(Unit {
                        words: word_count(&piece),
                        text: piece,
                        block: index,
                        preformatted: true,
                        lines,
                    });
                }
            }
            Content::List(items) => {
                // The sentence right before a list introduces it; they travel together.
                let intro = units.pop_if(|unit| !unit.preformatted && index > 0 && unit.block == index - 1);
                let mut text = intro.as_ref().map(|unit| unit.text.clone()).unwrap_or_default();
                let mut words = intro.as_ref().map_or(0, |unit| unit.words);
                let mut unit_lines = Lines::cover(intro.and_then(|unit| unit.lines), lines);
                for item in items {
                    let item_words = word_count(item);
                    if words > 0 && words + item_words > size.max_words {
                        units.push(Unit {
                            text: std::mem::take(&mut text),
                            words,
                            block: index,
                            preformatted: false,
                            lines: unit_lines,
                        });
                        words = 0;
                        unit_lines = lines;
                    }
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str("- ");
                    text.push_str(item);
                    words += item_words;
                }
                units.push(Unit {
                    text,
                    words,
                    block: index,
                    preformatted: false,
                    lines: unit_lines,
                });
            }
        }
    }
    units
}

/// Packs units into passages of about equal size within the bounds: their texts and the source
/// lines of the units each holds.
fn pack(units: Vec<Unit>, size: ChunkSize) -> Vec<(String, Option<Lines>)> {
    let total: usize = units.iter().map(|unit| unit.words).sum();
    if units.is_empty() {
        return Vec::new();
    }
    let target = total.div_ceil(total.div_ceil(size.max_words).max(1));
    let mut passages: Vec<(String, usize, Option<Lines>)> = Vec::new();
    let mut current = String::new();
    let mut current_words = 0;
    let mut current_lines = None;
    let mut last_block = usize::MAX;
    for unit in units {
        let full = current_words + unit.words > size.max_words
            || (current_words >= size.min_words && current_words + unit.words > target);
        if current_words > 0 && full {
            passages.push((std::mem::take(&mut current), current_words, current_lines.take()));
            current_words = 0;
        }
        if !current.is_empty() {
            let same_line = unit.block == last_block && !unit.preformatted;
            current.push(if same_line { ' ' } else { '\n' });
        }
        current.push_str(&unit.text);
        current_words += unit.words;
        current_lines = Lines::cover(current_lines, unit.lines);
        last_block = unit.block;
    }
    // A short tail joins the passage before it when the pair stays within a quarter over budget.
    match passages.last_mut() {
        Some((previous, words, lines))
            if current_words < size.min_words && *words + current_words <= size.max_words * 5 / 4 =>
        {
            previous.push('\n');
            previous.push_str(&current);
            *lines = Lines::cover(*lines, current_lines);
        }
        _ => passages.push((current, current_words, current_lines)),
    }
    passages
        .into_iter()
        .map(|(text, _, lines)| (text, lines))
        .collect()
}

fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Splits an over-long sentence into pieces of at most `max_words` words.
fn split_words(sentence: &str, max_words: usize) -> Vec<String> {
    let words: Vec<&str> = sentence.split_whitespace().collect();
    words
        .chunks(max_words.max(1))
        .map(|piece| piece.join(" "))
        .collect()
}

/// Splits preformatted text into runs of whole lines of about `min_words` words, small enough for
/// [`pack`] to balance passages; only a line longer than `max_words` is split inside.
fn split_lines(text: &str, size: ChunkSize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_words = 0;
    for line in text.lines() {
        let words = word_count(line);
        if current_words > 0 && current_words + words > size.min_words {
            pieces.push(std::mem::take(&mut current).trim_end().to_string());
            current_words = 0;
        }
        if words > size.max_words {
            pieces.extend(split_words(line, size.max_words));
            continue;
        }
        if current_words == 0 && line.trim().is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        current_words += words;
    }
    if current_words > 0 {
        pieces.push(current.trim_end().to_string());
    }
    pieces
}

/// Splits text into sentences at `.`, `!` or `?` (and any closing quotes or brackets) followed
/// by white space and a capital, digit or opening quote; abbreviations and initials do not end one.
pub fn split_sentences(text: &str) -> Vec<&str> {
    const ABBREVIATIONS: [&str; 18] = [
        "dr", "mr", "mrs", "ms", "prof", "st", "vs", "e.g", "i.e", "etc", "al", "fig", "no", "inc", "jr",
        "sr", "approx", "u.s",
    ];
    let mut sentences = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (position, &(offset, c)) in chars.iter().enumerate() {
        if !matches!(c, '.' | '!' | '?') {
            continue;
        }
        let mut end = position + 1;
        while end < chars.len() && matches!(chars[end].1, '"' | '\'' | '”' | '’' | ')' | ']') {
            end += 1;
        }
        let Some(&(space_offset, space)) = chars.get(end) else {
            continue;
        };
        let next = chars.get(end + 1).map(|&(_, c)| c);
        let opens = next
            .is_some_and(|n| n.is_uppercase() || n.is_ascii_digit() || matches!(n, '"' | '“' | '‘' | '('));
        if !space.is_whitespace() || !opens {
            continue;
        }
        if c == '.' {
            let word_start = text[..offset]
                .rfind(|ch: char| ch.is_whitespace())
                .map_or(0, |i| i + 1);
            let word = text[word_start..offset]
                .trim_start_matches(['(', '"', '“'])
                .to_lowercase();
            let initial = word.chars().count() == 1 && word.chars().all(char::is_alphabetic);
            if initial || ABBREVIATIONS.contains(&word.as_str()) {
                continue;
            }
        }
        sentences.push(text[start..space_offset].trim());
        start = space_offset;
    }
    sentences.push(text[start..].trim());
    sentences.retain(|sentence| !sentence.is_empty());
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::Section;

    fn section(path: &[&str], blocks: Vec<Block>) -> Section {
        Section {
            path: path.iter().map(|s| s.to_string()).collect(),
            role: Role::Body,
            blocks,
            page: None,
        }
    }

    fn sentence(i: usize, words: usize) -> String {
        format!("Sentence {i} {}.", vec!["word"; words - 2].join(" "))
    }

    #[test]
    fn sentences_respect_abbreviations_and_quotes() {
        let text = "Dr. Jaros orders an A1C test. “It can suggest diabetes,” he says. Zhou L. et al. agree! Is it 3.5 mg? Yes.";
        assert_eq!(
            split_sentences(text),
            [
                "Dr. Jaros orders an A1C test.",
                "“It can suggest diabetes,” he says.",
                "Zhou L. et al. agree!",
                "Is it 3.5 mg?",
                "Yes."
            ]
        );
    }

    #[test]
    fn long_sections_split_evenly_and_never_cross_sections() {
        let long: Vec<String> = (0..30).map(|i| sentence(i, 15)).collect();
        let doc = Document {
            sections: vec![
                section(&["A"], vec![Block::paragraph(long.join(" "))]),
                section(&["B"], vec![]),
                section(&["C"], vec![Block::paragraph("Short.")]),
            ],
            ..Document::default()
        };
        let passages = chunk(&doc, ChunkSize::default());
        let sizes: Vec<usize> = passages.iter().map(|p| word_count(&p.text)).collect();
        assert_eq!(sizes, [150, 150, 150, 1]);
        assert_eq!(passages[3].section, ["C"]);
        assert!(passages.iter().enumerate().all(|(i, p)| p.ordinal == i));
        assert!(passages[0].text.starts_with("Sentence 0 ") && passages[1].text.starts_with("Sentence 10 "));
    }

    #[test]
    fn a_list_stays_with_its_introduction() {
        let mut text: Vec<String> = (0..14).map(|i| sentence(i, 15)).collect();
        text.push("These drugs can help:".into());
        let doc = Document {
            sections: vec![section(
                &["T"],
                vec![
                    Block::paragraph(text.join(" ")),
                    Block::list(vec!["Lidocaine cream".into(), "Pain relievers".into()]),
                ],
            )],
            ..Document::default()
        };
        let passages = chunk(&doc, ChunkSize::default());
        assert_eq!(passages.len(), 2);
        assert!(
            passages[1]
                .text
                .ends_with("These drugs can help:\n- Lidocaine cream\n- Pain relievers"),
            "{:?}",
            passages[1].text
        );
    }

    #[test]
    fn preformatted_text_keeps_its_lines_and_splits_only_between_them() {
        let line = |i: usize| format!("    call_{i}(one, two, three, four, five, six, seven, eight)");
        let long: Vec<String> = (0..60).map(line).collect();
        let doc = Document {
            sections: vec![section(
                &["Example"],
                vec![
                    Block::paragraph("Call it so:"),
                    Block::preformatted("if ready:\n    go()"),
                    Block::paragraph("Then list:"),
                    Block::list(vec!["one".into()]),
                    Block::preformatted(long.join("\n")),
                ],
            )],
            ..Document::default()
        };
        let passages = chunk(&doc, ChunkSize::default());
        assert!(
            passages[0]
                .text
                .starts_with("Call it so:\nif ready:\n    go()\nThen list:\n- one\n")
        );
        let lines: Vec<&str> = passages.iter().flat_map(|p| p.text.lines()).collect();
        assert_eq!(
            lines[5..],
            long.iter().map(String::as_str).collect::<Vec<_>>()[..]
        );
        assert!(passages.len() > 1);
        for passage in &passages {
            assert!(word_count(&passage.text) <= ChunkSize::default().max_words * 5 / 4);
        }
    }

    #[test]
    fn passages_span_the_source_lines_of_the_blocks_they_hold() {
        let at = |first, last| Some(Lines { first, last });
        let long: Vec<String> = (0..30).map(|i| sentence(i, 15)).collect();
        let blocks = vec![
            Block {
                lines: at(3, 3),
                ..Block::paragraph("Try these:")
            },
            Block {
                lines: at(4, 5),
                ..Block::list(vec!["walking".into(), "stretching".into()])
            },
            Block {
                lines: at(7, 30),
                ..Block::paragraph(long.join(" "))
            },
        ];
        let doc = Document {
            sections: vec![
                section(&["A"], blocks),
                section(&["PDF"], vec![Block::paragraph("No lines.")]),
            ],
            ..Document::default()
        };
        let lines: Vec<(Option<u32>, Option<u32>)> = chunk(&doc, ChunkSize::default())
            .iter()
            .map(|p| (p.line_start, p.line_end))
            .collect();
        // A passage that starts in the long paragraph gets all of its lines: blocks, not
        // sentences, know where they stand.
        assert_eq!(
            lines,
            [
                (Some(3), Some(30)),
                (Some(7), Some(30)),
                (Some(7), Some(30)),
                (None, None)
            ]
        );
    }

    #[test]
    fn a_short_tail_is_not_orphaned() {
        let text: Vec<String> = (0..13).map(|i| sentence(i, 16)).collect();
        let doc = Document {
            sections: vec![section(
                &["T"],
                vec![
                    Block::paragraph(text.join(" ")),
                    Block::list(vec!["one".into(), "two".into()]),
                ],
            )],
            ..Document::default()
        };
        let passages = chunk(&doc, ChunkSize::default());
        assert!(passages.iter().all(|p| word_count(&p.text) >= 40), "{passages:?}");
        assert!(passages.last().unwrap().text.ends_with("- one\n- two"));
    }
}
