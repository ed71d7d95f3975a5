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

/// A unit of text inside a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Block {
    /// Running text: one paragraph or a quotation, white space collapsed.
    Paragraph(String),
    /// A list; each item is its text without the bullet.
    List(Vec<String>),
    /// Preformatted text, such as code: its lines and their indentation are kept, as
    /// [`tidy_preformatted`] leaves them.
    Preformatted(String),
}

impl Block {
    /// The block's text pieces: the paragraph, each list item, or the preformatted text.
    pub fn texts(&self) -> impl Iterator<Item = &str> {
        let pieces: &[String] = match self {
            Block::Paragraph(text) | Block::Preformatted(text) => std::slice::from_ref(text),
            Block::List(items) => items,
        };
        pieces.iter().map(String::as_str)
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
        let empty = match &block {
            Block::Paragraph(text) | Block::Preformatted(text) => text.trim().is_empty(),
            Block::List(items) => items.iter().all(|item| item.trim().is_empty()),
        };
        if empty {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_stack_pops_to_level_and_roles_inherit() {
        let mut builder = SectionBuilder::default();
        builder.block(Block::Paragraph("lead".into()));
        builder.heading(2, "Causes");
        builder.heading(3, "Nerves");
        builder.heading(2, "References");
        builder.heading(3, "Web");
        builder.block(Block::List(vec!["a".into()]));
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
    fn preformatted_text_keeps_indentation_and_loses_only_blank_edges() {
        assert_eq!(
            tidy_preformatted("\r\n\n  fn main() {  \r\n\n\n\n      run();\n  }\n\n"),
            "  fn main() {\n\n      run();\n  }"
        );
        assert_eq!(tidy_preformatted(" \n\t\n"), "");
    }
}
