//! The walk from the main-content element to sections and blocks: headings open sections,
//! block elements end paragraphs, lists and ARIA list roles gather items, table rows become
//! paragraphs of cells, `<pre>` keeps its lines, and chrome is skipped with all it holds.

use ego_tree::NodeRef;
use ego_tree::iter::Edge;
use scraper::Node;
use scraper::node::Element;

use super::chrome::{Chrome, has_word, is_dropped, is_note};
use super::{MAX_STRUCTURE_DEPTH, heading_level, tag_traits};
use crate::document::{Block, SectionBuilder, collapse_whitespace, tidy_preformatted};

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
    collapse_whitespace(&gather_text(node, chrome, ' '))
}

/// All text under a node except in chrome, as it stands, with `line_break` for each `<br>`.
fn gather_text(node: NodeRef<'_, Node>, chrome: Chrome, line_break: char) -> String {
    let mut text = String::new();
    let mut skipping = None;
    for edge in node.traverse() {
        match edge {
            Edge::Open(inner) if skipping.is_none() => match inner.value() {
                Node::Element(element) if inner.id() != node.id() && is_dropped(inner, element, chrome) => {
                    skipping = Some(inner.id())
                }
                Node::Element(element) if element.name() == "br" => text.push(line_break),
                Node::Text(chunk) => text.push_str(chunk),
                _ => {}
            },
            Edge::Close(inner) if skipping == Some(inner.id()) => skipping = None,
            _ => {}
        }
    }
    text
}

/// What one walk over the content produced.
pub(super) struct Walked {
    pub(super) sections: Vec<crate::document::Section>,
    /// Characters of text in all blocks.
    pub(super) text_length: usize,
    /// Whether structure deeper than [`MAX_STRUCTURE_DEPTH`] was read as plain text.
    pub(super) truncated: bool,
}

/// Turns the content tree into sections and blocks.
pub(super) struct Walker<'t> {
    builder: SectionBuilder,
    chrome: Chrome,
    buffer: String,
    list_items: Vec<String>,
    list_depth: usize,
    /// How many table cells are open around the current node.
    cell_depth: usize,
    title: &'t str,
    seen_heading: bool,
    text_length: usize,
}

impl<'t> Walker<'t> {
    /// A walker that takes an h1 equal to `title` for the title and skips `chrome`.
    pub(super) fn new(title: &'t str, chrome: Chrome) -> Self {
        Walker {
            builder: SectionBuilder::default(),
            chrome,
            buffer: String::new(),
            list_items: Vec::new(),
            list_depth: 0,
            cell_depth: 0,
            title,
            seen_heading: false,
            text_length: 0,
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
                        Node::Text(text) => self.buffer.push_str(text),
                        Node::Element(element)
                            if node.id() != root.id() && is_dropped(node, element, self.chrome) =>
                        {
                            skipping = Some(node.id());
                        }
                        // Past the depth limit only text counts, but a <br> still separates words.
                        Node::Element(_) if depth > MAX_STRUCTURE_DEPTH => {
                            truncated = true;
                            self.buffer.push(' ');
                        }
                        Node::Element(element) => match heading_level(element.name()) {
                            Some(level) => {
                                self.heading(level, node);
                                skipping = Some(node.id());
                            }
                            // In a table cell, code runs on with the row like everything else.
                            None if tag_traits(element.name()).preformatted && self.cell_depth == 0 => {
                                self.preformatted(node);
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
                            self.buffer.push(' ');
                        } else {
                            self.close(read_as(element));
                        }
                    }
                    depth -= 1;
                }
                _ => {}
            }
        }
        self.flush();
        self.end_list();
        Walked {
            sections: self.builder.finish(),
            text_length: self.text_length,
            truncated,
        }
    }

    /// Handles an element's start: blocks end the running paragraph, lists and cells open.
    fn open(&mut self, tag: &str) {
        // Inside a table cell, paragraphs and lists run on: the row is the paragraph.
        if self.cell_depth > 0 {
            self.cell_depth += usize::from(matches!(tag, "td" | "th"));
            self.buffer.push(' ');
            return;
        }
        match tag {
            "td" | "th" => self.cell_depth += 1,
            "ul" | "ol" | "menu" => {
                self.flush();
                self.list_depth += 1;
            }
            "li" => self.flush(),
            "br" => self.buffer.push(' '),
            // Paragraphs inside a list item belong to the item, as in Markdown.
            _ if tag_traits(tag).block && self.list_depth > 0 => self.buffer.push(' '),
            _ if tag_traits(tag).block => self.flush(),
            _ => {}
        }
    }

    /// Handles an element's end, the mirror of [`Walker::open`].
    fn close(&mut self, tag: &str) {
        if matches!(tag, "td" | "th") {
            self.cell_depth = self.cell_depth.saturating_sub(1);
            self.buffer.push_str(" | ");
            return;
        }
        if self.cell_depth > 0 {
            self.buffer.push(' ');
            return;
        }
        match tag {
            "ul" | "ol" | "menu" => {
                self.flush();
                self.list_depth = self.list_depth.saturating_sub(1);
                if self.list_depth == 0 {
                    self.end_list();
                }
            }
            "li" => self.flush(),
            _ if tag_traits(tag).block && self.list_depth > 0 => self.buffer.push(' '),
            _ if tag_traits(tag).block => self.flush(),
            _ => {}
        }
    }

    /// Opens a section for a heading element, unless it is the title.
    fn heading(&mut self, level: u8, node: NodeRef<'_, Node>) {
        self.flush();
        // A heading inside a list ends the list, so its items stay in the section above.
        self.end_list();
        let text = text_of(node, self.chrome);
        if text.is_empty() {
            return;
        }
        let first = !self.seen_heading;
        self.seen_heading = true;
        // The page's h1 usually repeats the title; it is the title, not a section.
        if level == 1 && first && text.to_lowercase() == self.title.to_lowercase() {
            return;
        }
        self.builder.heading(level, &text);
    }

    /// Emits a `<pre>` as one preformatted block, after the running paragraph and any open list,
    /// so that the text keeps its order.
    fn preformatted(&mut self, node: NodeRef<'_, Node>) {
        self.flush();
        self.end_list();
        let text = tidy_preformatted(&gather_text(node, self.chrome, '\n'));
        self.text_length += text.len();
        self.builder.block(Block::Preformatted(text));
    }

    /// Ends the running paragraph or list item.
    fn flush(&mut self) {
        let text = collapse_whitespace(self.buffer.trim_end_matches([' ', '|']));
        self.buffer.clear();
        if text.is_empty() {
            return;
        }
        self.text_length += text.len();
        if self.list_depth > 0 {
            self.list_items.push(text);
        } else {
            self.builder.block(Block::Paragraph(text));
        }
    }

    /// Emits the items gathered so far as one list.
    fn end_list(&mut self) {
        if !self.list_items.is_empty() {
            self.builder
                .block(Block::List(std::mem::take(&mut self.list_items)));
        }
    }
}
