//! The document model that every format reader produces and the chunker consumes: metadata,
//! a flattened heading tree (each section carries its full heading path) and text blocks. The
//! builders readers fill it with are in `builder`.

mod builder;

pub use builder::{BlockBuilder, SectionBuilder};

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
