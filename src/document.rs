//! The document model that every format reader produces and the chunker consumes: metadata,
//! a flattened heading tree (each section carries its full heading path) and text blocks.

use serde::{Deserialize, Serialize};

/// What a document is in the knowledge base: an article that cites, or a source that is cited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A document whose references point at other documents.
    Article,
    /// A document that articles cite.
    Source,
}

impl Kind {
    /// The lowercase name used in front matter, the index and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Article => "article",
            Kind::Source => "source",
        }
    }

    /// Parses a front-matter `kind` value.
    pub fn parse(value: &str) -> Option<Kind> {
        match value.trim().to_ascii_lowercase().as_str() {
            "article" => Some(Kind::Article),
            "source" => Some(Kind::Source),
            _ => None,
        }
    }
}

/// Descriptive fields of a document, from front matter, HTML meta tags or the text itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// The document's title; readers fall back to the file name when none is found.
    pub title: String,
    /// Article or source, when the document says so; the corpus walker infers it otherwise.
    pub kind: Option<Kind>,
    /// Who published the document (a site, a journal, an institution).
    pub publisher: Option<String>,
    /// Publication date as written in the document, normalised to `YYYY-MM-DD` where possible.
    pub date: Option<String>,
    /// The canonical address of the document.
    pub url: Option<String>,
    /// Authors, in the order given.
    pub authors: Vec<String>,
    /// An explicit citation key that articles may name in their `cites` list.
    pub key: Option<String>,
    /// Citation keys this document names explicitly (front matter `cites`).
    pub cites: Vec<String>,
}

/// What part of a document a section is, so references and author notes are not taken for body text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Ordinary content.
    #[default]
    Body,
    /// A reference list (bibliography, sources, works cited).
    References,
    /// Notes about the authors and reviewers.
    Authors,
}

impl Role {
    /// The lowercase name stored in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Body => "body",
            Role::References => "references",
            Role::Authors => "authors",
        }
    }

    /// Recognises the role of a section from its heading text.
    pub fn from_heading(heading: &str) -> Role {
        let heading = heading.trim().trim_end_matches(':').to_lowercase();
        match heading.as_str() {
            "references" | "sources" | "bibliography" | "works cited" | "citations" | "cited sources"
            | "sources cited" | "literature cited" => Role::References,
            "about the author" | "about the authors" | "authors" | "about the reviewers" | "contributors" => {
                Role::Authors
            }
            _ => Role::Body,
        }
    }
}

/// A range of lines of a source file, 1-based, the first and the last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lines {
    /// The first line.
    pub first: u32,
    /// The last line, never before the first.
    pub last: u32,
}

impl Lines {
    /// The range of one line.
    pub fn at(line: u32) -> Lines {
        Lines {
            first: line,
            last: line,
        }
    }

    /// The smallest range holding both ranges, or the one that is known.
    pub fn cover(one: Option<Lines>, other: Option<Lines>) -> Option<Lines> {
        match (one, other) {
            (Some(one), Some(other)) => Some(Lines {
                first: one.first.min(other.first),
                last: one.last.max(other.last),
            }),
            (one, other) => one.or(other),
        }
    }
}

/// The text of a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Content {
    /// Running text: one paragraph, a quotation or a table row, white space collapsed.
    Paragraph(String),
    /// A list; each item is its text without the bullet.
    List(Vec<String>),
    /// Preformatted text, such as code: its lines and their indentation are kept, as
    /// [`tidy_preformatted`] leaves them.
    Preformatted(String),
}

/// A unit of text inside a section, with the source lines it was read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The paragraph, list or preformatted text.
    pub content: Content,
    /// The lines of the source file the text stands on; `None` where the source has no lines
    /// that a reader could open at (PDF).
    pub lines: Option<Lines>,
}

impl Block {
    /// A paragraph that stands on no known lines.
    pub fn paragraph(text: impl Into<String>) -> Block {
        Block {
            content: Content::Paragraph(text.into()),
            lines: None,
        }
    }

    /// A list that stands on no known lines.
    pub fn list(items: Vec<String>) -> Block {
        Block {
            content: Content::List(items),
            lines: None,
        }
    }

    /// Preformatted text that stands on no known lines.
    pub fn preformatted(text: impl Into<String>) -> Block {
        Block {
            content: Content::Preformatted(text.into()),
            lines: None,
        }
    }

    /// The block's text pieces: the paragraph, each list item, or the preformatted text.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        let pieces: &[String] = match &self.content {
            Content::Paragraph(text) | Content::Preformatted(text) => std::slice::from_ref(text),
            Content::List(items) => items,
        };
        pieces.iter().map(String::as_str)
    }

    /// Whether the block holds nothing but white space.
    fn is_blank(&self) -> bool {
        self.texts().all(|text| text.trim().is_empty())
    }
}

/// The content under one heading, with the full path of headings above it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Section {
    /// Headings from the outermost to this section's own; empty for text before the first heading.
    pub path: Vec<String>,
    /// Whether this is body text, a reference list or author notes.
    pub role: Role,
    /// The blocks directly under this heading, in document order.
    pub blocks: Vec<Block>,
    /// The page the section's blocks stand on, for paged formats (PDF); sections are split at
    /// page breaks so every passage has one page.
    pub page: Option<u32>,
}

/// A parsed document: metadata plus its sections in document order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Document {
    /// Title, kind, publisher, date, url and so on.
    pub meta: Metadata,
    /// Sections in document order, including empty ones (the chunker skips those).
    pub sections: Vec<Section>,
    /// Problems the reader noticed but worked around (lossy decoding, truncation).
    pub warnings: Vec<String>,
}

/// Builds the section list while a reader walks headings, keeping the heading stack in one place.
#[derive(Debug, Default)]
pub struct SectionBuilder {
    stack: Vec<(u8, String, Role)>,
    sections: Vec<Section>,
    page: Option<u32>,
    /// The last section only continues the one before onto a new page and has no blocks yet.
    continuation_open: bool,
}

impl SectionBuilder {
    /// Opens a section for `heading` at `level` (1 = outermost), closing deeper or equal ones.
    pub fn heading(&mut self, level: u8, heading: &str) {
        let heading = collapse_whitespace(heading);
        // A page that starts with a heading needs no continuation of the section before.
        if std::mem::take(&mut self.continuation_open) {
            self.sections.pop();
        }
        while self.stack.last().is_some_and(|(open, _, _)| *open >= level) {
            self.stack.pop();
        }
        let inherited = self.stack.last().map(|(_, _, role)| *role).unwrap_or_default();
        let role = match Role::from_heading(&heading) {
            Role::Body => inherited,
            own => own,
        };
        self.stack.push((level, heading, role));
        self.sections.push(Section {
            path: self.stack.iter().map(|(_, text, _)| text.clone()).collect(),
            role,
            blocks: Vec::new(),
            page: self.page,
        });
    }

    /// Starts page `page`: what follows continues the current section, as a section of its own.
    pub fn page(&mut self, page: u32) {
        self.page = Some(page);
        match self.sections.last_mut() {
            Some(open) if open.blocks.is_empty() => open.page = Some(page),
            Some(open) => {
                let continued = Section {
                    path: open.path.clone(),
                    role: open.role,
                    blocks: Vec::new(),
                    page: Some(page),
                };
                self.sections.push(continued);
                self.continuation_open = true;
            }
            None => {}
        }
    }

    /// Opens a section whose role is known from the text's shape rather than its heading.
    pub fn heading_with_role(&mut self, level: u8, heading: &str, role: Role) {
        self.heading(level, heading);
        if let Some((_, _, open_role)) = self.stack.last_mut() {
            *open_role = role;
        }
        if let Some(section) = self.sections.last_mut() {
            section.role = role;
        }
    }

    /// Appends a block to the current section (or to the untitled lead section).
    pub fn block(&mut self, block: Block) {
        if block.is_blank() {
            return;
        }
        if self.sections.is_empty() {
            self.sections.push(Section {
                page: self.page,
                ..Section::default()
            });
        }
        self.continuation_open = false;
        let section = self.sections.last_mut().expect("a section was just ensured");
        section.blocks.push(block);
    }

    /// Finishes the walk and returns the sections in document order.
    pub fn finish(self) -> Vec<Section> {
        self.sections
    }
}

/// Gathers running text into paragraphs, list items and table rows, with the source lines they
/// come from, and hands the finished blocks to a [`SectionBuilder`]. Every text reader drives one:
/// it says where text, cells, items, lists and headings start and end, and the builder decides
/// what becomes a block, so the rules are written once.
#[derive(Debug, Default)]
pub struct BlockBuilder {
    sections: SectionBuilder,
    /// The running text of the open paragraph, list item or table row.
    buffer: String,
    /// The lines the running text came from.
    buffer_lines: Option<Lines>,
    /// Cell separators owed before the next text of a table row; the row's last cells leave none.
    owed_separators: usize,
    /// Items of the open list; nested lists flatten into the outermost one.
    items: Vec<String>,
    /// The lines the open list's items came from.
    items_lines: Option<Lines>,
    /// How many lists are open around the running text.
    list_depth: usize,
    /// The document's title, for [`BlockBuilder::heading_or_title`].
    title: String,
    /// Whether a non-empty heading came already.
    seen_heading: bool,
}

impl BlockBuilder {
    /// A builder for a document titled `title` (empty when the document has no title yet).
    pub fn new(title: &str) -> BlockBuilder {
        BlockBuilder {
            title: title.to_string(),
            ..BlockBuilder::default()
        }
    }

    /// The title: the one given, or the heading that gave it to an untitled document.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Appends running text read from `lines`.
    pub fn text(&mut self, text: &str, lines: Option<Lines>) {
        if self.owed_separators > 0 && !text.trim().is_empty() {
            for _ in 0..std::mem::take(&mut self.owed_separators) {
                self.buffer.push_str(" | ");
            }
        }
        self.buffer.push_str(text);
        self.buffer_lines = Lines::cover(self.buffer_lines, lines);
    }

    /// Separates words, as a line break or an inline element boundary does.
    pub fn space(&mut self) {
        self.buffer.push(' ');
    }

    /// Ends a table cell: the next cell's text follows a ` | ` separator.
    pub fn end_cell(&mut self) {
        self.owed_separators += 1;
    }

    /// Ends the running paragraph, table row or list item: inside a list it becomes an item,
    /// elsewhere a paragraph.
    pub fn end_paragraph(&mut self) {
        let text = collapse_whitespace(&self.buffer);
        self.buffer.clear();
        self.owed_separators = 0;
        let lines = self.buffer_lines.take();
        if text.is_empty() {
            return;
        }
        if self.list_depth > 0 {
            self.items.push(text);
            self.items_lines = Lines::cover(self.items_lines, lines);
        } else {
            self.sections.block(Block {
                content: Content::Paragraph(text),
                lines,
            });
        }
    }

    /// Opens a list, ending the running paragraph (a nested list ends its parent's item).
    pub fn open_list(&mut self) {
        self.end_paragraph();
        self.list_depth += 1;
    }

    /// Closes a list; when it is the outermost, its items become one list block.
    pub fn close_list(&mut self) {
        self.end_paragraph();
        self.list_depth = self.list_depth.saturating_sub(1);
        if self.list_depth == 0 {
            self.end_list();
        }
    }

    /// Whether a list is open around the running text.
    pub fn in_list(&self) -> bool {
        self.list_depth > 0
    }

    /// Adds one whole list item read from `lines`, for readers that see items rather than lists.
    pub fn item(&mut self, text: &str, lines: Option<Lines>) {
        self.end_paragraph();
        let text = collapse_whitespace(text);
        if !text.is_empty() {
            self.items.push(text);
            self.items_lines = Lines::cover(self.items_lines, lines);
        }
    }

    /// Emits the items gathered so far as one list block; items that follow start another.
    pub fn end_list(&mut self) {
        if !self.items.is_empty() {
            self.sections.block(Block {
                content: Content::List(std::mem::take(&mut self.items)),
                lines: self.items_lines.take(),
            });
        }
    }

    /// Emits preformatted text (tidied by [`tidy_preformatted`]) after the running paragraph and
    /// the items gathered so far, so that the text keeps its order.
    pub fn preformatted(&mut self, text: &str, lines: Option<Lines>) {
        self.end_paragraph();
        self.end_list();
        self.sections.block(Block {
            content: Content::Preformatted(tidy_preformatted(text)),
            lines,
        });
    }

    /// Opens a section for `heading` at `level`, after the running paragraph and list.
    pub fn heading(&mut self, level: u8, heading: &str) {
        self.end_paragraph();
        self.end_list();
        self.sections.heading(level, heading);
    }

    /// Opens a section whose role is known from the text's shape rather than its heading.
    pub fn heading_with_role(&mut self, level: u8, heading: &str, role: Role) {
        self.end_paragraph();
        self.end_list();
        self.sections.heading_with_role(level, heading, role);
    }

    /// Opens a section for a heading of a markup format (Markdown, HTML), unless it is empty or
    /// it is the title: the first heading, when it is at level 1 and [`repeats_title`] or the
    /// document has no title yet (it then becomes the title).
    pub fn heading_or_title(&mut self, level: u8, heading: &str) {
        self.end_paragraph();
        self.end_list();
        let heading = collapse_whitespace(heading);
        if heading.is_empty() {
            return;
        }
        let first = !std::mem::replace(&mut self.seen_heading, true);
        if first && level == 1 {
            if self.title.trim().is_empty() {
                self.title = heading;
                return;
            }
            if repeats_title(&heading, &self.title) {
                return;
            }
        }
        self.sections.heading(level, &heading);
    }

    /// Starts page `page`, after the running paragraph and list.
    pub fn page(&mut self, page: u32) {
        self.end_paragraph();
        self.end_list();
        self.sections.page(page);
    }

    /// Wraps a section builder that already holds sections, to go on from where it stands.
    pub fn continuing(sections: SectionBuilder) -> BlockBuilder {
        BlockBuilder {
            sections,
            ..BlockBuilder::default()
        }
    }

    /// Ends the running paragraph and list and returns the section builder.
    pub fn into_sections(mut self) -> SectionBuilder {
        self.end_paragraph();
        self.end_list();
        self.sections
    }

    /// Ends the running paragraph and list and returns the sections in document order.
    pub fn finish(self) -> Vec<Section> {
        self.into_sections().finish()
    }
}

/// The title rule of every reader: a document's first heading (the first level-1 heading in
/// Markdown and HTML, the first line of a PDF's text) stands for the title, rather than opening a
/// section, when it repeats the title: the same words, compared case-insensitively with white
/// space collapsed.
pub fn repeats_title(heading: &str, title: &str) -> bool {
    let title = collapse_whitespace(title).to_lowercase();
    !title.is_empty() && collapse_whitespace(heading).to_lowercase() == title
}

/// Replaces every run of white space with one space and trims the ends.
pub fn collapse_whitespace(text: &str) -> String {
    let mut collapsed = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !collapsed.is_empty() {
            collapsed.push(' ');
        }
        collapsed.push_str(word);
    }
    collapsed
}

/// Preformatted text made fit for a passage: line ends unified, white space at line ends and
/// blank lines at either end removed, runs of blank lines cut to one; indentation is kept.
pub fn tidy_preformatted(text: &str) -> String {
    let mut tidy = String::with_capacity(text.len());
    let mut blank_lines = 0;
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            blank_lines += 1;
            continue;
        }
        if !tidy.is_empty() {
            tidy.push_str(if blank_lines > 0 { "\n\n" } else { "\n" });
        }
        blank_lines = 0;
        tidy.push_str(line);
    }
    tidy
}

/// The contents of `blocks` without their lines, for tests about text.
#[cfg(test)]
pub(crate) fn contents(blocks: &[Block]) -> Vec<Content> {
    blocks.iter().map(|block| block.content.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_stack_pops_to_level_and_roles_inherit() {
        let mut builder = SectionBuilder::default();
        builder.block(Block::paragraph("lead"));
        builder.heading(2, "Causes");
        builder.heading(3, "Nerves");
        builder.heading(2, "References");
        builder.heading(3, "Web");
        builder.block(Block::list(vec!["a".into()]));
        let sections = builder.finish();
        let paths: Vec<_> = sections.iter().map(|s| s.path.join("/")).collect();
        assert_eq!(
            paths,
            ["", "Causes", "Causes/Nerves", "References", "References/Web"]
        );
        assert_eq!(sections[4].role, Role::References);
        assert_eq!(sections[2].role, Role::Body);
    }

    #[test]
    fn the_title_rule_sets_case_and_white_space_aside() {
        assert!(repeats_title("  Leg\n NUMBNESS ", "Leg Numbness"));
        assert!(!repeats_title("Leg Numbness Causes", "Leg Numbness"));
        assert!(!repeats_title("", ""));
        let mut builder = BlockBuilder::new("Leg Numbness");
        builder.heading_or_title(1, "leg numbness");
        builder.heading_or_title(1, "Leg Numbness");
        let mut untitled = BlockBuilder::new("");
        untitled.heading_or_title(2, "Causes");
        untitled.heading_or_title(1, "Late Title");
        assert_eq!(untitled.title(), "");
        let paths = |builder: BlockBuilder| builder.finish().into_iter().map(|s| s.path).collect::<Vec<_>>();
        // Only the first heading can be the title.
        assert_eq!(paths(builder), [["Leg Numbness"]]);
        assert_eq!(paths(untitled), [vec!["Causes"], vec!["Late Title"]]);
        let mut named = BlockBuilder::new("");
        named.heading_or_title(1, "Sciatica");
        assert_eq!(named.title(), "Sciatica");
    }

    #[test]
    fn table_rows_separate_cells_and_keep_the_text_they_hold() {
        let mut builder = BlockBuilder::default();
        for row in [["a", "b |"], ["", "c"], ["", ""]] {
            for cell in row {
                builder.text(cell, Some(Lines::at(3)));
                builder.text("\n  ", None);
                builder.end_cell();
            }
            builder.end_paragraph();
        }
        let sections = builder.finish();
        // No separator after the last cell, nor a paragraph for a row of empty cells.
        assert_eq!(
            contents(&sections[0].blocks),
            [
                Content::Paragraph("a | b |".into()),
                Content::Paragraph("| c".into())
            ]
        );
        assert_eq!(sections[0].blocks[0].lines, Some(Lines::at(3)));
    }

    #[test]
    fn preformatted_text_keeps_indentation_and_loses_only_blank_edges() {
        assert_eq!(
            tidy_preformatted("\r\n\n  fn main() {  \r\n\n\n\n      run();\n  }\n\n"),
            "  fn main() {\n\n      run();\n  }"
        );
        assert_eq!(tidy_preformatted(" \n\t\n"), "");
    }
}
