//! Markdown (CommonMark plus tables) with optional YAML front matter: headings give the section
//! path, paragraphs and lists become blocks. A level-1 heading that repeats the title is the title.

use std::ops::Range;

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{ReadError, front_matter};
use crate::document::{BlockBuilder, Document, Lines};

/// What the text of the current inline run belongs to.
enum Target {
    /// A heading of this level, whose text is gathered apart.
    Heading(u8, String),
    /// A paragraph, table row or table head.
    Paragraph,
    /// A list item, whose paragraphs run on into one item.
    Item,
    /// A code block, whose text is gathered apart with the lines it stands on.
    Preformatted(String, Option<Lines>),
}

/// Parses a Markdown file's text.
pub fn read(text: &str) -> Result<Document, ReadError> {
    let (mut meta, body) = front_matter::split(text)?;
    // Offsets are into the body; lines count from the top of the file, front matter included.
    let lines = LineIndex::new(text, text.len() - body.len());
    let mut builder = BlockBuilder::new(&meta.title);
    let mut targets: Vec<Target> = Vec::new();
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                builder.end_paragraph();
                targets.push(Target::Heading(heading_number(level), String::new()));
            }
            Event::End(TagEnd::Heading(_)) => {
                if let Some(Target::Heading(level, heading)) = targets.pop() {
                    builder.heading_or_title(level, &heading);
                }
            }
            Event::Start(Tag::CodeBlock(_)) => targets.push(Target::Preformatted(String::new(), None)),
            Event::End(TagEnd::CodeBlock) => {
                if let Some(Target::Preformatted(code, code_lines)) = targets.pop() {
                    builder.preformatted(&code, code_lines);
                }
            }
            // Paragraphs inside a list item belong to the item, which ends with it.
            Event::Start(Tag::Paragraph | Tag::TableRow | Tag::TableHead)
                if !matches!(targets.last(), Some(Target::Item)) =>
            {
                targets.push(Target::Paragraph);
            }
            // The next paragraph of a list item.
            Event::Start(Tag::Paragraph) => builder.space(),
            Event::End(TagEnd::Paragraph | TagEnd::TableRow | TagEnd::TableHead)
                if matches!(targets.last(), Some(Target::Paragraph)) =>
            {
                targets.pop();
                builder.end_paragraph();
            }
            Event::Start(Tag::List(_)) => builder.open_list(),
            Event::End(TagEnd::List(_)) => builder.close_list(),
            Event::Start(Tag::Item) => targets.push(Target::Item),
            Event::End(TagEnd::Item) => {
                targets.pop();
                builder.end_paragraph();
            }
            Event::End(TagEnd::TableCell) => builder.end_cell(),
            Event::Text(text) | Event::Code(text) => match targets.last_mut() {
                Some(Target::Heading(_, heading)) => heading.push_str(&text),
                Some(Target::Preformatted(code, code_lines)) => {
                    code.push_str(&text);
                    *code_lines = Lines::cover(*code_lines, Some(lines.of(range)));
                }
                _ => builder.text(&text, Some(lines.of(range))),
            },
            Event::SoftBreak | Event::HardBreak => match targets.last_mut() {
                Some(Target::Heading(_, heading)) => heading.push(' '),
                _ => builder.space(),
            },
            _ => {}
        }
    }
    if meta.title.is_empty() {
        meta.title = builder.title().to_string();
    }
    Ok(Document {
        meta,
        sections: builder.finish(),
        warnings: Vec::new(),
    })
}

/// Turns byte offsets into the body of a file into 1-based line numbers of the whole file.
struct LineIndex {
    /// Where each line after the first starts, as an offset into the body (negative before it).
    starts: Vec<isize>,
}

impl LineIndex {
    /// The index of `text`, whose body starts at byte `body_start`.
    fn new(text: &str, body_start: usize) -> LineIndex {
        let starts = text
            .bytes()
            .enumerate()
            .filter(|&(_, byte)| byte == b'\n')
            .map(|(at, _)| (at + 1) as isize - body_start as isize)
            .collect();
        LineIndex { starts }
    }

    /// The lines that the body's bytes `range` stand on.
    fn of(&self, range: Range<usize>) -> Lines {
        let line = |offset: usize| {
            let before = self.starts.partition_point(|&start| start <= offset as isize);
            u32::try_from(before + 1).unwrap_or(u32::MAX)
        };
        Lines {
            first: line(range.start),
            last: line(range.end.max(range.start + 1) - 1),
        }
    }
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Content, contents};

    #[test]
    fn code_blocks_keep_their_lines_and_split_the_list_around_them() {
        let text = "Steps:\n\n- Install:\n\n  ```sh\n  pip install x\n    --user\n  ```\n- Run.\n\n  Twice.\n\nAfter.\n\n    indented(code)\n";
        let doc = read(text).unwrap();
        assert_eq!(
            contents(&doc.sections[0].blocks),
            [
                Content::Paragraph("Steps:".into()),
                Content::List(vec!["Install:".into()]),
                Content::Preformatted("pip install x\n  --user".into()),
                Content::List(vec!["Run. Twice.".into()]),
                Content::Paragraph("After.".into()),
                Content::Preformatted("indented(code)".into()),
            ]
        );
    }
}
