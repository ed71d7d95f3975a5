//! Markdown (CommonMark plus tables) with optional YAML front matter: headings give the section
//! path, paragraphs and lists become blocks. A level-1 heading that repeats the title is the title.

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use super::{ReadError, front_matter};
use crate::document::{Block, Document, SectionBuilder, collapse_whitespace, tidy_preformatted};

/// Where the text of the current inline run goes when its block ends.
enum Target {
    Heading(u8),
    Paragraph,
    Item,
    Preformatted,
}

/// Parses a Markdown file's text.
pub fn read(text: &str) -> Result<Document, ReadError> {
    let (mut meta, body) = front_matter::split(text)?;
    let mut builder = SectionBuilder::default();
    let mut buffer = String::new();
    let mut targets: Vec<Target> = Vec::new();
    // Items of the lists being read; nested lists flatten into the outermost one.
    let mut list_items: Vec<String> = Vec::new();
    let mut list_depth = 0usize;
    let mut seen_heading = false;

    let flush_paragraph = |buffer: &mut String,
                           list_depth: usize,
                           list_items: &mut Vec<String>,
                           builder: &mut SectionBuilder| {
        // Table cells end in a separator; the row's last one is noise.
        let text = collapse_whitespace(buffer.trim_end_matches([' ', '|']));
        buffer.clear();
        if text.is_empty() {
            return;
        }
        if list_depth > 0 {
            list_items.push(text);
        } else {
            builder.block(Block::Paragraph(text));
        }
    };

    for event in Parser::new_ext(body, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush_paragraph(&mut buffer, list_depth, &mut list_items, &mut builder);
                targets.push(Target::Heading(heading_number(level)));
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some(Target::Heading(level)) = targets.pop() else {
                    continue;
                };
                let heading = collapse_whitespace(&buffer);
                buffer.clear();
                let is_title = level == 1 && !seen_heading;
                seen_heading = true;
                if heading.is_empty() {
                    continue;
                }
                if is_title && meta.title.is_empty() {
                    meta.title = heading;
                } else if !(is_title && heading == collapse_whitespace(&meta.title)) {
                    builder.heading(level, &heading);
                }
            }
            // A code block keeps its lines: it ends the running paragraph, item and list, and the
            // list's remaining items form a list of their own after it.
            Event::Start(Tag::CodeBlock(_)) => {
                flush_paragraph(&mut buffer, list_depth, &mut list_items, &mut builder);
                if !list_items.is_empty() {
                    builder.block(Block::List(std::mem::take(&mut list_items)));
                }
                targets.push(Target::Preformatted);
            }
            Event::End(TagEnd::CodeBlock) => {
                targets.pop();
                builder.block(Block::Preformatted(tidy_preformatted(&buffer)));
                buffer.clear();
            }
            // Paragraphs inside a list item belong to the item, which flushes when it ends.
            Event::Start(Tag::Paragraph | Tag::TableRow | Tag::TableHead)
                if !matches!(targets.last(), Some(Target::Item)) =>
            {
                targets.push(Target::Paragraph);
            }
            // The next paragraph of a list item.
            Event::Start(Tag::Paragraph) => buffer.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::TableRow)
                if matches!(targets.last(), Some(Target::Paragraph)) =>
            {
                targets.pop();
                flush_paragraph(&mut buffer, list_depth, &mut list_items, &mut builder);
            }
            Event::Start(Tag::List(_)) => {
                if list_depth > 0 {
                    flush_paragraph(&mut buffer, list_depth, &mut list_items, &mut builder);
                }
                list_depth += 1;
            }
            Event::End(TagEnd::List(_)) => {
                list_depth -= 1;
                if list_depth == 0 && !list_items.is_empty() {
                    builder.block(Block::List(std::mem::take(&mut list_items)));
                }
            }
            Event::Start(Tag::Item) => targets.push(Target::Item),
            Event::End(TagEnd::Item) => {
                targets.pop();
                flush_paragraph(&mut buffer, list_depth, &mut list_items, &mut builder);
            }
            Event::End(TagEnd::TableCell) => buffer.push_str(" | "),
            Event::End(TagEnd::TableHead) => {
                targets.pop();
                flush_paragraph(&mut buffer, list_depth, &mut list_items, &mut builder);
            }
            Event::Text(text) | Event::Code(text) => buffer.push_str(&text),
            Event::SoftBreak | Event::HardBreak => buffer.push(' '),
            _ => {}
        }
    }
    flush_paragraph(&mut buffer, list_depth, &mut list_items, &mut builder);
    Ok(Document {
        meta,
        sections: builder.finish(),
        warnings: Vec::new(),
    })
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
    use crate::document::{Kind, Role};

    const ARTICLE: &str = "---\ntitle: Leg Numbness\nkind: article\n---\n# Leg Numbness\n\nLead text.\n\n## Causes\n\nSeveral conditions:\n\n- Neuropathy\n- Herniated *disc*\n  - nested item\n\n### Circulatory\n\nBlood flow.\n\n## Empty\n\n## References\n\n- Numbness. Mayo Clinic. May 4, 2023.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n";

    #[test]
    fn headings_give_paths_and_h1_title_is_not_a_section() {
        let doc = read(ARTICLE).unwrap();
        assert_eq!(doc.meta.title, "Leg Numbness");
        assert_eq!(doc.meta.kind, Some(Kind::Article));
        let paths: Vec<_> = doc.sections.iter().map(|s| s.path.join(" > ")).collect();
        assert_eq!(
            paths,
            ["", "Causes", "Causes > Circulatory", "Empty", "References"]
        );
        assert_eq!(doc.sections[0].blocks, [Block::Paragraph("Lead text.".into())]);
        assert_eq!(
            doc.sections[1].blocks,
            [
                Block::Paragraph("Several conditions:".into()),
                Block::List(vec![
                    "Neuropathy".into(),
                    "Herniated disc".into(),
                    "nested item".into()
                ]),
            ]
        );
        assert!(doc.sections[3].blocks.is_empty());
        assert_eq!(doc.sections[4].role, Role::References);
        assert_eq!(doc.sections[4].blocks[1], Block::Paragraph("a | b".into()));
    }

    #[test]
    fn code_blocks_keep_their_lines_and_split_the_list_around_them() {
        let text = "Steps:\n\n- Install:\n\n  ```sh\n  pip install x\n    --user\n  ```\n- Run.\n\n  Twice.\n\nAfter.\n\n    indented(code)\n";
        let doc = read(text).unwrap();
        assert_eq!(
            doc.sections[0].blocks,
            [
                Block::Paragraph("Steps:".into()),
                Block::List(vec!["Install:".into()]),
                Block::Preformatted("pip install x\n  --user".into()),
                Block::List(vec!["Run. Twice.".into()]),
                Block::Paragraph("After.".into()),
                Block::Preformatted("indented(code)".into()),
            ]
        );
    }

    #[test]
    fn untitled_document_takes_its_first_h1() {
        let doc = read("# Sciatica\n\nPain along the nerve.\n").unwrap();
        assert_eq!(doc.meta.title, "Sciatica");
        assert_eq!(doc.sections[0].path, Vec::<String>::new());
    }
}
