//! The walk from the main-content element to sections and blocks: headings open sections,
//! block elements end paragraphs, lists and ARIA list roles gather items, table rows become
//! paragraphs of cells, `<pre>` keeps its lines, and chrome is skipped with all it holds.

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::Node;
use scraper::node::Element;

use super::chrome::{Chrome, has_word, is_dropped, is_note};
use super::parse::TextLines;
use super::{MAX_STRUCTURE_DEPTH, heading_level, tag_traits};
use crate::document::{Block, BlockBuilder, Lines, Section, collapse_whitespace};

/// ARIA roles read as a list or an entry of one. An entry becomes one list item however many
/// blocks it holds (a citation's label and its text), as do the notes of an `<aside>`.
const LIST_ROLES: [&str; 5] = [
    "list",
    "listitem",
    "doc-footnote",
    "doc-endnote",
    "doc-biblioentry",
];

/// Elements that end a paragraph where they open and close.
pub(super) const BLOCK_TAGS: [&str; 29] = [
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "hgroup",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "address",
    "dl",
    "dt",
    "dd",
    "table",
    "caption",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "hr",
    "details",
    "summary",
    "center",
    "fieldset",
    "legend",
    "listing",
    "body",
];

/// Elements whose text keeps its line breaks and indentation.
pub(super) const PREFORMATTED_TAGS: [&str; 3] = ["pre", "listing", "xmp"];

/// The tag an element is read as: `ul` for a list or an entry of one by its ARIA role, and for
/// an `<aside>` of notes; its own name otherwise.
fn read_as(element: &Element) -> &str {
    let name = element.name();
    let listed = element
        .attrs()
        .any(|(attribute, value)| attribute == "role" && has_word(Some(value), &LIST_ROLES))
        || (name == "aside" && is_note(element));
    if listed { "ul" } else { name }
}

/// All text under a node except in chrome (such as a heading's permalink mark), white space collapsed.
pub(super) fn text_of(node: NodeRef<'_, Node>, chrome: Chrome) -> String {
    collapse_whitespace(&gather_text(node, chrome, ' ', None).0)
}

/// All text under a node except in chrome, as it stands, with `line_break` for each `<br>`, and
/// the lines it stands on when `lines` are known.
fn gather_text(
    node: NodeRef<'_, Node>,
    chrome: Chrome,
    line_break: char,
    lines: Option<&TextLines>,
) -> (String, Option<Lines>) {
    let mut text = String::new();
    let mut span = None;
    let mut skipping = None;
    for edge in node.traverse() {
        match edge {
            Edge::Open(inner) if skipping.is_none() => match inner.value() {
                Node::Element(element) if inner.id() != node.id() && is_dropped(inner, element, chrome) => {
                    skipping = Some(inner.id())
                }
                Node::Element(element) if element.name() == "br" => text.push(line_break),
                Node::Text(chunk) => {
                    text.push_str(chunk);
                    span = Lines::cover(span, lines.and_then(|lines| lines.of(inner.id())));
                }
                _ => {}
            },
            Edge::Close(inner) if skipping == Some(inner.id()) => skipping = None,
            _ => {}
        }
    }
    (text, span)
}

/// What one walk over the content produced.
pub(super) struct Walked {
    /// The title the walk ended with: the one given, or the first h1 of a page that had none.
    pub(super) title: String,
    pub(super) sections: Vec<Section>,
    /// Characters of text in all blocks.
    pub(super) text_length: usize,
    /// Whether structure deeper than [`MAX_STRUCTURE_DEPTH`] was read as plain text.
    pub(super) truncated: bool,
}

/// Turns the content tree into sections and blocks.
pub(super) struct Walker<'t> {
    builder: BlockBuilder,
    chrome: Chrome,
    /// How many table cells are open around the current node.
    cell_depth: usize,
    lines: &'t TextLines,
}

impl<'t> Walker<'t> {
    /// A walker that takes an h1 equal to `title` for the title, skips `chrome` and finds the
    /// source lines of text in `lines`.
    pub(super) fn new(title: &str, chrome: Chrome, lines: &'t TextLines) -> Self {
        Walker {
            builder: BlockBuilder::new(title),
            chrome,
            cell_depth: 0,
            lines,
        }
    }

    /// Walks `root` iteratively and returns its sections.
    pub(super) fn walk(mut self, root: NodeRef<'_, Node>) -> Walked {
        let mut skipping = None;
        let mut depth = 0usize;
        let mut truncated = false;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) if skipping.is_none() => {
                    depth += 1;
                    match node.value() {
                        Node::Text(text) => self.builder.text(text, self.lines.of(node.id())),
                        Node::Element(element)
                            if node.id() != root.id() && is_dropped(node, element, self.chrome) =>
                        {
                            skipping = Some(node.id());
                        }
                        // Past the depth limit only text counts, but a <br> still separates words.
                        Node::Element(_) if depth > MAX_STRUCTURE_DEPTH => {
                            truncated = true;
                            self.builder.space();
                        }
                        Node::Element(element) => match heading_level(element.name()) {
                            Some(level) => {
                                self.builder.heading_or_title(level, &text_of(node, self.chrome));
                                skipping = Some(node.id());
                            }
                            // In a table cell, code runs on with the row like everything else.
                            None if tag_traits(element.name()).preformatted && self.cell_depth == 0 => {
                                let (text, lines) = gather_text(node, self.chrome, '\n', Some(self.lines));
                                self.builder.preformatted(&text, lines);
                                skipping = Some(node.id());
                            }
                            None => self.open(read_as(element)),
                        },
                        _ => {}
                    }
                }
                Edge::Close(node) if skipping == Some(node.id()) => {
                    skipping = None;
                    depth -= 1;
                }
                Edge::Close(node) if skipping.is_none() => {
                    if let Node::Element(element) = node.value() {
                        if depth > MAX_STRUCTURE_DEPTH {
                            self.builder.space();
                        } else {
                            self.close(read_as(element));
                        }
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        let title = self.builder.title().to_string();
        let sections = self.builder.finish();
        let text_length = sections
            .iter()
            .flat_map(|section| &section.blocks)
            .flat_map(Block::texts)
            .map(str::len)
            .sum();
        Walked {
            title,
            sections,
            text_length,
            truncated,
        }
    }

    /// Handles an element's start: blocks end the running paragraph, lists and cells open.
    fn open(&mut self, tag: &str) {
        // Inside a table cell, paragraphs and lists run on: the row is the paragraph.
        if self.cell_depth > 0 {
            self.cell_depth += usize::from(matches!(tag, "td" | "th"));
            self.builder.space();
            return;
        }
        match tag {
            "td" | "th" => self.cell_depth += 1,
            "ul" | "ol" | "menu" => self.builder.open_list(),
            "li" => self.builder.end_paragraph(),
            "br" => self.builder.space(),
            _ => self.block_boundary(tag),
        }
    }

    /// Handles an element's end, the mirror of [`Walker::open`].
    fn close(&mut self, tag: &str) {
        if matches!(tag, "td" | "th") {
            self.cell_depth = self.cell_depth.saturating_sub(1);
            self.builder.end_cell();
            return;
        }
        if self.cell_depth > 0 {
            self.builder.space();
            return;
        }
        match tag {
            "ul" | "ol" | "menu" => self.builder.close_list(),
            "li" => self.builder.end_paragraph(),
            _ => self.block_boundary(tag),
        }
    }

    /// Where a block element opens or closes, the running paragraph ends; inside a list it runs
    /// on, since paragraphs inside a list item belong to the item, as in Markdown.
    fn block_boundary(&mut self, tag: &str) {
        if tag_traits(tag).block {
            if self.builder.in_list() {
                self.builder.space();
            } else {
                self.builder.end_paragraph();
            }
        }
    }
}
